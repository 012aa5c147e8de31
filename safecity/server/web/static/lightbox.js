// Enlarges any img[data-enlarge] on any page: click, Enter or Space opens it full size over the page
// (data-enlarge="URL" shows another, larger image; empty shows the same one); Escape, the Close
// button or a click closes it and gives focus back to the image. No inline script or style (CSP).
(function () {
  "use strict";
  let box = null, big = null, caption = null, closeButton = null, opener = null;

  function build() {
    box = document.createElement("div");
    box.className = "lightbox";
    box.id = "lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Enlarged image");
    closeButton = document.createElement("button");
    closeButton.type = "button";
    closeButton.className = "lightbox-close";
    closeButton.textContent = "Close (Esc)";
    big = document.createElement("img");
    big.alt = "";
    caption = document.createElement("p");
    caption.className = "lightbox-caption";
    box.append(closeButton, big, caption);
    box.addEventListener("click", close);
    document.body.append(box);
  }

  function open(img) {
    if (!box) build();
    opener = img;
    const source = img.getAttribute("data-enlarge");
    big.src = source || img.currentSrc || img.src;
    big.alt = img.alt || "";
    caption.textContent = img.alt || "";
    box.hidden = false;
    document.body.classList.add("lightbox-open");
    closeButton.focus();
  }

  function close() {
    if (!box || box.hidden) return;
    box.hidden = true;
    big.removeAttribute("src");
    document.body.classList.remove("lightbox-open");
    if (opener) opener.focus();
    opener = null;
  }

  function prepare(img) {
    if (img.dataset.lightboxReady) return;
    img.dataset.lightboxReady = "1";
    if (!img.hasAttribute("tabindex")) img.tabIndex = 0;
    img.setAttribute("role", "button");
    if (!img.title) img.title = "Enlarge (click or Enter)";
  }

  function prepareAll(root) {
    root.querySelectorAll("img[data-enlarge]").forEach(prepare);
  }

  document.addEventListener("click", (event) => {
    const img = event.target instanceof Element ? event.target.closest("img[data-enlarge]") : null;
    if (!img || (box && box.contains(img))) return;
    event.preventDefault();
    open(img);
  });
  document.addEventListener("keydown", (event) => {
    if (box && !box.hidden) {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        event.preventDefault(); // the only control in the dialog keeps the focus
        closeButton.focus();
      }
      return;
    }
    const img = event.target instanceof Element ? event.target.closest("img[data-enlarge]") : null;
    if (img && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      open(img);
    }
  });

  function start() {
    prepareAll(document);
    // Images other scripts add later (live lists) become enlargeable too.
    new MutationObserver((changes) => {
      for (const change of changes) {
        change.addedNodes.forEach((node) => {
          if (node instanceof HTMLImageElement && node.matches("img[data-enlarge]")) prepare(node);
          else if (node instanceof Element) prepareAll(node);
        });
      }
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
