// Uploads each chosen or dropped file on its own request, with a preview and a progress bar per file, then goes on
// to the next step (reflect on it). Without JavaScript the same form posts all files at once; this only enhances it.
// A spoken caption (recorder.js keeps it on the form as `form.folioRecording`) goes with the first file. When a busy
// database refuses a save, the server keeps the files and answers with a token; it is put in the form, so pressing
// Save again adds them without choosing them again.
(function () {
  "use strict";
  var form = document.querySelector("[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;

  var list = form.querySelector("[data-upload-list]");
  var zone = form.querySelector("[data-dropzone]");
  var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type="file"]'));
  var dropped = [];
  var msg = function (name) { return form.getAttribute("data-msg-" + name) || ""; };

  function chosenFiles() {
    var files = dropped.slice();
    inputs.forEach(function (input) { files = files.concat(Array.prototype.slice.call(input.files)); });
    return files;
  }

  function row(file) {
    var item = document.createElement("li");
    item.className = "upload-item";
    if (file.type && file.type.indexOf("image/") === 0 && window.URL && URL.createObjectURL) {
      var preview = document.createElement("img");
      preview.className = "upload-item__preview";
      preview.alt = "";
      preview.src = URL.createObjectURL(file);
      item.appendChild(preview);
    }
    var name = document.createElement("span");
    name.className = "upload-item__name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", msg("progress").replace("{name}", file.name));
    var status = document.createElement("span");
    status.className = "upload-item__status";
    status.textContent = msg("waiting");
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  function showPending() {
    list.innerHTML = "";
    chosenFiles().forEach(row);
  }

  inputs.forEach(function (input) { input.addEventListener("change", showPending); });
  zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("dropzone--over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("dropzone--over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dropzone--over");
    dropped = dropped.concat(Array.prototype.slice.call(event.dataTransfer.files));
    showPending();
  });

  function heldInput() {
    var input = form.querySelector('input[name="held_files"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "held_files";
      form.appendChild(input);
    }
    return input;
  }

  var createdIds = [];

  function send(file, index, total, ui) {
    return new Promise(function (resolve) {
      var data = new FormData(form);
      data.delete("files");
      data.delete("caption_audio");
      // Held files and the spoken caption belong to one request only: the first.
      if (index > 0) data.delete("held_files");
      if (index === 0 && form.folioRecording) data.set("caption_audio", form.folioRecording.blob, form.folioRecording.name);
      var title = (data.get("title") || "").trim();
      if (title && total > 1) data.set("title", title + " (" + (index + 1) + ")");
      data.append("files", file, file.name);
      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("action"));
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) ui.bar.value = Math.round((event.loaded / event.total) * 100);
      });
      request.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
        var created = body.created || [];
        if (body.held_files) heldInput().value = body.held_files;
        if (request.status < 300 && created.length) {
          if (index === 0 && form.querySelector('input[name="held_files"]')) heldInput().value = "";
          created.forEach(function (c) { createdIds.push(c.id); });
          ui.bar.value = 100;
          ui.status.textContent = msg("added");
          ui.item.classList.add("upload-item--done");
          resolve(true);
        } else {
          var errors = (body.errors || []).map(function (e) { return e.message; });
          ui.status.textContent = msg("failed") + (errors.length ? ": " + errors.join(" ") : "");
          ui.item.classList.add("upload-item--failed");
          resolve(false);
        }
      });
      request.addEventListener("error", function () {
        ui.status.textContent = msg("network");
        ui.item.classList.add("upload-item--failed");
        resolve(false);
      });
      ui.status.textContent = msg("uploading");
      request.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    var files = chosenFiles();
    if (!files.length) return; // the server explains that a file is needed
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    list.innerHTML = "";
    var rows = files.map(row);
    var allAdded = true;
    createdIds = [];
    files.reduce(function (previous, file, index) {
      return previous.then(function () {
        return send(file, index, files.length, rows[index]).then(function (ok) { allAdded = allAdded && ok; });
      });
    }, Promise.resolve()).then(function () {
      button.disabled = false;
      if (allAdded) {
        var next = form.getAttribute("data-next") || "/artefacts";
        window.location.assign(next + createdIds.map(function (id) { return "&artefact=" + id; }).join(""));
      } else {
        var note = document.createElement("li");
        note.className = "upload-item upload-item--summary";
        note.textContent = msg("some-failed");
        list.appendChild(note);
        dropped = [];
        inputs.forEach(function (input) { input.value = ""; });
      }
    });
  });
})();
