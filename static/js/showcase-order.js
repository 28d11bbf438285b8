// Drag and drop to reorder a showcase's items. Without JavaScript (or without a mouse), the "Move up" and
// "Move down" buttons do the same with plain forms; this only enhances the list.
// On drop, the whole new order is sent as order=<entry ids>; the server checks it names exactly the
// showcase's items. A polite live region says where the item went.
(function () {
  "use strict";
  var list = document.querySelector("[data-showcase-order]");
  if (!list || !window.fetch || !("draggable" in document.createElement("li"))) return;

  var status = document.querySelector("[data-order-status]");
  var url = list.getAttribute("data-order-url");
  var dragged = null;
  var before = null;

  function entries() {
    return Array.prototype.slice.call(list.querySelectorAll(":scope > [data-entry-id]"));
  }

  function ids() {
    return entries().map(function (li) { return li.getAttribute("data-entry-id"); });
  }

  function say(text) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function restore(order) {
    var byId = {};
    entries().forEach(function (li) { byId[li.getAttribute("data-entry-id")] = li; });
    order.forEach(function (id) { list.appendChild(byId[id]); });
  }

  function save(previous) {
    var order = ids();
    if (order.join(",") === previous.join(",")) return;
    var item = dragged;
    var body = new URLSearchParams();
    body.set("order", order.join(","));
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      var position = order.indexOf(item.getAttribute("data-entry-id")) + 1;
      say(list.getAttribute("data-msg-moved")
        .replace("{title}", item.getAttribute("data-title"))
        .replace("{position}", String(position)));
    }).catch(function () {
      restore(previous);
      say(list.getAttribute("data-msg-failed"));
    });
  }

  entries().forEach(function (li) {
    li.setAttribute("draggable", "true");
    li.classList.add("showcase-entry--draggable");
  });

  // A draggable item would stop people selecting text in its talking points: not draggable from form fields.
  list.addEventListener("pointerdown", function (event) {
    var li = event.target.closest ? event.target.closest("[data-entry-id]") : null;
    if (li) li.setAttribute("draggable", event.target.closest("textarea, input, select, button, a, audio, video") ? "false" : "true");
  });

  list.addEventListener("dragstart", function (event) {
    var li = event.target.closest ? event.target.closest("[data-entry-id]") : null;
    // Let people select text in the talking points without starting a drag.
    if (!li || event.target.closest("textarea, input, button, a")) return;
    dragged = li;
    before = ids();
    li.classList.add("showcase-entry--dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.getAttribute("data-entry-id"));
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest ? event.target.closest("[data-entry-id]") : null;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!over || over === dragged) return;
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });

  list.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  list.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("showcase-entry--dragging");
    save(before);
    dragged = null;
  });
})();
