/* The interview session page. No framework: htmx sends the saves and the heartbeat, this
 * file decides when, and keeps the candidate's text safe until the server has it.
 *
 * - Autosave: about a second after typing stops, at once on blur, when the tab is hidden,
 *   and with fetch(keepalive) when the page goes away. hx-sync="this:queue last" on each
 *   step's form keeps one tab's saves in order; every save names the version it edited.
 * - Until the server confirms a save, the text is also in localStorage; a tab that died
 *   leaves it there and the next visit saves it (through the same conflict check).
 * - A failed save says "Not saved" and retries with backoff (network, 401, 403, 5xx);
 *   409 shows both texts (keep mine / take the saved one / merge by editing); 423 means
 *   the interview has ended.
 * - The Markdown preview is rendered by the server when its tab is shown (its own request),
 *   so the saves stay small.
 * - The countdown runs on the monotonic clock from the server's remaining time, corrected by
 *   every response; warnings at 5 and 1 minutes and when a step runs over its budget.
 * - The step being worked on is reported with each save and by the heartbeat, so the server
 *   can add up the time per step.
 */
(function () {
  "use strict";

  const root = document.getElementById("session");
  if (!root || !window.htmx) return;

  const SAVE_DEBOUNCE_MS = 1000;
  const FOCUS_DEBOUNCE_MS = 800;
  const RETRY_FIRST_MS = 1000;
  const RETRY_MAX_MS = 30000;
  const TAB_ALIVE_MS = 15000;
  const BACKUP_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
  const WARNINGS = [
    { ms: 60 * 1000, key: "1min", text: "1 minute left. Wrap up the step you are on." },
    { ms: 5 * 60 * 1000, key: "5min", text: "5 minutes left." },
  ];

  const sessionId = root.dataset.sessionId;
  const graceMs = Number(root.dataset.graceMs || 0);
  const pulseForm = document.getElementById("pulse");
  const pulseStep = document.getElementById("pulse-step");
  const countdownEl = root.querySelector(".countdown");
  const countdownValue = root.querySelector(".countdown-value");
  const summaryEl = document.getElementById("save-summary");
  const summaryText = summaryEl.querySelector(".save-summary-text");
  const banner = document.getElementById("session-banner");
  const toasts = document.getElementById("toasts");

  /* ---------------------------------------------------------------- helpers */

  function clock(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }

  function localTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return null;
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function localizeTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach((time) => {
      const text = localTime(time.getAttribute("datetime"));
      if (text && time.closest(".save-state, .conflict-box")) time.textContent = text;
    });
  }

  function csrfToken() {
    // The cookie first: it is current even after a log-in in another tab rotated it.
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function toast(text, tone) {
    const item = document.createElement("div");
    item.className = `toast toast-${tone || "info"}`;
    item.setAttribute("role", "status");
    item.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(close);
    toasts.append(item);
    setTimeout(() => item.remove(), 9000);
  }

  function once(key) {
    const flag = `mlsd:session:${sessionId}:shown:${key}`;
    try {
      if (sessionStorage.getItem(flag)) return false;
      sessionStorage.setItem(flag, "1");
    } catch (error) { /* private mode: show it anyway */ }
    return true;
  }

  /* ---------------------------------------------------------------- the clock */

  let deadlineAt = performance.now() + Number(root.dataset.remainingMs || 0);
  let timeUp = false;
  let closed = false;

  function remainingMs() {
    return Math.max(0, deadlineAt - performance.now());
  }

  function setRemaining(ms) {
    if (Number.isFinite(ms)) deadlineAt = performance.now() + ms;
  }

  /* ---------------------------------------------------------------- per-tab backups */

  let tabId;
  try {
    tabId = sessionStorage.getItem("mlsd:tab") || Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem("mlsd:tab", tabId);
  } catch (error) {
    tabId = Math.random().toString(36).slice(2, 10);
  }
  const backupPrefix = `mlsd:backup:${sessionId}:`;

  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function markTabAlive() {
    const store = storage();
    if (store) try { store.setItem(`mlsd:tab:${tabId}`, String(Date.now())); } catch (error) { /* full */ }
  }

  function tabIsGone(otherTab) {
    if (otherTab === tabId) return true;
    const store = storage();
    const seen = Number((store && store.getItem(`mlsd:tab:${otherTab}`)) || 0);
    return Date.now() - seen > TAB_ALIVE_MS;
  }

  /* ---------------------------------------------------------------- steps */

  const steps = new Map();
  root.querySelectorAll("form.answer-form").forEach((form) => {
    const step = {
      n: Number(form.dataset.step),
      form,
      card: form.closest(".answer-card"),
      text: form.querySelector("textarea[name=text]"),
      diagram: form.querySelector("textarea[name=diagram]"),
      diagramView: form.querySelector(".diagram-view"),
      preview: form.querySelector(".md-preview"),
      conflictBox: form.querySelector(".conflict"),
      debounce: null,
      diagramDebounce: null,
      retryTimer: null,
      retryDelay: 0,
      retryAt: 0,
      retryReason: "",
      inflight: null,
      error: null,
      conflict: false,
      state: "saved",
    };
    step.confirmed = valueOf(step);
    steps.set(step.n, step);
  });

  function valueOf(step) {
    return { text: step.text.value, diagram: step.diagram ? step.diagram.value : "" };
  }

  function same(a, b) {
    return Boolean(a && b) && a.text === b.text && a.diagram === b.diagram;
  }

  function isDirty(step) {
    return !same(valueOf(step), step.confirmed);
  }

  function versionInput(step) {
    return step.form.querySelector("input[name=base_version]");
  }

  function version(step) {
    return Number(versionInput(step).value || 0);
  }

  function backupKey(step) {
    return `${backupPrefix}${step.n}:${tabId}`;
  }

  function backup(step) {
    const store = storage();
    if (!store) return;
    try {
      store.setItem(backupKey(step), JSON.stringify({ ...valueOf(step), base: version(step), at: Date.now() }));
    } catch (error) { /* storage full: the server copy is all we have */ }
  }

  function clearBackup(step) {
    const store = storage();
    if (store) store.removeItem(backupKey(step));
  }

  function stepLabel(step) {
    const title = step.card.querySelector("h2");
    return `Step ${step.n}${title ? ` · ${title.textContent.trim()}` : ""}`;
  }

  function setState(step, state, message) {
    step.state = state;
    const box = step.form.querySelector(".save-state");
    if (box) {
      box.dataset.state = state;
      if (message) box.querySelector(".save-text").textContent = message;
    }
    step.card.classList.toggle("has-conflict", state === "conflict");
    updateSummary();
  }

  function updateSummary() {
    let state = "saved";
    let text = "All changes saved";
    const list = [...steps.values()];
    const failing = list.filter((s) => s.state === "error" || s.state === "conflict" || s.state === "refused");
    if (closed) {
      const unsaved = list.filter((s) => isDirty(s));
      state = unsaved.length ? "error" : "closed";
      text = unsaved.length ? "Not saved: the interview has ended" : "Interview submitted";
    } else if (failing.length) {
      state = "error";
      const first = failing[0];
      text = first.state === "conflict"
        ? `Not saved: step ${first.n} changed in another tab`
        : `Not saved: step ${first.n}${first.retryTimer ? ", retrying" : ""}`;
    } else if (list.some((s) => s.inflight || isDirty(s))) {
      state = "saving";
      text = "Saving…";
    } else {
      const times = [...root.querySelectorAll(".save-state time[datetime]")]
        .map((t) => t.getAttribute("datetime")).sort();
      const latest = times.length ? localTime(times[times.length - 1]) : null;
      text = latest ? `All changes saved · ${latest}` : "All changes saved";
    }
    summaryEl.dataset.state = state;
    summaryText.textContent = text;
  }

  /* ---------------------------------------------------------------- saving */

  function fire(step) {
    clearTimeout(step.debounce);
    clearTimeout(step.retryTimer);
    step.debounce = null;
    step.retryTimer = null;
    if (closed || step.conflict) return;
    htmx.trigger(step.form, "autosave");
  }

  function requestSave(step, immediately) {
    if (closed || step.conflict) return;
    clearTimeout(step.debounce);
    if (!isDirty(step)) {
      if (!step.inflight && step.state !== "saved") setState(step, "saved");
      return;
    }
    if (same(step.inflight, valueOf(step))) return; // the save in flight carries this text
    if (step.state !== "error") setState(step, "dirty", "Editing…");
    if (immediately) fire(step);
    else step.debounce = setTimeout(() => fire(step), SAVE_DEBOUNCE_MS);
  }

  function flushAll() {
    steps.forEach((step) => {
      if (isDirty(step) && !step.conflict && !step.inflight) fire(step);
    });
  }

  function retryReason(status) {
    if (status === 0) return "no connection";
    if (status === 401) return "you are logged out";
    if (status === 403) return "the server refused it";
    if (status >= 500) return "server error";
    return `error ${status}`;
  }

  function scheduleRetry(step, status) {
    step.retryDelay = Math.min(RETRY_MAX_MS, step.retryDelay ? step.retryDelay * 2 : RETRY_FIRST_MS);
    const delay = Math.round(step.retryDelay * (0.85 + Math.random() * 0.3));
    step.retryAt = performance.now() + delay;
    step.retryReason = retryReason(status);
    clearTimeout(step.retryTimer);
    step.retryTimer = setTimeout(() => fire(step), delay);
    showRetry(step);
  }

  function showRetry(step) {
    const seconds = Math.max(1, Math.ceil((step.retryAt - performance.now()) / 1000));
    setState(step, "error", `Not saved (${step.retryReason}). Retrying in ${seconds} s…`);
  }

  function onSaved(step, xhr, sent) {
    const serverVersion = Number(xhr.getResponseHeader("X-Answer-Version"));
    if (Number.isFinite(serverVersion)) versionInput(step).value = String(serverVersion);
    step.confirmed = sent || step.confirmed;
    step.retryDelay = 0;
    step.error = null;
    localizeTimes(step.form);
    step.card.classList.toggle("is-answered", Boolean(step.confirmed.text.trim() || step.confirmed.diagram.trim()));
    markNavAnswered(step);
    if (isDirty(step)) {
      backup(step);
      setState(step, "dirty", "Editing…");
      requestSave(step, false);
    } else {
      clearBackup(step);
      setState(step, "saved");
    }
  }

  function onConflict(step) {
    step.conflict = true;
    clearTimeout(step.debounce);
    clearTimeout(step.retryTimer);
    step.retryTimer = null;
    step.text.readOnly = true;
    if (step.diagram) step.diagram.readOnly = true;
    backup(step);
    setState(step, "conflict", "Not saved: this step changed in another tab. Choose what to keep below.");
    localizeTimes(step.conflictBox);
    const box = step.conflictBox.querySelector(".conflict-box");
    if (box) box.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
    const form = event.detail.elt;
    if (form === pulseForm) {
      event.detail.parameters.step = reportedStep();
      return;
    }
    const step = steps.get(Number(form.dataset && form.dataset.step));
    if (!step || !form.classList.contains("answer-form")) return;
    step.inflight = valueOf(step);
    event.detail.parameters.active_step = reportedStep();
    setState(step, "saving", "Saving…");
  });

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    // 409 (both texts) and 423 (the interview ended) carry fragments meant for the page.
    if (status === 409 || status === 423) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!form || !form.classList || !form.classList.contains("answer-form")) return;
    const step = steps.get(Number(form.dataset.step));
    if (!step) return;
    const xhr = event.detail.xhr;
    const status = xhr ? xhr.status : 0;
    const sent = step.inflight;
    step.inflight = null;
    if (status === 200) {
      onSaved(step, xhr, sent);
    } else if (status === 409) {
      onConflict(step);
    } else if (status === 423) {
      setState(step, "refused", "Not saved: the interview has ended.");
      closeSession();
    } else if (status === 400) {
      step.error = (xhr.responseText || "Not saved.").slice(0, 300);
      setState(step, "error", step.error);
    } else {
      scheduleRetry(step, status);
    }
    updateSummary();
  });

  /* ---------------------------------------------------------------- conflicts */

  function mergeTexts(mine, theirs) {
    if (mine === theirs || !theirs.trim()) return mine;
    if (!mine.trim()) return theirs;
    const a = mine.split("\n");
    const b = theirs.split("\n");
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
    const middle = a.slice(head, a.length - tail);
    const seen = new Set(middle.map((line) => line.trim()));
    const extra = b.slice(head, b.length - tail).filter((line) => line.trim() && !seen.has(line.trim()));
    if (extra.length && middle.length && middle[middle.length - 1].trim()) middle.push("");
    return [...a.slice(0, head), ...middle, ...extra, ...a.slice(a.length - tail)].join("\n");
  }

  function side(box, name) {
    const element = box.querySelector(`[data-side="${name}"]`);
    return element ? element.value : "";
  }

  function resolveConflict(step, box, text, diagram) {
    versionInput(step).value = box.dataset.serverVersion;
    step.text.value = text;
    if (step.diagram) step.diagram.value = diagram;
    step.conflict = false;
    step.text.readOnly = false;
    if (step.diagram) step.diagram.readOnly = false;
    step.conflictBox.replaceChildren();
    backup(step);
    if (step.diagram) renderDiagram(step);
    refreshPreview(step);
    setState(step, "dirty", "Saving…");
    fire(step);
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-resolve]");
    if (!button) return;
    const box = button.closest(".conflict-box");
    const step = steps.get(Number(button.closest("form.answer-form").dataset.step));
    if (!box || !step) return;
    const action = button.dataset.resolve;
    if (action === "mine") {
      resolveConflict(step, box, side(box, "mine"), side(box, "mine-diagram"));
    } else if (action === "theirs") {
      resolveConflict(step, box, side(box, "theirs"), side(box, "theirs-diagram"));
    } else if (action === "merge") {
      const merged = box.querySelector('[data-side="merged"]');
      merged.value = mergeTexts(side(box, "mine"), side(box, "theirs"));
      const mergedDiagram = box.querySelector('[data-side="merged-diagram"]');
      if (mergedDiagram) mergedDiagram.value = mergeTexts(side(box, "mine-diagram"), side(box, "theirs-diagram"));
      box.querySelector("[data-conflict-choices]").hidden = true;
      box.querySelector(".conflict-merge").hidden = false;
      merged.focus();
    } else if (action === "cancel-merge") {
      box.querySelector("[data-conflict-choices]").hidden = false;
      box.querySelector(".conflict-merge").hidden = true;
    } else if (action === "save-merged") {
      resolveConflict(step, box, side(box, "merged"), side(box, "merged-diagram"));
    }
  });

  /* ---------------------------------------------------------------- the preview */

  // Saves do not render Markdown (that would cost every keystroke save); the preview is
  // rendered from the editor's text when it is shown, or when the text changes under it.
  function refreshPreview(step) {
    if (step.preview && !step.preview.hidden) htmx.trigger(step.preview, "preview");
  }

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const preview = event.detail.elt;
    if (!preview || !preview.classList || !preview.classList.contains("md-preview")) return;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    preview.classList.toggle("is-stale", status !== 200);
    if (status !== 200) preview.title = "The preview could not be refreshed; it shows an older text.";
    else preview.removeAttribute("title");
  });

  /* ---------------------------------------------------------------- the diagram */

  function renderDiagram(step) {
    if (!step.diagram || !step.diagramView || !window.MlsdDiagram) return;
    window.MlsdDiagram.render(step.diagramView, step.diagram.value);
  }

  /* ---------------------------------------------------------------- editing events */

  function markNavAnswered(step) {
    const item = document.querySelector(`#step-times [data-step="${step.n}"]`);
    if (item) item.classList.toggle("is-answered", Boolean(step.text.value.trim() || (step.diagram && step.diagram.value.trim())));
  }

  steps.forEach((step) => {
    const onInput = () => {
      backup(step);
      setActive(step.n);
      requestSave(step, false);
    };
    step.text.addEventListener("input", onInput);
    step.text.addEventListener("blur", () => requestSave(step, true));
    if (step.diagram) {
      step.diagram.addEventListener("input", () => {
        onInput();
        clearTimeout(step.diagramDebounce);
        step.diagramDebounce = setTimeout(() => renderDiagram(step), 400);
      });
      step.diagram.addEventListener("blur", () => requestSave(step, true));
      renderDiagram(step);
    }
    step.form.addEventListener("focusin", () => setActive(step.n));
    step.form.addEventListener("submit", (event) => event.preventDefault());
    step.form.querySelectorAll(".editor-tab").forEach((tab) => {
      tab.addEventListener("click", () => {
        const preview = tab.dataset.view === "preview";
        step.form.querySelectorAll(".editor-tab").forEach((other) => other.setAttribute("aria-selected", String(other === tab)));
        step.text.hidden = preview;
        step.preview.hidden = !preview;
        if (preview) {
          if (isDirty(step)) fire(step);
          refreshPreview(step);
        }
      });
    });
  });

  /* ---------------------------------------------------------------- time per step */

  let activeStep = null;
  let focusTimer = null;
  let lastTick = performance.now();
  const localSpent = new Map();

  function reportedStep() {
    return document.hidden || closed || !activeStep ? "" : String(activeStep);
  }

  function reportFocus(immediately) {
    clearTimeout(focusTimer);
    if (closed) return;
    pulseStep.value = reportedStep();
    if (immediately) htmx.trigger(pulseForm, "pulse");
    else focusTimer = setTimeout(() => htmx.trigger(pulseForm, "pulse"), FOCUS_DEBOUNCE_MS);
  }

  function setActive(n) {
    if (activeStep === n) return;
    activeStep = n;
    steps.forEach((step) => step.card.classList.toggle("is-active", step.n === n));
    document.querySelectorAll("#step-times [data-step]").forEach((item) => {
      item.classList.toggle("is-active", Number(item.dataset.step) === n);
    });
    reportFocus(false);
  }

  function readStepTimes() {
    document.querySelectorAll("#step-times [data-step]").forEach((item) => {
      const n = Number(item.dataset.step);
      localSpent.set(n, Number(item.dataset.spentSeconds || 0));
      item.classList.toggle("is-active", n === activeStep);
      const step = steps.get(n);
      if (step) item.classList.toggle("is-answered", Boolean(step.text.value.trim() || (step.diagram && step.diagram.value.trim())));
    });
  }

  function showStepTimes() {
    document.querySelectorAll("#step-times [data-step]").forEach((item) => {
      const n = Number(item.dataset.step);
      const spent = localSpent.get(n) || 0;
      const budget = Number(item.dataset.budgetSeconds || 0);
      item.querySelector("[data-spent]").textContent = clock(spent);
      const fill = item.querySelector(".meter-fill");
      if (fill && budget) fill.style.width = `${Math.min(100, Math.round((100 * spent) / budget))}%`;
      const over = budget > 0 && spent > budget;
      item.classList.toggle("is-over", over);
      const step = steps.get(n);
      if (step) {
        const label = step.form.querySelector("[data-step-time]");
        if (label) label.textContent = `${clock(spent)} spent`;
        step.card.classList.toggle("is-over", over);
      }
      if (over && n === activeStep && !closed && once(`over-${n}`)) {
        toast(`${step ? stepLabel(step) : `Step ${n}`} is over its ${clock(budget)} budget. Consider moving on.`, "warn");
      }
    });
  }

  /* ---------------------------------------------------------------- the tick */

  function onTimeUp() {
    if (timeUp) return;
    timeUp = true;
    // The server still takes saves for a few seconds after the deadline: send what is typed.
    flushAll();
    steps.forEach((step) => {
      step.text.readOnly = true;
      if (step.diagram) step.diagram.readOnly = true;
    });
    root.classList.add("is-time-up");
    if (!closed) {
      const note = document.createElement("div");
      note.className = "banner banner-closed";
      note.setAttribute("role", "alert");
      note.setAttribute("data-testid", "time-up");
      const strong = document.createElement("strong");
      strong.textContent = "Time is up.";
      note.append(strong, " Your last changes are being saved and the interview submitted.");
      banner.replaceChildren(note);
    }
    setTimeout(() => reportFocus(true), graceMs + 1000);
  }

  function tick() {
    const now = performance.now();
    const dt = (now - lastTick) / 1000;
    lastTick = now;
    const left = remainingMs();
    countdownValue.textContent = clock(left / 1000);
    countdownEl.classList.toggle("is-warn", left <= 5 * 60 * 1000 && left > 60 * 1000);
    countdownEl.classList.toggle("is-danger", left <= 60 * 1000);
    if (!closed && left > 0) {
      const due = WARNINGS.find((warning) => left <= warning.ms);
      if (due && once(due.key)) {
        // At most one warning at a time: a reload with 40 s left says "1 minute", not both.
        WARNINGS.forEach((warning) => { if (warning.ms >= due.ms) once(warning.key); });
        toast(due.text, due.key === "1min" ? "danger" : "warn");
      }
    }
    if (left <= 0 && !timeUp) onTimeUp();
    if (activeStep && !document.hidden && !closed && left > 0 && dt < 5) {
      localSpent.set(activeStep, (localSpent.get(activeStep) || 0) + dt);
    }
    showStepTimes();
    steps.forEach((step) => { if (step.retryTimer) showRetry(step); });
  }

  /* ---------------------------------------------------------------- closing */

  function closeSession() {
    if (closed) return;
    closed = true;
    steps.forEach((step) => {
      clearTimeout(step.debounce);
      clearTimeout(step.retryTimer);
      step.retryTimer = null;
      step.text.readOnly = true;
      if (step.diagram) step.diagram.readOnly = true;
      if (isDirty(step) && step.state !== "refused") setState(step, "refused", "Not saved: the interview has ended.");
    });
    root.classList.add("is-closed");
    document.getElementById("submit-open").disabled = true;
    // Whatever this tab's timers said, the server's word is final.
    setRemaining(0);
    countdownValue.textContent = clock(0);
    countdownEl.classList.remove("is-warn", "is-danger");
    toasts.replaceChildren();
    updateSummary();
  }

  document.body.addEventListener("session:clock", (event) => setRemaining(Number(event.detail.remaining_ms)));
  document.body.addEventListener("session:closed", () => closeSession());
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "step-times") readStepTimes();
    localizeTimes(event.detail.target || document);
  });
  let closingCheck = null;
  document.body.addEventListener("htmx:afterRequest", (event) => {
    // After time is up, ask again soon until the server has closed the session.
    if (event.detail.elt !== pulseForm || !timeUp || closed || closingCheck) return;
    closingCheck = setTimeout(() => { closingCheck = null; reportFocus(true); }, 2000);
  });

  /* ---------------------------------------------------------------- submitting early */

  const dialog = document.getElementById("submit-dialog");
  const submitForm = document.getElementById("submit-form");

  document.getElementById("submit-open").addEventListener("click", () => {
    flushAll();
    const unanswered = [...steps.values()].filter((step) => !step.text.value.trim() && !(step.diagram && step.diagram.value.trim()));
    dialog.querySelector("[data-remaining-text]").textContent = clock(remainingMs() / 1000);
    dialog.querySelector("[data-unanswered-text]").textContent = unanswered.length
      ? `${unanswered.length} step${unanswered.length > 1 ? "s are" : " is"} not answered yet (${unanswered.map((s) => s.n).join(", ")}).`
      : "All six steps have an answer.";
    dialog.showModal();
  });
  dialog.querySelector("[data-close-dialog]").addEventListener("click", () => dialog.close());

  submitForm.addEventListener("htmx:confirm", (event) => {
    // Submit only after the last keystrokes are saved (or 5 s, whichever comes first).
    event.preventDefault();
    const button = submitForm.querySelector("[type=submit]");
    button.disabled = true;
    button.textContent = "Saving your last changes…";
    flushAll();
    const started = performance.now();
    const wait = () => {
      const busy = [...steps.values()].some((step) => step.inflight || (isDirty(step) && !step.conflict && step.state !== "error"));
      if (busy && performance.now() - started < 5000) {
        setTimeout(wait, 100);
        return;
      }
      button.textContent = "Submitting…";
      leaving = true;
      event.detail.issueRequest(true);
    };
    wait();
  });

  /* ---------------------------------------------------------------- leaving the page */

  let leaving = false;

  function sendFinalSaves() {
    // The page is going away and may abort a save in flight: send the text once more with
    // keepalive. A save that in fact landed twice is harmless (same text, no new version).
    steps.forEach((step) => {
      if (closed || step.conflict || !isDirty(step)) return;
      const body = new FormData();
      const value = valueOf(step);
      body.append("text", value.text);
      body.append("diagram", value.diagram);
      body.append("base_version", String(version(step)));
      body.append("csrfmiddlewaretoken", csrfToken());
      try {
        fetch(step.form.getAttribute("hx-post"), {
          method: "POST", body, keepalive: true, credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
        }).catch(() => undefined);
      } catch (error) { /* the localStorage copy is kept for the next visit */ }
    });
    if (!closed && navigator.sendBeacon) {
      const body = new FormData();
      body.append("step", "");
      body.append("csrfmiddlewaretoken", csrfToken());
      navigator.sendBeacon(pulseForm.getAttribute("hx-post"), body);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      flushAll();
      reportFocus(true);
    } else if (!closed) {
      reportFocus(true);
    }
  });
  window.addEventListener("pagehide", () => {
    sendFinalSaves();
    const store = storage();
    if (store) store.removeItem(`mlsd:tab:${tabId}`);
  });
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: versions may be stale, so start from the server.
    if (event.persisted) window.location.reload();
  });
  window.addEventListener("beforeunload", (event) => {
    if (closed || leaving) return;
    const unsaved = [...steps.values()].some((step) => step.inflight || isDirty(step));
    if (unsaved) {
      // Ask before leaving; the saves go out now, and with keepalive on pagehide if the
      // candidate leaves anyway.
      flushAll();
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("online", () => {
    steps.forEach((step) => { if (step.retryTimer) fire(step); });
  });

  /* ---------------------------------------------------------------- start */

  function restoreBackups() {
    // Text a tab typed but the server never confirmed (the tab was closed, crashed, or this
    // is a reload): save it against the version it was based on. When the server moved on
    // meanwhile, the conflict panel shows both texts.
    const store = storage();
    if (!store) return;
    const keys = [];
    for (let i = 0; i < store.length; i += 1) keys.push(store.key(i));
    const now = Date.now();
    steps.forEach((step) => {
      let best = null;
      keys.filter((key) => key && key.startsWith(`${backupPrefix}${step.n}:`)).forEach((key) => {
        let saved;
        try { saved = JSON.parse(store.getItem(key)); } catch (error) { saved = null; }
        const owner = key.split(":").pop();
        if (!saved || now - saved.at > BACKUP_MAX_AGE_MS) { store.removeItem(key); return; }
        if (!tabIsGone(owner)) return;
        if (!best || saved.at > best.saved.at) best = { key, saved };
      });
      if (!best) return;
      const value = { text: best.saved.text || "", diagram: best.saved.diagram || "" };
      keys.filter((key) => key && key.startsWith(`${backupPrefix}${step.n}:`) && tabIsGone(key.split(":").pop()))
        .forEach((key) => store.removeItem(key));
      if (same(value, step.confirmed)) return;
      step.text.value = value.text;
      if (step.diagram) step.diagram.value = value.diagram;
      versionInput(step).value = String(best.saved.base || 0);
      backup(step);
      if (step.diagram) renderDiagram(step);
      toast(`Restored unsaved changes to step ${step.n} from this browser.`, "info");
      fire(step);
    });
  }

  function cleanOldBackups() {
    const store = storage();
    if (!store) return;
    const now = Date.now();
    for (let i = store.length - 1; i >= 0; i -= 1) {
      const key = store.key(i);
      if (key && key.startsWith("mlsd:tab:") && now - Number(store.getItem(key)) > BACKUP_MAX_AGE_MS) store.removeItem(key);
    }
  }

  markTabAlive();
  setInterval(markTabAlive, 5000);
  cleanOldBackups();
  localizeTimes(root);
  readStepTimes();
  restoreBackups();
  updateSummary();
  tick();
  setInterval(tick, 250);
})();
