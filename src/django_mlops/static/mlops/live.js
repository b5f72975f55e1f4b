/* django-mlops: keeps a run page current with one small request per update.
 * GET runs/<id>/live/ answers every task's state, the groups' states, progress, the running
 * tasks with their elapsed times and the open task's new log text (from the cursors sent:
 * each stream's character offset, so an answer carries only what is new); the next request is sent a second after the answer, never in
 * parallel, and not at all once the run is over or while the tab is hidden. */
(function () {
  "use strict";
  var host = document.querySelector("[data-run-live]");
  if (!host) return;
  var url = host.getAttribute("data-run-live");
  var estimate = host.getAttribute("data-estimate");
  var expand = host.getAttribute("data-expand");
  var status = host.getAttribute("data-run-status");
  var INTERVAL = 1000, timer = null, inflight = false;
  var LIVE = { queued: true, running: true };
  var STREAMS = ["stdout", "stderr", "log"];

  function openNode() {
    var panel = document.getElementById("panel");
    var task = panel && panel.querySelector("[data-task]");
    return task ? task.getAttribute("data-task") : (panel && panel.getAttribute("data-open-node")) || "";
  }

  function duration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 1) return s < 0.01 ? Math.round(s * 1000) + " ms" : s.toFixed(2) + " s";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
    return Math.floor(s / 3600) + " h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + " min";
  }

  function badge(state) {
    var span = document.createElement("span");
    span.className = "badge state-" + state;
    span.setAttribute("data-state", state);
    var icon = document.createElement("span");
    icon.className = "icon"; icon.setAttribute("aria-hidden", "true");
    var label = document.createElement("span");
    label.className = "label"; label.textContent = state.replace("_", " ");
    span.appendChild(icon); span.appendChild(label);
    return span;
  }

  function setText(selector, text) {
    var el = document.querySelector(selector);
    if (el) el.textContent = text;
  }

  function showProgress(p) {
    var bar = document.querySelector("[data-progress]");
    if (bar) {
      bar.setAttribute("aria-valuenow", p.done);
      bar.setAttribute("aria-valuemax", p.total);
      bar.querySelector(".progress-fill").style.width = p.percent + "%";
    }
    setText("[data-progress-done]", p.done);
    setText("[data-progress-total]", p.total);
    setText("[data-progress-elapsed]", duration(p.elapsed));
    setText("[data-progress-left]", p.left !== null && p.left !== undefined ? ", about " + duration(p.left) + " left" : "");
  }

  function showLegend(states) {
    var legend = document.querySelector("[data-legend]");
    if (!legend) return;
    var counts = {};
    Object.keys(states).forEach(function (n) { counts[states[n]] = (counts[states[n]] || 0) + 1; });
    legend.textContent = "";
    Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (s) {
      var li = document.createElement("li"), count = document.createElement("span");
      count.className = "count"; count.textContent = " " + counts[s];
      li.appendChild(badge(s)); li.appendChild(count); legend.appendChild(li);
    });
  }

  function showTask(task) {
    // Returns whether the panel is being reloaded (its task changed state or attempt).
    var panel = document.getElementById("panel");
    var shown = panel && panel.querySelector("[data-task]");
    if (!task || !shown) return false;
    if (shown.getAttribute("data-task-state") !== task.state ||
        shown.getAttribute("data-task-attempts") !== String(task.attempts)) {
      // The task moved on (finished, failed, tried again): its panel has new parts.
      reloadPanel(shown.getAttribute("data-task"));
      return true;
    }
    STREAMS.forEach(function (stream) {
      // Each answer holds a stream's text from the cursor the page sent: appended here.
      var pre = shown.querySelector('[data-log="' + stream + '"]');
      var part = task[stream];
      if (!pre || !part) return;
      var cursor = parseInt(pre.getAttribute("data-cursor") || "0", 10);
      if (part.from === cursor) {
        if (!part.text) return;
        var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.appendChild(document.createTextNode(part.text));
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      } else if (part.from === 0 && part.text) {
        pre.textContent = part.text;  // the text was replaced (the server had less than we showed)
      } else {
        return;  // nothing there yet (between the live row and the final one): keep what is shown
      }
      pre.setAttribute("data-cursor", String(part.next));
    });
    var elapsed = shown.querySelector("[data-task-elapsed]");
    if (elapsed && task.elapsed !== null && task.elapsed !== undefined) elapsed.textContent = duration(task.elapsed);
    var cut = shown.querySelector("[data-log-cut]");
    if (cut) cut.hidden = !task.cut;
    return false;
  }

  function cursors(query) {
    // Where the open panel's logs end: the answer brings only what comes after.
    var shown = document.querySelector("#panel [data-task]");
    if (!shown) return;
    STREAMS.forEach(function (stream) {
      var pre = shown.querySelector('[data-log="' + stream + '"]');
      if (pre) query.set(stream, pre.getAttribute("data-cursor") || "0");
    });
  }

  function showRunning(running) {
    // The attempts running now, with how long each has run (a list beside the progress).
    var list = document.querySelector("[data-running]");
    if (!list) return;
    var names = Object.keys(running || {}).sort();
    list.textContent = "";
    names.forEach(function (name) {
      var item = document.createElement("li"), info = running[name];
      var code = document.createElement("code");
      code.textContent = name;
      item.appendChild(badge("running"));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(code);
      item.appendChild(document.createTextNode(" for " + duration(info.elapsed) +
        (info.attempt > 1 ? " (attempt " + info.attempt + ")" : "")));
      list.appendChild(item);
    });
    list.hidden = names.length === 0;
  }

  function reloadPanel(node) {
    var panel = document.getElementById("panel");
    if (!node || !panel || !window.htmx) return;
    var taskUrl = host.getAttribute("data-task-url").replace("__node__", encodeURIComponent(node));
    window.htmx.ajax("GET", taskUrl, { target: panel, swap: "innerHTML" });
  }

  // The timeline is redrawn when tasks changed state, at most every TIMELINE_EVERY ms
  // while the run goes on (an extra request only then), and once when it ends.
  var TIMELINE_EVERY = 5000, timelineAt = Date.now(), timelineKey = "";

  function refreshTimeline(answer, force) {
    var holder = document.querySelector("[data-timeline-url]");
    var key = answer.progress.done + "/" + Object.keys(answer.states).length;
    if (!holder || (!force && (key === timelineKey || Date.now() - timelineAt < TIMELINE_EVERY))) return;
    timelineKey = key; timelineAt = Date.now();
    fetch(holder.getAttribute("data-timeline-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { holder.innerHTML = html; });
  }

  function finished(answer, panelReloaded) {
    document.querySelectorAll("[data-live-only]").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll("[data-finished-only]").forEach(function (el) { el.hidden = false; });
    refreshTimeline(answer, true);
    if (!panelReloaded) reloadPanel(openNode());
  }

  function apply(answer) {
    // Returns whether the open task's panel is being reloaded.
    if (window.mlopsDag) window.mlopsDag.applyStates(answer.states, answer.groups);
    showProgress(answer.progress);
    showLegend(answer.states);
    showRunning(answer.running);
    var reloaded = showTask(answer.task);
    var holder = document.getElementById("run-status");
    if (holder && answer.status !== status) { holder.textContent = ""; holder.appendChild(badge(answer.status)); }
    var error = document.getElementById("run-error");
    if (error && answer.error) { error.textContent = answer.error; error.hidden = false; }
    document.body.setAttribute("data-run-status", answer.status);
    status = answer.status;
    return reloaded;
  }

  function ask() {
    timer = null;
    if (document.hidden || inflight) return;
    inflight = true;
    var query = new URLSearchParams();
    var node = openNode();
    if (node) { query.set("node", node); cursors(query); }
    if (estimate) query.set("estimate", estimate);
    if (expand) expand.split(",").forEach(function (e) { if (e) query.append("expand", e); });
    fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (answer) {
        inflight = false;
        var reloaded = apply(answer);
        if (answer.live) { refreshTimeline(answer, false); schedule(); } else finished(answer, reloaded);
      })
      .catch(function () { inflight = false; schedule(INTERVAL * 5); });
  }

  function schedule(delay) {
    if (timer === null) timer = setTimeout(ask, delay || INTERVAL);
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden && LIVE[status]) schedule(10); });
  document.body.setAttribute("data-run-status", status);
  if (LIVE[status]) schedule();
})();
