// Progressive enhancement only: every page works without this file.
"use strict";

document.documentElement.classList.add("js");

// A translated sentence with names in it ("{name} is typing…"), as nodes: each value in a
// <bdi>, so that a Latin name in an Arabic sentence (or an Arabic name in an English one)
// keeps its own direction and leaves the punctuation around it in place. The pages do the
// same with the Jinja filter ``bdi``; values are text, never markup.
window.networkText = {
  fill(template, values) {
    const sentence = document.createDocumentFragment();
    (template || "").split(/\{(\w+)\}/).forEach((piece, index) => {
      if (index % 2 === 0) {
        if (piece) sentence.append(piece);
        return;
      }
      const value = document.createElement("bdi");
      value.textContent = String(values[piece] ?? "");
      sentence.append(value);
    });
    return sentence;
  },
};

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("open", !open);
    });
  }
  // Directory filters: always open on wide screens. On phones they sit above the
  // results, folded to one "Filters" line so the results stay in view.
  const facets = document.querySelector("details.facets-panel");
  if (facets) {
    const narrow = window.matchMedia("(max-width: 800px)");
    const fit = () => { facets.open = !narrow.matches; };
    fit();
    narrow.addEventListener("change", fit);
  }
  // Long multiple-choice lists (languages, countries): a filter box above, and the
  // chosen values spelled out below, since most of the list is out of view.
  document.querySelectorAll("select[multiple][data-filter-placeholder]").forEach((select) => {
    if (select.options.length < 15) return;
    const filter = document.createElement("input");
    filter.type = "search";
    filter.className = "multi-filter";
    filter.placeholder = select.dataset.filterPlaceholder;
    filter.setAttribute("aria-label", `${select.dataset.filterPlaceholder}: ${select.labels[0]?.textContent || ""}`);
    select.before(filter);
    // The field's hint mentions the filter box only now that there is one.
    const hint = select.closest(".field")?.querySelector(".hint[data-filter-hint]");
    if (hint) hint.textContent = hint.dataset.filterHint;
    const chosen = document.createElement("p");
    chosen.className = "hint multi-chosen";
    chosen.setAttribute("aria-live", "polite");
    select.after(chosen);
    const show = () => {
      const names = Array.from(select.selectedOptions, (option) => option.textContent);
      // "a, b and c" / "a, b et c" / "أ وب وج": joined the page language's way.
      const list = new Intl.ListFormat(document.documentElement.lang || undefined, { style: "long", type: "conjunction" });
      chosen.textContent = `${select.dataset.chosenLabel} ${names.length ? list.format(names) : select.dataset.noneLabel}`;
    };
    filter.addEventListener("input", () => {
      const query = filter.value.trim().toLocaleLowerCase();
      for (const option of select.options) {
        option.hidden = query !== "" && !option.selected && !option.textContent.toLocaleLowerCase().includes(query);
      }
    });
    select.addEventListener("change", show);
    show();
  });
  // File inputs: the browser draws "Choose Files · No file chosen" in its own language,
  // not the page's. Once this script runs, the real input is hidden (it stays focusable
  // and opens the file dialog from the keyboard) behind a label in the page's language and
  // the names of the chosen files. Without the script, the browser's own control shows.
  const page = document.documentElement;
  const fileNames = new Intl.ListFormat(page.lang || undefined, { style: "long", type: "conjunction" });
  document.querySelectorAll('input[type="file"]').forEach((input, n) => {
    if (!input.id) input.id = `file-input-${n + 1}`;
    const picker = document.createElement("span");
    picker.className = "file-picker";
    input.before(picker);
    // Drawn as a button for the mouse; the keyboard and assistive technology use the input
    // itself (named by its own label), so this is no second label and no tab stop.
    const button = document.createElement("span");
    button.className = "file-picker-button";
    button.setAttribute("aria-hidden", "true");
    button.textContent = input.multiple ? page.dataset.labelChooseFiles : page.dataset.labelChooseFile;
    button.addEventListener("click", () => input.click());
    const chosen = document.createElement("span");
    chosen.className = "file-picker-chosen";
    chosen.id = `${input.id}-chosen`;
    input.classList.add("file-picker-input");
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), chosen.id].filter(Boolean).join(" "));
    picker.append(input, button, chosen);
    const show = () => {
      const names = Array.from(input.files || [], (file) => file.name);
      chosen.classList.toggle("is-empty", !names.length);
      if (!names.length) {
        chosen.textContent = page.dataset.labelNoFile;
        return;
      }
      // "a.pdf, b.pdf and c.pdf" the page language's way, each name in its own direction.
      chosen.replaceChildren(...fileNames.formatToParts(names).map((part) => {
        if (part.type !== "element") return part.value;
        const name = document.createElement("bdi");
        name.textContent = part.value;
        return name;
      }));
    };
    input.addEventListener("change", show);
    input.form?.addEventListener("reset", () => setTimeout(show));
    show();
  });
  // Select boxes that submit their form when changed (language switcher, sort order).
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});

// --- The live connection of a signed-in page ----------------------------------------------
// One Socket.IO connection per page, shared: the header's notification badge listens on
// it, and the channel pages (channel.js, channels.js) use the same one through
// window.networkRealtime.ready. The socket.io client is loaded only for signed-in pages.
(() => {
  let resolveReady;
  window.networkRealtime = { socket: null, ready: new Promise((resolve) => { resolveReady = resolve; }) };

  function loadClient(src) {
    return new Promise((resolve, reject) => {
      if (typeof io === "function") { resolve(); return; }
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error("socket.io client did not load"));
      document.head.append(script);
    });
  }

  function showCount(badge, count) {
    badge.textContent = String(count);
    badge.hidden = !count;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const link = document.querySelector(".notifications-link[data-socket-src]");
    if (!link) return;
    const badge = link.querySelector(".js-notification-count");
    loadClient(link.dataset.socketSrc).then(() => {
      const socket = io({ transports: ["websocket", "polling"] });
      window.networkRealtime.socket = socket;
      socket.on("connect", () => { link.dataset.live = "true"; });
      socket.on("disconnect", () => { delete link.dataset.live; });
      socket.on("notification", (note) => {
        if (badge && typeof note.unread === "number") showCount(badge, note.unread);
      });
      socket.on("notifications_read", (counts) => {
        if (badge && typeof counts.unread === "number") showCount(badge, counts.unread);
      });
      // The receipts page of a case-channel message updates as members receive and read it.
      const receipts = document.getElementById("receipts");
      if (receipts) {
        const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
          dateStyle: "short",
          timeStyle: "short",
          timeZone: document.documentElement.dataset.timezone || undefined, // the reader's zone
        });
        socket.on("receipt", (event) => {
          if (String(event.message_id) !== receipts.dataset.messageId) return;
          for (const item of event.items) {
            const row = receipts.querySelector(`tr[data-user-id="${item.user.id}"]`);
            if (!row) continue;
            if (item.delivered_at) row.querySelector(".js-delivered").textContent = when.format(new Date(item.delivered_at));
            if (item.read_at) row.querySelector(".js-read").textContent = when.format(new Date(item.read_at));
          }
        });
      }
      resolveReady(socket);
    }).catch(() => {});
  });
})();
