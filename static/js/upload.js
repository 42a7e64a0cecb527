// Upload page: drag and drop, a size check before sending, and an upload progress bar.
// htmx sends the form (hx-post); this file only improves the experience around it.
(function () {
  "use strict";

  // Sizes in MiB, the unit the server states its limit in (grading.engine.artifacts.mib_text).
  const MIB = 1024 * 1024;

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < MIB) return (bytes / 1024).toFixed(1) + " KiB";
    return (bytes / MIB).toFixed(1) + " MiB";
  }

  function setup(form) {
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    const input = form.querySelector("input[type=file]");
    const zone = form.querySelector("[data-dropzone]");
    const fileName = form.querySelector("[data-file-name]");
    const progressWrap = form.querySelector("[data-progress]");
    const progress = progressWrap.querySelector("progress");
    const progressText = progressWrap.querySelector("[data-progress-text]");
    const maxBytes = Number(form.dataset.maxBytes);

    // Looked up each time: a refused upload swaps in the server's message element.
    function showError(message) {
      const error = form.querySelector("[data-testid=upload-error]");
      error.textContent = message;
      error.hidden = !message;
    }

    function checkFile() {
      const file = input.files && input.files[0];
      showError("");
      if (!file) { fileName.hidden = true; return true; }
      fileName.textContent = file.name + " · " + humanSize(file.size);
      fileName.hidden = false;
      if (file.size > maxBytes) {
        // The server's wording (grading.services.submissions.upload_too_large_message).
        showError("The file is " + (file.size / MIB).toFixed(1) + " MiB; the limit is " +
                  form.dataset.maxSize + ".");
        return false;
      }
      if (file.size === 0) { showError("The file is empty."); return false; }
      return true;
    }

    input.addEventListener("change", checkFile);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        checkFile();
      }
    });

    form.addEventListener("htmx:confirm", function (event) {
      if (!checkFile()) event.preventDefault();
    });
    form.addEventListener("htmx:beforeRequest", function () {
      progress.value = 0;
      progressText.textContent = "Uploading…";
      progressWrap.hidden = false;
    });
    form.addEventListener("htmx:xhr:progress", function (event) {
      if (event.detail.lengthComputable) {
        const percent = Math.round((event.detail.loaded / event.detail.total) * 100);
        progress.value = percent;
        progressText.textContent = percent < 100 ? "Uploading… " + percent + " %"
          : "Checking the file against the contract (it uses no quota until it passes)…";
      }
    });
    form.addEventListener("htmx:afterRequest", function () {
      // A refusal keeps the page (and the chosen file): the bar has nothing more to say.
      progressWrap.hidden = true;
    });
    form.addEventListener("htmx:responseError", function (event) {
      progressWrap.hidden = true;
      const xhr = event.detail.xhr;
      if (xhr && (xhr.status === 413 || xhr.status === 429)) {
        showError(xhr.responseText);
      } else if (xhr && xhr.status === 403) {
        showError("Your session expired. Reload the page and upload again.");
      } else {
        showError("The upload failed on our side (" + (xhr ? xhr.status : "?") +
                  "). Nothing was counted against your quota; try again.");
      }
    });
    form.addEventListener("htmx:sendError", function () {
      progressWrap.hidden = true;
      showError("The upload failed. Check your connection and try again.");
    });
  }

  function init() { setup(document.querySelector("[data-testid=upload-form]")); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
})();
