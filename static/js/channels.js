// The channel list made live: unread counts and mention badges change without reload.
//
// The page "watches" its channels: the server puts the socket in each channel's watch
// room, which carries one small `channel_activity` event per new message ({channel_id,
// seq, author_id}), not the messages themselves. A 500-member network channel thus costs
// one emit per message to that room, the same as its message room, instead of one
// per-person event per member. Mentions and replies arrive as `notification` events in the
// person's own room with the new per-channel counts.
"use strict";

(() => {
  const root = document.getElementById("channel-list");
  if (!root || !window.networkRealtime) return;
  const data = root.dataset;
  const myId = Number(data.userId);
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_m, key) => String(values[key] ?? ""));
  const rows = new Map();
  for (const item of root.querySelectorAll("li[data-channel-id]")) {
    rows.set(Number(item.dataset.channelId), { item, lastSeq: Number(item.dataset.lastSeq) || 0 });
  }

  function setUnread(row, count) {
    const badge = row.item.querySelector(".js-unread");
    badge.textContent = String(count);
    badge.hidden = !count;
    badge.setAttribute("aria-label", count === 1 ? data.labelUnreadOne : fill(data.labelUnreadMany, { n: count }));
    row.item.querySelector(".channel-link").classList.toggle("has-unread", count > 0);
  }

  function setMentions(row, count) {
    const badge = row.item.querySelector(".js-mentions");
    badge.textContent = `@ ${count}`;
    badge.hidden = !count;
    badge.setAttribute("aria-label", fill(data.labelMentions, { n: count }));
  }

  function unreadOf(row) {
    return Number(row.item.querySelector(".js-unread").textContent) || 0;
  }

  function notice(sentence) {
    const box = document.querySelector(".js-added-notice");
    if (!box) return;
    box.replaceChildren(sentence);
    box.hidden = false;
  }

  window.networkRealtime.ready.then((socket) => {
    function watch() {
      socket.emit("watch", { channel_ids: Array.from(rows.keys()) }, (ack) => {
        if (!ack || !ack.ok) return;
        root.dataset.live = "true";
        // Counts taken after the socket began to listen: nothing falls between.
        for (const channel of ack.channels) {
          const row = rows.get(channel.id);
          if (!row) continue;
          row.lastSeq = Math.max(row.lastSeq, channel.last_seq);
          setUnread(row, channel.unread);
          setMentions(row, channel.mentions);
        }
      });
    }
    socket.on("connect", watch);
    socket.on("resync", watch); // a server process missed other processes' events for a while
    if (socket.connected) watch();

    socket.on("channel_activity", (event) => {
      const row = rows.get(event.channel_id);
      if (!row || event.seq <= row.lastSeq) return;
      row.lastSeq = event.seq;
      if (event.author_id !== myId) setUnread(row, unreadOf(row) + 1);
    });
    const applyMentions = (counts) => {
      for (const [id, row] of rows) setMentions(row, Number((counts.mentions || {})[String(id)]) || 0);
    };
    socket.on("notification", (note) => {
      applyMentions(note);
      if (note.kind === "channel_invitation" && !rows.has(note.channel_id)) {
        notice(window.networkText.fill(data.labelAdded, { name: note.channel_name || "" }));
      }
    });
    socket.on("notifications_read", applyMentions);
    socket.on("channel_removed", (event) => {
      const row = rows.get(event.channel_id);
      if (row) {
        row.item.remove();
        rows.delete(event.channel_id);
      }
      notice(window.networkText.fill(data.labelRemoved, { name: event.channel_name || "" }));
    });
  });
})();
