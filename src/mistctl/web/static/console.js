// mistctl console: the one script. Pages read fine without it; it only makes a running
// deployment's page live: each server-sent event schedules a refresh of the live part,
// which the server renders (so the markup stays escaped server-side, one template for both).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.events || !window.EventSource || !window.fetch) { return; }
  var timer = null;
  var source = new EventSource(live.dataset.events);

  function refresh() {
    timer = null;
    return fetch(live.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (answer.redirected) { window.location.reload(); return null; }  // the session ended: sign in
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) { if (html !== null) { live.innerHTML = html; } })
      .catch(function () { /* the next event tries again */ });
  }
  function soon() { if (timer === null) { timer = setTimeout(refresh, 500); } }

  ["message", "step", "site_done", "site_failed", "org_failed"].forEach(function (type) {
    source.addEventListener(type, soon);
  });
  source.addEventListener("end", function () {
    source.close();
    if (timer !== null) { clearTimeout(timer); }
    live.removeAttribute("data-events");
    refresh().then(function () { live.setAttribute("data-ended", "true"); });
  });
})();
