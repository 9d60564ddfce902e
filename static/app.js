// wesog-dash: the little behaviour the pages need. No inline scripts anywhere (CSP).
"use strict";

(function () {
  // Times: the server writes UTC; show them in the browser's zone plus "3 min ago" (kept
  // fresh every 30 s), UTC stays on hover. Fragments swapped in later get the same treatment.
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function ago(when) {
    const seconds = Math.round((Date.now() - when.getTime()) / 1000);
    const future = seconds < 0;
    const s = Math.abs(seconds);
    let text;
    if (s < 10) return future ? "in a few seconds" : "just now";
    if (s < 60) text = s + " s";
    else if (s < 3600) text = Math.floor(s / 60) + " min";
    else if (s < 86400) text = Math.floor(s / 3600) + " h";
    else text = Math.floor(s / 86400) + " d";
    return future ? "in " + text : text + " ago";
  }
  function localiseTimes(root) {
    (root || document).querySelectorAll("time.local-time").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = timeFormat.format(when) + " (" + ago(when) + ")";
      el.dataset.localised = "1";
    });
  }
  setInterval(function () { localiseTimes(document); }, 30000);

  // Toasts: the server sends HX-Trigger {"toast": {"message", "level", "href", "undo",
  // "seconds"}}. A toast links to what it is about; a failure stays until dismissed, others go
  // after 8 s, or `seconds`. They sit in a corner column that lets clicks through to the page
  // around them. A toast may carry an Undo URL (a deletion in its undo window, which `seconds`
  // lasts): a button POSTs to it.
  function showToast(message, level, href, undoUrl, seconds) {
    const box = document.getElementById("toasts");
    if (!box || !message) return;
    const toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    const text = document.createElement(href ? "a" : "span");
    text.textContent = message;
    if (href) text.href = href;
    toast.appendChild(text);
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
      toast.appendChild(button);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(close);
    box.appendChild(toast);
    if (level !== "error") setTimeout(function () { toast.remove(); }, (seconds || 8) * 1000);
  }
  document.body.addEventListener("toast", function (event) {
    const detail = event.detail || {};
    showToast(detail.message, detail.level, detail.href, detail.undo, detail.seconds);
  });

  // Screen readers: a polite live region for what just happened ("Deletion #12 sent").
  function announce(message) {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = message; }, 50);
  }
  document.body.addEventListener("announce", function (event) {
    const detail = event.detail || {};
    if (detail.message) announce(detail.message);
  });

  // The menu on narrow screens.
  document.body.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    const bar = toggle.closest(".topbar");
    const open = bar.classList.toggle("nav-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Copy buttons: <button data-copy-text="…"> copies that text ("Copy failed ids"),
  // <button data-copy="field-id"> that field's value (a token shown once); the button then
  // says its data-copied-label, or "Copied". When the browser refuses, the field stays selected.
  function copyByHand(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  }
  document.body.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-text], [data-copy]");
    if (!button) return;
    const field = button.dataset.copy ? document.getElementById(button.dataset.copy) : null;
    if (button.dataset.copy && !field) return;
    const text = field ? field.value : button.dataset.copyText;
    const done = function () {
      button.textContent = button.dataset.copiedLabel || "Copied";
      announce("Copied to the clipboard");
    };
    const byHand = function () { if (copyByHand(text)) done(); else if (field) field.select(); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, byHand);
    else byHand();
  });

  // An error answer that htmx does not swap (responseHandling, in shared/base.html): its own
  // sentence (its role="alert") in a toast, else its status, instead of failing silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    const page = new DOMParser().parseFromString(xhr ? xhr.responseText : "", "text/html");
    const said = page.querySelector("[role=alert]");
    const words = said ? said.textContent.replace(/\s+/g, " ").trim() : "";
    showToast(words || "The server answered " + (xhr ? xhr.status : "?") + "; the page may be out of date.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("The dashboard cannot be reached; retrying on the next refresh.", "error");
  });

  document.body.addEventListener("htmx:afterSettle", function (event) { localiseTimes(event.target); });
  // Out-of-band swaps (the image grid's watcher refills card slots) settle elsewhere.
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    localiseTimes(document);
    syncSelection();
  });
  localiseTimes(document);

  // Tab title: "(N queued or running) …", the nav badge's count and words.
  function updateTitle() {
    const counter = document.querySelector("[data-running-count]");
    const n = counter ? parseInt(counter.dataset.runningCount, 10) : 0;
    const baseTitle = document.title.replace(/^\(\d+ queued or running\) /, "");
    document.title = n > 0 ? "(" + n + " queued or running) " + baseTitle : baseTitle;
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

  // Stacked tables (narrow screens show "label: value" rows): each cell without a label takes
  // its column's heading.
  function labelCells(root) {
    root.querySelectorAll("table.stacked").forEach(function (table) {
      const heads = Array.from(table.querySelectorAll("thead th")).map(function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, i) {
          if (!cell.hasAttribute("data-label") && heads[i] !== undefined && !cell.hasAttribute("colspan")) cell.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  // A box that scrolls sideways is reachable by keyboard, named, and says that it scrolls.
  function markScrollers() {
    const used = new Set(Array.from(document.querySelectorAll("[role=region][aria-label]"))
      .map(function (el) { return el.getAttribute("aria-label"); }));
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("scrolls", scrolls);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        const section = box.closest("section, .panel, main");
        const heading = section && section.querySelector("h1, h2, h3");
        const table = box.querySelector("table");
        const caption = table && (table.getAttribute("aria-label") || (table.caption && table.caption.textContent.trim()));
        const base = caption || (heading ? heading.textContent.trim() : "Table");
        let name = base + " (scrolls sideways)";
        for (let n = 2; used.has(name); n++) name = base + " (" + n + ", scrolls sideways)";
        used.add(name);
        box.setAttribute("aria-label", name);
        box.dataset.madeFocusable = "1";
      } else if (!scrolls && box.dataset.madeFocusable) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.madeFocusable;
      }
    });
  }
  labelCells(document);
  markScrollers();
  document.body.addEventListener("htmx:afterSettle", function (event) { labelCells(event.target); markScrollers(); });
  window.addEventListener("resize", markScrollers);
  document.body.addEventListener("toggle", markScrollers, true);

  // A token page shown once (the answer to its POST): a reload must not send the form again.
  if (document.querySelector("[data-issued-token]") && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  // A folded list inside a polled fragment (<details data-keep-open>) stays as the reader left it.
  const openDetails = new Set();
  document.body.addEventListener("toggle", function (event) {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.id || !details.hasAttribute("data-keep-open")) return;
    if (details.open) { openDetails.add(details.id); } else { openDetails.delete(details.id); }
  }, true);
  document.body.addEventListener("htmx:afterSwap", function () {
    openDetails.forEach(function (id) {
      const details = document.getElementById(id);
      if (details && details.hasAttribute("data-keep-open")) details.open = true;
    });
  });
  // In a card's delete dialog, Enter in the reason sends the form (Shift+Enter: new line).
  document.body.addEventListener("keydown", function (event) {
    const box = event.target.closest && event.target.closest("textarea[data-enter-submits]");
    if (!box || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (box.form && box.form.requestSubmit) box.form.requestSubmit();
  });

  // Selection of images for "Delete selected": kept in sessionStorage by id, so that ticks
  // survive paging and new searches; ids ticked on other pages travel as hidden inputs.
  // "Select all N matches" is a mode of its own (kept with its formula, dropped by another
  // search): the form then asks for every match, and single cards cannot be unticked.
  const SELECTION = "wesog-selection";
  const MATCHES = "wesog-selection-matches";
  function loadSelection() {
    try { return JSON.parse(sessionStorage.getItem(SELECTION) || "[]"); } catch (e) { return []; }
  }
  function saveSelection(ids) {
    try { sessionStorage.setItem(SELECTION, JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }
  function matchesQuery() {
    try { return sessionStorage.getItem(MATCHES); } catch (e) { return null; }
  }
  function saveMatches(q) {
    try {
      if (q === null) sessionStorage.removeItem(MATCHES); else sessionStorage.setItem(MATCHES, q);
    } catch (e) { /* private mode */ }
  }
  function focusIn(root, selector) {
    const target = root && root.querySelector(selector);
    if (target) target.focus();
  }
  function plural(n) { return n.toLocaleString("en") + " image" + (n === 1 ? "" : "s"); }
  function syncSelection() {
    const form = document.querySelector("[data-bulk-form]");
    if (form && matchesQuery() !== null && matchesQuery() !== form.dataset.query) saveMatches(null);
    const all = Boolean(form) && matchesQuery() !== null && Number(form.dataset.matchCount) > 0;
    const chosen = loadSelection();
    const set = new Set(chosen);
    const onPage = new Set();
    document.querySelectorAll("input[data-select-id]").forEach(function (box) {
      box.checked = all || set.has(box.value);
      box.disabled = all;
      box.title = all ? "Part of all matches: clear the selection to tick images one by one" : "";
      onPage.add(box.value);
    });
    if (!form) return;
    document.querySelectorAll('input[name="image_ids"][form="bulk-form"]:not([data-select-id])').forEach(function (box) {
      box.disabled = all;
    });
    form.querySelectorAll("input[data-carried]").forEach(function (el) { el.remove(); });
    if (!all) {
      chosen.forEach(function (id) {
        if (onPage.has(id)) return;
        const hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "image_ids"; hidden.value = id; hidden.dataset.carried = "1";
        form.appendChild(hidden);
      });
    }
    const count = all ? Number(form.dataset.matchCount) : chosen.length;
    form.querySelector("[data-all-matching]").disabled = !all;
    const button = form.querySelector("[data-selected-button]");
    button.disabled = count === 0;
    button.textContent = count === 0 ? "Delete selected…" : "Delete " + plural(count) + "…";
    form.querySelector("[data-clear-selection]").hidden = count === 0;
    form.querySelector("[data-select-page]").hidden = all;
    const matches = form.querySelector("[data-select-matches]");
    if (matches) matches.hidden = all;
    const note = document.querySelector("[data-all-matches-note]");
    if (note) note.hidden = !all;
  }
  document.body.addEventListener("change", function (event) {
    const box = event.target.closest && event.target.closest("input[data-select-id]");
    if (!box) return;
    const chosen = loadSelection().filter(function (id) { return id !== box.value; });
    if (box.checked) chosen.push(box.value);
    saveSelection(chosen);
    syncSelection();
  });
  document.body.addEventListener("click", function (event) {
    if (event.target.closest("[data-select-page]")) {
      const chosen = loadSelection();
      document.querySelectorAll("input[data-select-id]").forEach(function (box) {
        if (chosen.indexOf(box.value) < 0) chosen.push(box.value);
      });
      saveSelection(chosen);
      syncSelection();
    } else if (event.target.closest("[data-select-matches]")) {
      const form = document.querySelector("[data-bulk-form]");
      saveSelection([]);
      saveMatches(form ? form.dataset.query : null);
      syncSelection();
      announce("All " + plural(Number(form.dataset.matchCount)) + " matching the search are selected");
      focusIn(form, "[data-selected-button]");  // the button that was clicked is hidden now
    } else if (event.target.closest("[data-clear-selection]")) {
      saveSelection([]);
      saveMatches(null);
      syncSelection();
      focusIn(document.querySelector("[data-bulk-form]"), "[data-select-page]");
    }
  });
  document.body.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("[data-bulk-form]")) {
      saveSelection([]);
      saveMatches(null);
    }
  });
  document.body.addEventListener("htmx:afterSettle", syncSelection);
  syncSelection();
})();
