// Vigil's keyboard and preview behaviour. No framework, no build step, no inline script (CSP).
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  // -- rows (queue, lists): j/k move, Enter opens, c classifies --------------------------------------
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-keys=rows] tbody tr[data-href]"));
  var at = -1;
  function select(i) {
    if (!rows.length) return;
    if (at >= 0) { rows[at].classList.remove("current"); rows[at].removeAttribute("aria-selected"); }
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows[at].classList.add("current");
    rows[at].setAttribute("aria-selected", "true");
    var link = rows[at].querySelector("a");
    if (link) link.focus();
  }

  // -- previews: revealed one at a time on purpose, blurred again after a few seconds or on leaving --
  var seconds = parseInt(body.getAttribute("data-reveal-seconds") || "5", 10);
  var blurPx = parseInt(body.getAttribute("data-blur") || "16", 10);
  document.documentElement.style.setProperty("--blur", blurPx + "px");
  var revealed = null, timer = null, pending = null;

  function reblur() {
    if (pending) { pending.abort(); pending = null; }  // a reveal still on its way never lands
    if (timer) { clearTimeout(timer); timer = null; }
    if (!revealed) return;
    var img = revealed;
    revealed = null;
    img.src = img.getAttribute("data-blurred");
    img.classList.add("blurred");
    img.removeAttribute("data-clear");
    var button = document.querySelector("[data-reveal='" + img.id + "']");
    if (button) button.textContent = "Reveal";
  }

  function reveal(img) {
    if (!img) return;
    if (revealed === img) { reblur(); return; }
    reblur();  // one at a time
    var xhr = new XMLHttpRequest();
    pending = xhr;
    xhr.open("POST", img.getAttribute("data-reveal-url"));
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    xhr.responseType = "json";
    xhr.onload = function () {
      if (pending !== xhr) return;  // superseded by another reveal, or blurred meanwhile
      pending = null;
      if (xhr.status !== 200 || !xhr.response || document.hidden) return;
      img.src = xhr.response.src;
      img.classList.remove("blurred");
      revealed = img;
      var counter = document.getElementById("reveal-count");
      if (counter) counter.textContent = xhr.response.revealed + " revealed today";
      var button = document.querySelector("[data-reveal='" + img.id + "']");
      if (button) button.textContent = "Blur";
      if (timer) clearTimeout(timer);
      timer = setTimeout(reblur, seconds * 1000);
    };
    xhr.send("csrf=" + encodeURIComponent(csrf));
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-reveal]");
    if (button) { e.preventDefault(); reveal(document.getElementById(button.getAttribute("data-reveal"))); }
  });
  document.addEventListener("visibilitychange", function () { if (document.hidden) reblur(); });
  window.addEventListener("blur", reblur);
  window.addEventListener("pagehide", reblur);

  // -- grids of pictures (cases): arrows move, number keys set the category -------------------------
  var tiles = Array.prototype.slice.call(document.querySelectorAll(".grid .tile"));
  var tile = -1;
  function pick(i) {
    if (!tiles.length) return;
    if (tile >= 0) tiles[tile].classList.remove("selected");
    tile = Math.max(0, Math.min(tiles.length - 1, i));
    tiles[tile].classList.add("selected");
    tiles[tile].focus();
  }
  function columns() {
    if (tiles.length < 2) return 1;
    var top = tiles[0].offsetTop, n = 0;
    while (n < tiles.length && tiles[n].offsetTop === top) n++;
    return n || 1;
  }
  function categorise(key) {
    if (tile < 0) return;
    var form = tiles[tile].querySelector("form[data-category]");
    if (!form) return;
    var choice = form.querySelector("[data-key='" + key + "']");
    if (!choice) return;
    form.querySelector("input[name=category]").value = choice.getAttribute("data-value");
    if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
  }
  document.addEventListener("focusin", function (e) {
    var t = e.target.closest && e.target.closest(".grid .tile");
    if (!t) return;
    tiles = Array.prototype.slice.call(document.querySelectorAll(".grid .tile"));
    var i = tiles.indexOf(t);
    if (i >= 0 && i !== tile) {
      if (tile >= 0 && tiles[tile]) tiles[tile].classList.remove("selected");
      tile = i;
      t.classList.add("selected");
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || typing(e.target)) return;
    var dialog = document.getElementById("keys");
    if (e.key === "?") { e.preventDefault(); if (dialog.open) dialog.close(); else dialog.showModal(); return; }
    if (dialog && dialog.open) return;  // the key list is modal
    var control = e.target.closest && e.target.closest("button, summary, a:not(.queue a)");
    if (rows.length) {
      if (e.key === "j") { e.preventDefault(); select(at + 1); return; }
      if (e.key === "k") { e.preventDefault(); select(at < 0 ? 0 : at - 1); return; }
      if (e.key === "Enter" && at >= 0 && !control) { e.preventDefault(); window.location = rows[at].getAttribute("data-href"); return; }
      if (e.key === "c" && at >= 0) { e.preventDefault(); window.location = rows[at].getAttribute("data-href") + "#classify"; return; }
    }
    var form = document.querySelector("form[data-classify]");
    if (e.key === "c" && form) { e.preventDefault(); form.querySelector("select").focus(); return; }
    if (tiles.length) {
      var n = columns();
      if (e.key === "ArrowRight") { e.preventDefault(); pick(tile + 1); return; }
      if (e.key === "ArrowLeft") { e.preventDefault(); pick(tile - 1); return; }
      if (e.key === "ArrowDown") { e.preventDefault(); pick(tile < 0 ? 0 : tile + n); return; }
      if (e.key === "ArrowUp") { e.preventDefault(); pick(tile - n); return; }
      if (/^[0-9]$/.test(e.key)) { e.preventDefault(); categorise(e.key); return; }
      if (e.key === "r" && tile >= 0) { e.preventDefault(); reveal(tiles[tile].querySelector(".preview")); return; }
    }
  });
  if (location.hash === "#classify" && document.querySelector("form[data-classify] select")) {
    document.querySelector("form[data-classify] select").focus();
  }
  // htmx sends the CSRF token on every request it makes
  document.addEventListener("htmx:configRequest", function (e) { e.detail.headers["X-CSRF-Token"] = csrf; });
  // after an htmx swap inside the grid, the tile list changes
  document.addEventListener("htmx:afterSwap", function () {
    tiles = Array.prototype.slice.call(document.querySelectorAll(".grid .tile"));
    if (tile >= tiles.length) tile = tiles.length - 1;
    if (tile >= 0) { tiles[tile].classList.add("selected"); tiles[tile].focus(); }
  });
})();
