// Incident page: the timeline chart, and admin actions (acknowledge, resolve, vote) through the REST API.
(function () {
  "use strict";
  var S = window.Sherlog;
  var events = JSON.parse(document.getElementById("timeline-data").textContent);
  var incident = JSON.parse(document.getElementById("incident-data").textContent);
  var el = document.getElementById("chart-timeline");
  S.mount(el, function () {
    S.timeline(el, { title: "Incident timeline, " + events.length + " events", events: events,
      kinds: ["opened", "alert", "signal", "analysis", "chat", "ack", "feedback", "resolved"] });
  });

  var out = document.getElementById("action-result");
  function post(path, body) {
    return fetch("/api/v1/incidents/" + encodeURIComponent(incident.id) + path, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) return r.json().catch(function () { return {}; }).then(function (b) { throw new Error(b.detail || ("HTTP " + r.status)); });
      return r.json();
    });
  }
  function done(message) { if (out) out.textContent = message; setTimeout(function () { window.location.reload(); }, 600); }
  function failed(e) { if (out) out.textContent = "Failed: " + e.message; }
  var ack = document.querySelector("[data-action=ack]");
  if (ack) ack.addEventListener("click", function () { post("/ack", { user: "dashboard" }).then(function () { done("Acknowledged."); }).catch(failed); });
  var form = document.getElementById("resolve-form");
  if (form) form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData(form);
    post("/resolve", { user: "dashboard", service: data.get("service") || null, kind: data.get("kind") || null,
      resolution: data.get("resolution") || null }).then(function () { done("Resolved."); }).catch(failed);
  });
  document.querySelectorAll("[data-vote]").forEach(function (b) {
    b.addEventListener("click", function () {
      post("/feedback", { vote: b.dataset.vote, service: b.dataset.service, kind: b.dataset.kind, user: "dashboard" })
        .then(function () { b.setAttribute("aria-pressed", "true"); if (out) out.textContent = "Thanks, vote recorded."; })
        .catch(function (e) { if (out) out.textContent = "Failed: " + e.message; else alert(e.message); });
    });
  });
})();
