// Record a spoken reflection (or an evidence's spoken caption) in the browser (MediaRecorder) where supported; the
// file field stays as the fallback. A reflection form is sent with the recording like a chosen file would be; on the
// evidence form the recording is left on the form (`form.folioRecording`) for upload.js to send with the first file.
(function () {
  "use strict";
  var supported = window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  // Kept across a refused submission (say, a missing title): the form comes back with the recording still in it.
  var recording = null;

  function extension(blob) {
    return (blob.type.indexOf("ogg") >= 0) ? "ogg" : (blob.type.indexOf("mp4") >= 0 ? "m4a" : "webm");
  }

  function keep(form, blob) {
    recording = blob;
    if (blob && !form.hasAttribute("data-reflection-form")) form.folioRecording = { blob: blob, name: "caption." + extension(blob) };
  }

  function setup() {
    var box = document.querySelector("form [data-recorder]");
    var form = box && box.closest("form");
    if (!box || !supported) return;

    var recordButton = box.querySelector("[data-record]");
    var stopButton = box.querySelector("[data-stop]");
    var status = box.querySelector("[data-status]");
    var preview = box.querySelector("[data-preview]");
    var recorder = null;
    var msg = function (name) { return box.getAttribute("data-msg-" + name) || ""; };
    box.hidden = false;
    if (recording) {
      keep(form, recording);
      preview.src = URL.createObjectURL(recording);
      preview.hidden = false;
      status.textContent = msg("recorded");
    }

    recordButton.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var chunks = [];
        recorder = new MediaRecorder(stream);
        recorder.addEventListener("dataavailable", function (event) { if (event.data.size) chunks.push(event.data); });
        recorder.addEventListener("stop", function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          keep(form, new Blob(chunks, { type: recorder.mimeType || "audio/webm" }));
          preview.src = URL.createObjectURL(recording);
          preview.hidden = false;
          status.textContent = msg("recorded");
          recordButton.disabled = false;
          stopButton.disabled = true;
          recordButton.focus();
        });
        recorder.start();
        status.textContent = msg("recording");
        recordButton.disabled = true;
        stopButton.disabled = false;
        stopButton.focus();
      }).catch(function () { status.textContent = msg("denied"); });
    });

    stopButton.addEventListener("click", function () { if (recorder && recorder.state !== "inactive") recorder.stop(); });

    if (!form.hasAttribute("data-reflection-form")) return; // upload.js sends the evidence form
    form.addEventListener("submit", function (event) {
      if (!recording) return; // nothing recorded: the plain form post does everything
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
      data.set("audio", recording, "recording." + extension(recording));
      // getAttribute: the submit buttons are named "action", which would shadow form.action.
      fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
        if (response.redirected && response.ok) {
          window.location.assign(response.url);
          return;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var main = page.querySelector("main");
          if (main) {
            document.querySelector("main").replaceWith(main);
            setup();
            if (window.folioPickerSetup) window.folioPickerSetup();
          }
        });
      });
    });
  }

  setup();
})();
