/* Interviewer grading pages. No framework: htmx sends the requests, this file decides when.
 *
 * Grading page (#scorecard with #grade-form):
 * - Autosave of the whole scorecard: at once when a level, flag or verdict changes, about a
 *   second after typing stops, on blur, when the tab is hidden, and with fetch(keepalive)
 *   when the page goes away. hx-sync="this:queue last" keeps one tab's saves in order; each
 *   save names the revision it edited (a stale one gets 409 and this tab stops saving).
 * - Until the server confirms a save, the form is also in localStorage; a reload restores it
 *   when the server has not moved on meanwhile.
 * - Failed saves say "Not saved" and retry with backoff (network, 401, 403, 5xx).
 * - Evidence: select text in an answer and press "Quote as evidence".
 * - Submit: a confirmation dialog; it waits for a save in flight, then posts the form.
 *
 * Replay page (#replay): the slider moves the cursor on the timeline and htmx fetches the
 * answers as they stood at that time; "Play" steps through the saves.
 */
(function () {
  "use strict";

  if (!window.htmx) return;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function localTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return null;
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  // Confirmation for plain forms that discard work ("Give back").
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form.js-confirm");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  /* ================================================================ the grading page */

  const root = document.getElementById("scorecard");
  const form = document.getElementById("grade-form");
  if (root && form) scorecardPage(root, form);

  function scorecardPage(root, form) {
    const SAVE_DEBOUNCE_MS = 1000;
    const RETRY_FIRST_MS = 1000;
    const RETRY_MAX_MS = 30000;
    const sessionId = root.dataset.sessionId;
    const backupKey = `mlsd:grade:${sessionId}:${root.dataset.grader}`;
    const revisionInput = document.getElementById("grade-revision");
    const toasts = document.getElementById("toasts");
    let confirmed = snapshot();
    let inflight = null;
    let debounce = null;
    let retryTimer = null;
    let retryDelay = 0;
    let stopped = false; // conflict or locked: this tab no longer saves
    let leaving = false;

    function snapshot() {
      const data = new URLSearchParams(new FormData(form));
      data.delete("revision");
      data.delete("csrfmiddlewaretoken");
      data.delete("quote");
      return data.toString();
    }

    function isDirty() {
      return snapshot() !== confirmed;
    }

    function saveText(state, text) {
      const box = document.getElementById("grade-save-state");
      if (!box) return;
      box.dataset.state = state;
      if (text) box.querySelector(".save-text").textContent = text;
    }

    function toast(text, tone) {
      const item = document.createElement("div");
      item.className = `toast toast-${tone || "info"}`;
      item.setAttribute("role", "status");
      item.textContent = text;
      toasts.append(item);
      setTimeout(() => item.remove(), 7000);
    }

    function backup() {
      try {
        localStorage.setItem(backupKey, JSON.stringify({ data: snapshot(), base: Number(revisionInput.value), at: Date.now() }));
      } catch (error) { /* storage full or disabled: the server copy is what we have */ }
    }

    function clearBackup() {
      try { localStorage.removeItem(backupKey); } catch (error) { /* ignore */ }
    }

    function fire() {
      clearTimeout(debounce);
      clearTimeout(retryTimer);
      debounce = null;
      retryTimer = null;
      if (stopped) return;
      htmx.trigger(form, "autosave");
    }

    function requestSave(immediately) {
      if (stopped) return;
      clearTimeout(debounce);
      if (!isDirty()) return;
      if (inflight === snapshot()) return;
      backup();
      saveText("saving", "Editing…");
      if (immediately) fire();
      else debounce = setTimeout(fire, SAVE_DEBOUNCE_MS);
    }

    function scheduleRetry(status) {
      retryDelay = Math.min(RETRY_MAX_MS, retryDelay ? retryDelay * 2 : RETRY_FIRST_MS);
      const reason = status === 0 ? "no connection" : status === 401 ? "you are logged out"
        : status === 403 ? "the server refused it" : status >= 500 ? "server error" : `error ${status}`;
      saveText("error", `Not saved (${reason}). Retrying in ${Math.ceil(retryDelay / 1000)} s…`);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(fire, retryDelay);
    }

    form.addEventListener("input", (event) => {
      const target = event.target;
      if (target.name === "quote") return;
      if (target.matches("input[type=radio], input[type=checkbox], select")) requestSave(true);
      else requestSave(false);
      if (target.matches("input[type=radio]")) showLevel(target);
      if (target.id === "verdict") toggleOverride();
    });
    form.addEventListener("focusout", (event) => {
      if (event.target.matches("textarea")) requestSave(true);
    });
    form.addEventListener("submit", (event) => {
      // Without JavaScript the form posts and the page reloads; with it, saves are htmx's.
      event.preventDefault();
      requestSave(true);
    });

    document.body.addEventListener("htmx:configRequest", (event) => {
      event.detail.headers["X-CSRFToken"] = csrfToken();
      if (event.detail.elt === form) {
        inflight = snapshot();
        saveText("saving", "Saving…");
      }
    });

    document.body.addEventListener("htmx:beforeSwap", (event) => {
      const status = event.detail.xhr.status;
      if (status === 409 || status === 423 || status === 422) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });

    document.body.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.elt !== form) return;
      const xhr = event.detail.xhr;
      const status = xhr ? xhr.status : 0;
      const sent = inflight;
      inflight = null;
      if (status === 200) {
        const revision = Number(xhr.getResponseHeader("X-Grade-Revision"));
        if (Number.isFinite(revision)) revisionInput.value = String(revision);
        confirmed = sent;
        retryDelay = 0;
        localize(document.getElementById("grade-save-state"));
        if (isDirty()) requestSave(false);
        else clearBackup();
        toggleOverride();
      } else if (status === 409 || status === 423) {
        stopped = true;
        saveText("error", status === 409 ? "Not saved: changed in another tab" : "Submitted: no longer saved");
      } else if (status === 400) {
        saveText("error", (xhr.responseText || "Not saved.").slice(0, 200));
      } else {
        scheduleRetry(status);
      }
    });

    function localize(scope) {
      if (!scope) return;
      scope.querySelectorAll("time[datetime]").forEach((time) => {
        const text = localTime(time.getAttribute("datetime"));
        if (text) time.textContent = text;
      });
    }

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

    function onSelection() {
      const selection = window.getSelection();
      const text = selection && !selection.isCollapsed ? selection.toString().replace(/\s+/g, " ").trim() : "";
      const source = text ? sourceOf(selection.anchorNode) : null;
      if (!text || text.length < 3 || !source || sourceOf(selection.focusNode) !== source) {
        quoteButton.hidden = true;
        pending = null;
        return;
      }
      const rect = selection.getRangeAt(0).getBoundingClientRect();
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
        values: { step, quote }, headers: { "X-CSRFToken": csrfToken() },
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
      clearTimeout(debounce);
      confirmButton.disabled = true;
      confirmButton.textContent = "Submitting…";
      const started = performance.now();
      const wait = () => {
        if (inflight !== null && performance.now() - started < 5000) {
          setTimeout(wait, 100);
          return;
        }
        leaving = true;
        event.detail.issueRequest(true);
      };
      wait();
    });
    confirmButton.addEventListener("htmx:afterRequest", (event) => {
      const status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status === 200 && event.detail.xhr.getResponseHeader("HX-Redirect")) {
        clearBackup();
        return;
      }
      leaving = false;
      confirmButton.disabled = false;
      confirmButton.textContent = "Submit grade";
      if (status === 409 || status === 423) dialog.close();
      else if (status !== 422) document.getElementById("submit-errors").textContent = "Not submitted: the connection failed. Try again.";
      requestSave(false);
    });

    /* ---------------------------------------------------------------- leaving and coming back */

    window.addEventListener("pagehide", () => {
      if (stopped || leaving || !isDirty()) return;
      const body = new FormData(form);
      try {
        fetch(form.getAttribute("hx-post"), {
          method: "POST", body, keepalive: true, credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
        }).catch(() => undefined);
      } catch (error) { /* the localStorage copy is kept for the next visit */ }
    });
    window.addEventListener("beforeunload", (event) => {
      if (stopped || leaving) return;
      if (inflight !== null || isDirty()) {
        requestSave(true);
        event.preventDefault();
        event.returnValue = "";
      }
    });
    document.addEventListener("visibilitychange", () => { if (document.hidden) requestSave(true); });
    window.addEventListener("online", () => { if (retryTimer) fire(); });

    function restore() {
      let saved = null;
      try { saved = JSON.parse(localStorage.getItem(backupKey)); } catch (error) { saved = null; }
      if (!saved) return;
      if (saved.base !== Number(revisionInput.value) || saved.data === confirmed) {
        clearBackup(); // the server moved on (or already has it): its copy wins
        return;
      }
      const data = new URLSearchParams(saved.data);
      form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) => {
        input.checked = data.getAll(input.name).includes(input.value);
        if (input.type === "radio" && input.checked) showLevel(input);
      });
      form.querySelectorAll("textarea, select").forEach((field) => {
        if (field.name && data.has(field.name)) field.value = data.get(field.name);
      });
      toggleOverride();
      toast("Restored changes that were not saved before the page closed.", "info");
      requestSave(true);
    }

    localize(document.getElementById("grade-save-state"));
    restore();
    toggleOverride();
  }

  /* ================================================================ the replay page */

  const replay = document.getElementById("replay");
  if (replay) replayPage(replay);

  function replayPage(replay) {
    const slider = document.getElementById("replay-slider");
    const cursor = document.getElementById("replay-cursor");
    const label = document.getElementById("replay-time");
    const play = document.getElementById("replay-play");
    const endMs = Number(slider.max);
    const plotX = Number(replay.dataset.plotX);
    const plotW = Number(replay.dataset.plotWidth);
    const saves = (replay.dataset.saves || "").split(",").filter(Boolean).map(Number).sort((a, b) => a - b);
    let timer = null;

    function show() {
      const at = Number(slider.value);
      const x = plotX + (plotW * Math.min(at, endMs)) / Math.max(endMs, 1);
      cursor.setAttribute("x1", x);
      cursor.setAttribute("x2", x);
      label.textContent = clock(at);
    }

    function stop() {
      clearInterval(timer);
      timer = null;
      play.textContent = "▶ Play";
      play.setAttribute("aria-pressed", "false");
    }

    slider.addEventListener("input", show);
    play.addEventListener("click", () => {
      if (timer) { stop(); return; }
      if (Number(slider.value) >= endMs) slider.value = "0";
      play.textContent = "❚❚ Pause";
      play.setAttribute("aria-pressed", "true");
      timer = setInterval(() => {
        const now = Number(slider.value);
        const next = saves.find((ms) => ms > now);
        slider.value = String(next === undefined ? endMs : next);
        show();
        htmx.trigger(slider, "replay");
        if (next === undefined) stop();
      }, 700);
    });
    show();
  }
})();
