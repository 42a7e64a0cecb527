/* Copy buttons: <button type="button" data-copy="ID"> copies the text of the element with
 * id ID (a <pre> of code) to the clipboard and says "Copied" for a few seconds; a status
 * region next to it (data-copy-status="ID") says it to screen readers. A listener, not an
 * inline handler, so it runs under the site's Content Security Policy.
 *
 * The asynchronous Clipboard API needs a secure context (HTTPS, or localhost); elsewhere the
 * text is selected and copied with the older execCommand, and if even that is refused it
 * stays selected and the button says to press Ctrl+C.
 */
const SHOWN_MS = 3000;

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copyText(element) {
  const text = element.textContent;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return "Copied";
    } catch (error) { /* refused: try the older way */ }
  }
  selectText(element);
  try {
    if (document.execCommand("copy")) return "Copied";
  } catch (error) { /* refused too */ }
  return "Press Ctrl+C to copy";
}

const labels = new WeakMap(); // button -> its own label's nodes, put back after "Copied"
const timers = new WeakMap();

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  if (!labels.has(button)) labels.set(button, [...button.childNodes].map((node) => node.cloneNode(true)));
  const said = await copyText(source);
  button.textContent = said;
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
  if (status) status.textContent = said === "Copied" ? "Copied to the clipboard." : said;
  clearTimeout(timers.get(button));
  timers.set(button, setTimeout(() => {
    button.replaceChildren(...labels.get(button).map((node) => node.cloneNode(true)));
    if (status) status.textContent = "";
  }, SHOWN_MS));
});
