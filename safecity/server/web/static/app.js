// Open Safe City web UI: the only script the pages load (no framework, nothing from other hosts).
// Login and logout call the API; the dashboard follows the live WebSocket. Text from the server
// is always inserted with textContent, never parsed as HTML.
"use strict";

function problemText(body, fallback) {
  if (body && typeof body.detail === "string") return body.detail;
  return fallback;
}

function setupLogin() {
  const form = document.getElementById("login-form");
  if (!form) return;
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData(form);
    let response;
    try {
      response = await fetch("/api/v1/auth/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
      });
    } catch (e) {
      error.textContent = "The server cannot be reached.";
      error.hidden = false;
      return;
    }
    if (response.ok) {
      const next = form.dataset.next || "/";
      // The server sends a local path only (web/redirects.py); check again: a backslash or a
      // control character could make a browser read it as another host.
      const local = /^\/(?![\/\\])[^\\\u0000-\u001f\u007f]*$/.test(next);
      window.location.assign(local ? next : "/");
      return;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    error.textContent = problemText(body, "Login failed (" + response.status + ").");
    error.hidden = false;
  });
}

function setupLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    try {
      await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
    } finally {
      window.location.assign("/login");
    }
  });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function alertItem(list, id) {
  return Array.from(list.children).find((li) => li.dataset.alert === id) || null;
}

function showAlert(list, alert, links, backfilled) {
  // An alert already listed (the page's own list, or a back-fill that overlapped the feed) is
  // updated in place, never listed twice.
  const known = alertItem(list, alert.id);
  if (known) {
    const badge = known.querySelector(".status");
    if (badge) { badge.className = "status status-" + alert.status; badge.textContent = alert.status; }
    return;
  }
  const item = document.createElement("li");
  item.className = "alert-item fresh kind-" + alert.kind;
  item.dataset.alert = alert.id;
  const time = document.createElement("time");
  time.dateTime = alert.time;
  time.textContent = new Date(alert.time).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  item.appendChild(time);
  const where = document.createElement("span");
  where.className = "camera";
  where.textContent = alert.camera_id;
  item.appendChild(where);
  let message;
  if (links) {
    message = document.createElement("a");
    message.href = "/alerts/" + encodeURIComponent(alert.id);
  } else {
    message = document.createElement("span");
  }
  message.className = "message";
  message.textContent = alert.message;
  item.appendChild(message);
  const status = document.createElement("span");
  status.className = "status status-" + alert.status;
  status.textContent = alert.status;
  item.appendChild(status);
  if (backfilled) {
    // Missed while disconnected (or before this page was made): in its place by time, not fresh.
    item.classList.remove("fresh");
    const after = Array.from(list.children).find((li) => {
      const t = li.querySelector("time");
      return t && t.dateTime && new Date(t.dateTime) < new Date(alert.time);
    });
    list.insertBefore(item, after || null);
  } else {
    list.insertBefore(item, list.firstChild);
    window.setTimeout(() => item.classList.remove("fresh"), 4000);
    document.dispatchEvent(new CustomEvent("safecity:alert", { detail: alert }));
  }
  while (list.children.length > 200) list.removeChild(list.lastChild);
}

async function backfillAlerts(list, links) {
  // The latest alerts from the API, after each (re)connection: what the feed did not push while
  // this page was closed or the connection was down. Only for roles that may list alerts.
  if (!list.dataset.backfill) return;
  try {
    const response = await fetch(list.dataset.backfill, { credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    for (const alert of body.items || []) showAlert(list, alert, links, true);
  } catch (e) {
    // The feed reconnects and back-fills again; the page keeps what it shows.
  }
}

function showCameras(body, cameras) {
  body.replaceChildren();
  for (const camera of cameras) {
    const row = document.createElement("tr");
    row.dataset.camera = camera.id;
    const first = document.createElement("td");
    const link = document.createElement("a");
    link.href = "/cameras/" + encodeURIComponent(camera.id);
    link.textContent = camera.id;
    first.appendChild(link);
    row.appendChild(first);
    cell(row, camera.name);
    const state = cell(row, "");
    const badge = document.createElement("span");
    badge.className = "state state-" + camera.state;
    badge.textContent = camera.state;
    state.appendChild(badge);
    body.appendChild(row);
  }
}

function showTileStates(cameras) {
  for (const camera of cameras) {
    document.querySelectorAll("[data-tile-state]").forEach((badge) => {
      if (badge.dataset.tileState !== camera.id) return;
      badge.className = "state state-" + camera.state;
      badge.textContent = "analysis: " + camera.state;
      badge.title = badge.textContent;
    });
  }
}

function setupLive() {
  const list = document.getElementById("live-alerts");
  if (!list) return;
  const status = document.getElementById("live-status");
  const cameras = document.getElementById("camera-states");
  const links = list.dataset.links === "1";
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + window.location.host + list.dataset.live;
  let wait = 1000;

  function connect() {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      wait = 1000;
      status.textContent = "live: new alerts appear at the top";
      status.className = "note live-on";
      document.body.dataset.live = "open";
      backfillAlerts(list, links).then(() => { list.dataset.backfilled = String(Date.now()); });
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "alert") showAlert(list, message.alert, links);
      else if (message.type === "cameras") {
        if (cameras) showCameras(cameras, message.cameras);
        showTileStates(message.cameras);
      }
    });
    socket.addEventListener("close", (event) => {
      document.body.dataset.live = "closed";
      if (event.code === 4401 || event.code === 4403) {
        status.textContent = event.code === 4401 ? "not logged in: the live feed stopped" : "your role may not watch the live feed";
        status.className = "note error";
        return;
      }
      status.textContent = "disconnected; reconnecting…";
      status.className = "note live-off";
      window.setTimeout(connect, wait);
      wait = Math.min(wait * 2, 30000);
    });
  }
  connect();
}

// Live video: the server sends fragmented MP4 over a WebSocket (one remux of the camera, shared by
// all viewers); Media Source Extensions play it. A WebSocket, not a streamed HTTP response: a
// browser opens at most six HTTP connections to one server, fewer than a camera wall needs. The
// player stays near the live edge, trims what it has shown, and reconnects when the stream ends
// (camera down, server restarted, too slow a connection), but not when it was refused.
const LIVE_MIME = 'video/mp4; codecs="avc1.42E01E"';
const LIVE_MAX_LAG_S = 1.5;
const LIVE_EDGE_S = 0.3;
const LIVE_REFUSED = { 4401: "not logged in", 4403: "not allowed", 4404: "no live stream" };

// A camera that does not send H.264 is shown as JPEG images, in an <img> in the video's place.
function showImages(video) {
  let image = video.parentNode.querySelector("img.live-images");
  if (!image) {
    image = document.createElement("img");
    image.className = video.className + " live-images";
    image.alt = video.getAttribute("aria-label") || "live images";
    video.after(image);
  }
  video.hidden = true;
  video.dataset.mode = "images";
  return image;
}

function startLiveVideo(video) {
  const status = document.getElementById(video.dataset.status);
  const say = (text, cls) => {
    if (!status) return;
    status.textContent = text;
    status.className = "note " + (cls || "");
  };
  if (!window.MediaSource || !MediaSource.isTypeSupported(LIVE_MIME)) {
    say("This browser cannot play H.264 live video (Media Source Extensions).", "error");
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + window.location.host + video.dataset.live;
  let wait = 1000;
  const retry = (text) => {
    video.dataset.state = "reconnecting";
    say(text + "; reconnecting…", "live-off");
    window.setTimeout(connect, wait);
    wait = Math.min(wait * 2, 30000);
  };
  async function connect() {
    const source = new MediaSource();
    const objectUrl = URL.createObjectURL(source);
    video.src = objectUrl;
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    URL.revokeObjectURL(objectUrl);
    const buffer = source.addSourceBuffer(LIVE_MIME);
    const pending = [];
    const pump = () => {
      if (buffer.updating || pending.length === 0 || source.readyState !== "open") return;
      buffer.appendBuffer(pending.shift());
    };
    // A new viewer is sent everything since the camera's last keyframe (decoding starts there);
    // once the first frames decode, jump to the live edge instead of playing that backlog.
    let caughtUp = false;
    buffer.addEventListener("updateend", () => {
      const ranges = video.buffered;
      if (ranges.length) {
        const end = ranges.end(ranges.length - 1);
        const start = ranges.start(0);
        const lag = end - video.currentTime;
        if (!caughtUp && video.readyState >= 2 && lag > LIVE_EDGE_S + 0.2) {
          caughtUp = true;
          video.currentTime = end - LIVE_EDGE_S;
        } else if (video.currentTime < start || lag > LIVE_MAX_LAG_S) {
          video.currentTime = Math.max(start, end - LIVE_EDGE_S);
        }
        if (!buffer.updating && video.currentTime - start > 30) {
          buffer.remove(start, video.currentTime - 10);
          return;
        }
      }
      pump();
    });
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    let started = false;
    let image = null;
    socket.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      const bytes = new Uint8Array(event.data);
      if (!started) {
        started = true;
        wait = 1000;
        say("video playing", "live-on");
        video.dataset.state = "playing";
        if (bytes[0] === 0xff && bytes[1] === 0xd8) {
          image = showImages(video);  // not H.264: the server sends JPEG images
        } else {
          video.hidden = false;
          video.play().catch(() => {});
        }
      }
      if (image) {
        const previous = image.src;
        image.src = URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" }));
        if (previous) URL.revokeObjectURL(previous);
        return;
      }
      pending.push(bytes);
      pump();
    });
    socket.addEventListener("close", (event) => {
      if (event.code in LIVE_REFUSED) {
        video.dataset.state = "refused";
        say(event.reason || LIVE_REFUSED[event.code], "error");
        return;
      }
      retry(event.reason || (started ? "the camera's stream ended" : "the live view cannot be opened"));
    });
  }
  connect();
}

// Recordings: a click on the timeline plays the recorded video from that moment.
function setupTimeline() {
  const timeline = document.getElementById("timeline");
  const player = document.getElementById("playback");
  if (!timeline || !player) return;
  const since = Date.parse(timeline.dataset.since);
  const until = Date.parse(timeline.dataset.until);
  const span = Number(timeline.dataset.clipSeconds) * 1000;
  const title = document.getElementById("playback-title");
  const label = document.getElementById("playback-time");
  const utc = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  let playing = null;
  timeline.addEventListener("click", (event) => {
    // The click in the drawing's own units (0..1000), not the element's box: its border and any
    // scaling would put the moment a minute or more off on a day's axis.
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(timeline.getScreenCTM().inverse());
    const fraction = Math.min(Math.max(point.x / 1000, 0), 1);
    // One pixel is seconds to minutes: play from the recorded span nearest the click.
    let at = since + fraction * (until - since);
    let best = null;
    timeline.querySelectorAll("rect.tl-rec").forEach((rect) => {
      const s = Date.parse(rect.dataset.start);
      const e = Date.parse(rect.dataset.end);
      const distance = at < s ? s - at : at > e ? at - e : 0;
      if (best === null || distance < best.distance) best = { distance, s, e };
    });
    if (best !== null && best.distance > 0) at = at < best.s ? best.s : Math.max(best.s, best.e - 5000);
    const start = new Date(at);
    const end = new Date(Math.min(start.getTime() + span, until));
    const query = new URLSearchParams({ since: start.toISOString(), until: end.toISOString() });
    player.src = timeline.dataset.video + "?" + query.toString();
    player.hidden = false;
    if (title) title.hidden = false;
    playing = start.getTime();
    if (label) label.textContent = "at " + utc(playing);
    player.play().catch(() => {});
  });
  // The clip's own clock says 0:00 at its start: say the wall-clock time being shown.
  player.addEventListener("timeupdate", () => {
    if (label && playing !== null) label.textContent = "at " + utc(playing + player.currentTime * 1000);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupLogin();
  setupLogout();
  setupLive();
  document.querySelectorAll("video[data-live]").forEach(startLiveVideo);
  setupTimeline();
});
