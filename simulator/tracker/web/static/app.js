// gameday incident tracker: live regions over Server-Sent Events, local times. No dependencies.
(function () {
  "use strict";

  function dirty(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return true;
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) return true;
        }
      } else if (f.type !== "hidden" && f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  var pending = false;
  function refresh(url) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelectorAll("[data-region][id]");
        var skipped = false;
        for (var i = 0; i < fresh.length; i++) {
          var current = document.getElementById(fresh[i].id);
          if (!current) continue;
          if (dirty(current)) { skipped = true; continue; }
          current.replaceWith(document.importNode(fresh[i], true));
        }
        pending = skipped;
        relative();
        document.dispatchEvent(new CustomEvent("tracker:refreshed"));
      })
      .catch(function () { pending = true; });
  }

  function live() {
    var url = document.body.getAttribute("data-live");
    var badge = document.getElementById("live");
    if (!url || !window.EventSource) return;
    var source = new EventSource("/api/v1/stream");
    source.addEventListener("open", function () { if (badge) { badge.hidden = false; badge.textContent = "● live"; badge.className = "live"; } });
    source.addEventListener("error", function () { if (badge) { badge.textContent = "○ reconnecting"; badge.className = "live off"; } });
    source.addEventListener("change", function () { refresh(url); });
    document.addEventListener("focusout", function () { if (pending) setTimeout(function () { refresh(url); }, 50); });
  }

  function ago(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m";
    return seconds + "s";
  }

  function relative() {
    var now = Date.now();
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i], when = Date.parse(t.getAttribute("datetime"));
      if (isNaN(when)) continue;
      t.title = new Date(when).toLocaleString();
      if (t.hasAttribute("data-relative")) {
        var delta = (now - when) / 1000;
        t.textContent = delta >= 0 ? ago(delta) + " ago" : "in " + ago(-delta);
      }
    }
  }

  document.addEventListener("submit", function (e) {
    var button = e.submitter || e.target.querySelector("[data-confirm]");
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    relative();
    setInterval(relative, 15000);
    live();
    var poll = document.body.getAttribute("data-poll");  // the facilitator page: the game clock moves
    if (poll) setInterval(function () { refresh(poll); }, 1000);
  });
})();
