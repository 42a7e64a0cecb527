/* Join buttons that open at the right time: a booking's button is rendered disabled until ten
 * minutes before the start (data-opens-at, ISO 8601 UTC) and comes alive at that moment on
 * an open page, without a reload. The server checks the time again when it is pressed. */

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

document.querySelectorAll("button[data-opens-at]").forEach((button) => {
  const opensAt = Date.parse(button.dataset.opensAt);
  if (Number.isNaN(opensAt)) return;
  const open = () => {
    button.disabled = false;
    button.classList.replace("btn-ghost", "btn-primary");
    button.textContent = button.dataset.openLabel || "Join now";
    const note = document.getElementById(button.getAttribute("aria-describedby"));
    if (note) note.remove();
    button.removeAttribute("aria-describedby");
  };
  const wait = opensAt - Date.now();
  if (wait <= 0) open();
  else if (wait < MAX_TIMEOUT_MS) setTimeout(open, wait);
});
