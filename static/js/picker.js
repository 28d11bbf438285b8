// The competency picker: a filter box over its checkboxes, and the chosen ones shown as chips above it.
// Without JavaScript the folded list of checkboxes does everything; this only enhances it.
(function () {
  "use strict";
  if (window.folioPicker) return; // the macro may include this script more than once
  window.folioPicker = true;

  function enhance(picker) {
    var search = picker.querySelector("[data-picker-search]");
    var chips = picker.querySelector("[data-picker-chips]");
    var options = Array.prototype.slice.call(picker.querySelectorAll(".picker__option"));
    picker.querySelector("[data-picker-filter]").hidden = false;

    search.addEventListener("input", function () {
      var words = search.value.trim().toLowerCase();
      options.forEach(function (option) {
        option.hidden = words && option.textContent.toLowerCase().indexOf(words) < 0;
      });
      picker.querySelectorAll(".picker__group").forEach(function (group) {
        group.hidden = !group.querySelector(".picker__option:not([hidden])");
      });
    });
    // Enter in the filter box would send the whole form.
    search.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });

    picker.addEventListener("change", function (event) {
      if (event.target.type !== "checkbox") return;
      chips.innerHTML = "";
      options.forEach(function (option) {
        var box = option.querySelector("input");
        if (!box.checked) return;
        var chip = document.createElement("li");
        chip.className = "chip chip--competency";
        chip.innerHTML = option.querySelector("label").innerHTML;
        chips.appendChild(chip);
      });
    });
  }

  function setup() {
    document.querySelectorAll("[data-competency-picker]").forEach(function (picker) {
      if (picker.querySelector("[data-picker-search]") && !picker.folioEnhanced) {
        picker.folioEnhanced = true;
        enhance(picker);
      }
    });
  }

  setup();
  // The reflection form can come back in place (recorder.js swaps <main>); pick up the new picker too.
  document.addEventListener("htmx:afterSettle", setup);
  window.folioPickerSetup = setup;
})();
