/* What both sides of a live interview share: the console (live_console.js) and the
 * candidate's room and interview page (live_room.js). */
import { csrfToken } from "./autosave.js";

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Reconnecting… showing updates every few seconds",
  reconnecting: "Reconnecting…",
};

/** A new element with an optional class and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Elapsed or remaining milliseconds as m:ss, or h:mm:ss from an hour. */
export function clock(ms) {
  if (ms === null || ms === undefined) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** The connection chip (#live-status): "connecting", "live", "polling", "reconnecting". */
export function showConnectionStatus(status) {
  const statusEl = document.getElementById("live-status");
  if (!statusEl) return;
  statusEl.dataset.status = status;
  statusEl.querySelector("[data-status-text]").textContent = STATUS_TEXT[status] || status;
}

/** POST `data` as a form, as htmx would (the views answer htmx requests with fragments). */
export function postForm(url, data) {
  const body = new FormData();
  Object.entries(data).forEach(([key, value]) => body.append(key, value));
  return fetch(url, {
    method: "POST", body, credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
  });
}

/** Say "here" to the room shortly after the page opens (the page's GET said "joined", but a
 * reload's "left" beacon may land after it), and "gone" when the page goes away, unless
 * `isOver()` says the interview has ended. */
export function keepPresence(presenceUrl, isOver) {
  setTimeout(() => postForm(presenceUrl, { present: "1" }).catch(() => undefined), 1500);
  window.addEventListener("pagehide", () => {
    if (!navigator.sendBeacon || isOver()) return;
    const body = new FormData();
    body.append("present", "");
    body.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(presenceUrl, body);
  });
}
