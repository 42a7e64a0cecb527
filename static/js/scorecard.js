/* The interviewer's scorecard pages. No framework: htmx sends the requests, this file decides
 * when; lib/autosave.js does the saving.
 *
 * Scorecard page (#scorecard with #grade-form):
 * - The whole scorecard autosaves through lib/autosave.js: at once when a level, flag or
 *   verdict changes, about a second after typing stops, on blur, when the tab is hidden, and
 *   with fetch(keepalive) when the page goes away; it waits in localStorage until the server
 *   confirms it, and failed saves say "Not saved" and retry with backoff. Each save names
 *   the revision it edited: a stale one gets 409 and this tab stops saving; 423 means the
 *   grade is submitted. A copy left by a closed tab is restored on the next visit when the
 *   server has not moved on meanwhile.
 * - Each save's response carries the live suggestion; the override reason shows when the
 *   recommendation departs from it.
 * - Evidence: select text in an answer and press "Quote as evidence"; a selection that runs
 *   past the answer (a triple-click on its last paragraph) is trimmed to the answer.
 * - Submit: a confirmation dialog; it waits for a save in flight, then posts the form.
 *
 * Replay page (#replay): the slider moves the cursor on the timeline and htmx fetches the
 * answers as they stood at that time; "Play" steps through the saves, each at its own
 * millisecond, to the end. diagram.js draws the diagram of each frame.
 *
 * Any page: forms with class js-confirm ask before they post ("Give back").
 */
import { Autosave, leavePage, localizeTimes, stayOnPage, whenReady } from "./lib/autosave.js";
import { toast } from "./lib/toasts.js";

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// Confirmation for plain forms that discard work ("Give back").
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form.js-confirm");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

const scorecard = document.getElementById("scorecard");
const gradeForm = document.getElementById("grade-form");
if (window.htmx && scorecard && gradeForm) scorecardPage(scorecard, gradeForm, window.htmx);

const replay = document.getElementById("replay");
if (window.htmx && replay) replayPage(replay, window.htmx);

/* ================================================================ the scorecard page */

function scorecardPage(root, form, htmx) {
  const revisionInput = document.getElementById("grade-revision");

  function snapshot() {
    const data = new URLSearchParams(new FormData(form));
    data.delete("revision");
    data.delete("csrfmiddlewaretoken");
    data.delete("quote");
    return data.toString();
  }

  function saveStateBox() {
    return document.getElementById("grade-save-state");
  }

  // The engine's states in this page's words: editing shows as saving, and a stopped
  // scorecard (conflict, submitted) as an error.
  const SHOWN = { dirty: "saving", conflict: "error", closed: "error" };

  function saveText(state, text) {
    const box = saveStateBox();
    if (!box) return;
    box.dataset.state = SHOWN[state] || state;
    if (text) box.querySelector(".save-text").textContent = text;
  }

  const save = new Autosave(form, {
    backupKey: `mlsd:grade:${root.dataset.sessionId}:${root.dataset.grader}`,
    read: () => ({ data: snapshot() }),
    versionField: () => revisionInput,
    versionHeader: "X-Grade-Revision",
    show: saveText,
    saved: () => {
      localizeTimes(saveStateBox());
      toggleOverride();
    },
    conflict: () => save.report("conflict", "Not saved: changed in another tab"),
    closed: () => save.report("closed", "Submitted: no longer saved"),
  });

  form.addEventListener("input", (event) => {
    // The engine saves; here only what the page shows.
    const target = event.target;
    if (target.matches("input[type=radio]")) showLevel(target);
    if (target.id === "verdict") toggleOverride();
  });

  /* ---------------------------------------------------------------- levels and verdict */

  const WORDS = { 1: "1 · weak", 2: "2 · mixed", 3: "3 · solid", 4: "4 · strong", not_reached: "not reached" };

  function showLevel(radio) {
    const step = radio.name.match(/^step-(\d)-level$/);
    if (!step) return;
    radio.closest(".levels").querySelectorAll(".level-card").forEach((card) => {
      card.classList.toggle("is-chosen", card.contains(radio) && radio.checked);
    });
    const chip = document.querySelector(`[data-my-level="${step[1]}"]`);
    if (chip) {
      chip.textContent = WORDS[radio.value] || "not scored";
      chip.classList.add("is-set");
    }
  }

  function suggested() {
    const summary = document.getElementById("scorecard-summary");
    return summary ? summary.dataset.suggested : "";
  }

  function toggleOverride() {
    const select = document.getElementById("verdict");
    const box = document.getElementById("override");
    if (!select || !box) return;
    box.hidden = !select.value || select.value === suggested();
  }

  /* ---------------------------------------------------------------- evidence */

  const quoteButton = document.getElementById("quote-button");
  const evidenceUrl = root.dataset.evidenceUrl;
  let pending = null;

  function sourceOf(node) {
    const element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest("[data-quote-source]") : null;
  }

  // The selection trimmed to the one answer it starts (or else ends) in. A triple-click on
  // an answer's last paragraph selects up to the start of the next block, the concept hint
  // below the answer, and a drag easily runs past the answer's end: what lies inside the
  // answer is the quote.
  function selectedInAnswer(selection) {
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const source = sourceOf(range.startContainer) || sourceOf(range.endContainer);
    if (!source) return null;
    const trimmed = range.cloneRange();
    if (!source.contains(range.startContainer)) trimmed.setStart(source, 0);
    if (!source.contains(range.endContainer)) trimmed.setEnd(source, source.childNodes.length);
    return { source, range: trimmed };
  }

  function onSelection() {
    const selected = selectedInAnswer(window.getSelection());
    const text = selected ? selected.range.toString().replace(/\s+/g, " ").trim() : "";
    if (!selected || text.length < 3) {
      quoteButton.hidden = true;
      pending = null;
      return;
    }
    const source = selected.source;
    const rect = selected.range.getBoundingClientRect();
    pending = { step: source.dataset.step, quote: text.slice(0, 600) };
    quoteButton.textContent = `❝ Quote as evidence for step ${source.dataset.step}`;
    quoteButton.style.top = `${window.scrollY + rect.top - 44}px`;
    quoteButton.style.left = `${Math.max(8, window.scrollX + rect.left + rect.width / 2 - 120)}px`;
    quoteButton.hidden = false;
  }

  document.addEventListener("mouseup", () => setTimeout(onSelection, 0));
  document.addEventListener("keyup", (event) => { if (event.shiftKey || event.key === "Shift") onSelection(); });
  quoteButton.addEventListener("mousedown", (event) => event.preventDefault());
  quoteButton.addEventListener("click", () => {
    if (!pending) return;
    const { step, quote } = pending;
    quoteButton.hidden = true;
    pending = null;
    htmx.ajax("POST", evidenceUrl, {
      source: quoteButton, target: `#evidence-${step}`, swap: "outerHTML",
      values: { step, quote }, // the engine adds the CSRF token to every htmx request
    }).then(() => {
      window.getSelection().removeAllRanges();
      const list = document.getElementById(`evidence-${step}`);
      if (list) list.classList.add("is-flash");
    });
  });

  /* ---------------------------------------------------------------- submitting */

  const dialog = document.getElementById("submit-dialog");
  const confirmButton = document.getElementById("submit-confirm");

  function openSubmit() {
    const select = document.getElementById("verdict");
    const summary = document.getElementById("scorecard-summary");
    const pill = summary && summary.querySelector(".verdict-pill");
    const suggestion = suggested() ? pill.textContent.trim() : "";
    const chosen = select && select.value ? select.options[select.selectedIndex].textContent.trim() : "";
    const text = dialog.querySelector("[data-submit-summary]");
    if (!suggestion) text.textContent = "Some steps are not scored yet: submitting will tell you which.";
    else if (!chosen || select.value === suggested()) text.textContent = `You recommend ${suggestion}, as the rubric suggests.`;
    else text.textContent = `You recommend ${chosen}; the rubric suggests ${suggestion}. Your reason is stored with the grade.`;
    document.getElementById("submit-errors").replaceChildren();
    dialog.showModal();
  }

  document.querySelectorAll("#submit-open, [data-open-submit]").forEach((button) => button.addEventListener("click", openSubmit));
  dialog.querySelector("[data-close-dialog]").addEventListener("click", () => dialog.close());

  confirmButton.addEventListener("htmx:confirm", (event) => {
    // The submit carries the whole form; wait for a save in flight so its revision is current.
    event.preventDefault();
    save.cancel();
    confirmButton.disabled = true;
    confirmButton.textContent = "Submitting…";
    const started = performance.now();
    const wait = () => {
      if (save.inflight !== null && performance.now() - started < 5000) {
        setTimeout(wait, 100);
        return;
      }
      leavePage();
      event.detail.issueRequest(true);
    };
    wait();
  });
  confirmButton.addEventListener("htmx:afterRequest", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 200 && event.detail.xhr.getResponseHeader("HX-Redirect")) {
      save.clearBackup();
      return;
    }
    stayOnPage();
    confirmButton.disabled = false;
    confirmButton.textContent = "Submit grade";
    if (status === 409 || status === 423) dialog.close();
    else if (status !== 422) document.getElementById("submit-errors").textContent = "Not submitted: the connection failed. Try again.";
    save.request(false);
  });

  /* ---------------------------------------------------------------- coming back */

  function restore() {
    const backup = save.takeBackup();
    if (!backup) return;
    if (backup.base !== save.version() || backup.value.data === save.confirmed.data) return; // the server moved on (or has it): its copy wins
    const data = new URLSearchParams(backup.value.data || "");
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) => {
      input.checked = data.getAll(input.name).includes(input.value);
      if (input.type === "radio" && input.checked) showLevel(input);
    });
    form.querySelectorAll("textarea, select").forEach((field) => {
      if (field.name && data.has(field.name)) field.value = data.get(field.name);
    });
    toggleOverride();
    toast("Restored changes that were not saved before the page closed.", "info");
    save.request(true);
  }

  localizeTimes(saveStateBox());
  whenReady(restore);
  toggleOverride();
}

/* ================================================================ the replay page */

function replayPage(replay, htmx) {
  const slider = document.getElementById("replay-slider");
  const cursor = document.getElementById("replay-cursor");
  const label = document.getElementById("replay-time");
  const play = document.getElementById("replay-play");
  const endMs = Number(slider.max);
  const plotX = Number(replay.dataset.plotX);
  const plotW = Number(replay.dataset.plotWidth);
  const saves = (replay.dataset.saves || "").split(",").filter(Boolean).map(Number).sort((a, b) => a - b);
  // The cursor's time, to the millisecond. The slider moves in whole seconds and rounds what
  // it is given, so "Play" keeps its own time: a save at 58.4 s rounded to 58 s was never
  // shown, and the next step looked for it again from 58 s, forever.
  let at = Number(slider.value);
  let timer = null;

  function show() {
    const x = plotX + (plotW * Math.min(at, endMs)) / Math.max(endMs, 1);
    cursor.setAttribute("x1", x);
    cursor.setAttribute("x2", x);
    label.textContent = clock(at);
    slider.setAttribute("aria-valuetext", clock(at));
  }

  function moveTo(ms) {
    at = Math.min(Math.max(ms, 0), endMs);
    slider.value = String(at);
    show();
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "▶ Play";
    play.setAttribute("aria-pressed", "false");
  }

  slider.addEventListener("input", () => {
    at = Number(slider.value);
    show();
  });
  // The frame asked for is the cursor's, not the slider's rounded value.
  slider.addEventListener("htmx:configRequest", (event) => {
    event.detail.parameters.at = String(at);
  });
  play.addEventListener("click", () => {
    if (timer) { stop(); return; }
    if (at >= endMs) moveTo(0);
    play.textContent = "❚❚ Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(() => {
      const next = saves.find((ms) => ms > at);
      moveTo(next === undefined ? endMs : next);
      htmx.trigger(slider, "replay");
      if (next === undefined) stop();
    }, 700);
  });
  show();
}
