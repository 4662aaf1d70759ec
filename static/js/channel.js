// A channel page made live: messages arrive over Socket.IO without reload, nothing is
// lost or shown twice. The client keeps the last seq it holds and joins again with it
// after any disconnect; a send carries a client-made id and is retried with the same id
// until the server acknowledges it (the server stores a retried send once).
//
// Also: threads in a side panel, editing and deleting in place (an edit or a deletion
// arrives as a `message` with a seq already held: it replaces, never appends), files sent
// with a message, certified receipts of case channels, and scrolling back through history.
// The page works without this file: every action is also a link to a page.
"use strict";

(() => {
  const section = document.getElementById("channel");
  if (!section || !window.networkRealtime) return;

  const data = section.dataset;
  const channelId = Number(data.channelId);
  const myId = Number(data.userId);
  const isCase = data.channelKind === "case";
  let canWrite = data.canWrite === "true";
  const canManage = data.canManage === "true";
  // An archived channel is a record: nothing in it is edited or deleted any more.
  let archived = data.archived === "true";
  const list = section.querySelector(".messages");
  const typingLine = section.querySelector(".typing");
  const stateLine = section.querySelector(".connection-state");
  const panel = document.getElementById("thread-panel");
  const panelList = panel ? panel.querySelector(".thread-messages") : null;
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_m, key) => String(values[key] ?? ""));
  const plural = (n) => (n === 1 ? data.labelRepliesOne : fill(data.labelRepliesMany, { n }));

  let purgedThrough = Number(data.purgedThroughSeq) || 0;
  let firstSeq = Number(data.firstSeq) || 0;
  // The page holds an unbroken run of seqs (deleted messages stay as tombstones; purged
  // ones count as held). A rejoin asks for everything after the highest seq up to which
  // nothing is missing, so a message that arrived out of order never hides an earlier one.
  let contiguous = Math.max(Number(data.lastSeq) || 0, purgedThrough);
  const held = new Set(Array.from(list.querySelectorAll("[data-seq]"), (li) => Number(li.dataset.seq)));
  const advance = () => {
    while (held.has(contiguous + 1) || contiguous + 1 <= purgedThrough) contiguous += 1;
  };
  const replyCounts = new Map(); // root message id -> replies shown on its "n replies" link
  const receiptsById = new Map(); // own case-channel message id -> {delivered, read, members}
  for (const item of list.querySelectorAll(".message[data-id]")) {
    replyCounts.set(Number(item.dataset.id), Number(item.dataset.replyCount) || 0);
    const receipts = item.querySelector(".js-receipts");
    if (receipts) receiptsById.set(Number(item.dataset.id), { ...receipts.dataset });
  }
  // Open on the latest messages, unless the address points at one.
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  if (!window.location.hash && list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "end" });
  let removed = false;
  let openThread = null; // the id of the thread shown in the panel
  // The page's language and the reader's time zone (set by the server on <html>).
  const pageLang = document.documentElement.lang || undefined;
  const timeFormat = new Intl.DateTimeFormat(pageLang, {
    dateStyle: "short",
    timeStyle: "short",
    timeZone: document.documentElement.dataset.timezone || undefined,
  });
  const url = (path) => `${data.baseUrl}${path}`;
  const messageApi = (id, rest = "") => `${data.messageApi.slice(0, -1)}${id}${rest}`;

  // --- Drawing messages (the HTML was sanitised by the server; names are text) -------
  function link(href, text, className) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (className) a.className = className;
    return a;
  }

  // Sizes in the page's language ("1.5 MB", "1,5 Mo"), in multiples of 1024 as the server
  // writes them (network.i18n.format_file_size).
  function sizeLabel(bytes) {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return new Intl.NumberFormat(pageLang, {
      style: "unit",
      unit: units[unit],
      // "117 bytes", not CLDR's short "117 byte"; multiples stay short ("2.4 MB").
      unitDisplay: unit === 0 ? "long" : "short",
      maximumFractionDigits: 1,
    }).format(value);
  }

  function render(message, inThread) {
    const item = document.createElement("li");
    item.className = "message" + (message.deleted ? " deleted" : "") + (message.parent ? " is-reply" : "");
    item.dataset.seq = String(message.seq);
    item.dataset.id = String(message.id);
    item.dataset.authorId = message.author ? String(message.author.id) : "";
    item.dataset.parentId = message.parent_id ? String(message.parent_id) : "";
    item.id = `${inThread ? "t" : "m"}${message.seq}`;
    const meta = document.createElement("p");
    meta.className = "message-meta";
    const author = document.createElement("strong");
    author.className = "author";
    author.textContent = message.author ? message.author.name : data.labelFormer;
    author.dir = "auto"; // a name keeps its own direction inside an RTL page
    const time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = timeFormat.format(new Date(message.created_at));
    meta.append(author, " ", time);
    if (message.edited_at && !message.deleted) {
      const edited = link(url(`/messages/${message.id}/history`), `(${data.labelEdited})`, "edited muted");
      edited.title = data.labelHistory;
      meta.append(" ", edited);
    }
    item.append(meta);
    if (message.parent && !inThread) {
      const line = document.createElement("p");
      line.className = "in-reply-to";
      const name = message.parent.author ? message.parent.author.name : data.labelFormer;
      const a = link(url(`/thread/${message.parent.id}`), "↳ ", "js-open-thread");
      a.append(window.networkText.fill(data.labelInReplyTo, { name }));
      a.dataset.threadId = String(message.parent.id);
      line.append(a);
      item.append(line);
    }
    const body = document.createElement("div");
    body.className = "message-body";
    body.dir = "auto"; // a message keeps its own writing direction inside an RTL page
    if (message.deleted) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = data.labelDeleted;
      body.append(note);
    } else {
      body.innerHTML = message.html;
    }
    item.append(body);
    if (message.attachments && message.attachments.length && !message.deleted) {
      const files = document.createElement("ul");
      files.className = "attachments";
      for (const file of message.attachments) {
        const entry = document.createElement("li");
        const a = link(file.url, file.filename);
        a.setAttribute("download", "");
        const size = document.createElement("span");
        size.className = "muted";
        size.textContent = sizeLabel(file.size);
        entry.append(a, " ", size);
        files.append(entry);
      }
      item.append(files);
    }
    if (!message.deleted) item.append(actions(message, inThread));
    return item;
  }

  function actions(message, inThread) {
    const line = document.createElement("p");
    line.className = "message-actions";
    const own = message.author && message.author.id === myId;
    if (!message.parent && !inThread) {
      const count = replyCounts.has(message.id) ? replyCounts.get(message.id) : message.reply_count || 0;
      replyCounts.set(message.id, count);
      if (count || canWrite) {
        const a = link(url(`/thread/${message.id}`), count ? plural(count) : data.labelReply, "js-open-thread");
        a.dataset.threadId = String(message.id);
        line.append(a, " ");
      }
    }
    if (own && canWrite) line.append(link(url(`/messages/${message.id}/edit`), data.labelEdit, "js-edit"), " ");
    if ((own || canManage) && !archived) line.append(link(url(`/messages/${message.id}/delete`), data.labelDelete, "js-delete danger"), " ");
    if (own && isCase) {
      const summary = receiptsById.get(message.id) || { delivered: 0, read: 0, members: "…" };
      line.append(link(url(`/messages/${message.id}/receipts`), fill(data.labelReceipts, summary), "receipts-link js-receipts"));
    }
    return line;
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }

  function place(message) {
    if (message.channel_id !== channelId) return;
    section.querySelector(".js-empty")?.remove();
    const existing = list.querySelector(`[data-seq="${message.seq}"]`);
    const item = render(message, false);
    if (existing) {
      existing.replaceWith(item); // an edit or a deletion of a message we hold
    } else {
      // Keep seq order whatever order things arrive in.
      const later = Array.from(list.children).find((li) => Number(li.dataset.seq) > message.seq);
      const bottom = nearBottom();
      list.insertBefore(item, later || null);
      held.add(message.seq);
      advance();
      if (!firstSeq || message.seq < firstSeq) firstSeq = message.seq;
      if (!later && bottom) item.scrollIntoView({ block: "end" });
      if (message.parent_id && !message.deleted && !item.dataset.counted) bumpReplies(message.parent_id, 1);
    }
    if (openThread && (message.id === openThread || message.parent_id === openThread)) placeInThread(message);
  }

  function bumpReplies(rootId, delta) {
    const count = (replyCounts.get(rootId) || 0) + delta;
    replyCounts.set(rootId, count);
    const root = list.querySelector(`[data-id="${rootId}"]`);
    if (!root) return;
    const anchor = root.querySelector(`.message-actions .js-open-thread[data-thread-id="${rootId}"]`);
    if (anchor) anchor.textContent = count ? plural(count) : data.labelReply;
  }

  // --- The thread panel ----------------------------------------------------------------
  function placeInThread(message) {
    if (!panelList) return;
    const existing = panelList.querySelector(`[data-seq="${message.seq}"]`);
    const item = render(message, true);
    if (existing) {
      existing.replaceWith(item);
      return;
    }
    const later = Array.from(panelList.children).find((li) => Number(li.dataset.seq) > message.seq);
    panelList.insertBefore(item, later || null);
  }

  async function showThread(rootId) {
    if (!panel) return false;
    const response = await fetch(messageApi(rootId, "/thread"), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return false;
    const page = await response.json();
    openThread = page.items.length ? page.items[0].id : rootId;
    panelList.replaceChildren();
    page.items.forEach(placeInThread);
    panel.hidden = false;
    section.parentElement.classList.add("with-thread");
    panel.querySelector("textarea")?.focus();
    return true;
  }

  function closeThread() {
    openThread = null;
    if (panel) panel.hidden = true;
    section.parentElement.classList.remove("with-thread");
  }

  panel?.querySelector(".js-close-thread")?.addEventListener("click", closeThread);

  // --- Sending -----------------------------------------------------------------------
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replaceAll("-", "");
  const csrf = document.querySelector('#composer input[name="csrf_token"], input[name="csrf_token"]')?.value || "";

  function send(payload, attempt, done) {
    window.networkRealtime.ready.then((socket) => socket.timeout(8000).emit("send", payload, (err, ack) => {
      if (err) {
        // No answer: try again with the same client id (stored once by the server).
        stateLine.textContent = data.labelFailed;
        setTimeout(() => send(payload, attempt + 1, done), Math.min(1000 * 2 ** attempt, 15000));
        return;
      }
      stateLine.textContent = ack.ok ? "" : ack.error.message;
      done(ack);
    }));
  }

  async function upload(input) {
    const files = input ? Array.from(input.files || []) : [];
    if (!files.length) return [];
    stateLine.textContent = data.labelUploading;
    const form = new FormData();
    files.forEach((file) => form.append("file", file));
    const response = await fetch(data.uploadUrl, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      stateLine.textContent = answer.error ? Object.values(answer.error.fields || {}).join(" ") || answer.error.message : String(response.status);
      throw new Error("upload refused");
    }
    stateLine.textContent = "";
    return answer.items.map((item) => item.id);
  }

  function wireComposer(form, textarea, fileInput, parentId) {
    let lastTyping = 0;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = textarea.value.trim();
      const hasFiles = fileInput && fileInput.files && fileInput.files.length;
      if (!body && !hasFiles) return;
      let attachmentIds = [];
      try {
        attachmentIds = await upload(fileInput);
      } catch {
        return;
      }
      const payload = { channel_id: channelId, client_id: newId(), body };
      const parent = parentId();
      if (parent) payload.parent_id = parent;
      if (attachmentIds.length) payload.attachment_ids = attachmentIds;
      send(payload, 0, (ack) => {
        if (!ack.ok) return;
        if (textarea.value.trim() === body) textarea.value = "";
        if (fileInput) {
          fileInput.value = "";
          fileInput.dispatchEvent(new Event("change")); // the chosen names shown go too
        }
      });
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > 2000) {
        lastTyping = now;
        window.networkRealtime.socket?.emit("typing", { channel_id: channelId }, () => {});
      }
    });
  }

  const composer = document.getElementById("composer");
  if (composer) {
    wireComposer(composer, composer.querySelector("textarea"), composer.querySelector('input[type="file"]'), () => null);
  }
  const threadComposer = panel?.querySelector(".thread-composer");
  if (threadComposer) {
    wireComposer(threadComposer, threadComposer.querySelector("textarea"), null, () => openThread);
  }

  // --- The connection ------------------------------------------------------------------
  window.networkRealtime.ready.then((socket) => {
    let markTimer = null;
    let receivedTimer = null;

    function markRead() {
      clearTimeout(markTimer);
      markTimer = setTimeout(() => {
        if (document.visibilityState === "visible" && !removed) {
          socket.emit("read", { channel_id: channelId, seq: contiguous }, () => {});
        }
      }, 500);
    }

    function confirmReceived() {
      // Certified receipts: tell the server what this client holds (case channels only).
      if (!isCase || removed) return;
      clearTimeout(receivedTimer);
      receivedTimer = setTimeout(() => {
        socket.emit("received", { channel_id: channelId, seq: contiguous }, () => {});
      }, 200);
    }

    function join() {
      if (removed) return;
      socket.timeout(10000).emit("join", { channel_id: channelId, after_seq: contiguous }, (err, ack) => {
        if (err) {
          setTimeout(join, 2000);
          return;
        }
        if (!ack || !ack.ok) {
          if (ack && ack.error && ack.error.code === "not_found") {
            showRemoved();
            return;
          }
          setTimeout(join, 2000);
          return;
        }
        section.dataset.live = "true"; // joined: live from here on
        purgedThrough = Math.max(purgedThrough, ack.purged_through_seq || 0);
        advance();
        ack.messages.forEach(place);
        if (ack.more) {
          join(); // more were missed than one answer carries
        } else {
          markRead();
          confirmReceived();
        }
      });
    }

    function showRemoved() {
      removed = true;
      canWrite = false;
      document.querySelector(".js-removed-notice")?.removeAttribute("hidden");
      document.getElementById("composer")?.remove();
      panel?.querySelector(".thread-composer")?.remove();
    }

    socket.on("connect", () => {
      stateLine.textContent = "";
      join();
    });
    if (socket.connected) join();
    socket.on("disconnect", () => {
      if (!removed) stateLine.textContent = data.labelOffline;
    });
    let gapTimer = null;
    socket.on("message", (message) => {
      if (message.channel_id !== channelId || removed) return;
      place(message);
      if (message.seq > contiguous && !gapTimer) {
        // A message came before one we never got (lost between server processes):
        // fetch what is missing unless it turns up on its own meanwhile.
        gapTimer = setTimeout(() => {
          gapTimer = null;
          if (held.has(contiguous + 1) || !socket.connected) return;
          join();
        }, 1000);
      }
      markRead();
      confirmReceived();
    });
    // A server process lost its link to the other processes for a while: what they
    // published then never came, so catch up from the last message held.
    socket.on("resync", () => join());
    socket.on("channel_removed", (event) => {
      if (event.channel_id === channelId) showRemoved();
    });
    socket.on("channel_updated", (event) => {
      if (event.channel_id !== channelId || !event.archived) return;
      canWrite = false;
      archived = true;
      document.getElementById("composer")?.remove();
      stateLine.textContent = data.labelArchived;
    });
    socket.on("receipt", (event) => {
      if (event.channel_id !== channelId) return;
      receiptsById.set(event.message_id, { delivered: event.delivered, read: event.read, members: event.members });
      for (const item of document.querySelectorAll(`.message[data-id="${event.message_id}"] .js-receipts`)) {
        item.textContent = fill(data.labelReceipts, event);
      }
    });

    let typingTimer = null;
    socket.on("typing", (event) => {
      if (event.channel_id !== channelId) return;
      typingLine.replaceChildren(window.networkText.fill(data.labelTyping, { name: event.user.name }));
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typingLine.textContent = "";
      }, 3000);
    });
    document.addEventListener("visibilitychange", markRead);

    // --- Editing and deleting in place ---------------------------------------------------
    async function startEdit(item) {
      const id = Number(item.dataset.id);
      const response = await fetch(messageApi(id), { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const message = await response.json();
      const body = item.querySelector(".message-body");
      const form = document.createElement("form");
      form.className = "edit-form";
      const area = document.createElement("textarea");
      area.value = message.body || "";
      area.rows = 3;
      area.maxLength = 10000;
      area.setAttribute("aria-label", data.labelEdit);
      const save = document.createElement("button");
      save.type = "submit";
      save.className = "button button-small";
      save.textContent = data.labelSave;
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button button-small button-secondary";
      cancel.textContent = data.labelCancel;
      const problem = document.createElement("span");
      problem.className = "field-error";
      const row = document.createElement("p");
      row.className = "form-actions";
      row.append(save, cancel, problem);
      form.append(area, row);
      body.hidden = true;
      body.after(form);
      area.focus();
      cancel.addEventListener("click", () => {
        form.remove();
        body.hidden = false;
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        socket.timeout(8000).emit("edit", { message_id: id, body: area.value }, (err, ack) => {
          if (err || !ack.ok) {
            problem.textContent = err ? data.labelFailed : ack.error.message;
            return;
          }
          form.remove(); // the `message` event with the same seq redraws it
          body.hidden = false;
        });
      });
    }

    function askDelete(item) {
      const line = item.querySelector(".message-actions");
      if (!line || line.querySelector(".delete-confirm")) return;
      const box = document.createElement("span");
      box.className = "delete-confirm";
      box.setAttribute("role", "group");
      const question = document.createElement("span");
      question.textContent = data.labelConfirmDelete;
      const yes = document.createElement("button");
      yes.type = "button";
      yes.className = "button button-small button-danger";
      yes.textContent = data.labelDelete;
      const no = document.createElement("button");
      no.type = "button";
      no.className = "button button-small button-secondary";
      no.textContent = data.labelCancel;
      box.append(question, " ", yes, " ", no);
      line.append(box);
      yes.focus();
      no.addEventListener("click", () => box.remove());
      yes.addEventListener("click", () => {
        socket.timeout(8000).emit("delete", { message_id: Number(item.dataset.id) }, (err, ack) => {
          if (err || !ack.ok) question.textContent = err ? data.labelFailed : ack.error.message;
        });
      });
    }

    document.addEventListener("click", (event) => {
      const target = event.target.closest("a, button");
      if (!target || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const item = target.closest(".message");
      if (target.matches(".js-open-thread") && panel) {
        event.preventDefault();
        showThread(Number(target.dataset.threadId)).then((ok) => {
          if (!ok) window.location.href = target.href;
        });
      } else if (target.matches(".js-edit") && item) {
        event.preventDefault();
        startEdit(item);
      } else if (target.matches(".js-delete") && item) {
        event.preventDefault();
        askDelete(item);
      }
    });
  });

  // --- Scrolling back ----------------------------------------------------------------
  const earlier = section.querySelector(".js-load-earlier");
  if (earlier) {
    let loading = false;
    const done = () => firstSeq <= purgedThrough + 1;
    async function loadEarlier() {
      if (loading || done()) return;
      loading = true;
      earlier.disabled = true;
      try {
        const response = await fetch(`${data.historyUrl}?before_seq=${firstSeq}&limit=50`, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.ok) {
          const page = await response.json();
          // Keep what the reader is looking at in place while older messages go above it.
          const anchor = list.firstElementChild;
          const offset = anchor ? anchor.getBoundingClientRect().top : 0;
          page.items.forEach((message) => {
            replyCounts.set(message.id, message.reply_count || 0);
            const item = render(message, false);
            item.dataset.counted = "1";
            const later = Array.from(list.children).find((li) => Number(li.dataset.seq) > message.seq);
            if (!list.querySelector(`[data-seq="${message.seq}"]`)) list.insertBefore(item, later || null);
            held.add(message.seq);
            if (message.seq < firstSeq) firstSeq = message.seq;
          });
          if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - offset);
          if (!page.items.length || done()) {
            observer?.disconnect();
            earlier.parentElement.remove();
          }
        }
      } finally {
        loading = false;
        earlier.disabled = false;
      }
    }
    earlier.addEventListener("click", loadEarlier);
    // Infinite scroll: reaching the top of the list loads the page before it; the button
    // stays for keyboards and browsers without IntersectionObserver.
    // Only once the reader scrolls (wheel, touch, keys): the page never pulls history by
    // itself, e.g. when it is too short to scroll (the button is there for that).
    let engaged = false;
    for (const name of ["wheel", "touchmove", "keydown"]) {
      window.addEventListener(name, () => { engaged = true; }, { passive: true });
    }
    const observer = "IntersectionObserver" in window
      ? new IntersectionObserver((entries) => {
        if (engaged && entries.some((entry) => entry.isIntersecting)) loadEarlier();
      }, { rootMargin: "200px 0px 0px 0px" })
      : null;
    observer?.observe(earlier.parentElement);
  }
})();
