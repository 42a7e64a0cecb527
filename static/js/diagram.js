/* Mermaid diagrams under the site's strict Content Security Policy.
 *
 * The policy allows a <style> element only with the page's nonce, and Mermaid (vendored into
 * static/vendor/mermaid/ by `make vendor`) makes three: it lays the diagram out in the live
 * page with one, then sanitises the SVG markup (with that <style> in it) by parsing it, and
 * returns the markup. Chrome checks <style> even in DOMParser's inert documents, and there a
 * nonce does not help. So while a diagram renders (and only then: the patches below are
 * installed around each mermaid.parse/render call and removed in its `finally`, so no other
 * code on the page gets a nonce'd <style> for free):
 *   - style elements made with document.createElement(NS) get the nonce;
 *   - markup parsed with DOMParser has Mermaid's own stylesheet (the first <style> right
 *     after <svg ...>) lifted out and kept aside, and any other <style> tag (say, typed into
 *     a label) renamed so that it is never a style element and the sanitiser drops it;
 *   - the kept stylesheet goes back into the drawing in a nonce'd element made in the page.
 *
 * Mermaid is 5.5 MB of script: parsing it on every load made the interview, scorecard and
 * review pages slow to open. So it is loaded on demand, by a <script> element with the
 * page's nonce added the first time a diagram with text is drawn (or when the candidate
 * focuses the diagram editor, so that the first keystrokes render sooner); a page without a
 * diagram never requests it. The script tag of this file names it:
 * <script src="diagram.js" data-mermaid-src="{% static 'vendor/mermaid/mermaid.min.js' %}">.
 *
 * window.MlsdDiagram.render(target, source) renders into `target` and resolves to
 * {ok: true} or {ok: false, error: "the parser's message"}. Elements with [data-diagram]
 * (the review, scorecard and replay pages) are rendered from their text on load and when
 * htmx swaps them in.
 */
(function () {
  "use strict";

  const nonce = document.body.dataset.cspNonce || "";
  const mermaidSrc = (document.currentScript && document.currentScript.dataset.mermaidSrc) || "";
  let loading = null;
  let initialised = false;
  let queue = Promise.resolve();
  let counter = 0;

  let diagramCss = "";

  function liftStyles(markup) {
    const own = markup.match(/^(\s*<svg\b[^>]*>\s*)<style\b[^>]*>([\s\S]*?)<\/style>/i);
    if (own) {
      diagramCss = own[2];
      markup = own[1] + markup.slice(own[0].length);
    }
    return markup.replace(/<(\/?)style\b/gi, "<$1mlsd-removed-style");
  }

  // Replace object[name] with wrap(original); returns the function that puts back exactly
  // what was there (an own property, or none so the prototype's shows through again).
  function patch(object, name, wrap) {
    const own = Object.getOwnPropertyDescriptor(object, name);
    object[name] = wrap(object[name]);
    return function restore() {
      if (own) Object.defineProperty(object, name, own);
      else delete object[name];
    };
  }

  function nonceStyles(create) {
    return function (...args) {
      const element = create.apply(this, args);
      if (element.localName === "style") element.setAttribute("nonce", nonce);
      return element;
    };
  }

  // Installs the three patches for one render; returns the function that removes them.
  function patchForRender() {
    if (!nonce) return () => undefined;
    const restores = [
      patch(DOMParser.prototype, "parseFromString", (parseFromString) =>
        function (markup, type) {
          // DOMPurify hands over TrustedHTML where the browser has Trusted Types; the page
          // does not enforce them, so its string form parses the same.
          if (markup != null) markup = liftStyles(String(markup));
          return parseFromString.call(this, markup, type);
        }),
      patch(document, "createElement", nonceStyles),
      patch(document, "createElementNS", nonceStyles),
    ];
    return () => restores.reverse().forEach((restore) => restore());
  }

  // Resolves to whether Mermaid is there: loaded once, by the first caller.
  function loadMermaid() {
    if (window.mermaid) return Promise.resolve(true);
    if (!loading) {
      loading = new Promise((resolve) => {
        if (!mermaidSrc) {
          resolve(false);
          return;
        }
        const script = document.createElement("script");
        script.src = mermaidSrc;
        script.setAttribute("nonce", nonce);
        script.addEventListener("load", () => resolve(Boolean(window.mermaid)));
        script.addEventListener("error", () => {
          loading = null; // the next diagram tries again
          resolve(false);
        });
        document.head.append(script);
      });
    }
    return loading;
  }

  function init() {
    if (initialised || !window.mermaid) return Boolean(window.mermaid);
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      suppressErrorRendering: true,
      theme: "neutral",
      fontFamily: getComputedStyle(document.body).fontFamily,
    });
    initialised = true;
    return true;
  }

  function note(className, text) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function showSvg(target, svgMarkup) {
    const parsed = new DOMParser().parseFromString(liftStyles(svgMarkup), "text/html");
    const found = parsed.querySelector("svg");
    if (!found) throw new Error("Mermaid returned no drawing.");
    found.querySelectorAll("mlsd-removed-style").forEach((element) => element.remove());
    const svg = document.importNode(found, true);
    if (diagramCss) {
      const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
      style.setAttribute("nonce", nonce);
      style.textContent = diagramCss;
      svg.prepend(style);
    }
    svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    // An image needs a name: the labels of its boxes, in the order they are drawn.
    const labels = [...svg.querySelectorAll(".nodeLabel")].map((el) => el.textContent.trim()).filter(Boolean);
    svg.setAttribute("aria-label", labels.length ? `Diagram: ${labels.join(", ")}` : "Diagram");
    target.replaceChildren(svg);
    target.dataset.state = "ok";
  }

  function showError(target, message) {
    const box = document.createElement("div");
    box.className = "diagram-error";
    box.setAttribute("role", "status");
    const title = document.createElement("strong");
    title.textContent = "The diagram does not parse yet.";
    const saved = document.createElement("span");
    saved.textContent = " Your text is still saved.";
    const pre = document.createElement("pre");
    pre.textContent = message;
    box.append(title, saved, pre);
    target.replaceChildren(box);
    target.dataset.state = "error";
  }

  function errorMessage(error) {
    const text = (error && (error.message || error.str)) || String(error);
    return text.length > 600 ? text.slice(0, 600) + "…" : text;
  }

  async function draw(target, source) {
    const text = (source || "").trim();
    if (!text) {
      target.replaceChildren(note("muted", "Your diagram renders here."));
      target.dataset.state = "empty";
      return { ok: true, empty: true };
    }
    if (!(await loadMermaid()) || !init()) {
      const pre = document.createElement("pre");
      pre.className = "diagram-fallback";
      pre.textContent = text;
      target.replaceChildren(note("muted", "The diagram preview is unavailable; the source is kept."), pre);
      target.dataset.state = "unavailable";
      return { ok: false, error: "Mermaid is not loaded." };
    }
    diagramCss = "";
    try {
      let svg;
      const unpatch = patchForRender();
      try {
        await window.mermaid.parse(text);
        counter += 1;
        ({ svg } = await window.mermaid.render(`mlsd-diagram-${counter}`, text));
      } finally {
        unpatch();
      }
      showSvg(target, svg);
      return { ok: true };
    } catch (error) {
      const message = errorMessage(error);
      showError(target, message);
      return { ok: false, error: message };
    }
  }

  // Mermaid is not re-entrant: one render at a time, in order.
  function render(target, source) {
    const next = queue.then(() => draw(target, source));
    queue = next.catch(() => undefined);
    return next;
  }

  window.MlsdDiagram = { render };

  // Each [data-diagram] once: on load, and in what htmx swaps in (the replay's frames).
  const drawn = new WeakSet();
  function renderWithin(root) {
    if (!root || !root.querySelectorAll) return;
    const found = [...root.querySelectorAll("[data-diagram]")];
    if (root.matches && root.matches("[data-diagram]")) found.unshift(root);
    found.forEach((element) => {
      if (drawn.has(element)) return;
      drawn.add(element);
      render(element, element.textContent);
    });
  }

  renderWithin(document);
  document.addEventListener("htmx:load", (event) => renderWithin(event.detail.elt));
  document.addEventListener("focusin", (event) => {
    if (event.target.matches && event.target.matches("textarea.diagram-source")) loadMermaid();
  });
})();
