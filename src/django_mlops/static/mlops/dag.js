/* django-mlops: the DAG viewer. Pan and zoom (mouse, touch, keyboard), find a step,
 * open a step's details in the side panel (through htmx), expand a group, state glyphs.
 * Exposes window.mlopsDag.applyStates(states, groups) for the live run page. */
(function () {
  "use strict";
  var GLYPHS = {
    pending: "◌", ready: "○", running: "▶", retrying: "↻", succeeded: "✓", cached: "≡",
    failed: "✕", upstream_failed: "⤓", not_started: "–", cancelled: "⊘", excluded: "·"
  };
  var SVGNS = "http://www.w3.org/2000/svg";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function Viewer(root) {
    this.root = root;
    this.canvas = root.querySelector("[data-dag-canvas]");
    this.svg = this.canvas.querySelector("svg");
    this.groups = readJSON("dag-groups") || {};
    this.nodeUrl = root.getAttribute("data-node-url");
    this.panel = document.querySelector(root.getAttribute("data-panel") || "#panel");
    this.steps = {};
    var self = this;
    this.svg.querySelectorAll("[data-node]").forEach(function (g) {
      self.steps[g.getAttribute("data-node")] = g;
    });
    this.full = this.svg.viewBox.baseVal;
    this.box = { x: this.full.x, y: this.full.y, w: this.full.width, h: this.full.height };
    this.home = { x: this.box.x, y: this.box.y, w: this.box.w, h: this.box.h };
    this.svg.removeAttribute("width");
    this.svg.removeAttribute("height");
    this.svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.prepareBoxes();
    this.bindZoom();
    this.bindSearch();
    this.fit();
    this.moved = false;
    // Until the user zooms or pans, the picture follows the canvas's size (a phone
    // turned sideways, a window resized).
    if (window.ResizeObserver) {
      new ResizeObserver(function () { if (!self.moved) self.fit(); }).observe(this.canvas);
    }
  }

  Viewer.prototype.setBox = function () {
    var b = this.box;
    this.svg.setAttribute("viewBox", [b.x, b.y, b.w, b.h].join(" "));
  };

  Viewer.prototype.fit = function () {
    // The whole picture, but never blown up past 1.25x (a 3-step pipeline stays a normal
    // size) nor shrunk below 0.6x (a 1,000-step one starts readable, from its left end).
    var rect = this.canvas.getBoundingClientRect(), home = this.home;
    if (!rect.width || !rect.height) { this.box = { x: home.x, y: home.y, w: home.w, h: home.h }; this.setBox(); return; }
    var scale = Math.min(rect.width / home.w, rect.height / home.h);
    scale = Math.min(Math.max(scale, 0.6), 1.25);
    var w = rect.width / scale, h = rect.height / scale;
    var x = home.w * scale <= rect.width ? home.x - (w - home.w) / 2 : home.x;
    var y = home.h * scale <= rect.height ? home.y - (h - home.h) / 2 : home.y;
    this.box = { x: x, y: y, w: w, h: h };
    this.setBox();
  };

  Viewer.prototype.zoom = function (factor, cx, cy) {
    var b = this.box;
    if (cx === undefined) { cx = b.x + b.w / 2; cy = b.y + b.h / 2; }
    var w = Math.min(Math.max(b.w * factor, 40), this.home.w * 8);
    var k = w / b.w;
    this.box = { x: cx - (cx - b.x) * k, y: cy - (cy - b.y) * k, w: w, h: b.h * k };
    this.moved = true;
    this.setBox();
  };

  Viewer.prototype.pan = function (dx, dy) {
    this.box.x += dx; this.box.y += dy; this.moved = true; this.setBox();
  };

  Viewer.prototype.toSvg = function (clientX, clientY) {
    var rect = this.canvas.getBoundingClientRect();
    var scale = Math.max(this.box.w / rect.width, this.box.h / rect.height);
    var offX = (rect.width * scale - this.box.w) / 2, offY = (rect.height * scale - this.box.h) / 2;
    return { x: this.box.x - offX + (clientX - rect.left) * scale, y: this.box.y - offY + (clientY - rect.top) * scale, scale: scale };
  };

  Viewer.prototype.bindZoom = function () {
    var self = this, drag = null;
    this.root.querySelectorAll("[data-dag-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var what = button.getAttribute("data-dag-zoom");
        if (what === "fit") { self.fit(); self.moved = false; } else self.zoom(what === "in" ? 0.8 : 1.25);
      });
    });
    this.canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var p = self.toSvg(e.clientX, e.clientY);
      self.zoom(e.deltaY < 0 ? 0.85 : 1.18, p.x, p.y);
    }, { passive: false });
    this.canvas.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
    });
    this.canvas.addEventListener("pointermove", function (e) {
      if (!drag || drag.id !== e.pointerId) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) { self.canvas.setPointerCapture(e.pointerId); self.canvas.classList.add("dragging"); }
      drag.moved = true;
      var s = self.toSvg(0, 0).scale;
      self.pan(-dx * s, -dy * s);
      drag.x = e.clientX; drag.y = e.clientY;
    });
    function end(e) {
      if (drag && drag.moved) { self.suppressClick = true; setTimeout(function () { self.suppressClick = false; }, 0); }
      drag = null; self.canvas.classList.remove("dragging");
    }
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    this.canvas.addEventListener("keydown", function (e) {
      if (e.target !== self.canvas) return;
      var step = self.box.w / 10, used = true;
      if (e.key === "+" || e.key === "=") self.zoom(0.8);
      else if (e.key === "-" || e.key === "_") self.zoom(1.25);
      else if (e.key === "0") { self.fit(); self.moved = false; }
      else if (e.key === "ArrowLeft") self.pan(-step, 0);
      else if (e.key === "ArrowRight") self.pan(step, 0);
      else if (e.key === "ArrowUp") self.pan(0, -step);
      else if (e.key === "ArrowDown") self.pan(0, step);
      else used = false;
      if (used) e.preventDefault();
    });
  };

  Viewer.prototype.prepareBoxes = function () {
    var self = this;
    this.svg.querySelectorAll("[data-node], [data-group]").forEach(function (g) {
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      var rect = g.querySelector("rect");
      if (rect) {
        var glyph = document.createElementNS(SVGNS, "text");
        glyph.setAttribute("class", "state-glyph");
        glyph.setAttribute("x", +rect.getAttribute("x") + +rect.getAttribute("width") - 5);
        glyph.setAttribute("y", +rect.getAttribute("y") + 13);
        glyph.setAttribute("text-anchor", "end");
        glyph.setAttribute("aria-hidden", "true");
        g.appendChild(glyph);
      }
      self.label(g);
      function open(e) {
        if (self.suppressClick) return;
        e.preventDefault();
        if (g.hasAttribute("data-group")) self.expand(g.getAttribute("data-group"));
        else self.select(g.getAttribute("data-node"));
      }
      g.addEventListener("click", open);
      g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") open(e); });
    });
  };

  Viewer.prototype.label = function (g) {
    var name = g.getAttribute("data-node") || g.getAttribute("data-group");
    var state = g.getAttribute("data-state");
    var what = g.hasAttribute("data-group") ? "group of " + g.getAttribute("data-count") + " steps " : "step ";
    g.setAttribute("aria-label", what + name + (state ? ", " + state.replace("_", " ") : ""));
    var glyph = g.querySelector(".state-glyph");
    if (glyph) glyph.textContent = GLYPHS[state] || "";
  };

  Viewer.prototype.setState = function (g, state) {
    if (!g || g.getAttribute("data-state") === state) return;
    var classes = (g.getAttribute("class") || "").split(/\s+/).filter(function (c) { return c && c.indexOf("state-") !== 0; });
    if (state) classes.push("state-" + state);
    g.setAttribute("class", classes.join(" "));
    g.setAttribute("data-state", state || "");
    this.label(g);
  };

  Viewer.prototype.applyStates = function (states, groups) {
    var self = this;
    Object.keys(states || {}).forEach(function (name) { self.setState(self.steps[name], states[name]); });
    Object.keys(groups || {}).forEach(function (id) { self.setState(document.getElementById(id), groups[id]); });
  };

  Viewer.prototype.select = function (name) {
    if (!this.nodeUrl || !this.panel) return;
    this.svg.querySelectorAll(".selected").forEach(function (el) { el.classList.remove("selected"); });
    if (this.steps[name]) this.steps[name].classList.add("selected");
    this.panel.setAttribute("data-open-node", name);
    var url = this.nodeUrl + encodeURIComponent(name) + "/";
    if (window.htmx) window.htmx.ajax("GET", url, { target: this.panel, swap: "innerHTML" });
    else window.location.href = url;
    document.dispatchEvent(new CustomEvent("mlops:select", { detail: { node: name } }));
  };

  Viewer.prototype.expand = function (group) {
    var params = new URLSearchParams(window.location.search);
    params.append("expand", group);
    window.location.search = params.toString();
  };

  Viewer.prototype.centreOn = function (g) {
    var b = g.getBBox(), m = g.getCTM(), root = this.svg.getCTM();
    if (!m || !root) return;
    var local = root.inverse().multiply(m);
    var cx = local.a * (b.x + b.width / 2) + local.e, cy = local.d * (b.y + b.height / 2) + local.f;
    var w = Math.min(this.box.w, Math.max(b.width * 6, 400));
    var k = w / this.box.w;
    this.box = { x: cx - w / 2, y: cy - this.box.h * k / 2, w: w, h: this.box.h * k };
    this.moved = true;
    this.setBox();
  };

  Viewer.prototype.find = function (text) {
    var query = text.trim().toLowerCase(), result = this.root.querySelector("[data-dag-result]");
    this.svg.querySelectorAll(".found").forEach(function (el) { el.classList.remove("found"); });
    if (!query) { result.textContent = ""; return null; }
    var names = Object.keys(this.steps), hit = null, i;
    for (i = 0; i < names.length && !hit; i++) if (names[i].toLowerCase() === query) hit = names[i];
    for (i = 0; i < names.length && !hit; i++) if (names[i].toLowerCase().indexOf(query) >= 0) hit = names[i];
    if (hit) {
      this.steps[hit].classList.add("found");
      this.centreOn(this.steps[hit]);
      result.textContent = "Found " + hit;
      return this.steps[hit];
    }
    var ids = Object.keys(this.groups);
    for (i = 0; i < ids.length; i++) {
      var members = this.groups[ids[i]].members, j;
      for (j = 0; j < members.length; j++) {
        if (members[j].toLowerCase().indexOf(query) >= 0) {
          var g = document.getElementById(ids[i]);
          if (g) { g.classList.add("found"); this.centreOn(g); }
          result.textContent = members[j] + " is in group " + this.groups[ids[i]].name + " (click it to show its steps)";
          return g;
        }
      }
    }
    result.textContent = "No step matches “" + text + "”";
    return null;
  };

  Viewer.prototype.bindSearch = function () {
    var self = this, input = this.root.querySelector("[data-dag-search]");
    if (!input) return;
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); self.find(input.value); }
      if (e.key === "Escape") { input.value = ""; self.find(""); }
    });
    input.addEventListener("change", function () { self.find(input.value); });
  };

  var viewers = [];
  document.querySelectorAll("[data-dag]").forEach(function (root) {
    if (root.querySelector("svg")) viewers.push(new Viewer(root));
  });
  window.mlopsDag = {
    viewers: viewers,
    applyStates: function (states, groups) { viewers.forEach(function (v) { v.applyStates(states, groups); }); }
  };
  var initial = readJSON("run-initial");
  if (initial) window.mlopsDag.applyStates(initial.states, initial.groups);
})();
