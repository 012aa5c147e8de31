// The alerts page's "select all" box, and the optional sound and desktop notification for new
// live alerts (off by default, remembered in this browser's localStorage). app.js's live feed
// announces each pushed alert with a "safecity:alert" event on the document.
"use strict";

const ALERT_SOUND = "safecity.alertSound";
const ALERT_NOTIFY = "safecity.alertNotify";

function setupPickAll() {
  const all = document.getElementById("pick-all");
  if (!all) return;
  const boxes = () => Array.from(document.querySelectorAll("input[name=alert]"));
  all.addEventListener("change", () => boxes().forEach((b) => { b.checked = all.checked; }));
  document.querySelectorAll("input[name=alert]").forEach((b) => b.addEventListener("change", () => {
    all.checked = boxes().every((x) => x.checked);
  }));
}

let audio = null;
function beep() {
  // A short two-tone beep made here (WebAudio): no sound file is fetched.
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (!audio) audio = new Context();
  const now = audio.currentTime;
  [880, 660].forEach((hz, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, now + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.18);
    osc.stop(now + i * 0.18 + 0.17);
  });
}

function setupToggles() {
  const sound = document.getElementById("alert-sound");
  const notify = document.getElementById("alert-notify");
  if (!sound || !notify) return;
  const hint = document.getElementById("alert-notify-hint");
  sound.checked = window.localStorage.getItem(ALERT_SOUND) === "on";
  notify.checked = window.localStorage.getItem(ALERT_NOTIFY) === "on" && "Notification" in window
    && Notification.permission === "granted";
  sound.addEventListener("change", () => {
    window.localStorage.setItem(ALERT_SOUND, sound.checked ? "on" : "off");
    if (sound.checked) beep();  // a click allows the browser to play sound; it also lets one hear it
  });
  notify.addEventListener("change", async () => {
    if (!notify.checked) { window.localStorage.setItem(ALERT_NOTIFY, "off"); return; }
    if (!("Notification" in window)) {
      notify.checked = false;
      if (hint) hint.textContent = "this browser cannot show desktop notifications";
      return;
    }
    const answer = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    notify.checked = answer === "granted";
    window.localStorage.setItem(ALERT_NOTIFY, notify.checked ? "on" : "off");
    if (hint) hint.textContent = notify.checked ? "" : "the browser refused notifications for this site";
  });
  document.addEventListener("safecity:alert", (event) => {
    const alert = event.detail;
    if (sound.checked) beep();
    if (notify.checked && "Notification" in window && Notification.permission === "granted") {
      const note = new Notification("Alert on " + alert.camera_id, { body: alert.message, tag: alert.id });
      note.onclick = () => { window.focus(); if (document.getElementById("live-alerts").dataset.links === "1") window.location.href = "/alerts/" + encodeURIComponent(alert.id); };
    }
  });
}

function setupNavCount() {
  const badge = document.getElementById("nav-alert-count");
  if (!badge) return;
  document.addEventListener("safecity:alert", (event) => {
    if (event.detail.status !== "new") return;
    const count = Number(badge.dataset.count || "0") + 1;
    badge.dataset.count = String(count);
    badge.textContent = String(count);
    badge.title = count + " new alert" + (count === 1 ? "" : "s") + " not yet handled";
    badge.hidden = false;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupPickAll();
  setupToggles();
  setupNavCount();
});
