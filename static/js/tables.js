// A table wider than the screen scrolls inside its wrapper (never the page): say so above it, and let the keyboard
// scroll it (a focusable, named region). Checked again when the window changes size or HTMX swaps content in.
(function () {
  "use strict";
  var texts = document.getElementById("table-texts");
  var hint = texts ? texts.getAttribute("data-msg-scroll") : "";

  function check(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("table-wrap--scrolls", scrolls);
    var note = wrap.previousElementSibling;
    var hasNote = note && note.classList.contains("table-hint");
    if (scrolls) {
      if (!wrap.hasAttribute("tabindex")) wrap.setAttribute("tabindex", "0");
      if (!wrap.hasAttribute("role")) wrap.setAttribute("role", "region");
      if (!wrap.hasAttribute("aria-label") && !wrap.hasAttribute("aria-labelledby")) {
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : hint);
      }
      if (!hasNote && hint) {
        var p = document.createElement("p");
        p.className = "table-hint muted";
        p.textContent = hint;
        wrap.parentNode.insertBefore(p, wrap);
      }
    } else if (hasNote) {
      note.remove();
    }
  }

  function checkAll() {
    document.querySelectorAll(".table-wrap").forEach(check);
  }

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(checkAll);
  });
  document.addEventListener("htmx:afterSettle", checkAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", checkAll);
  else checkAll();
})();
