// wesog-dash: the little behaviour the pages need. No inline scripts anywhere (CSP).
"use strict";

(function () {
  // Times: the server writes UTC; show them in the browser's zone, UTC stays on hover.
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function localiseTimes(root) {
    (root || document).querySelectorAll("time.local-time:not([data-localised])").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = timeFormat.format(when);
        el.dataset.localised = "1";
      }
    });
  }

  // Toasts: the server sends HX-Trigger {"toast": {"message": …, "level": …}}.
  // A toast may carry an Undo URL (a deletion in its undo window): a button POSTs to it.
  function showToast(message, level, undoUrl) {
    const box = document.getElementById("toasts");
    if (!box || !message) return;
    const toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.setAttribute("role", "status");
    toast.textContent = message;
    if (undoUrl && window.htmx) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = "Undo";
      button.addEventListener("click", function () {
        button.disabled = true;
        window.htmx.ajax("POST", undoUrl, { values: { source: "toast" }, swap: "none", target: "body" });
        toast.remove();
      });
      toast.append(" — ", button);
    }
    box.appendChild(toast);
    setTimeout(function () { toast.remove(); }, 8000);
  }
  document.body.addEventListener("toast", function (event) {
    const detail = event.detail || {};
    showToast(detail.message, detail.level, detail.undo);
  });

  // "Copy failed ids": <button data-copy-text="…" data-copied-label="…"> copies its text.
  document.body.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-text]");
    if (!button) return;
    const text = button.dataset.copyText;
    const done = function () { button.textContent = button.dataset.copiedLabel || "Copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { copyByHand(text); done(); });
    } else { copyByHand(text); done(); }
  });
  function copyByHand(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  // CSRF: every htmx request carries the token from the page's meta tag.
  document.body.addEventListener("htmx:configRequest", function (event) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  // Upstream or server errors during an htmx swap: say so instead of failing silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : "?";
    showToast("The server answered " + status + "; the page may be out of date.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("The dashboard cannot be reached; retrying on the next refresh.", "error");
  });

  document.body.addEventListener("htmx:afterSettle", function (event) { localiseTimes(event.target); });
  localiseTimes(document);

  // Tab title: "(N running) …" from the element that counts running operations.
  const baseTitle = document.title;
  function updateTitle() {
    const counter = document.querySelector("[data-running-count]");
    const n = counter ? parseInt(counter.dataset.runningCount, 10) : 0;
    document.title = n > 0 ? "(" + n + " running) " + baseTitle : baseTitle;
  }
  document.body.addEventListener("htmx:afterSettle", updateTitle);
  updateTitle();

  // Dialogs: <button data-open-dialog="id"> opens <dialog id>, [data-close-dialog] closes it.
  document.body.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) { event.preventDefault(); dialog.close(); }
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    const dialog = event.target.closest && event.target.closest("dialog");
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    // A refused form (422, swapped in place with its message) keeps its dialog open.
    if (dialog && event.detail.successful && status < 400) dialog.close();
  });

  // Error answers marked X-Swap-Error carry a fragment that explains the problem in place
  // (a formula the API rejected, a refused delete form): swap it instead of a generic toast.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Swap-Error") === "1") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
