// A live consultation room: presence, messages through the channels' pipeline, typing,
// moderation, and peer-to-peer voice and video (WebRTC mesh of up to four) signalled
// over the page's one Socket.IO connection (app.js). CSP forbids inline scripts: every
// label and id comes from data-* attributes of #consultation.
"use strict";

(() => {
  const root = document.getElementById("consultation");
  if (!root || !window.networkRealtime) return;
  const consultationId = Number(root.dataset.consultationId);
  const channelId = Number(root.dataset.channelId);
  const me = Number(root.dataset.userId);
  const isModerator = root.dataset.moderator === "true";
  const label = (name, values = {}) =>
    (root.dataset[name] || "").replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
  // The same with people's names isolated (<bdi>), as nodes.
  const sentence = (name, values) => window.networkText.fill(root.dataset[name], values);
  const list = root.querySelector(".js-room-messages");
  const typingLine = root.querySelector(".js-typing");
  const composer = root.querySelector(".js-composer");
  const presenceList = document.querySelector(".js-presence");
  const waitingList = document.querySelector(".js-waiting");
  const grid = root.querySelector(".js-video-grid");
  const startButton = root.querySelector(".js-start-call");
  const leaveButton = root.querySelector(".js-leave-call");
  const cameraButton = root.querySelector(".js-toggle-camera");
  const micButton = root.querySelector(".js-toggle-mic");
  const audioOnly = root.querySelector(".js-audio-only");
  const mediaHint = root.querySelector(".js-media-hint");
  const notice = (cls) => document.querySelector(cls);
  const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { timeStyle: "short" });

  let socket = null;
  let lastSeq = 0;
  let state = "";
  let ended = root.dataset.ended === "true";
  let iceServers = [];
  let maxMesh = 4;
  let online = [];
  const seen = new Set();

  function showError(message) {
    const box = notice(".js-error-notice");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }

  // --- Transcript -------------------------------------------------------------------------
  function addMessage(m) {
    if (m.channel_id !== channelId || seen.has(m.seq)) return;
    seen.add(m.seq);
    lastSeq = Math.max(lastSeq, m.seq);
    const li = document.createElement("li");
    li.dataset.seq = String(m.seq);
    const name = m.author ? m.author.name : label("labelFormer");
    const time = document.createElement("time");
    time.dateTime = m.created_at;
    time.textContent = when.format(new Date(m.created_at));
    if (m.client_id && (m.client_id.startsWith("cjoin-") || m.client_id.startsWith("cleave-"))) {
      li.className = "room-line";
      li.append(time, " ", sentence(m.client_id.startsWith("cjoin-") ? "labelJoined" : "labelLeft", { name }));
    } else {
      li.className = "message";
      const author = document.createElement("strong");
      author.className = "author";
      author.textContent = name;
      author.dir = "auto"; // a name keeps its own direction inside an RTL page
      const body = document.createElement("div");
      body.className = "message-body";
      body.dir = "auto";
      if (m.deleted) body.textContent = label("labelDeleted");
      else body.innerHTML = m.html; // rendered and sanitised by the server (network/sanitize.py)
      li.append(author, " ", time, body);
    }
    const after = Array.from(list.children).find((other) => Number(other.dataset.seq) > m.seq);
    list.insertBefore(li, after || null);
    list.scrollTop = list.scrollHeight;
  }

  // --- Presence ---------------------------------------------------------------------------
  function person(p, withButtons) {
    const li = document.createElement("li");
    li.dataset.userId = String(p.id);
    li.className = p.away ? "presence-away" : "presence-here";
    const dot = document.createElement("span");
    dot.className = "presence-dot";
    dot.setAttribute("aria-hidden", "true");
    li.append(dot, p.name);
    if (p.id === me) li.append(` (${label("labelYou")})`);
    if (p.away) li.append(` · ${label("labelAway")}`);
    if (withButtons) {
      const admit = document.createElement("button");
      admit.type = "button";
      admit.className = "link-button js-admit";
      admit.dataset.userId = String(p.id);
      admit.textContent = label("labelAdmit");
      li.append(" ", admit);
    }
    return li;
  }

  function showPresence(event) {
    if (event.consultation_id !== consultationId) return;
    online = event.online || [];
    root.dataset.online = online.map((p) => p.id).join(",");
    root.dataset.away = online.filter((p) => p.away).map((p) => p.id).join(",");
    if (presenceList) {
      presenceList.replaceChildren(...online.map((p) => person(p, false)));
      if (!online.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = label("labelNobody");
        presenceList.append(li);
      }
    }
    if (waitingList) {
      const waiting = event.waiting || [];
      waitingList.replaceChildren(...waiting.map((p) => person(p, isModerator)));
      if (!waiting.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = label("labelNobodyWaiting");
        waitingList.append(li);
      }
    }
    // A peer who left the room leaves the call.
    for (const id of Array.from(peers.keys())) {
      if (!online.some((p) => p.id === id)) closePeer(id);
    }
    if (startButton && !inCall) startButton.disabled = state !== "admitted" || ended || online.length > maxMesh;
    if (mediaHint && online.length > maxMesh) mediaHint.textContent = label("labelTooMany");
  }

  // --- Entering the room (and again after any reconnect: the missed messages come back) ----
  function join() {
    if (ended || root.dataset.enter !== "true") return;
    socket.emit("consultation_join", { consultation_id: consultationId, after_seq: lastSeq }, (ack) => {
      if (!ack || !ack.ok) {
        showError(ack && ack.error ? ack.error.message : "");
        return;
      }
      showError("");
      state = ack.state;
      root.dataset.state = state;
      const waiting = notice(".js-waiting-notice");
      if (waiting) waiting.hidden = state !== "waiting";
      if (state !== "admitted") return;
      iceServers = ack.ice_servers || [];
      maxMesh = ack.max_mesh || 4;
      ack.messages.forEach(addMessage);
      showPresence(ack.presence);
      root.dataset.joined = "true";
      if (ack.more) join();
      if (startButton && !inCall) startButton.disabled = online.length > maxMesh;
      if (document.hidden) sendAway(true);
    });
  }

  function sendAway(away) {
    if (state === "admitted") socket.emit("consultation_away", { consultation_id: consultationId, away }, () => {});
  }

  function stopRoom(which) {
    const box = notice(which);
    if (box) box.hidden = false;
    leaveCall();
    if (composer) composer.querySelectorAll("textarea, button").forEach((el) => { el.disabled = true; });
    if (startButton) startButton.disabled = true;
    state = "";
  }

  // --- Messages and typing -----------------------------------------------------------------
  let lastTyping = 0;
  const typers = new Map();
  function showTyping() {
    const names = Array.from(typers.values()).map((t) => t.name);
    typingLine.replaceChildren(...names.flatMap((name, n) => [...(n ? [" "] : []), sentence("labelTyping", { name })]));
  }

  function newClientId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function send(body, clientId, tries = 0) {
    socket.timeout(5000).emit("send", { channel_id: channelId, client_id: clientId, body }, (err, ack) => {
      if (err) {
        if (tries < 5) setTimeout(() => send(body, clientId, tries + 1), 500 * (tries + 1));
        return;
      }
      if (!ack.ok) showError(ack.error.message);
    });
  }

  if (composer) {
    const area = composer.querySelector("textarea");
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body || state !== "admitted") return;
      send(body, newClientId());
      area.value = "";
    });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    area.addEventListener("input", () => {
      const now = Date.now();
      if (state === "admitted" && now - lastTyping > 2000) {
        lastTyping = now;
        socket.emit("typing", { channel_id: channelId }, () => {});
      }
    });
  }

  // --- Moderation ---------------------------------------------------------------------------
  function moderate(event, data, done) {
    socket.emit(event, { consultation_id: consultationId, ...data }, (ack) => {
      if (!ack || !ack.ok) showError(ack && ack.error ? ack.error.message : "");
      else if (done) done();
    });
  }
  function participantRow(id) {
    return document.querySelector(`.js-participants li[data-user-id="${id}"]`);
  }
  document.addEventListener("click", (event) => {
    const admit = event.target.closest(".js-admit");
    if (admit) {
      const id = Number(admit.dataset.userId);
      moderate("consultation_admit", { user_id: id }, () => {
        document.querySelectorAll(`.js-admit[data-user-id="${id}"]`).forEach((b) => b.remove());
        const row = participantRow(id);
        if (row) row.querySelector(".badge").textContent = label("labelAdmitted");
      });
    }
    const remove = event.target.closest(".js-remove");
    if (remove) {
      const id = Number(remove.dataset.userId);
      moderate("consultation_remove", { user_id: id }, () => {
        const row = participantRow(id);
        if (row) {
          row.querySelectorAll("button").forEach((b) => b.remove());
          row.querySelector(".badge").textContent = label("labelRemoved");
        }
      });
    }
  });
  const inviteForm = document.querySelector(".js-invite-form");
  if (inviteForm) {
    inviteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      moderate("consultation_invite", { user_ids: [Number(inviteForm.elements.user_id.value)] }, () => window.location.reload());
    });
  }
  const endForm = document.querySelector(".js-end-form");
  if (endForm) {
    endForm.addEventListener("submit", (event) => {
      if (!window.confirm(label("labelConfirmEnd"))) event.preventDefault();
    });
  }

  // --- Voice and video (WebRTC mesh) --------------------------------------------------------
  // Whoever starts sends "ready" to everyone in the room; of two people in the call, the
  // one with the smaller id makes the offer (the other answers "ready" back), so two
  // people never offer to each other at once.
  const peers = new Map(); // user id -> { pc, tile, pending: [] }
  let localStream = null;
  let inCall = false;

  function signal(to, data) {
    socket.emit("signal", { consultation_id: consultationId, to, data }, () => {});
  }

  function connectedCount() {
    let n = 0;
    for (const peer of peers.values()) if (peer.pc.connectionState === "connected") n += 1;
    root.dataset.peersConnected = String(n);
  }

  function tileFor(id) {
    const name = (online.find((p) => p.id === id) || {}).name || "";
    const tile = document.createElement("figure");
    tile.className = "video-tile";
    tile.dataset.peerId = String(id);
    tile.dataset.peerState = "new";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    caption.textContent = name;
    tile.append(video, caption);
    grid.append(tile);
    return tile;
  }

  function peerFor(id) {
    let peer = peers.get(id);
    if (peer && !["closed", "failed"].includes(peer.pc.connectionState)) return peer;
    if (peer) closePeer(id);
    const pc = new RTCPeerConnection({ iceServers });
    peer = { pc, tile: tileFor(id), pending: [] };
    peers.set(id, peer);
    if (localStream) localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
    pc.onicecandidate = (event) => {
      if (event.candidate) signal(id, { type: "candidate", candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      const video = peer.tile.querySelector("video");
      if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0];
    };
    pc.onconnectionstatechange = () => {
      peer.tile.dataset.peerState = pc.connectionState;
      connectedCount();
    };
    return peer;
  }

  function closePeer(id) {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    peer.pc.close();
    peer.tile.remove();
    connectedCount();
  }

  async function offerTo(id) {
    const peer = peerFor(id);
    const offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    signal(id, { type: "offer", sdp: peer.pc.localDescription.sdp });
  }

  async function onSignal(event) {
    if (event.consultation_id !== consultationId || !inCall) return;
    const from = event.from;
    const data = event.data || {};
    try {
      if (data.type === "ready") {
        const existing = peers.get(from);
        if (existing && !["closed", "failed"].includes(existing.pc.connectionState)) return;
        if (me < from) await offerTo(from);
        else signal(from, { type: "ready" });
      } else if (data.type === "offer") {
        const peer = peerFor(from);
        await peer.pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
        for (const c of peer.pending.splice(0)) await peer.pc.addIceCandidate(c);
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        signal(from, { type: "answer", sdp: peer.pc.localDescription.sdp });
      } else if (data.type === "answer") {
        const peer = peers.get(from);
        if (!peer) return;
        await peer.pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
        for (const c of peer.pending.splice(0)) await peer.pc.addIceCandidate(c);
      } else if (data.type === "candidate") {
        const peer = peerFor(from);
        if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(data.candidate);
        else peer.pending.push(data.candidate);
      } else if (data.type === "bye") {
        closePeer(from);
      }
    } catch (error) {
      console.warn("consultation: signal failed", error);
    }
  }

  async function startCall() {
    if (inCall || state !== "admitted") return;
    if (online.length > maxMesh) {
      mediaHint.textContent = label("labelTooMany");
      return;
    }
    const wantVideo = !(audioOnly && audioOnly.checked);
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: wantVideo });
    } catch (error) {
      mediaHint.textContent = label("labelNoMedia");
      return;
    }
    inCall = true;
    root.dataset.inCall = "true";
    const self = grid.querySelector(".video-self");
    self.hidden = !wantVideo;
    self.querySelector("video").srcObject = localStream;
    startButton.hidden = true;
    leaveButton.hidden = false;
    micButton.hidden = false;
    cameraButton.hidden = !wantVideo;
    if (audioOnly) audioOnly.disabled = true;
    for (const p of online) if (p.id !== me) signal(p.id, { type: "ready" });
  }

  function leaveCall() {
    if (!inCall) return;
    for (const id of Array.from(peers.keys())) {
      signal(id, { type: "bye" });
      closePeer(id);
    }
    if (localStream) localStream.getTracks().forEach((track) => track.stop());
    localStream = null;
    inCall = false;
    delete root.dataset.inCall;
    grid.querySelector(".video-self").hidden = true;
    startButton.hidden = false;
    leaveButton.hidden = true;
    micButton.hidden = true;
    cameraButton.hidden = true;
    if (audioOnly) audioOnly.disabled = false;
  }

  function toggle(button, tracks) {
    const off = button.getAttribute("aria-pressed") !== "true";
    tracks.forEach((track) => { track.enabled = !off; });
    button.setAttribute("aria-pressed", String(off));
  }

  if (startButton) startButton.addEventListener("click", startCall);
  if (leaveButton) leaveButton.addEventListener("click", leaveCall);
  if (cameraButton) cameraButton.addEventListener("click", () => localStream && toggle(cameraButton, localStream.getVideoTracks()));
  if (micButton) micButton.addEventListener("click", () => localStream && toggle(micButton, localStream.getAudioTracks()));

  // --- Wiring -------------------------------------------------------------------------------
  window.networkRealtime.ready.then((ready) => {
    socket = ready;
    socket.on("message", addMessage);
    socket.on("presence", showPresence);
    socket.on("signal", onSignal);
    socket.on("typing", (event) => {
      if (event.channel_id !== channelId || !event.user || event.user.id === me) return;
      const known = typers.get(event.user.id);
      if (known) clearTimeout(known.timer);
      typers.set(event.user.id, {
        name: event.user.name,
        timer: setTimeout(() => { typers.delete(event.user.id); showTyping(); }, 3000),
      });
      showTyping();
    });
    socket.on("consultation_admitted", (event) => {
      if (event.consultation_id === consultationId) window.location.reload();
    });
    socket.on("consultation_removed", (event) => {
      if (event.consultation_id === consultationId) stopRoom(".js-removed-notice");
    });
    socket.on("consultation_ended", (event) => {
      if (event.consultation_id !== consultationId) return;
      ended = true;
      root.dataset.ended = "true";
      stopRoom(".js-ended-notice");
    });
    socket.on("connect", join); // every reconnect: the room and the missed messages back
    if (socket.connected) join();
    document.addEventListener("visibilitychange", () => sendAway(document.hidden));
    window.addEventListener("pagehide", leaveCall);
  });

  if (ended) {
    // An ended room: its transcript, read-only, from the printable page's data.
    fetch(`/api/v1/channels/${channelId}/messages?after_seq=0&limit=200`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { items: [] }))
      .then((page) => (page.items || []).forEach(addMessage))
      .catch(() => {});
  }
})();
