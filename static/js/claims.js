// The design-claim editor (templates/grading/claims/panels.html): htmx swaps the step's panel
// on 200 and 422 (the server's message, the input kept). Anything else leaves the form as it
// is, so nothing typed is lost; this says why it was not saved.
const STATUS = "[data-claims-status]";

function report(event, message) {
  const panel = event.detail.elt && event.detail.elt.closest(".claims");
  const status = panel && panel.querySelector(STATUS);
  if (status) status.textContent = message;
}

document.body.addEventListener("htmx:beforeRequest", (event) => report(event, ""));
document.body.addEventListener("htmx:sendError", (event) => {
  report(event, "Not saved: the connection failed. Your claim is still in the form: try again.");
});
document.body.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const text = xhr && xhr.status === 401 ? xhr.responseText : "Not saved: the server did not accept it. Your claim is still in the form: try again.";
  report(event, text);
});
