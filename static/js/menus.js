// The <details> menus of secondary actions (templates/_partials/menu.html) work without this: it only closes an
// open menu with Escape (focus back on its button), when another opens, or on a click or tap elsewhere.
(function () {
  "use strict";
  function openMenus() { return Array.prototype.slice.call(document.querySelectorAll("details.menu[open]")); }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = event.target.closest && event.target.closest("details.menu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) { if (!menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.menu") || !opened.open) return;
    openMenus().forEach(function (menu) { if (menu !== opened) menu.open = false; });
  }, true);
})();
