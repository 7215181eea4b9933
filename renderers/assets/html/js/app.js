/* pyinst report page, app: reads the data block, fills the header and the
 * controls (the command line's filters, applied here in the page), and
 * keeps the views (call tree, flame graph, timeline, details) in step with
 * the options and the search. The running app is PYI.app. */
"use strict";
(function (P) {
  function $(id) { return document.getElementById(id); }

  function App(data) {
    this.data = data;
    this.profile = new P.Profile(data);
    this.options = P.defaultOptions(data);
    this.view = "tree";
    this.hits = null;
    this.tree = null;
    this.dirty = { tree: true, flame: true, timeline: true };
    var self = this;
    this.treeView = new P.TreeView($("pyi-view-tree"), { onSelect: function (n) { self.selectNode(n); } });
    this.flame = new P.FlameGraph($("pyi-view-flame"), { onSelect: function (n) { self.selectNode(n); } });
    this.timeline = new P.Timeline($("pyi-view-timeline"), { onSelectFunction: function (fn) { self.selectFunction(fn); } });
    this.details = new P.Details($("pyi-details"), {
      onFocus: function (fn, callers) {
        self.focusInverted = callers && !self.options.inverted;
        self.set({ focus: fn, inverted: callers });
      },
      onExclude: function (fn) { self.excludeFunction(fn); }
    });
    this.search = new P.Search($("pyi-search"), $("pyi-search-count"), function (q) { self.setSearch(q); });
  }

  App.prototype.start = function () {
    this.header();
    this.controls();
    this.details.empty(this.profile);
    this.update();
    this.show(this.view);
  };

  App.prototype.header = function () {
    var d = this.data, first = d.sources[0] || {}, info = d.info;
    var program = first.program || "";
    $("pyi-title").textContent = program || "(program not recorded)";
    document.title = "pyinst: " + (program || "report");
    var parts = [P.formatSeconds(info.duration_ns), info.totals[0] + " samples",
                 d.threads.length + (d.threads.length === 1 ? " thread" : " threads")];
    if (first.python) parts.push("Python " + first.python);
    if (first.hostname) parts.push(first.hostname);
    if (d.sources.length > 1) parts.push(d.sources.length + " traces merged");
    $("pyi-summary").textContent = parts.join(" \u00b7 ");
    var warnings = $("pyi-warnings");
    for (var i = 0; i < d.sources.length; i++)
      if (d.sources[i].warning) warnings.appendChild(P.el("div", "", d.sources[i].path + ": " + d.sources[i].warning));
    if (d.stacks.folded)
      warnings.appendChild(P.el("div", "", d.stacks.folded + " of the lightest stacks were folded into their " +
        "callers to keep this file small (their time stays with the caller); pyinst-report's other " +
        "formats keep every stack."));
    if (info.lost_samples)
      warnings.appendChild(P.el("div", "", info.lost_samples + " samples were lost by the recorder."));
  };

  App.prototype.controls = function () {
    var self = this, o = this.options, d = this.data;
    var thread = $("pyi-thread");
    function option(value, text) { var e = P.el("option", "", text); e.value = value; thread.appendChild(e); }
    option("all", "All threads, separately");
    option("merged", "All threads, merged");
    for (var i = 0; i < d.threads.length; i++) option(String(d.threads[i].id), this.profile.threadLabel(d.threads[i].id));
    thread.value = o.thread;
    if (thread.value !== o.thread) { o.thread = "all"; thread.value = "all"; }
    thread.addEventListener("change", function () { self.set({ thread: thread.value }); });
    var metric = $("pyi-metric");
    metric.value = o.metric;
    for (var m = 0; m < metric.options.length; m++) {
      var v = metric.options[m].value;
      if ((v === "cpu" && !d.info.has_cpu) || ((v === "on-cpu" || v === "waiting") && !d.info.has_status))
        metric.options[m].disabled = true;
    }
    metric.addEventListener("change", function () { self.set({ metric: metric.value }); });
    var share = $("pyi-min-share");
    share.value = String(Math.round(o.minShare * 100000) / 1000);
    share.addEventListener("change", function () {
      var pct = Number(share.value);
      if (isFinite(pct) && pct >= 0 && pct <= 100) self.set({ minShare: pct / 100 });
    });
    this.checkbox("pyi-inverted", "inverted");
    this.checkbox("pyi-group-library", "groupLibrary");
    this.checkbox("pyi-hide-importlib", "hideImportlib");
    this.checkbox("pyi-hide-profiler", "hideProfiler");
    this.checkbox("pyi-aggregate-calls", "aggregateCalls");
    this.checkbox("pyi-collapse-recursion", "collapseRecursion");
    var exclude = $("pyi-exclude"), timer = 0;
    exclude.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { self.setExclude(exclude.value); }, 250);
    });
    $("pyi-focus-clear").addEventListener("click", function () {
      /* a callers focus turned the tree over: clearing it turns it back */
      self.set(self.options.inverted && self.focusInverted ? { focus: 0, inverted: false } : { focus: 0 });
    });
    var tabs = document.querySelectorAll(".pyi-tab");
    for (var t = 0; t < tabs.length; t++)
      tabs[t].addEventListener("click", function (e) { self.show(e.currentTarget.dataset.view); });
  };

  App.prototype.checkbox = function (id, key) {
    var self = this, box = $(id);
    box.checked = !!this.options[key];
    box.addEventListener("change", function () { var change = {}; change[key] = box.checked; self.set(change); });
  };

  App.prototype.setExclude = function (text) {
    var input = $("pyi-exclude");
    try {
      if (text) new RegExp(text);
      input.setCustomValidity("");
      input.title = "";
      this.set({ exclude: text });
    } catch (err) {
      input.setCustomValidity("not a valid regular expression");
      input.title = String(err.message);
    }
  };

  App.prototype.excludeFunction = function (fn) {
    var name = this.profile.name(fn).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    var text = (this.options.exclude ? this.options.exclude + "|" : "") + "^" + name + "$";
    $("pyi-exclude").value = text;
    this.setExclude(text);
  };

  /* Changes options and redraws. */
  App.prototype.set = function (change) {
    for (var k in change) if (Object.prototype.hasOwnProperty.call(change, k)) this.options[k] = change[k];
    $("pyi-inverted").checked = !!this.options.inverted;
    this.update();
  };

  App.prototype.setSearch = function (query) {
    this.hits = this.profile.matchFunctions(query);
    this.dirty = { tree: true, flame: true, timeline: true };
    this.renderView();
  };

  App.prototype.update = function () {
    var o = this.options, focus = $("pyi-focus");
    focus.hidden = !o.focus;
    $("pyi-focus-name").textContent = o.focus ? this.profile.name(o.focus) + (o.inverted ? " (callers)" : " (callees)") : "";
    this.tree = P.buildTree(this.profile, o);
    this.dirty = { tree: true, flame: true, timeline: true };
    this.renderView();
  };

  App.prototype.viewOptions = function () {
    return { metric: this.options.metric, minShare: this.options.minShare, hits: this.hits, thread: this.options.thread };
  };

  App.prototype.renderView = function () {
    var v = this.view;
    if (this.dirty[v]) {
      this.dirty[v] = false;
      if (v === "tree") this.treeView.render(this.tree, this.viewOptions());
      else if (v === "flame") this.flame.render(this.tree, this.viewOptions());
      else this.timeline.render(this.profile, this.tree.processor, this.viewOptions());
    }
    this.search.showCount(this.tree, this.hits, this.options.minShare);
  };

  /* Switches the visible view: "tree", "flame" or "timeline". */
  App.prototype.show = function (view) {
    this.view = view;
    var names = ["tree", "flame", "timeline"];
    for (var i = 0; i < names.length; i++) {
      $("pyi-view-" + names[i]).hidden = names[i] !== view;
      $("pyi-tab-" + names[i]).setAttribute("aria-selected", names[i] === view ? "true" : "false");
    }
    P.tooltip.hide();
    this.renderView();
  };

  App.prototype.selectNode = function (node) {
    if (node && node.kind === "frame") this.selectFunction(node.fn);
  };

  App.prototype.selectFunction = function (fn) {
    this.details.show(this.profile, this.options, fn);
  };

  function main() {
    var errorBox = $("pyi-error");
    try {
      var app = new App(P.readData("pyi-data"));
      P.app = app;
      app.start();
      document.body.dataset.ready = "true";
    } catch (err) {
      errorBox.hidden = false;
      errorBox.textContent = "This report could not be shown: " + (err && err.message ? err.message : String(err));
      throw err;
    }
  }

  P.App = App;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})(PYI);
