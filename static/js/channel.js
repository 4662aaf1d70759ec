// A channel page made live: messages arrive over Socket.IO without reload, nothing is
// lost or shown twice. The client keeps the last seq it holds and joins again with it
// after any disconnect; a send carries a client-made id and is retried with the same id
// until the server acknowledges it (the server stores a retried send once).
"use strict";

(() => {
  const section = document.getElementById("channel");
  if (!section || typeof io !== "function") return;

  const channelId = Number(section.dataset.channelId);
  const list = section.querySelector(".messages");
  const typingLine = section.querySelector(".typing");
  const stateLine = section.querySelector(".connection-state");
  const labels = {
    deleted: section.dataset.labelDeleted,
    edited: section.dataset.labelEdited,
    typing: section.dataset.labelTyping,
    offline: section.dataset.labelOffline,
    failed: section.dataset.labelFailed,
  };
  let firstSeq = Number(section.dataset.firstSeq) || 0;
  // The page holds an unbroken run of seqs (deleted messages stay as tombstones). A
  // rejoin asks for everything after the highest seq up to which nothing is missing, so a
  // message that arrived out of order never hides an earlier one that did not arrive.
  let contiguous = Number(section.dataset.lastSeq) || 0;
  const held = new Set(Array.from(list.querySelectorAll("[data-seq]"), (li) => Number(li.dataset.seq)));
  const advance = () => {
    while (held.has(contiguous + 1)) contiguous += 1;
  };
  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: "short",
    timeStyle: "short",
  });

  // --- Drawing messages (the HTML was sanitised by the server; names are text) -------
  function render(message) {
    const item = document.createElement("li");
    item.className = "message" + (message.deleted ? " deleted" : "");
    item.dataset.seq = String(message.seq);
    item.id = `m${message.seq}`;
    const meta = document.createElement("p");
    meta.className = "message-meta";
    const author = document.createElement("strong");
    author.className = "author";
    author.textContent = message.author ? message.author.name : "—";
    const time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = timeFormat.format(new Date(message.created_at));
    meta.append(author, " ", time);
    if (message.edited_at && !message.deleted) {
      const edited = document.createElement("span");
      edited.className = "muted";
      edited.textContent = ` (${labels.edited})`;
      meta.append(edited);
    }
    const body = document.createElement("div");
    body.className = "message-body";
    if (message.deleted) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = labels.deleted;
      body.append(note);
    } else {
      body.innerHTML = message.html;
    }
    item.append(meta, body);
    return item;
  }

  function place(message) {
    if (message.channel_id !== channelId) return;
    section.querySelector(".js-empty")?.remove();
    const existing = list.querySelector(`[data-seq="${message.seq}"]`);
    const item = render(message);
    if (existing) {
      existing.replaceWith(item); // an edit or a deletion of a message we hold
      return;
    }
    // Keep seq order whatever order things arrive in.
    const later = Array.from(list.children).find((li) => Number(li.dataset.seq) > message.seq);
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
    list.insertBefore(item, later || null);
    held.add(message.seq);
    advance();
    if (!firstSeq || message.seq < firstSeq) firstSeq = message.seq;
    if (!later && nearBottom) item.scrollIntoView({ block: "end" });
  }

  // --- The connection ------------------------------------------------------------------
  const socket = io({ transports: ["websocket", "polling"] });
  let markTimer = null;

  function markRead() {
    clearTimeout(markTimer);
    markTimer = setTimeout(() => {
      if (document.visibilityState === "visible") {
        socket.emit("read", { channel_id: channelId, seq: contiguous }, () => {});
      }
    }, 500);
  }

  function join() {
    socket.timeout(10000).emit("join", { channel_id: channelId, after_seq: contiguous }, (err, ack) => {
      if (err || !ack || !ack.ok) {
        setTimeout(join, 2000);
        return;
      }
      ack.messages.forEach(place);
      if (ack.more) join(); // more were missed than one answer carries
      else markRead();
    });
  }

  socket.on("connect", () => {
    stateLine.textContent = "";
    join();
  });
  socket.on("disconnect", () => {
    stateLine.textContent = labels.offline;
  });
  socket.on("message", (message) => {
    place(message);
    markRead();
  });

  let typingTimer = null;
  socket.on("typing", (event) => {
    if (event.channel_id !== channelId) return;
    typingLine.textContent = labels.typing.replace("{name}", event.user.name);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingLine.textContent = "";
    }, 3000);
  });
  document.addEventListener("visibilitychange", markRead);

  // --- Sending -----------------------------------------------------------------------
  const form = document.getElementById("composer");
  if (form) {
    const textarea = form.querySelector("textarea");
    const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replaceAll("-", "");
    let lastTyping = 0;

    function send(payload, attempt) {
      socket.timeout(8000).emit("send", payload, (err, ack) => {
        if (err) {
          // No answer: try again with the same client id (stored once by the server).
          stateLine.textContent = labels.failed;
          setTimeout(() => send(payload, attempt + 1), Math.min(1000 * 2 ** attempt, 15000));
          return;
        }
        stateLine.textContent = ack.ok ? "" : ack.error.message;
        if (ack.ok && textarea.value.trim() === payload.body) textarea.value = "";
      });
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = textarea.value.trim();
      if (!body) return;
      send({ channel_id: channelId, client_id: newId(), body }, 0);
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
        socket.emit("typing", { channel_id: channelId }, () => {});
      }
    });
  }

  // --- Scrolling back ----------------------------------------------------------------
  const earlier = section.querySelector(".js-load-earlier");
  if (earlier) {
    earlier.addEventListener("click", async () => {
      earlier.disabled = true;
      const url = `${section.dataset.historyUrl}?before_seq=${firstSeq}&limit=50`;
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const page = await response.json();
        const anchor = list.firstElementChild;
        const offset = anchor ? anchor.getBoundingClientRect().top : 0;
        page.items.forEach(place);
        if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - offset);
        if (!page.items.length || firstSeq <= 1) earlier.parentElement.remove();
      }
      earlier.disabled = false;
    });
  }
})();
