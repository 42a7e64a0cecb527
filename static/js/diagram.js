/* Mermaid diagrams under the site's strict Content Security Policy.
 *
 * The policy allows a <style> element only with the page's nonce, and Mermaid (vendored into
 * static/vendor/mermaid/ by `make vendor`) makes three: it lays the diagram out in the live
 * page with one, then sanitises the SVG markup (with that <style> in it) by parsing it, and
 * returns the markup. Chrome checks <style> even in DOMParser's inert documents, and there a
 * nonce does not help. So while a diagram renders:
 *   - style elements made with document.createElement get the nonce;
 *   - markup parsed with DOMParser has Mermaid's own stylesheet (the first <style> right
 *     after <svg ...>) lifted out and kept aside, and any other <style> tag (say, typed into
 *     a label) renamed so that it is never a style element and the sanitiser drops it;
 *   - the kept stylesheet goes back into the drawing in a nonce'd element made in the page.
 *
 * window.MlsdDiagram.render(target, source) renders into `target` and resolves to
 * {ok: true} or {ok: false, error: "the parser's message"}. Elements with [data-diagram]
 * (the review page) are rendered from their text on load.
 */
(function () {
  "use strict";

  const nonce = document.body.dataset.cspNonce || "";
  let initialised = false;
  let queue = Promise.resolve();
  let counter = 0;

  let rendering = false;
  let diagramCss = "";

  function liftStyles(markup) {
    const own = markup.match(/^(\s*<svg\b[^>]*>\s*)<style\b[^>]*>([\s\S]*?)<\/style>/i);
    if (own) {
      diagramCss = own[2];
      markup = own[1] + markup.slice(own[0].length);
    }
    return markup.replace(/<(\/?)style\b/gi, "<$1mlsd-removed-style");
  }

  function giveStylesTheNonce() {
    if (!nonce || document.mlsdStyleNonce) return;
    const parseFromString = DOMParser.prototype.parseFromString;
    DOMParser.prototype.parseFromString = function (markup, type) {
      // DOMPurify hands over TrustedHTML where the browser has Trusted Types; the page
      // does not enforce them, so its string form parses the same.
      if (rendering && markup != null) markup = liftStyles(String(markup));
      return parseFromString.call(this, markup, type);
    };
    const createElement = document.createElement;
    const createElementNS = document.createElementNS;
    document.createElement = function (tagName, options) {
      const element = createElement.call(this, tagName, options);
      if (String(tagName).toLowerCase() === "style") element.setAttribute("nonce", nonce);
      return element;
    };
    document.createElementNS = function (namespace, qualifiedName, options) {
      const element = createElementNS.call(this, namespace, qualifiedName, options);
      if (String(qualifiedName).toLowerCase() === "style") element.setAttribute("nonce", nonce);
      return element;
    };
    document.mlsdStyleNonce = true;
  }

  function init() {
    if (initialised || !window.mermaid) return Boolean(window.mermaid);
    giveStylesTheNonce();
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
    if (!init()) {
      const pre = document.createElement("pre");
      pre.className = "diagram-fallback";
      pre.textContent = text;
      target.replaceChildren(note("muted", "The diagram preview is unavailable; the source is kept."), pre);
      target.dataset.state = "unavailable";
      return { ok: false, error: "Mermaid is not loaded." };
    }
    rendering = true;
    diagramCss = "";
    try {
      await window.mermaid.parse(text);
      counter += 1;
      const { svg } = await window.mermaid.render(`mlsd-diagram-${counter}`, text);
      showSvg(target, svg);
      return { ok: true };
    } catch (error) {
      const message = errorMessage(error);
      showError(target, message);
      return { ok: false, error: message };
    } finally {
      rendering = false;
    }
  }

  // Mermaid is not re-entrant: one render at a time, in order.
  function render(target, source) {
    const next = queue.then(() => draw(target, source));
    queue = next.catch(() => undefined);
    return next;
  }

  window.MlsdDiagram = { render };

  document.querySelectorAll("[data-diagram]").forEach((element) => {
    render(element, element.textContent);
  });
})();
