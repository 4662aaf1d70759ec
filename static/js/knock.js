// Live invitations to a consultation ("knock"): a small toast on every signed-in page,
// over the page's one Socket.IO connection (app.js).
"use strict";

(() => {
  const box = document.getElementById("knock-toasts");
  if (!box || !window.networkRealtime) return;
  window.networkRealtime.ready.then((socket) => {
    socket.on("knock", (knock) => {
      if (box.querySelector(`[data-consultation-id="${knock.consultation_id}"]`)) return;
      const toast = document.createElement("div");
      toast.className = "toast";
      toast.setAttribute("role", "status");
      toast.dataset.consultationId = String(knock.consultation_id);
      const text = document.createElement("p");
      text.append(window.networkText.fill(box.dataset.labelKnock, { name: knock.from ? knock.from.name : "", title: knock.title }));
      const join = document.createElement("a");
      join.className = "button button-small js-knock-join";
      join.href = knock.url;
      join.textContent = box.dataset.labelJoin;
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "link-button";
      dismiss.textContent = box.dataset.labelDismiss;
      dismiss.addEventListener("click", () => toast.remove());
      toast.append(text, join, " ", dismiss);
      box.append(toast);
    });
  });
})();
