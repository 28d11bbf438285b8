// Long text typed into a form is kept in this browser (localStorage) until the form is saved, so a crash, a lost
// connection or a closed tab never loses it; the next visit to the form offers to put it back.
// A draft is keyed by the signed-in person, the address the form posts to, and the field's name.
(function () {
  "use strict";
  var texts = document.getElementById("draft-texts");
  var storage;
  try { storage = window.localStorage; } catch (error) { return; }  // storage blocked: nothing to do
  if (!texts || !storage) return;

  var PREFIX = "folio-draft:";
  var SUBMITTED = "folio-drafts-submitted";
  var MAX_AGE_MS = 14 * 24 * 3600 * 1000;
  var user = texts.getAttribute("data-user");
  var msg = function (name) { return texts.getAttribute("data-msg-" + name) || ""; };

  function read(key) {
    try { return JSON.parse(storage.getItem(key)); } catch (error) { return null; }
  }

  function keyFor(field) {
    var action = new URL(field.form.getAttribute("action") || window.location.href, window.location.href);
    return PREFIX + user + ":" + action.pathname + ":" + field.name;
  }

  // Drafts of another person who used this browser are theirs alone; old ones go.
  var now = Date.now();
  for (var i = storage.length - 1; i >= 0; i--) {
    var name = storage.key(i);
    if (name && name.indexOf(PREFIX) === 0) {
      var old = read(name);
      if (!old || now - old.savedAt > MAX_AGE_MS) storage.removeItem(name);
    }
  }

  // Signing out leaves nothing behind for the next person at a shared computer.
  document.querySelectorAll('form[action="/logout"]').forEach(function (form) {
    form.addEventListener("submit", function () {
      for (var j = storage.length - 1; j >= 0; j--) {
        var key = storage.key(j);
        if (key && key.indexOf(PREFIX + user + ":") === 0) storage.removeItem(key);
      }
    });
  });
  if (!user) return;

  var fields = Array.prototype.slice.call(document.querySelectorAll('form[method="post"] textarea[name]'))
    .filter(function (field) { return !field.readOnly && !field.hasAttribute("data-no-draft"); });
  var present = {};
  fields.forEach(function (field) { present[keyFor(field)] = true; });

  // Fields sent by the last form submitted here: the save went through when this page says so, or when the form is
  // gone from it (a refused save shows the same form again, with its message).
  var submitted = [];
  try { submitted = JSON.parse(window.sessionStorage.getItem(SUBMITTED)) || []; } catch (error) { submitted = []; }
  window.sessionStorage.removeItem(SUBMITTED);
  var saved = document.querySelector(".flash--success") !== null;
  submitted.forEach(function (key) { if (saved || !present[key]) storage.removeItem(key); });

  function offer(field, key, draft) {
    var box = document.createElement("div");
    box.className = "draft-offer";
    box.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = msg("offer");
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button";
    restore.textContent = msg("restore");
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button--quiet";
    discard.textContent = msg("discard");
    restore.addEventListener("click", function () {
      field.value = draft.text;
      box.remove();
      field.focus();
    });
    discard.addEventListener("click", function () {
      storage.removeItem(key);
      box.remove();
      field.focus();
    });
    box.append(text, restore, discard);
    field.parentNode.insertBefore(box, field);
  }

  fields.forEach(function (field) {
    var key = keyFor(field);
    var draft = read(key);
    // A draft the page already holds (given back by a refused save) stays until the save goes through.
    if (draft && draft.text !== field.value && draft.text.trim()) {
      offer(field, key, draft);
    }
    var timer = null;
    function keep() {
      timer = null;
      if (!field.value.trim()) {
        storage.removeItem(key);
        return;
      }
      try {
        storage.setItem(key, JSON.stringify({ text: field.value, savedAt: Date.now() }));
      } catch (error) { /* storage full: the form itself still holds the text */ }
    }
    field.addEventListener("input", function () {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(keep, 400);
    });
    window.addEventListener("pagehide", function () { if (timer) keep(); });
    field.form.addEventListener("submit", function () {
      if (timer) { window.clearTimeout(timer); keep(); }
      var keys = Array.prototype.slice.call(field.form.querySelectorAll("textarea[name]")).map(keyFor);
      window.sessionStorage.setItem(SUBMITTED, JSON.stringify(keys));
    });
  });
})();
