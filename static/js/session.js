/* The interview session page. No framework: htmx sends the saves and the heartbeat,
 * lib/autosave.js decides when and keeps the candidate's text safe until the server has it
 * (debounce, blur, hidden tab, keepalive on pagehide, localStorage per tab, retries with
 * backoff). This file is what only this page has:
 *
 * - Six step forms; each save names the version it edited and reports the step being
 *   worked on. A copy a tab left in localStorage is saved on the next visit against the
 *   version it was based on, so a server that moved on shows the conflict panel.
 * - 409 shows both texts (keep mine / take the saved one / merge by editing); 423 means
 *   the interview has ended and locks the page.
 * - The Markdown preview is rendered by the server when its tab is shown (its own request),
 *   so the saves stay small; step 5's Mermaid diagram renders as it is typed.
 * - The countdown runs on the monotonic clock from the server's remaining time, corrected by
 *   every response; warnings at 5 and 1 minutes and when a step runs over its budget.
 * - The step being worked on is reported with each save and by the heartbeat, so the server
 *   can add up the time per step.
 */
import { Autosave, csrfToken, flushAll, leavePage, localTime, localizeTimes, sameValue, whenReady } from "./lib/autosave.js";
import { toast } from "./lib/toasts.js";

const root = document.getElementById("session");
if (root && window.htmx) sessionPage(root, window.htmx);

function sessionPage(root, htmx) {
  const FOCUS_DEBOUNCE_MS = 800;
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

  function localizeSaveTimes(scope) {
    localizeTimes(scope, ".save-state, .conflict-box");
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
      diagramDebounce: null,
    };
    step.save = new Autosave(form, {
      backupKey: `mlsd:backup:${sessionId}:${step.n}`,
      read: () => valueOf(step),
      versionField: () => form.querySelector("input[name=base_version]"),
      versionHeader: "X-Answer-Version",
      show: (state, message) => setState(step, state, message),
      sending: (parameters) => { parameters.active_step = reportedStep(); },
      saved: () => onSaved(step),
      conflict: () => onConflict(step),
      closed: () => {
        step.save.report("refused", "Not saved: the interview has ended.");
        closeSession();
      },
    });
    steps.set(step.n, step);
  });

  function valueOf(step) {
    return { text: step.text.value, diagram: step.diagram ? step.diagram.value : "" };
  }

  function hasAnswer(value) {
    return Boolean(value.text.trim() || value.diagram.trim());
  }

  function stepLabel(step) {
    const title = step.card.querySelector("h2");
    return `Step ${step.n}${title ? ` · ${title.textContent.trim()}` : ""}`;
  }

  function setState(step, state, message) {
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
    const failing = list.filter((s) => ["error", "conflict", "refused"].includes(s.save.state));
    if (closed) {
      const unsaved = list.filter((s) => s.save.isDirty());
      state = unsaved.length ? "error" : "closed";
      text = unsaved.length ? "Not saved: the interview has ended" : "Interview submitted";
    } else if (failing.length) {
      state = "error";
      const first = failing[0];
      text = first.save.state === "conflict"
        ? `Not saved: step ${first.n} changed in another tab`
        : `Not saved: step ${first.n}${first.save.retrying ? ", retrying" : ""}`;
    } else if (list.some((s) => s.save.inflight || s.save.isDirty())) {
      state = "saving";
      text = "Saving…";
    } else if (list.some((s) => s.stale)) {
      text = `All changes saved · step ${list.find((s) => s.stale).n} was edited in another tab`;
    } else {
      const times = [...root.querySelectorAll(".save-state time[datetime]")]
        .map((t) => t.getAttribute("datetime")).sort();
      const latest = times.length ? localTime(times[times.length - 1]) : null;
      text = latest ? `All changes saved · ${latest}` : "All changes saved";
    }
    summaryEl.dataset.state = state;
    summaryText.textContent = text;
  }

  /* ---------------------------------------------------------------- saves */

  function onSaved(step) {
    clearStale(step);
    localizeSaveTimes(step.form);
    step.card.classList.toggle("is-answered", hasAnswer(step.save.confirmed));
    markNavAnswered(step);
  }

  function onConflict(step) {
    step.text.readOnly = true;
    if (step.diagram) step.diagram.readOnly = true;
    step.save.report("conflict", "Not saved: this step changed in another tab. Choose what to keep below.");
    localizeSaveTimes(step.conflictBox);
    const box = step.conflictBox.querySelector(".conflict-box");
    if (box) box.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt === pulseForm) event.detail.parameters.step = reportedStep();
  });

  /* ---------------------------------------------------------------- other tabs */

  // The heartbeat's answer carries each answer's version (the session:versions event): a
  // step another tab saved since this tab last did says so before the candidate types.
  function noticeOtherTabs(versions) {
    if (closed || !versions) return;
    steps.forEach((step) => {
      // A save of this tab's in flight may be the version the server counted: its own
      // answer tells. A stopped form already shows why.
      if (step.save.inflight || step.save.stopped || !(String(step.n) in versions)) return;
      if (Number(versions[step.n]) > step.save.version()) showStale(step);
      else clearStale(step);
    });
    updateSummary();
  }

  function showStale(step) {
    step.stale = true;
    if (step.conflictBox.querySelector(".conflict-box, .stale-note")) return;
    const note = document.createElement("div");
    note.className = "stale-note";
    note.setAttribute("role", "status");
    note.setAttribute("data-testid", `stale-${step.n}`);
    const title = document.createElement("strong");
    title.textContent = "Edited in another tab.";
    const compare = document.createElement("button");
    compare.type = "button";
    compare.className = "btn btn-ghost btn-sm";
    compare.dataset.resolve = "compare";
    compare.textContent = "Compare the versions";
    note.append(title, ` Step ${step.n} was saved from another tab or window after this page last saved it. `, compare);
    step.conflictBox.replaceChildren(note);
  }

  function clearStale(step) {
    step.stale = false;
    const note = step.conflictBox.querySelector(".stale-note");
    if (note) note.remove();
  }

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
    if (closed) return;
    step.save.setVersion(Number(box.dataset.serverVersion));
    step.text.value = text;
    if (step.diagram) step.diagram.value = diagram;
    step.save.resume();
    step.text.readOnly = false;
    if (step.diagram) step.diagram.readOnly = false;
    step.conflictBox.replaceChildren();
    step.save.backup();
    if (step.diagram) renderDiagram(step);
    refreshPreview(step);
    step.save.report("dirty", "Saving…");
    step.save.fire();
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-resolve]");
    if (!button) return;
    if (button.dataset.resolve === "compare") {
      // Saved against this tab's version: the server answers with both versions (409), or
      // takes it when the texts are the same.
      const stale = steps.get(Number(button.closest("form.answer-form").dataset.step));
      if (stale && !closed) stale.save.fire();
      return;
    }
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
    if (item) item.classList.toggle("is-answered", hasAnswer(valueOf(step)));
  }

  steps.forEach((step) => {
    // The engine saves on input and blur (lib/autosave.js); here only what the page shows.
    step.text.addEventListener("input", () => setActive(step.n));
    if (step.diagram) {
      step.diagram.addEventListener("input", () => {
        setActive(step.n);
        clearTimeout(step.diagramDebounce);
        step.diagramDebounce = setTimeout(() => renderDiagram(step), 400);
      });
      renderDiagram(step);
    }
    step.form.addEventListener("focusin", () => setActive(step.n));
    const tabs = [...step.form.querySelectorAll(".editor-tab")];
    const showTab = (tab) => {
      const preview = tab.dataset.view === "preview";
      tabs.forEach((other) => {
        other.setAttribute("aria-selected", String(other === tab));
        other.tabIndex = other === tab ? 0 : -1;
      });
      step.text.hidden = preview;
      step.preview.hidden = !preview;
      if (preview) {
        step.save.request(true);
        refreshPreview(step);
      }
    };
    tabs.forEach((tab) => {
      tab.addEventListener("click", () => showTab(tab));
      // The ARIA tabs pattern: the tab list is one Tab stop (the selected tab); the arrow
      // keys, Home and End move between the tabs and show the one they land on.
      tab.addEventListener("keydown", (event) => {
        const at = tabs.indexOf(tab);
        const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (to === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
        event.preventDefault();
        const next = tabs[(to + tabs.length) % tabs.length];
        showTab(next);
        next.focus();
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
      if (step) item.classList.toggle("is-answered", hasAnswer(valueOf(step)));
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
  }

  /* ---------------------------------------------------------------- closing */

  function closeSession() {
    if (closed) return;
    closed = true;
    steps.forEach((step) => {
      step.save.halt("closed");
      step.text.readOnly = true;
      if (step.diagram) step.diagram.readOnly = true;
      if (step.save.isDirty() && step.save.state !== "refused") step.save.report("refused", "Not saved: the interview has ended.");
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
  document.body.addEventListener("session:versions", (event) => noticeOtherTabs(event.detail));
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "step-times") readStepTimes();
    localizeSaveTimes(event.detail.target || document);
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
    const unanswered = [...steps.values()].filter((step) => !hasAnswer(valueOf(step)));
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
      const busy = [...steps.values()].some(({ save }) => save.inflight || (save.isDirty() && !save.stopped && save.state !== "error"));
      if (busy && performance.now() - started < 5000) {
        setTimeout(wait, 100);
        return;
      }
      button.textContent = "Submitting…";
      leavePage();
      event.detail.issueRequest(true);
    };
    wait();
  });

  /* ---------------------------------------------------------------- leaving the page */

  // The saves' own events (hidden tab, pagehide, beforeunload, online) are the engine's;
  // the page adds the step being worked on.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden || !closed) reportFocus(true);
  });
  window.addEventListener("pagehide", () => {
    if (closed || !navigator.sendBeacon) return;
    const body = new FormData();
    body.append("step", "");
    body.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(pulseForm.getAttribute("hx-post"), body);
  });

  /* ---------------------------------------------------------------- start */

  function restoreBackups() {
    // Text a tab typed but the server never confirmed (the tab was closed, crashed, or this
    // is a reload): save it against the version it was based on. When the server moved on
    // meanwhile, the conflict panel shows both texts.
    steps.forEach((step) => {
      const backup = step.save.takeBackup();
      if (!backup) return;
      const value = { text: backup.value.text || "", diagram: backup.value.diagram || "" };
      if (sameValue(value, step.save.confirmed)) return;
      step.text.value = value.text;
      if (step.diagram) step.diagram.value = value.diagram;
      step.save.setVersion(backup.base);
      step.save.backup();
      if (step.diagram) renderDiagram(step);
      toast(`Restored unsaved changes to step ${step.n} from this browser.`, "info");
      step.save.fire();
    });
  }

  localizeSaveTimes(root);
  readStepTimes();
  whenReady(restoreBackups);
  updateSummary();
  tick();
  setInterval(tick, 250);
}
