/* pyinst report page, timeline: one lane per thread on a shared time axis,
 * drawn on canvas from the downsampled buckets: an activity strip (on CPU vs
 * waiting) and, below it, each bucket's heaviest stack after the processors,
 * adjacent equal frames merged. Wheel zooms, drag pans, double-click resets.
 * Reusable: new PYI.Timeline(element, {onSelectFunction}).render(...). */
"use strict";
(function (P) {
  var STRIP = 14, ROW = 14, MAX_ROWS = 48;

  function Timeline(container, options) {
    this.container = container;
    this.options = options || {};
    this.lanes = [];
    this.t0 = 0;
    this.t1 = 0;
    this.span = [0, 0];
  }

  /* Stack -> array of trie node ids (one per processed frame), so that equal
   * prefixes in neighbouring buckets merge into one rectangle. */
  function StackTrie(processor) {
    this.processor = processor;
    this.ids = new Map();
    this.fnOf = [0];
    this.byStack = new Map();
  }
  StackTrie.prototype.path = function (stack) {
    var cached = this.byStack.get(stack);
    if (cached) return cached;
    var frames = stack ? this.processor.frames(stack) : [], out = [], parent = 0;
    for (var i = 0; i < frames.length; i++) {
      var key = parent + ":" + frames[i].fn, id = this.ids.get(key);
      if (!id) { id = this.fnOf.length; this.fnOf.push(frames[i].fn); this.ids.set(key, id); }
      out.push(id);
      parent = id;
    }
    this.byStack.set(stack, out);
    return out;
  };

  /* profile: PYI.Profile; processor: PYI.Processor of the current options;
   * view: {thread ("all", "merged" or an id), hits}. */
  Timeline.prototype.render = function (profile, processor, view) {
    this.profile = profile;
    this.view = view;
    this.trie = new StackTrie(processor);
    var timelines = profile.data.timelines || [];
    var only = view.thread !== "all" && view.thread !== "merged" ? Number(view.thread) : 0;
    var end = 0;
    for (var i = 0; i < timelines.length; i++) {
      var t = timelines[i];
      end = Math.max(end, t.start_ns + t.bucket_ns * t.wall.length);
    }
    if (this.span[1] !== end) { this.span = [0, end]; this.t0 = 0; this.t1 = end; }
    P.clear(this.container);
    this.lanes = [];
    var tools = P.el("div", "pyi-timeline-tools");
    var self = this;
    function button(text, action) {
      var b = P.el("button", "", text);
      b.type = "button";
      b.addEventListener("click", action);
      tools.appendChild(b);
    }
    button("Zoom in", function () { self.zoomBy(0.5, 0.5); });
    button("Zoom out", function () { self.zoomBy(2, 0.5); });
    button("Reset", function () { self.reset(); });
    this.rangeLabel = P.el("span", "pyi-range");
    tools.appendChild(this.rangeLabel);
    tools.appendChild(P.el("span", "", "wheel: zoom, drag: pan, double-click: reset; strip: green on CPU, grey waiting"));
    this.container.appendChild(tools);
    for (var j = 0; j < timelines.length; j++) {
      if (only && timelines[j].thread !== only) continue;
      this.lanes.push(this.lane(timelines[j]));
    }
    if (!this.lanes.length) this.container.appendChild(P.el("div", "pyi-empty", "No timeline for this selection."));
    this.draw();
  };

  Timeline.prototype.lane = function (timeline) {
    var p = this.profile, thread = p.threadById[timeline.thread] || { totals: [0, 0, 0, 0, 0] };
    var box = P.el("div", "pyi-lane");
    var head = P.el("div", "pyi-lane-head");
    head.appendChild(P.el("span", "pyi-lane-name", p.threadLabel(timeline.thread)));
    head.appendChild(P.el("span", "pyi-muted", P.formatSeconds(thread.totals[2]) + " sampled, " +
                          P.formatSeconds(thread.totals[3]) + " on CPU"));
    var canvas = P.el("canvas");
    box.appendChild(head);
    box.appendChild(canvas);
    this.container.appendChild(box);
    var depth = 0;
    for (var b = 0; b < timeline.top.length; b++)
      depth = Math.max(depth, this.trie.path(timeline.top[b]).length);
    var lane = { timeline: timeline, canvas: canvas, rows: Math.min(depth, MAX_ROWS) };
    this.attach(lane);
    return lane;
  };

  Timeline.prototype.attach = function (lane) {
    var self = this, canvas = lane.canvas, drag = null;
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = canvas.getBoundingClientRect();
      self.zoomBy(e.deltaY > 0 ? 1.25 : 0.8, (e.clientX - r.left) / r.width);
    }, { passive: false });
    canvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, t0: self.t0, t1: self.t1 }; });
    window.addEventListener("mouseup", function () { drag = null; });
    canvas.addEventListener("mousemove", function (e) {
      var r = canvas.getBoundingClientRect();
      if (drag && e.buttons) {
        var dt = (e.clientX - drag.x) / r.width * (drag.t1 - drag.t0);
        self.setWindow(drag.t0 - dt, drag.t1 - dt);
        return;
      }
      var hit = self.hitTest(lane, e.clientX - r.left, e.clientY - r.top, r.width);
      if (hit) P.tooltip.show(self.describe(lane, hit), e.clientX, e.clientY);
      else P.tooltip.hide();
    });
    canvas.addEventListener("mouseleave", function () { P.tooltip.hide(); });
    canvas.addEventListener("dblclick", function () { self.reset(); });
    canvas.addEventListener("click", function (e) {
      var r = canvas.getBoundingClientRect();
      var hit = self.hitTest(lane, e.clientX - r.left, e.clientY - r.top, r.width);
      if (hit && hit.fn && self.options.onSelectFunction) self.options.onSelectFunction(hit.fn);
    });
  };

  Timeline.prototype.reset = function () { this.setWindow(this.span[0], this.span[1]); };

  Timeline.prototype.zoomBy = function (factor, at) {
    var t = this.t0 + (this.t1 - this.t0) * at;
    this.setWindow(t - (t - this.t0) * factor, t + (this.t1 - t) * factor);
  };

  Timeline.prototype.setWindow = function (t0, t1) {
    var full = this.span[1] - this.span[0], width = Math.min(Math.max(t1 - t0, 1000), full || 1000);
    if (t0 < this.span[0]) t0 = this.span[0];
    if (t0 + width > this.span[1]) t0 = Math.max(this.span[0], this.span[1] - width);
    this.t0 = t0;
    this.t1 = t0 + width;
    var self = this;
    if (!this.pending) {
      this.pending = true;
      window.requestAnimationFrame(function () { self.pending = false; self.draw(); });
    }
  };

  Timeline.prototype.draw = function () {
    if (this.rangeLabel)
      this.rangeLabel.textContent = P.formatSeconds(this.t0) + " \u2013 " + P.formatSeconds(this.t1);
    for (var i = 0; i < this.lanes.length; i++) this.drawLane(this.lanes[i]);
  };

  /* Bucket index range [first, last) visible in the window. */
  Timeline.prototype.visible = function (t) {
    var first = Math.max(0, Math.floor((this.t0 - t.start_ns) / t.bucket_ns));
    var last = Math.min(t.wall.length, Math.ceil((this.t1 - t.start_ns) / t.bucket_ns));
    return [first, last];
  };

  Timeline.prototype.drawLane = function (lane) {
    var canvas = lane.canvas, ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || (this.container.clientWidth - 22) || 800;
    var height = STRIP + 2 + lane.rows * ROW;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = height + "px";
    var g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    var t = lane.timeline, range = this.visible(t), scale = width / (this.t1 - this.t0 || 1);
    for (var b = range[0]; b < range[1]; b++) this.drawActivity(g, t, b, scale);
    for (var d = 0; d < lane.rows; d++) this.drawRow(g, t, range, d, scale);
  };

  Timeline.prototype.drawActivity = function (g, t, b, scale) {
    if (!t.wall[b]) return;
    var x = (t.start_ns + b * t.bucket_ns - this.t0) * scale, w = Math.max(1, t.bucket_ns * scale);
    var busy = Math.min(1, t.wall[b] / t.bucket_ns), cpu = t.wall[b] ? t.on_cpu[b] / t.wall[b] : 0;
    var h = STRIP * busy, hc = h * cpu;
    g.fillStyle = "#b9bec4";
    g.fillRect(x, STRIP - h, w, h - hc);
    g.fillStyle = "#3fa34d";
    g.fillRect(x, STRIP - hc, w, hc);
  };

  Timeline.prototype.drawRow = function (g, t, range, depth, scale) {
    var y = STRIP + 2 + depth * ROW, runId = 0, runStart = 0;
    for (var b = range[0]; b <= range[1]; b++) {
      var id = 0;
      if (b < range[1]) {
        var path = this.trie.path(t.top[b]);
        id = depth < path.length ? path[depth] : 0;
      }
      if (id === runId) continue;
      if (runId) this.drawRun(g, t, runId, runStart, b, y, scale);
      runId = id;
      runStart = b;
    }
  };

  Timeline.prototype.drawRun = function (g, t, id, first, end, y, scale) {
    var p = this.profile, fn = this.trie.fnOf[id];
    var x = (t.start_ns + first * t.bucket_ns - this.t0) * scale;
    var w = (end - first) * t.bucket_ns * scale;
    var hits = this.view.hits;
    g.globalAlpha = hits && !hits[fn] ? 0.25 : 1;
    g.fillStyle = P.frameColor(p.code(fn), p.name(fn));
    g.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW - 1);
    g.globalAlpha = 1;
    var text = w > 30 ? P.fitText(p.name(fn), w) : "";
    if (text) {
      g.fillStyle = "#1d1f21";
      g.font = "11px ui-monospace, Menlo, Consolas, monospace";
      g.save();
      g.beginPath();
      g.rect(Math.max(x, 0), y, w, ROW);
      g.clip();
      g.fillText(text, Math.max(x, 0) + 3, y + ROW - 3);
      g.restore();
    }
  };

  /* What is under a point of a lane: {bucket, fn (0 in the strip)} or null. */
  Timeline.prototype.hitTest = function (lane, x, y, width) {
    var t = lane.timeline, time = this.t0 + x / width * (this.t1 - this.t0);
    var b = Math.floor((time - t.start_ns) / t.bucket_ns);
    if (b < 0 || b >= t.wall.length) return null;
    var fn = 0;
    if (y > STRIP + 2) {
      var depth = Math.floor((y - STRIP - 2) / ROW), path = this.trie.path(t.top[b]);
      if (depth < path.length) fn = this.trie.fnOf[path[depth]];
    }
    return { bucket: b, fn: fn };
  };

  Timeline.prototype.describe = function (lane, hit) {
    var t = lane.timeline, b = hit.bucket, p = this.profile;
    var start = t.start_ns + b * t.bucket_ns;
    var lines = [p.threadLabel(t.thread),
                 P.formatSeconds(start) + " \u2013 " + P.formatSeconds(start + t.bucket_ns),
                 "sampled " + P.formatSeconds(t.wall[b]) + ", on CPU " + P.formatSeconds(t.on_cpu[b]) +
                 " (" + t.samples[b] + " samples)"];
    if (hit.fn) {
      lines.push(p.name(hit.fn));
      var where = p.where(hit.fn);
      if (where) lines.push(where);
    }
    return lines;
  };

  P.Timeline = Timeline;
})(PYI);
