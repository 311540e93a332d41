// Hash-list upload with progress (the hash sets page). The file is the raw body of one PUT, with the
// page's CSRF token in a header; the server's answer is a page whose result section is shown here.
// No inline script (CSP): loaded by the page that has the form.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var csrf = document.body.getAttribute("data-csrf") || "";
  var button = form.querySelector("button[type=submit]");
  var bar = document.getElementById("u-progress");
  var status = document.getElementById("u-status");
  var result = document.getElementById("upload-result");
  var max = parseInt(form.getAttribute("data-max") || "0", 10);
  var busy = false;
  button.disabled = false;

  function say(text) { status.textContent = text; }

  function show(html) {
    // the server's page, parsed inertly (scripts in parsed documents never run); only its result
    // section (or, for an error page, its main content) is copied in
    var doc = new DOMParser().parseFromString(html, "text/html");
    var part = doc.querySelector("[data-upload-result]") || doc.querySelector("main");
    while (result.firstChild) result.removeChild(result.firstChild);
    if (!part) { say("The server's answer could not be read. Reload the page to see the sets."); return; }
    Array.prototype.forEach.call(part.childNodes, function (node) {
      result.appendChild(document.importNode(node, true));
    });
    result.focus();
  }

  function finish() {
    busy = false;
    button.disabled = false;
    bar.hidden = true;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (busy) return;
    var file = form.elements.file.files[0];
    if (!file) { say("Choose a file first."); return; }
    if (max && file.size > max) {
      say("The file is larger than the upload limit (" + max.toLocaleString() + " bytes). Import it on the server with vigil hashset import.");
      return;
    }
    if (!form.elements.name.value.trim()) { say("Give the set a name."); form.elements.name.focus(); return; }
    var query = new URLSearchParams();
    query.set("name", form.elements.name.value);
    query.set("source", form.elements.source.value);
    query.set("category", form.elements.category.value);
    query.set("known", form.elements.known.value);
    query.set("filename", file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("PUT", form.getAttribute("data-upload") + "?" + query.toString());
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("HX-Request", "true");  // an ended session answers with HX-Redirect, not the sign-in page
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", function (ev) {
      if (!ev.lengthComputable) return;
      bar.max = ev.total;
      bar.value = ev.loaded;
      bar.textContent = Math.floor((100 * ev.loaded) / ev.total) + "%";
      say("Uploading: " + Math.floor((100 * ev.loaded) / ev.total) + "%");
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server imports
      say("Uploaded. Importing: a large list takes a while; keep this page open.");
    });
    xhr.addEventListener("load", function () {
      finish();
      if (xhr.getResponseHeader("HX-Redirect")) {
        say("Your session has ended: sign in again, then upload the file again.");
        window.location = "/signin?next=" + encodeURIComponent("/hashsets");
        return;
      }
      say(xhr.status === 200 ? "Done." : "Not imported.");
      show(xhr.responseText);
    });
    xhr.addEventListener("error", function () {
      finish();
      say("The upload stopped (the connection was lost, or the server refused the file). Nothing was imported.");
    });
    xhr.addEventListener("abort", function () { finish(); say("Upload cancelled. Nothing was imported."); });
    busy = true;
    button.disabled = true;
    while (result.firstChild) result.removeChild(result.firstChild);
    bar.hidden = false;
    bar.max = file.size || 1;
    bar.value = 0;
    say("Uploading…");
    xhr.send(file);
  });
})();
