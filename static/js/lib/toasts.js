/* Short notes in the page's #toasts region (an aria-live region): restored text, time
 * warnings. Each can be dismissed and goes away by itself. */

const TOAST_MS = 9000;

/** Show `text` with a tone of "info", "warn" or "danger". */
export function toast(text, tone = "info") {
  const toasts = document.getElementById("toasts");
  if (!toasts) return;
  const item = document.createElement("div");
  item.className = `toast toast-${tone}`;
  item.setAttribute("role", "status");
  item.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(close);
  toasts.append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}
