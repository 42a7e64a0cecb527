/* The candidate's side of a live interview. Two pages load it:
 *
 * - the waiting room (templates/interviews/live/room.html): who is here, and a reload when
 *   the interviewer starts the clock (the server then renders the interview page);
 * - the interview page (templates/interviews/session.html with its live parts): session.js
 *   runs the answers, their autosave and the clock exactly as in a solo session; this file
 *   adds what the interviewer does, read from the room's event log through
 *   lib/live_feed.js: answers to the candidate's typed questions, follow-ups under their
 *   step with an answer box that autosaves (lib/autosave.js, as an answer does),
 *   requirement changes as a banner that stays, time checks, and the end. It also sends
 *   the candidate's text up the socket as it is typed, for the interviewer's console.
 *
 * The feed starts at seq 0, so a reload or a reconnect rebuilds the page from the log:
 * nothing missed, nothing twice (the feed never hands an event over twice). Events up to
 * the seq the server rendered the page at are history: they are shown, never announced.
 */
import { openLiveFeed } from "./lib/live_feed.js";
import { clock, element, keepPresence, postForm as post, showConnectionStatus as showStatus }
  from "./lib/live_page.js";
import { Autosave, localizeTimes } from "./lib/autosave.js";
import { toast } from "./lib/toasts.js";

// At most one typing message per this interval: a keystroke after a pause goes at once, a
// faster burst waits for the interval's end and sends its newest text (never dropped).
const TYPING_INTERVAL_MS = 150;

const root = document.getElementById("live");
if (root && root.dataset.role === "candidate") liveRoom(root);

function liveRoom(root) {
  const historyUpTo = Number(root.dataset.lastSeq || 0);
  const running = root.dataset.state === "running";
  let ended = false;

  /* ---------------------------------------------------------------- small helpers */

  function isNew(event) {
    return event.seq > historyUpTo;
  }

  /* ---------------------------------------------------------------- presence */

  keepPresence(root.dataset.presenceUrl, () => ended);

  function showPresence(event) {
    const role = event.data && event.data.role;
    const person = document.querySelector(`[data-person="${role}"]`);
    if (!person) return;
    const present = event.kind === "joined";
    person.dataset.present = present ? "1" : "0";
    const text = person.querySelector("[data-presence-text]");
    if (text) text.textContent = present ? "in the room" : "left the room";
    const nobody = person.querySelector('[data-testid="no-interviewer"]');
    if (role === "interviewer" && present && nobody && event.actor) {
      // An interviewer claimed the room or redeemed the invite, and opened their console.
      const name = element("strong", "", event.actor);
      nobody.replaceChildren("Your interviewer, ", name);
      const note = document.getElementById("live-waiting-note");
      if (note) note.textContent = "Your interviewer starts the interview from their console.";
      const invite = document.getElementById("invite");
      if (invite) invite.hidden = true;
    }
  }

  /* ---------------------------------------------------------------- questions */

  const questionList = document.getElementById("live-questions");
  const questionForm = document.getElementById("live-question-form");

  if (questionForm) {
    questionForm.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      const input = questionForm.querySelector("input[name=text]");
      const error = questionForm.querySelector("[data-form-error]");
      const button = questionForm.querySelector("button");
      if (!input.value.trim()) return;
      button.disabled = true;
      error.textContent = "";
      try {
        const response = await post(questionForm.action, { text: input.value });
        if (response.ok) input.value = "";
        else error.textContent = (await response.text()).slice(0, 300) || "Not sent.";
      } catch (failure) {
        error.textContent = "Not sent: no connection. Try again in a moment.";
      } finally {
        button.disabled = false;
      }
    });
  }

  function addQuestion(event) {
    if (!questionList) return;
    const item = element("li", "qa-item live-question");
    item.dataset.seq = String(event.seq);
    item.append(element("p", "qa-q", event.body));
    const answer = element("p", "qa-a live-waiting-answer muted", "Waiting for your interviewer's answer…");
    answer.dataset.answer = "";
    item.append(answer, element("p", "qa-meta", `asked at ${clock(event.elapsed_ms)}`));
    questionList.append(item);
  }

  function addAnswer(event) {
    const item = questionList && questionList.querySelector(`[data-seq="${event.data.question_seq}"]`);
    if (!item) return;
    const answer = item.querySelector("[data-answer]");
    answer.className = "qa-a";
    answer.setAttribute("data-testid", "live-answer");
    answer.textContent = event.body;
    if (isNew(event)) toast(`Your interviewer answered: ${event.body}`, "info");
  }

  /* ---------------------------------------------------------------- follow-ups */

  const followUpState = JSON.parse((document.getElementById("live-follow-ups") || {}).textContent || "{}");
  const followUpUrl = (id) => root.dataset.followUpUrl.replace(/\/0\/$/, `/${id}/`);
  const followUps = new Map(); // follow-up id -> {form, text, save}

  function addFollowUp(event) {
    const container = document.getElementById(`follow-ups-${event.step}`);
    const state = followUpState[String(event.seq)] || { id: event.data.follow_up, answer: "", version: 0 };
    const id = state.id || event.data.follow_up;
    if (!container || !id || followUps.has(id)) return;
    const box = element("article", "live-follow-up");
    box.id = `follow-up-${event.seq}`;
    box.setAttribute("data-testid", `follow-up-${event.step}`);
    const question = element("p", "live-follow-up-q");
    question.append(element("span", "badge", "Follow-up"), " ", element("span", "", event.body));
    box.append(question);

    const form = element("form", "live-follow-up-form");
    form.setAttribute("hx-post", followUpUrl(id));
    form.setAttribute("hx-trigger", "autosave");
    form.setAttribute("hx-sync", "this:queue last");
    form.setAttribute("hx-target", "find .save-state");
    form.setAttribute("hx-swap", "outerHTML");
    const label = element("label", "live-follow-up-label", "Your answer");
    label.htmlFor = `follow-up-answer-${id}`;
    const text = element("textarea", "answer-text live-follow-up-text");
    text.name = "text";
    text.id = `follow-up-answer-${id}`;
    text.rows = 4;
    text.value = state.answer || "";
    text.setAttribute("data-testid", `follow-up-answer-${event.step}`);
    const saveState = element("div", "save-state");
    const version = element("input");
    version.type = "hidden";
    version.name = "base_version";
    version.value = String(state.version || 0);
    const saveText = element("span", "save-text", state.version ? "Saved" : "Not answered yet");
    saveState.append(version, element("span", "save-dot"), saveText);
    saveState.querySelector(".save-dot").setAttribute("aria-hidden", "true");
    const foot = element("footer", "answer-foot");
    foot.append(saveState);
    const conflict = element("div", "conflict");
    conflict.id = `follow-up-conflict-${id}`;
    form.append(label, text, foot, conflict);
    box.append(form);
    container.append(box);
    if (window.htmx) window.htmx.process(form);

    const entry = { form, text };
    entry.save = new Autosave(form, {
      backupKey: `mlsd:backup:live:${id}`,
      read: () => ({ text: text.value }),
      versionField: () => form.querySelector("input[name=base_version]"),
      versionHeader: "X-Answer-Version",
      show: (stateName, message) => {
        const current = form.querySelector(".save-state");
        if (!current) return;
        current.dataset.state = stateName;
        if (message) current.querySelector(".save-text").textContent = message;
        localizeTimes(current);
      },
      conflict: () => {
        text.readOnly = true;
        entry.save.report("conflict", "Not saved: this answer changed in another tab. Choose below.");
      },
      closed: () => {
        text.readOnly = true;
        entry.save.report("refused", "Not saved: the interview has ended.");
      },
    });
    followUps.set(id, entry);
    const backup = entry.save.takeBackup();
    if (backup && backup.value.text !== text.value && !ended) {
      text.value = backup.value.text || "";
      entry.save.setVersion(backup.base);
      entry.save.backup();
      entry.save.fire();
    }
    if (isNew(event) && !ended) {
      toast(`Your interviewer asked a follow-up on step ${event.step}.`, "info");
      box.classList.add("is-new");
      box.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  document.addEventListener("click", (click) => {
    const button = click.target.closest("[data-follow-up-resolve]");
    if (!button) return;
    const form = button.closest("form.live-follow-up-form");
    const entry = [...followUps.values()].find((candidate) => candidate.form === form);
    const box = button.closest(".conflict-box");
    if (!entry || !box || ended) return;
    if (button.dataset.followUpResolve === "theirs") entry.text.value = box.querySelector("[data-side=theirs]").value;
    entry.save.setVersion(Number(box.dataset.serverVersion));
    entry.save.resume();
    entry.text.readOnly = false;
    box.parentElement.replaceChildren();
    entry.save.fire();
  });

  /* ---------------------------------------------------------------- changes, time, end */

  const changes = document.getElementById("live-changes");

  function addChange(event) {
    if (!changes) return;
    changes.hidden = false;
    const item = element("li", "live-change");
    item.append(element("span", "live-change-text", event.body));
    if (event.elapsed_ms !== null) item.append(element("span", "live-change-at muted small", ` at ${clock(event.elapsed_ms)}`));
    changes.querySelector("ol").append(item);
    if (isNew(event)) toast(`Requirement change: ${event.body}`, "warn");
  }

  function endInterview(event) {
    if (ended) return;
    ended = true;
    followUps.forEach((entry) => {
      entry.save.halt("closed");
      entry.text.readOnly = true;
    });
    const banner = document.getElementById("session-banner");
    if (banner && event.data.reason !== "deadline") {
      const note = element("div", "banner banner-closed");
      note.setAttribute("role", "alert");
      note.setAttribute("data-testid", "live-ended");
      const words = element("div");
      words.append(element("strong", "", event.body || "The interview has ended."), " Your answers are submitted.");
      const link = element("a", "btn btn-primary btn-sm", "See your review");
      link.href = event.data.review_url || root.dataset.reviewUrl || "/sessions/";
      note.append(words, link);
      banner.replaceChildren(note);
    }
    // session.js locks the answers and stops the clock, as when a session closes.
    document.body.dispatchEvent(new CustomEvent("session:closed", { detail: { status: "submitted" } }));
  }

  /* ---------------------------------------------------------------- the feed */

  function onEvents(events) {
    events.forEach((event) => {
      if (!running) {
        if (event.kind === "joined" || event.kind === "left") showPresence(event);
        else if ((event.kind === "started" || event.kind === "ended") && isNew(event)) window.location.reload();
        return;
      }
      if (event.kind === "question") addQuestion(event);
      else if (event.kind === "answer") addAnswer(event);
      else if (event.kind === "follow_up") addFollowUp(event);
      else if (event.kind === "requirement_change") addChange(event);
      else if (event.kind === "time_check" && isNew(event)) toast(`Time check: ${event.body}`, "warn");
      else if (event.kind === "ended") endInterview(event);
    });
  }

  const feed = openLiveFeed({
    socketUrl: root.dataset.socketUrl,
    eventsUrl: root.dataset.eventsUrl,
    after: 0,
    onEvents,
    onTyping: () => undefined,
    onStatus: showStatus,
  });

  /* ---------------------------------------------------------------- typing, for the console */

  if (running) {
    const pending = new Map(); // step -> its newest text not sent yet
    let timer = null;
    let sentAt = -Infinity;
    const flush = () => {
      timer = null;
      sentAt = performance.now();
      pending.forEach((message) => feed.send(message));
      pending.clear();
    };
    document.querySelectorAll("form.answer-form").forEach((form) => {
      const step = Number(form.dataset.step);
      const text = form.querySelector("textarea[name=text]");
      text.addEventListener("input", () => {
        if (ended) return;
        const versionField = form.querySelector("input[name=base_version]");
        pending.set(step, { type: "typing", step, text: text.value, version: Number((versionField && versionField.value) || 0) });
        if (timer) return; // a send is due: it takes this text
        const wait = sentAt + TYPING_INTERVAL_MS - performance.now();
        if (wait <= 0) flush();
        else timer = setTimeout(flush, wait);
      });
    });
  }
}
