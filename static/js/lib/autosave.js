/* The autosave engine of the interview page (session.js) and the scorecard page
 * (scorecard.js). No framework: htmx sends the saves, this module decides when, and keeps
 * what was typed safe until the server has it. Each page keeps what is its own (conflict
 * panels, diagram, clock, evidence, suggestion) and hears about saves through hooks.
 *
 * One `Autosave` per htmx form with hx-trigger="autosave" and hx-sync="this:queue last"
 * (so one tab's saves go out in order and the queued one carries the newest value):
 * - When: about a second after typing stops; at once when a choice (radio, checkbox, select)
 *   changes, on blur, and when the tab is hidden; on pagehide a last copy goes out with
 *   fetch(…, {keepalive: true}).
 * - Every save names the version (or revision) it edited, taken from the page's version
 *   field and updated from the response's version header.
 * - Until the server confirms a save, the value is also in localStorage under
 *   `<backupKey>:<tab>`: one copy per tab, so two tabs never overwrite each other's. A tab
 *   that is gone (closed, crashed, or this tab before a reload) leaves its copy for
 *   `takeBackup()`; the page decides what to do with it.
 * - A failed save (no connection, 401, 403, 429, 5xx, anything unexpected) says "Not saved"
 *   and retries with exponential backoff, jittered so that many tabs do not retry in step,
 *   and capped; after a 429 (too many requests) never sooner than its Retry-After. Every
 *   htmx request carries the CSRF token read from the cookie when it is sent, so a 403
 *   after a log-in in another tab (which rotates the token) goes through on retry.
 * - 409 (saved elsewhere meanwhile) and 423 (closed: the interview ended, the grade was
 *   submitted) stop the form; the page's hook shows why. 400 shows the server's message.
 *
 * htmx is loaded with `defer` before these modules run, but processes the page only on
 * DOMContentLoaded: a save asked for earlier waits for it (`whenReady`).
 */

const SAVE_DEBOUNCE_MS = 1000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
// Each delay is the backoff less up to 30 %: spread out, and never above the cap.
const RETRY_JITTER = 0.3;
const TAB_BEAT_MS = 5000;
const TAB_ALIVE_MS = 15000;
const BACKUP_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
const CHOICES = "input[type=radio], input[type=checkbox], select";

/* ---------------------------------------------------------------- small shared helpers */

/** The CSRF token: the cookie first, as it is current even after a log-in in another tab
 * rotated it; the token the page was rendered with otherwise. */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch (error) {
    return "";
  }
}

/** "14:03:27" in the reader's time zone, or null for a date that does not parse. */
export function localTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** Show the server's "saved at" times in local time: every <time datetime> in `scope`, or
 * only those inside an element matching `within`. */
export function localizeTimes(scope, within) {
  if (!scope) return;
  scope.querySelectorAll("time[datetime]").forEach((time) => {
    const text = localTime(time.getAttribute("datetime"));
    if (text && (!within || time.closest(within))) time.textContent = text;
  });
}

/** Milliseconds to wait before retry number `attempt` (0 for the first): 1 s, 2 s, 4 s …
 * up to 30 s, each less a random part of up to 30 %. */
export function retryDelay(attempt, random = Math.random) {
  const backoff = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
  return Math.round(backoff * (1 - RETRY_JITTER * random()));
}

function retryReason(status) {
  if (status === 0) return "no connection";
  if (status === 401) return "you are logged out";
  if (status === 403) return "the server refused it";
  if (status === 429) return "too many requests";
  if (status >= 500) return "server error";
  return `error ${status}`;
}

/** A 429's Retry-After in milliseconds (seconds in the header; at most an hour), or 0. */
function retryAfterMs(xhr) {
  const seconds = Number(xhr && xhr.status === 429 ? xhr.getResponseHeader("Retry-After") : NaN);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : 0;
}

/** Whether two saved values (objects of strings) are the same. */
export function sameValue(a, b) {
  if (!a || !b) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

function storage() {
  try { return window.localStorage; } catch (error) { return null; }
}

/* ---------------------------------------------------------------- htmx readiness */

function domContentLoaded() {
  const navigation = performance.getEntriesByType("navigation")[0];
  return document.readyState === "complete" || Boolean(navigation && navigation.domContentLoadedEventEnd);
}

let ready = domContentLoaded();
const waiting = [];
if (!ready) {
  // Registered after htmx's own listener (its script runs first), so this runs once htmx
  // has processed the page and the forms listen for "autosave".
  document.addEventListener("DOMContentLoaded", () => {
    ready = true;
    waiting.splice(0).forEach((fn) => fn());
  }, { once: true });
}

/** Run `fn` once htmx has processed the page (at once if it has). */
export function whenReady(fn) {
  if (ready) fn();
  else waiting.push(fn);
}

/* ---------------------------------------------------------------- this tab */

let tabId = null;

function tab() {
  if (tabId) return tabId;
  const fresh = Math.random().toString(36).slice(2, 10);
  try {
    // sessionStorage survives a reload of this tab, so its own copies count as its own.
    tabId = sessionStorage.getItem("mlsd:tab") || fresh;
    sessionStorage.setItem("mlsd:tab", tabId);
  } catch (error) {
    tabId = fresh;
  }
  return tabId;
}

function markTabAlive() {
  const store = storage();
  if (store) try { store.setItem(`mlsd:tab:${tab()}`, String(Date.now())); } catch (error) { /* full */ }
}

function tabIsGone(owner) {
  if (owner === tab()) return true;
  const store = storage();
  const seen = Number((store && store.getItem(`mlsd:tab:${owner}`)) || 0);
  return Date.now() - seen > TAB_ALIVE_MS;
}

function forgetOldTabs() {
  const store = storage();
  if (!store) return;
  const now = Date.now();
  for (let i = store.length - 1; i >= 0; i -= 1) {
    const key = store.key(i);
    if (key && key.startsWith("mlsd:tab:") && now - Number(store.getItem(key)) > BACKUP_MAX_AGE_MS) store.removeItem(key);
  }
}

/* ---------------------------------------------------------------- the page's forms */

const autosaves = new Map(); // form element -> Autosave
let leaving = false;
let retryTicker = null;

/** Save every form with changes now (the submit buttons call this before they wait). */
export function flushAll() {
  autosaves.forEach((save) => save.request(true));
}

/** The page is about to navigate away on purpose (a submit): no "leave the page?" prompt
 * and no last-moment copies. */
export function leavePage() {
  leaving = true;
}

/** The navigation did not happen (the submit failed): back to normal. */
export function stayOnPage() {
  leaving = false;
}

function tickRetries() {
  const retrying = [...autosaves.values()].filter((save) => save.retrying);
  retrying.forEach((save) => save.showRetry());
  if (!retrying.length) {
    clearInterval(retryTicker);
    retryTicker = null;
  }
}

function install() {
  const body = document.body;
  body.addEventListener("htmx:configRequest", (event) => {
    // Every request, not only saves: the token of the page may be stale (see csrfToken).
    const token = csrfToken();
    event.detail.headers["X-CSRFToken"] = token;
    const parameters = event.detail.parameters;
    // Django reads a posted csrfmiddlewaretoken before the header: refresh it too.
    if (parameters && parameters.has && parameters.has("csrfmiddlewaretoken")) parameters.set("csrfmiddlewaretoken", token);
    const save = autosaves.get(event.detail.elt);
    if (save) save.sending(parameters);
  });
  body.addEventListener("htmx:beforeSwap", (event) => {
    // 409 and 423 carry fragments meant for the page (the conflict, the closed banner).
    const status = event.detail.xhr.status;
    if (status === 409 || status === 423) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  body.addEventListener("htmx:afterRequest", (event) => {
    const save = autosaves.get(event.detail.elt);
    if (save) save.answered(event.detail.xhr);
  });

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) flushAll();
  });
  window.addEventListener("online", () => {
    autosaves.forEach((save) => { if (save.retrying) save.fire(); });
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving) return;
    const unsaved = [...autosaves.values()].filter((save) => save.stopped !== "closed" && (save.inflight || save.isDirty()));
    if (!unsaved.length) return;
    // Ask before leaving; the saves go out now, and with keepalive on pagehide if the
    // person leaves anyway.
    flushAll();
    event.preventDefault();
    event.returnValue = "";
  });
  window.addEventListener("pagehide", () => {
    if (!leaving) autosaves.forEach((save) => save.sendFinal());
    const store = storage();
    if (store) store.removeItem(`mlsd:tab:${tab()}`);
  });
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: versions may be stale, so start from the server.
    if (event.persisted) window.location.reload();
  });

  markTabAlive();
  setInterval(markTabAlive, TAB_BEAT_MS);
  forgetOldTabs();
}

/* ---------------------------------------------------------------- one form */

/**
 * Autosave of one htmx form.
 *
 * options:
 * - backupKey: the localStorage key naming the page and the form ("mlsd:backup:<session>:<step>");
 *   each tab's copy is stored under "<backupKey>:<tab>".
 * - read(): the form's value, an object of strings; what is compared, saved and backed up.
 * - versionField(): the input holding the version the next save names (looked up each time:
 *   a response may swap it).
 * - versionHeader: the response header with the version the server now has.
 * - show(state, text): report "dirty", "saving", "saved", "error" (text says why and when
 *   the retry is), or a page's own states sent through report(); text may be undefined
 *   (keep the server's text, say "Saved at …").
 * - hooks, each optional: sending(parameters) as a save goes out (add parameters);
 *   saved(xhr) after a 200, before the next save is scheduled; conflict(xhr) on 409 and
 *   closed(xhr) on 423, after this form stopped saving.
 */
export class Autosave {
  constructor(form, options) {
    if (!autosaves.size) install();
    this.form = form;
    this.options = options;
    this.confirmed = options.read();
    this.inflight = null;
    this.state = "saved";
    this.stopped = null; // "conflict" or "closed": this form no longer saves
    this.debounce = null;
    this.retryTimer = null;
    this.attempt = 0;
    this.retryAt = 0;
    this.holdUntil = 0; // after a 429: nothing goes out before its Retry-After
    this.retryReason = "";
    autosaves.set(form, this);

    form.addEventListener("input", (event) => this.request(event.target.matches(CHOICES)));
    form.addEventListener("focusout", (event) => {
      if (event.target.matches("textarea")) this.request(true);
    });
    form.addEventListener("submit", (event) => {
      // Without JavaScript the form posts and the page reloads; with it, saves are htmx's.
      event.preventDefault();
      this.request(true);
    });
  }

  get retrying() {
    return this.retryTimer !== null;
  }

  read() {
    return this.options.read();
  }

  isDirty() {
    return !sameValue(this.read(), this.confirmed);
  }

  version() {
    const field = this.options.versionField();
    return Number((field && field.value) || 0);
  }

  setVersion(version) {
    const field = this.options.versionField();
    if (field && Number.isFinite(version)) field.value = String(version);
  }

  report(state, text) {
    this.state = state;
    this.options.show(state, text);
  }

  /** A change: save it about a second from now, or at once. */
  request(immediately) {
    if (this.stopped === "closed") return;
    const dirty = this.isDirty();
    // First, whatever happens next: what was typed is never only in the page. A copy of
    // what the server already has would be restored over newer saves from other tabs.
    if (dirty || this.inflight) this.backup();
    else this.clearBackup();
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = null;
    if (!dirty) {
      if (!this.inflight && !this.retrying && this.state !== "saved") this.report("saved");
      return;
    }
    if (sameValue(this.inflight, this.read())) return; // the save in flight carries this value
    if (this.state !== "error") this.report("dirty", "Editing…");
    if (immediately) this.fire();
    else this.debounce = setTimeout(() => this.fire(), SAVE_DEBOUNCE_MS);
  }

  /** Send a save now (htmx queues it behind one in flight). */
  fire() {
    clearTimeout(this.debounce);
    this.debounce = null;
    // Within a 429's Retry-After, edits, blurs and flushes wait for the retry already
    // scheduled (it sends the newest value); so typing does not prolong the refusal.
    if (this.retryTimer !== null && performance.now() < this.holdUntil) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stopped) return;
    if (!ready) {
      whenReady(() => this.fire());
      return;
    }
    window.htmx.trigger(this.form, "autosave");
  }

  /** Drop a save that is waiting (a debounce or a retry); a submit sends everything. */
  cancel() {
    clearTimeout(this.debounce);
    clearTimeout(this.retryTimer);
    this.debounce = null;
    this.retryTimer = null;
  }

  /** Stop saving: "conflict" (the page may resume()) or "closed" (for good). */
  halt(reason) {
    this.cancel();
    this.stopped = reason;
  }

  /** Save again after a conflict was resolved (never once closed). */
  resume() {
    if (this.stopped === "conflict") this.stopped = null;
  }

  sending(parameters) {
    this.inflight = this.read();
    if (this.options.sending) this.options.sending(parameters);
    this.report("saving", "Saving…");
  }

  answered(xhr) {
    const status = xhr ? xhr.status : 0;
    const sent = this.inflight;
    this.inflight = null;
    if (status === 200) {
      this.saved(xhr, sent);
    } else if (status === 409) {
      this.halt("conflict");
      this.backup();
      if (this.options.conflict) this.options.conflict(xhr);
    } else if (status === 423) {
      this.halt("closed");
      if (this.options.closed) this.options.closed(xhr);
    } else if (status === 400) {
      this.report("error", (xhr.responseText || "Not saved.").slice(0, 300));
    } else {
      this.scheduleRetry(status, retryAfterMs(xhr));
    }
  }

  saved(xhr, sent) {
    const version = xhr.getResponseHeader(this.options.versionHeader);
    if (version !== null) this.setVersion(Number(version));
    this.confirmed = sent || this.confirmed;
    this.attempt = 0;
    if (this.options.saved) this.options.saved(xhr);
    if (this.isDirty()) {
      this.backup();
      this.report("dirty", "Editing…");
      this.request(false);
    } else {
      this.clearBackup();
      this.report("saved");
    }
  }

  scheduleRetry(status, atLeastMs = 0) {
    const delay = Math.max(retryDelay(this.attempt), atLeastMs);
    this.attempt += 1;
    this.retryAt = performance.now() + delay;
    this.holdUntil = performance.now() + atLeastMs;
    this.retryReason = retryReason(status);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.fire();
    }, delay);
    this.showRetry();
    if (!retryTicker) retryTicker = setInterval(tickRetries, 250);
  }

  showRetry() {
    const seconds = Math.max(1, Math.ceil((this.retryAt - performance.now()) / 1000));
    this.report("error", `Not saved (${this.retryReason}). Retrying in ${seconds} s…`);
  }

  /** The page is going away and may abort a save in flight: send the value once more with
   * keepalive. A save that in fact landed twice is harmless (same value, no new version). */
  sendFinal() {
    if (this.stopped || !this.isDirty()) return;
    const body = new FormData(this.form);
    body.set("csrfmiddlewaretoken", csrfToken());
    try {
      fetch(this.form.getAttribute("hx-post"), {
        method: "POST", body, keepalive: true, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      }).catch(() => undefined);
    } catch (error) { /* the localStorage copy is kept for the next visit */ }
  }

  /* ------------------------------------------------------------ the localStorage copy */

  backupStorageKey() {
    return `${this.options.backupKey}:${tab()}`;
  }

  backup() {
    const store = storage();
    if (!store) return;
    try {
      store.setItem(this.backupStorageKey(), JSON.stringify({ ...this.read(), base: this.version(), at: Date.now() }));
    } catch (error) { /* storage full: the server copy is all there is */ }
  }

  clearBackup() {
    const store = storage();
    if (store) store.removeItem(this.backupStorageKey());
  }

  /** The newest copy a tab that is gone left of this form, as {value, base, at}, or null.
   * Takes them all out of localStorage: the caller puts back what it keeps (backup()).
   * A key without a tab (as the scorecard stored its copy before copies were per tab)
   * counts as a tab that is gone. */
  takeBackup() {
    const store = storage();
    if (!store) return null;
    const prefix = this.options.backupKey;
    const keys = [];
    for (let i = 0; i < store.length; i += 1) {
      const key = store.key(i);
      if (key === prefix || (key && key.startsWith(`${prefix}:`))) keys.push(key);
    }
    const now = Date.now();
    let best = null;
    keys.forEach((key) => {
      let saved;
      try { saved = JSON.parse(store.getItem(key)); } catch (error) { saved = null; }
      if (!saved || typeof saved !== "object" || !(now - saved.at <= BACKUP_MAX_AGE_MS)) {
        store.removeItem(key);
        return;
      }
      if (!tabIsGone(key === prefix ? "" : key.slice(prefix.length + 1))) return;
      store.removeItem(key);
      if (!best || saved.at > best.at) best = saved;
    });
    if (!best) return null;
    const { base, at, ...value } = best;
    return { value, base: Number(base || 0), at };
  }
}
