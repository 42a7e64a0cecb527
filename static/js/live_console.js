/* The interviewer's console of a live interview (templates/interviews/live/console.html).
 *
 * - The candidate's six answers, read-only: the text as it is typed arrives as "typing"
 *   messages on the socket (not logged); the saved answers come from `answers/` when the
 *   page opens, after every reconnect, and every few seconds as a safety net. A typed text
 *   is newer than the saved answer of the same version, so a catch-up never writes an older
 *   text over it.
 * - The clock (from the server's remaining time, counted down on the monotonic clock) and
 *   the step the candidate is on; the guide follows that step unless the interviewer picks
 *   another.
 * - The event log (lib/live_feed.js, from seq 0: a reload or a reconnect rebuilds the page
 *   from it, nothing missed or doubled): questions with a box to answer each, follow-ups and
 *   their answers under their step, requirement changes, time checks, private notes with
 *   the time they were written.
 * - The actions are htmx forms (hx-swap="none"): what they do comes back through the log;
 *   a refusal shows its reason under the form.
 */
import { openLiveFeed } from "./lib/live_feed.js";
import { clock, element, keepPresence, postForm as post, showConnectionStatus as showStatus }
  from "./lib/live_page.js";

const ANSWERS_REFRESH_MS = 10000;
const TYPING_SHOWN_MS = 2500;

const root = document.getElementById("live");
if (root && root.dataset.role === "interviewer") liveConsole(root);

function liveConsole(root) {
  const historyUpTo = Number(root.dataset.lastSeq || 0);
  const state = root.dataset.state;
  const countdown = document.querySelector("#countdown .countdown-value");

  /* ---------------------------------------------------------------- helpers */

  function isNew(event) {
    return event.seq > historyUpTo;
  }

  /* ---------------------------------------------------------------- presence */

  keepPresence(root.dataset.presenceUrl, () => state === "ended");

  function showPresence(event) {
    if (!event.data || event.data.role !== "candidate") return;
    const line = document.querySelector('[data-person="candidate"]');
    if (!line) return;
    const present = event.kind === "joined";
    line.dataset.present = present ? "1" : "0";
    line.querySelector("[data-presence-text]").textContent = present ? "in the room" : "left the room";
  }

  /* ---------------------------------------------------------------- the answers */

  const steps = new Map();
  document.querySelectorAll(".console-answer").forEach((box) => {
    steps.set(Number(box.dataset.step), {
      box, version: Number(box.dataset.version || 0), source: "saved", typingTimer: null,
      chip: box.closest(".console-step").querySelector("[data-typing]"),
    });
  });
  let currentStep = null;

  function setCurrentStep(n) {
    if (!steps.has(n) || n === currentStep) return;
    currentStep = n;
    document.getElementById("current-step").textContent = String(n);
    document.querySelectorAll(".console-step").forEach((section) => {
      section.classList.toggle("is-current", Number(section.dataset.step) === n);
    });
    if (document.getElementById("guide-follow").checked) showGuide(n);
  }

  function onTyping(message) {
    const step = steps.get(Number(message.step));
    if (!step || typeof message.text !== "string") return;
    step.box.textContent = message.text;
    step.version = Number(message.version) || step.version;
    step.source = "typing";
    step.chip.hidden = false;
    clearTimeout(step.typingTimer);
    step.typingTimer = setTimeout(() => { step.chip.hidden = true; }, TYPING_SHOWN_MS);
    setCurrentStep(Number(message.step));
  }

  let deadlineAt = null;
  const remaining = root.dataset.remainingMs;
  if (remaining !== "" && remaining !== undefined) deadlineAt = performance.now() + Number(remaining);

  async function refreshAnswers() {
    let body;
    try {
      const response = await fetch(root.dataset.answersUrl, {
        credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store",
      });
      if (!response.ok) return;
      body = await response.json();
    } catch (error) {
      return; // offline: the next refresh tries again
    }
    Object.entries(body.answers || {}).forEach(([number, saved]) => {
      const step = steps.get(Number(number));
      if (!step) return;
      if (saved.version > step.version || (saved.version === step.version && step.source !== "typing")) {
        step.box.textContent = saved.text;
        step.version = saved.version;
        step.source = "saved";
      }
      if (Number(number) === 5) {
        const diagram = document.getElementById("console-diagram-5");
        if (diagram) diagram.textContent = saved.diagram || "";
      }
    });
    if (body.active_step) setCurrentStep(Number(body.active_step));
    if (Number.isFinite(body.remaining_ms) && body.remaining_ms !== null) deadlineAt = performance.now() + body.remaining_ms;
    Object.values(body.follow_ups || {}).forEach((followUp) => showFollowUpAnswer(followUp.id, followUp.answer));
  }

  function tick() {
    if (deadlineAt === null || !countdown) return;
    countdown.textContent = clock(deadlineAt - performance.now());
  }

  /* ---------------------------------------------------------------- the guide */

  function showGuide(n) {
    document.querySelectorAll("[data-guide]").forEach((guide) => { guide.hidden = Number(guide.dataset.guide) !== n; });
    document.querySelectorAll("[data-guide-step]").forEach((button) => {
      button.setAttribute("aria-pressed", String(Number(button.dataset.guideStep) === n));
    });
    document.getElementById("follow-up-step").value = String(n);
    document.getElementById("note-step").value = String(n);
    document.getElementById("note-step-label").textContent = `(step ${n})`;
  }

  document.addEventListener("click", (click) => {
    const guideButton = click.target.closest("[data-guide-step]");
    if (guideButton) {
      document.getElementById("guide-follow").checked = false;
      showGuide(Number(guideButton.dataset.guideStep));
      return;
    }
    const probe = click.target.closest("[data-use-probe]");
    if (probe) {
      document.getElementById("follow-up-step").value = probe.dataset.step;
      const text = document.getElementById("follow-up-text");
      text.value = probe.dataset.text;
      text.focus();
    }
  });

  /* ---------------------------------------------------------------- questions */

  const questions = document.getElementById("console-questions");

  function addQuestion(event) {
    document.getElementById("no-questions").hidden = true;
    const item = element("li", "live-question");
    item.dataset.seq = String(event.seq);
    item.setAttribute("data-testid", "console-question");
    item.append(element("p", "live-question-q", event.body),
      element("p", "muted small", `at ${clock(event.elapsed_ms)}${event.step ? ` · step ${event.step}` : ""}`));
    const form = element("form", "live-answer-form");
    const label = element("label", "sr-only", `Your answer to: ${event.body}`);
    label.htmlFor = `answer-${event.seq}`;
    const input = element("input");
    input.id = `answer-${event.seq}`;
    input.name = "text";
    input.required = true;
    input.maxLength = 1000;
    input.autocomplete = "off";
    input.setAttribute("data-testid", "answer-input");
    const button = element("button", "btn btn-primary btn-sm", "Answer");
    button.type = "submit";
    const error = element("p", "live-form-error small");
    error.setAttribute("role", "alert");
    form.append(label, input, button, error);
    form.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      button.disabled = true;
      error.textContent = "";
      try {
        const response = await post(root.dataset.answerUrl, { question_seq: String(event.seq), text: input.value });
        if (!response.ok) error.textContent = (await response.text()).slice(0, 300) || "Not sent.";
      } catch (failure) {
        error.textContent = "Not sent: no connection.";
      } finally {
        button.disabled = false;
      }
    });
    item.append(form);
    questions.append(item);
  }

  function addAnswer(event) {
    const item = questions.querySelector(`[data-seq="${event.data.question_seq}"]`);
    if (!item) return;
    const form = item.querySelector("form");
    if (form) form.remove();
    item.append(element("p", "live-question-a", event.body));
  }

  /* ---------------------------------------------------------------- follow-ups */

  function addFollowUp(event) {
    const container = document.getElementById(`console-follow-ups-${event.step}`);
    if (!container || !event.data.follow_up) return;
    const box = element("div", "console-follow-up");
    box.dataset.followUp = String(event.data.follow_up);
    box.append(element("p", "console-follow-up-q", `Follow-up: ${event.body}`));
    const answer = element("p", "console-follow-up-a muted", "Not answered yet");
    answer.setAttribute("data-testid", "console-follow-up-answer");
    box.append(answer);
    container.append(box);
  }

  function showFollowUpAnswer(id, text) {
    const box = document.querySelector(`[data-follow-up="${id}"]`);
    if (!box || !text) return;
    const answer = box.querySelector(".console-follow-up-a");
    answer.classList.remove("muted");
    answer.textContent = text;
  }

  /* ---------------------------------------------------------------- log and notes */

  const log = document.getElementById("console-log");
  const notes = document.getElementById("console-notes");

  function addLog(text, event) {
    const item = element("li", "", `${event.elapsed_ms !== null ? `${clock(event.elapsed_ms)} · ` : ""}${text}`);
    log.append(item);
  }

  function addNote(event) {
    const item = element("li", "live-note");
    item.setAttribute("data-testid", "console-note");
    const when = event.elapsed_ms !== null ? clock(event.elapsed_ms) : "before the start";
    item.append(element("span", "live-note-at muted small", `${when}${event.step ? ` · step ${event.step}` : ""}`),
      element("p", "live-note-text", event.body));
    notes.append(item);
  }

  function markAnnounced(event) {
    if (event.data.guide_index === undefined) return;
    const item = document.querySelector(`[data-guide-change="${event.data.guide_step}-${event.data.guide_index}"]`);
    if (item) item.querySelector(".live-announced").hidden = false;
  }

  /* ---------------------------------------------------------------- the feed */

  function onEvents(events) {
    events.forEach((event) => {
      if (event.kind === "joined" || event.kind === "left") showPresence(event);
      else if (event.kind === "question") addQuestion(event);
      else if (event.kind === "answer") addAnswer(event);
      else if (event.kind === "follow_up") addFollowUp(event);
      else if (event.kind === "follow_up_answered") showFollowUpAnswer(event.data.follow_up, event.body);
      else if (event.kind === "requirement_change") { addLog(`Requirement change: ${event.body}`, event); markAnnounced(event); }
      else if (event.kind === "time_check") addLog(`Time check: ${event.body}`, event);
      else if (event.kind === "note") addNote(event);
      else if ((event.kind === "started" || event.kind === "ended") && isNew(event)) window.location.reload();
    });
  }

  openLiveFeed({
    socketUrl: root.dataset.socketUrl,
    eventsUrl: root.dataset.eventsUrl,
    after: 0,
    onEvents,
    onTyping,
    onStatus: (status) => {
      showStatus(status);
      if (status === "live" && state === "running") refreshAnswers();
    },
  });

  /* ---------------------------------------------------------------- actions */

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-live-action]")) return;
    const error = form.querySelector("[data-form-error]");
    if (event.detail.successful) {
      if (error) error.textContent = "";
      if (form.dataset.liveAction === "start" || form.dataset.liveAction === "end") {
        window.location.reload();
        return;
      }
      if (form.dataset.liveAction !== "guide-change") form.querySelectorAll("textarea").forEach((area) => { area.value = ""; });
    } else if (error) {
      const xhr = event.detail.xhr;
      error.textContent = xhr && xhr.status ? (xhr.responseText || "Not done.").slice(0, 300) : "Not sent: no connection.";
    }
  });

  const dialog = document.getElementById("end-dialog");
  const endOpen = document.getElementById("end-open");
  if (endOpen) endOpen.addEventListener("click", () => dialog.showModal());
  dialog.querySelector("[data-close-dialog]").addEventListener("click", () => dialog.close());
  if (state !== "running") {
    // Waiting: notes and starting (or ending) only; ended: nothing.
    const open = state === "waiting" ? ':not([data-live-action="start"]):not([data-live-action="note"]):not([data-live-action="end"])' : "";
    document.querySelectorAll(`form[data-live-action]${open}`)
      .forEach((form) => form.querySelectorAll("button, textarea, select").forEach((control) => { control.disabled = true; }));
    if (endOpen) endOpen.disabled = state === "ended";
  }

  /* ---------------------------------------------------------------- start */

  showGuide(1);
  if (state === "running") {
    refreshAnswers();
    setInterval(refreshAnswers, ANSWERS_REFRESH_MS);
    setInterval(tick, 250);
  }
}
