// ferry UI live updates: plain EventSource, no framework. Without JavaScript the pages are
// complete; this only keeps them current.
(function () {
  "use strict";
  var body = document.body;
  var app = body.getAttribute("data-app");
  var dot = document.getElementById("live");
  var url = "/ui/events" + (app ? "?app=" + encodeURIComponent(app) : "");
  var source = new EventSource(url);
  source.onopen = function () { if (dot) { dot.classList.add("on"); dot.title = "live"; } };
  source.onerror = function () { if (dot) { dot.classList.remove("on"); dot.title = "reconnecting"; } };

  // Apps page: the server sends each changed row, already rendered.
  source.addEventListener("row", function (e) {
    var data = JSON.parse(e.data);
    var link = document.querySelector('#apps a[href="/apps/' + CSS.escape(data.name) + '"]');
    var old = link && link.closest("tr");
    if (!old) { return; }
    var tpl = document.createElement("template");
    tpl.innerHTML = data.html.trim();
    var row = tpl.content.firstChild;
    old.replaceWith(row);
    row.hidden = !matches(row);
  });

  // App page: re-read the live part (status, rollout, pods) at most every 250 ms.
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () {
      fetch("/apps/" + encodeURIComponent(app) + "/live", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          pending = false;
          var live = document.getElementById("live-part");
          if (html !== null && live) { live.outerHTML = html; }
        })
        .catch(function () { pending = false; });
    }, 250);
  }
  source.addEventListener("status", function () { if (app) { refresh(); } });

  // Gate progress, the same events `ferry sync` prints as progress lines.
  source.addEventListener("gate", function (e) {
    var list = document.getElementById("progress");
    if (!list) { return; }
    var g = JSON.parse(e.data);
    var li = document.createElement("li");
    li.textContent = "[" + g.elapsed_seconds.toFixed(1) + "s] " + g.target + ": " + g.state + ": " + g.message;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    refresh();
  });
  source.addEventListener("resync", function () { window.location.reload(); });

  // Apps page filter, live as you type (the form still works without JavaScript).
  var form = document.querySelector("form.filter");
  var q = document.getElementById("q");
  var st = document.getElementById("state");
  function matches(row) {
    var text = (q && q.value || "").toLowerCase();
    var state = st && st.value || "";
    var where = row.parentNode ? row.parentNode.getAttribute("data-repo") || "" : "";
    var ok = !text || (row.textContent + " " + where).toLowerCase().indexOf(text) >= 0;
    return ok && (!state || row.classList.contains(state));
  }
  function filter() {
    var rows = document.querySelectorAll("#apps tbody tr:not(.group)");
    var shown = 0;
    for (var i = 0; i < rows.length; i++) { rows[i].hidden = !matches(rows[i]); if (!rows[i].hidden) { shown++; } }
    var count = document.getElementById("shown");
    if (count) { count.textContent = shown; }
  }
  if (form) {
    if (q) { q.addEventListener("input", filter); }
    if (st) { st.addEventListener("change", filter); }
  }
})();
