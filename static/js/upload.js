// Upload page: drag and drop, a size check before sending, and an upload progress bar.
// htmx sends the form (hx-post); this file only improves the experience around it.
(function () {
  "use strict";

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1e6).toFixed(1) + " MB";
  }

  function setup(form) {
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    const input = form.querySelector("input[type=file]");
    const zone = form.querySelector("[data-dropzone]");
    const fileName = form.querySelector("[data-file-name]");
    const error = form.querySelector("[data-testid=upload-error]");
    const progressWrap = form.querySelector("[data-progress]");
    const progress = progressWrap.querySelector("progress");
    const progressText = progressWrap.querySelector("[data-progress-text]");
    const maxBytes = Number(form.dataset.maxBytes);

    function showError(message) {
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
        showError("The file is " + (file.size / 1e6).toFixed(1) + " MB; the limit is " +
                  (maxBytes / 1e6).toFixed(0) + " MB.");
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
                                                 : "Checking the file…";
      }
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
