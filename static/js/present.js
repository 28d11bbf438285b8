// The conference presentation: one slide at a time, moved with the keyboard, the buttons or a swipe.
// Without JavaScript every slide is a section of one long page with Previous/Next links; this only enhances it.
// Keys: Left/PageUp previous, Right/PageDown next, Home first, End last, P talking points, F full screen.
(function () {
  "use strict";
  var deck = document.querySelector("[data-deck]");
  if (!deck || !window.history || !history.replaceState) return;

  var slides = Array.prototype.slice.call(deck.querySelectorAll("[data-slide]"));
  if (!slides.length) return;
  var controls = document.querySelector("[data-present-controls]");
  var tools = document.querySelector("[data-present-tools]");
  var prevButton = controls.querySelector("[data-prev]");
  var nextButton = controls.querySelector("[data-next]");
  var progressText = controls.querySelector("[data-progress-text]");
  var progressBar = controls.querySelector("[data-progress-bar]");
  var notesToggle = tools.querySelector("[data-notes-toggle]");
  var notesState = tools.querySelector("[data-notes-state]");
  var fullscreenButton = tools.querySelector("[data-fullscreen]");
  var notes = Array.prototype.slice.call(deck.querySelectorAll("[data-notes]"));
  var msg = function (name) { return deck.getAttribute("data-msg-" + name) || ""; };
  var current = -1;
  var notesOpen = false;

  document.documentElement.classList.add("present-js");
  controls.hidden = false;
  tools.hidden = false;

  function indexOf(id) {
    for (var i = 0; i < slides.length; i++) {
      if (slides[i].id === id) return i;
    }
    return -1;
  }

  function hashIndex() {
    var id = "";
    try { id = decodeURIComponent(window.location.hash.replace(/^#/, "")); } catch (e) { id = ""; }
    return id ? indexOf(id) : -1;
  }

  function pauseMedia(slide) {
    Array.prototype.forEach.call(slide.querySelectorAll("audio, video"), function (media) {
      if (!media.paused) media.pause();
    });
  }

  function setDisabled(button, disabled) {
    // aria-disabled rather than disabled, so a focused button keeps its focus at the first or last slide.
    button.setAttribute("aria-disabled", disabled ? "true" : "false");
  }

  function show(index, moveFocus) {
    index = Math.max(0, Math.min(slides.length - 1, index));
    if (index === current) return;
    slides.forEach(function (slide, i) {
      if (i !== index) {
        if (!slide.hidden) pauseMedia(slide);
        slide.hidden = true;
      }
    });
    var slide = slides[index];
    slide.hidden = false;
    current = index;
    progressText.textContent = msg("progress").replace("{num}", index + 1).replace("{total}", slides.length);
    progressBar.max = slides.length;
    progressBar.value = index + 1;
    setDisabled(prevButton, index === 0);
    setDisabled(nextButton, index === slides.length - 1);
    var slideNotes = slide.querySelector("[data-notes]");
    if (slideNotes) notesToggle.setAttribute("aria-controls", slideNotes.id);
    else notesToggle.removeAttribute("aria-controls");
    if (window.location.hash !== "#" + slide.id) history.replaceState(null, "", "#" + slide.id);
    window.scrollTo(0, 0);
    if (moveFocus) {
      var heading = slide.querySelector("[tabindex='-1']");
      if (heading) heading.focus({ preventScroll: true });
    }
  }

  function move(step) { show(current + step, true); }

  function setNotes(open) {
    notesOpen = open;
    notesToggle.setAttribute("aria-expanded", open ? "true" : "false");
    notesState.textContent = msg(open ? "notes-shown" : "notes-hidden");
    deck.classList.toggle("deck--notes", open);
    notes.forEach(function (panel) { if (panel.open !== open) panel.open = open; });
  }

  // Opening one slide's talking points by its own summary opens them all, and the button follows.
  notes.forEach(function (panel) {
    panel.addEventListener("toggle", function () { if (panel.open !== notesOpen) setNotes(panel.open); });
  });
  notesToggle.addEventListener("click", function () { setNotes(!notesOpen); });

  var canFullscreen = document.fullscreenEnabled && document.documentElement.requestFullscreen;
  function toggleFullscreen() {
    if (!canFullscreen) return;
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else {
      document.documentElement.requestFullscreen().catch(function () { /* refused: stay as we are */ });
    }
  }
  if (canFullscreen) {
    var fullscreenLabel = fullscreenButton.querySelector("[data-label]");
    fullscreenButton.hidden = false;
    fullscreenButton.addEventListener("click", toggleFullscreen);
    document.addEventListener("fullscreenchange", function () {
      fullscreenLabel.textContent = msg(document.fullscreenElement ? "fullscreen-exit" : "fullscreen");
    });
  }

  prevButton.addEventListener("click", function () { if (current > 0) move(-1); });
  nextButton.addEventListener("click", function () { if (current < slides.length - 1) move(1); });

  function typingIn(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, audio, video, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typingIn(event.target)) return;
    var key = event.key;
    if (key === "ArrowRight" || key === "PageDown") move(1);
    else if (key === "ArrowLeft" || key === "PageUp") move(-1);
    else if (key === "Home") show(0, true);
    else if (key === "End") show(slides.length - 1, true);
    else if (key === "p" || key === "P") setNotes(!notesOpen);
    else if ((key === "f" || key === "F") && canFullscreen) toggleFullscreen();
    else return;
    event.preventDefault();
  });

  // Swipe left or right with a finger or pen (a mouse drag selects text as usual).
  var start = null;
  deck.addEventListener("pointerdown", function (event) {
    if (event.pointerType === "mouse" || typingIn(event.target) || event.target.closest("a, button")) {
      start = null;
      return;
    }
    start = { x: event.clientX, y: event.clientY };
  });
  deck.addEventListener("pointerup", function (event) {
    if (!start) return;
    var dx = event.clientX - start.x;
    var dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 1.5 * Math.abs(dy)) move(dx < 0 ? 1 : -1);
  });
  deck.addEventListener("pointercancel", function () { start = null; });

  // Links to another slide (#slide-3, "Add another response") move there; other anchors (#main) are left alone.
  window.addEventListener("hashchange", function () {
    var index = hashIndex();
    if (index >= 0) show(index, true);
  });

  var first = hashIndex();
  if (first < 0) first = Math.max(0, indexOf(deck.getAttribute("data-start") || ""));
  show(first, false);
  setNotes(false);
  // Opening on a later slide (a reload, the response form again, the thank-you): its heading takes focus once the
  // browser has finished going to the #fragment, which would otherwise reset the focus.
  function focusCurrent() {
    var heading = slides[current].querySelector("[tabindex='-1']");
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  }
  if (first > 0) {
    if (document.readyState === "complete") window.setTimeout(focusCurrent, 0);
    else window.addEventListener("load", function () { window.setTimeout(focusCurrent, 0); });
  }
})();
