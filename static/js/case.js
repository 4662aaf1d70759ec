// A case page kept honest: when the case's status changes, the case is edited or a
// message arrives in its channel while the page is open, a notice offers the latest view.
// The page itself is drawn by the server (the timeline merges status changes and messages).
"use strict";

(() => {
  const notice = document.getElementById("case-live");
  if (!notice || typeof io !== "function") return;

  const channelId = Number(notice.dataset.channelId);
  const caseId = Number(notice.dataset.caseId);
  const lastSeq = Number(notice.dataset.lastSeq) || 0;
  const show = () => {
    notice.hidden = false;
  };
  const socket = io({ transports: ["websocket", "polling"] });

  function join() {
    socket.timeout(10000).emit("join", { channel_id: channelId, after_seq: lastSeq }, (err, ack) => {
      if (err || !ack) {
        setTimeout(join, 2000);
        return;
      }
      if (ack.ok && ack.messages.length) show(); // something arrived while we were away
    });
  }

  socket.on("connect", join);
  socket.on("resync", join); // a server process missed other processes' events for a while
  socket.on("message", (message) => {
    if (message.channel_id === channelId && message.seq > lastSeq) show();
  });
  const ours = (event) => {
    if (event.case_id === caseId) show();
  };
  socket.on("case_status", ours);
  socket.on("case_updated", ours);
})();
