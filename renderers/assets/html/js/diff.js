/* pyinst diff page, app: reads the differential profile's data block
 * ("pyinst-diff-html", written by renderers/src/diff_html.c), shows the
 * verdict, and draws the differential flame graph and call tree (the report
 * page's components, widths from one side, colours by significant change)
 * and the ranked functions table. Trace names reach the page only as text.
 * The running app is PYI.diffApp. */
"use strict";
(function (P) {
  function $(id) { return document.getElementById(id); }

  var SLOWER = 1, FASTER = 2, FAILS = 4, SELF_COUNTS = 8;
  var PRESENCE = ["", "new", "gone", "moved from ", "renamed from "];
  /* An estimate is [base, head, low, high, p_adjusted, significant, tested]. */
  var BASE = 0, HEAD = 1, HIGH = 3, P_ADJ = 4, SIG = 5, TESTED = 6;

  function delta(e) { return e[HEAD] - e[BASE]; }
  function share(x) { return (100 * x).toFixed(1) + "%"; }
  function points(e) {
    var d = 100 * delta(e), text = (d >= 0 ? "+" : "") + d.toFixed(1);
    return e[TESTED] ? text + " \u00b1" + (100 * (e[HIGH] - delta(e))).toFixed(1) : text;
  }
  /* "9.3% -> 30.6%", or a dash when both are 0 (the self time of a caller). */
  function shares(e) {
    return e[BASE] || e[HEAD] ? share(e[BASE]) + " \u2192 " + share(e[HEAD]) : "\u2013";
  }
  function pValue(p) {
    if (p >= 0.9995) return "1";
    if (p >= 0.001) return p.toFixed(3);
    if (p >= 1e-9) return p.toExponential(0);
    return "<1e-9";
  }
  function relative(e) {
    if (!e[BASE]) return e[HEAD] ? "new" : "";
    var r = 100 * delta(e) / e[BASE];
    return (r >= 0 ? "+" : "") + r.toFixed(1) + "%";
  }

  /* The functions table, with what the report page's components ask of a profile. */
  function DiffProfile(data) {
    var f = data.functions;
    this.fnName = f.name; this.fnFile = f.file; this.fnLibrary = f.library;
    this.fnLine = f.line; this.fnCode = f.code;
    this.functionCount = f.name.length;
  }
  DiffProfile.prototype.name = function (fn) { return this.fnName[fn - 1]; };
  DiffProfile.prototype.file = function (fn) { return this.fnFile[fn - 1]; };
  DiffProfile.prototype.code = function (fn) { return this.fnCode[fn - 1]; };
  DiffProfile.prototype.library = function (fn) { return this.fnLibrary[fn - 1]; };
  DiffProfile.prototype.firstLine = function (fn) { return this.fnLine[fn - 1]; };
  DiffProfile.prototype.where = function (fn) {
    var file = this.file(fn), line = this.firstLine(fn);
    return file ? (line ? file + ":" + line : file) : "";
  };
  DiffProfile.prototype.threadLabel = function () { return ""; };
  DiffProfile.prototype.matchFunctions = function (query) {
    query = (query || "").trim().toLowerCase();
    if (!query) return null;
    var mask = new Uint8Array(this.functionCount + 1);
    for (var id = 1; id <= this.functionCount; id++)
      if (this.fnName[id - 1].toLowerCase().indexOf(query) >= 0 ||
          this.fnFile[id - 1].toLowerCase().indexOf(query) >= 0) mask[id] = 1;
    return mask;
  };

  /* A tree of PYI.buildTree's shape from the nodes' columns; widths are the
   * time per run of one side ("base" or "head"). Node 1 is the root. */
  function buildDiffTree(data, profile, side) {
    var col = data.nodes, count = col.parent.length, k = side === "base" ? BASE : HEAD;
    var nodes = new Array(count);
    for (var i = 0; i < count; i++) {
      var fn = col.function[i];
      nodes[i] = { id: i, parent: null, kind: fn ? "frame" : "root", fn: fn, line: 0, thread: 0,
                   total: col.total_time[i][k], self: col.self_time[i][k], hidden: null,
                   children: [], depth: 0, flags: col.flags[i],
                   est: { totalShare: col.total_share[i], selfShare: col.self_share[i],
                          totalTime: col.total_time[i], selfTime: col.self_time[i] } };
    }
    for (var j = 1; j < count; j++) {
      var parent = nodes[col.parent[j] - 1];
      nodes[j].parent = parent;
      nodes[j].depth = parent.depth + 1;
      parent.children.push(nodes[j]);
    }
    for (var n = 0; n < count; n++) nodes[n].children.sort(function (a, b) { return b.total - a.total; });
    return { root: nodes[0], nodes: nodes, profile: profile, processor: null, options: {} };
  }

  /* Red for slower, blue for faster, deeper with the size of the change. */
  function changeColor(node) {
    if (node.kind === "root") return "#c9ccd0";
    var d = Math.abs(delta(node.est.totalShare)), t = Math.min(1, d / 0.1);
    var light = (86 - 34 * t).toFixed(0);
    if (node.flags & SLOWER) return "hsl(8,78%," + light + "%)";
    if (node.flags & FASTER) return "hsl(214,72%," + light + "%)";
    return "hsl(40,10%,84%)";
  }

  function changeClass(flags) {
    return flags & SLOWER ? "pyi-slower" : flags & FASTER ? "pyi-faster" : "";
  }

  function describeNode(node) {
    if (!node.est) return [];
    var e = node.est, lines = [];
    lines.push("total share " + share(e.totalShare[BASE]) + " \u2192 " + share(e.totalShare[HEAD]) +
               " (" + points(e.totalShare) + " points, p " + pValue(e.totalShare[P_ADJ]) + ")");
    lines.push("self share " + share(e.selfShare[BASE]) + " \u2192 " + share(e.selfShare[HEAD]));
    lines.push("time per run " + P.formatSeconds(e.totalTime[BASE]) + " \u2192 " +
               P.formatSeconds(e.totalTime[HEAD]) + " (" + relative(e.totalTime) + ")");
    if (node.flags & SLOWER) lines.push("slower (significant)");
    else if (node.flags & FASTER) lines.push("faster (significant)");
    return lines;
  }

  /* The report page's flame graph and tree, with change classes on frames and rows. */
  function DiffFlame(container, options) { P.FlameGraph.call(this, container, options); }
  DiffFlame.prototype = Object.create(P.FlameGraph.prototype);
  DiffFlame.prototype.frame = function (node, x, y, width, extraClass) {
    var g = P.FlameGraph.prototype.frame.call(this, node, x, y, width, extraClass);
    var c = changeClass(node.flags);
    if (c) g.classList.add(c);
    return g;
  };

  function DiffTree(container, options) { P.TreeView.call(this, container, options); }
  DiffTree.prototype = Object.create(P.TreeView.prototype);
  DiffTree.prototype.rowElement = function (node, open, hasChildren) {
    var row = P.TreeView.prototype.rowElement.call(this, node, open, hasChildren);
    var c = node.est ? changeClass(node.flags) : "";
    if (c) row.classList.add(c);
    var extra = row.querySelectorAll(".pyi-extra");
    if (extra.length > 1) extra[1].classList.add("pyi-delta");
    return row;
  };

  function treeColumns(node) {
    if (!node.est) return [];
    var e = node.est.totalShare;
    return [share(e[BASE]) + " \u2192 " + share(e[HEAD]), points(e), "p " + pValue(e[P_ADJ])];
  }

  /* ---- the app ---------------------------------------------------------------------- */

  function DiffApp(data) {
    this.data = data;
    this.profile = new DiffProfile(data);
    this.side = "head";
    this.minShare = typeof data.min_share === "number" ? data.min_share : 0.001;
    this.hits = null;
    this.view = "flame";
    this.dirty = {};
    var self = this;
    function select(node) { self.showDetails(node); }
    this.flame = new DiffFlame($("pyi-view-flame"), { onSelect: select, colorOf: changeColor,
                                                       describe: describeNode });
    this.treeView = new DiffTree($("pyi-view-tree"), {
      onSelect: select, columns: treeColumns,
      value: function (node) { return node.total; } });
    this.search = new P.Search($("pyi-search"), $("pyi-search-count"), function (q) {
      self.hits = self.profile.matchFunctions(q);
      self.redraw();
    });
  }

  DiffApp.prototype.start = function () {
    this.header();
    this.verdict();
    this.controls();
    this.functionsTable();
    this.build();
    this.show(this.view);
    $("pyi-details").appendChild(P.el("div", "pyi-muted", "Select a frame or a row to see its change."));
  };

  DiffApp.prototype.header = function () {
    var d = this.data, base = d.sides[0], head = d.sides[1], total = d.total;
    var program = (head.traces[0] && head.traces[0].program) || (base.traces[0] && base.traces[0].program) || "";
    $("pyi-title").textContent = program || "(program not recorded)";
    document.title = "pyinst diff: " + (program || "profiles");
    var runs = function (s) { return s.runs + (s.runs === 1 ? " run" : " runs"); };
    $("pyi-summary").textContent = "base " + runs(base) + " \u00b7 head " + runs(head) +
      " \u00b7 total time per run " + P.formatValue(total[BASE], d.metric) + " \u2192 " +
      P.formatValue(total[HEAD], d.metric) + " (" + relative(total) + ")";
    var warnings = $("pyi-warnings");
    for (var s = 0; s < 2; s++)
      for (var i = 0; i < d.sides[s].traces.length; i++)
        if (d.sides[s].traces[i].warning) warnings.appendChild(P.el("div", "", d.sides[s].traces[i].warning));
    if (d.nodes_left_out)
      warnings.appendChild(P.el("div", "", d.nodes_left_out + " call paths under 0.01% on both sides are " +
                                "left out of this page; the other formats keep every path."));
  };

  DiffApp.prototype.verdict = function () {
    var v = this.data.verdict, box = $("pyi-verdict"), total = this.data.total;
    box.classList.add("pyi-status-" + v.status);
    box.appendChild(P.el("strong", "", v.status === 2 ? "Not comparable" : v.status === 1 ? "Regression"
                                                                                          : "No regression"));
    box.appendChild(document.createTextNode(" (exit status " + v.status + ")"));
    var list = P.el("ul");
    if (v.total_percent !== null)
      list.appendChild(P.el("li", "", "total time per run up by more than " + v.total_percent + "%: " +
        relative(total) + (total[TESTED] ? ", p " + pValue(total[P_ADJ]) : " (not tested: one run per side)") +
        (v.total_fails ? " \u2014 fails" : " \u2014 ok")));
    if (v.share_points !== null)
      list.appendChild(P.el("li", "", "a function's share up by more than " + v.share_points + " points: " +
        v.functions_failing + (v.functions_failing === 1 ? " function" : " functions") +
        (v.functions_failing ? " \u2014 fails" : " \u2014 ok")));
    if (v.path_points !== null)
      list.appendChild(P.el("li", "", "a call path's share up by more than " + v.path_points + " points: " +
        v.paths_failing + (v.paths_failing === 1 ? " path" : " paths") + (v.paths_failing ? " \u2014 fails" : " \u2014 ok")));
    list.appendChild(P.el("li", "pyi-muted", "significant: Holm-adjusted p < " + this.data.alpha + " over " +
      this.data.function_tests + " comparisons; intervals " + Math.round(100 * this.data.confidence) + "%"));
    if (v.note) list.appendChild(P.el("li", "", v.note));
    box.appendChild(list);
  };

  DiffApp.prototype.controls = function () {
    var self = this;
    var widths = $("pyi-widths");
    widths.value = this.side;
    widths.addEventListener("change", function () { self.side = widths.value; self.build(); });
    var min = $("pyi-min-share");
    min.value = String(Math.round(this.minShare * 100000) / 1000);
    min.addEventListener("change", function () {
      var pct = Number(min.value);
      if (isFinite(pct) && pct >= 0 && pct <= 100) { self.minShare = pct / 100; self.redraw(); }
    });
    var tabs = document.querySelectorAll(".pyi-tab");
    for (var t = 0; t < tabs.length; t++)
      tabs[t].addEventListener("click", function (e) { self.show(e.currentTarget.dataset.view); });
  };

  DiffApp.prototype.build = function () {
    this.tree = buildDiffTree(this.data, this.profile, this.side);
    this.redraw();
  };

  DiffApp.prototype.redraw = function () {
    this.dirty = { flame: true, tree: true };
    this.renderView();
  };

  DiffApp.prototype.viewOptions = function () {
    return { metric: this.data.metric, minShare: this.minShare, hits: this.hits, thread: "merged" };
  };

  DiffApp.prototype.renderView = function () {
    var v = this.view;
    if (this.dirty[v]) {
      this.dirty[v] = false;
      if (v === "flame") this.flame.render(this.tree, this.viewOptions());
      else if (v === "tree") this.treeView.render(this.tree, this.viewOptions());
    }
    this.search.showCount(this.tree, this.hits, this.minShare);
  };

  DiffApp.prototype.show = function (view) {
    this.view = view;
    var names = ["flame", "tree", "functions"];
    for (var i = 0; i < names.length; i++) {
      $("pyi-view-" + names[i]).hidden = names[i] !== view;
      $("pyi-tab-" + names[i]).setAttribute("aria-selected", names[i] === view ? "true" : "false");
    }
    P.tooltip.hide();
    this.renderView();
  };

  /* ---- functions table and details ------------------------------------------------- */

  DiffApp.prototype.functionsTable = function () {
    var self = this, p = this.profile, rows = this.data.rows;
    var table = P.el("table", "pyi-functions");
    table.appendChild(P.el("caption", "", "Every function with time on either side, ranked: significant " +
      "increases first, then decreases, then the rest by size. Shares are of all sampled time."));
    var head = P.el("tr");
    var titles = ["#", "function", "where", "self share", "\u0394 points", "total share", "\u0394 points",
                  "time per run", "p (adj.)"];
    for (var t = 0; t < titles.length; t++) head.appendChild(P.el("th", "", titles[t]));
    table.appendChild(head);
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], fn = r[0], flags = r[3], selfShare = r[4], totalShare = r[5], totalTime = r[7];
      var headline = flags & (SLOWER | FASTER) ? (flags & SELF_COUNTS ? selfShare : totalShare)
        : (Math.abs(delta(selfShare)) >= Math.abs(delta(totalShare)) ? selfShare : totalShare);
      var tr = P.el("tr", changeClass(flags) + (flags & FAILS ? " pyi-fails" : ""));
      tr.dataset.function = String(fn);
      var where = p.where(fn) + (r[2] ? "  [" + PRESENCE[r[2]] +
        (r[2] === 3 ? p.file(r[1]) : r[2] === 4 ? p.name(r[1]) : "") + "]" : "");
      var cells = [String(i + 1), p.name(fn), where,
                   shares(selfShare), selfShare[BASE] || selfShare[HEAD] ? points(selfShare) : "",
                   shares(totalShare), points(totalShare),
                   P.formatValue(totalTime[BASE], this.data.metric) + " \u2192 " +
                   P.formatValue(totalTime[HEAD], this.data.metric) + " (" + relative(totalTime) + ")",
                   pValue(headline[P_ADJ])];
      var classes = ["", "pyi-fn", "pyi-muted", "", headline === selfShare ? "pyi-change" : "", "",
                     headline === totalShare ? "pyi-change" : "", "", ""];
      for (var c = 0; c < cells.length; c++) tr.appendChild(P.el("td", classes[c], cells[c]));
      table.appendChild(tr);
    }
    table.addEventListener("click", function (e) {
      var tr = e.target.closest("tr");
      if (tr && tr.dataset.function) self.showFunction(Number(tr.dataset.function));
    });
    $("pyi-view-functions").appendChild(table);
  };

  DiffApp.prototype.rowOf = function (fn) {
    var rows = this.data.rows;
    for (var i = 0; i < rows.length; i++) if (rows[i][0] === fn) return rows[i];
    return null;
  };

  function table(lines) {
    var t = P.el("table");
    for (var i = 0; i < lines.length; i++) {
      var tr = P.el("tr");
      tr.appendChild(P.el("th", "", lines[i][0]));
      tr.appendChild(P.el("td", "", lines[i][1]));
      t.appendChild(tr);
    }
    return t;
  }

  function estimateLines(label, e, metric) {
    if (metric) return [label, P.formatValue(e[BASE], metric) + " \u2192 " + P.formatValue(e[HEAD], metric) +
                               " (" + relative(e) + ")"];
    return [label, share(e[BASE]) + " \u2192 " + share(e[HEAD]) + " (" + points(e) + ", p " + pValue(e[P_ADJ]) + ")"];
  }

  DiffApp.prototype.showFunction = function (fn) {
    var box = $("pyi-details"), p = this.profile, r = this.rowOf(fn);
    P.clear(box);
    box.appendChild(P.el("h2", "pyi-fn-name", p.name(fn)));
    box.appendChild(P.el("div", "pyi-muted", p.where(fn)));
    if (!r) return;
    if (r[2]) box.appendChild(P.el("div", "", PRESENCE[r[2]] + (r[2] === 3 ? p.file(r[1]) : r[2] === 4 ? p.name(r[1]) : "")));
    box.appendChild(P.el("div", changeClass(r[3]), r[3] & SLOWER ? "slower (significant)" :
                                                r[3] & FASTER ? "faster (significant)" : "no significant change"));
    box.appendChild(table([estimateLines("self share", r[4]), estimateLines("total share", r[5]),
                           estimateLines("self time per run", r[6], this.data.metric),
                           estimateLines("total time per run", r[7], this.data.metric)]));
  };

  DiffApp.prototype.showDetails = function (node) {
    if (!node || node.kind !== "frame") return;
    this.showFunction(node.fn);
    var path = [];
    for (var n = node; n && n.kind === "frame"; n = n.parent) path.unshift(this.profile.name(n.fn));
    var box = $("pyi-details");
    box.appendChild(P.el("h3", "", "This call path"));
    box.appendChild(P.el("div", "pyi-muted pyi-path", path.join(" \u203a ")));
    box.appendChild(table([estimateLines("total share", node.est.totalShare),
                           estimateLines("self share", node.est.selfShare),
                           estimateLines("time per run", node.est.totalTime, this.data.metric)]));
  };

  function main() {
    var errorBox = $("pyi-error");
    try {
      var app = new DiffApp(P.readData("pyi-data"));
      P.diffApp = app;
      app.start();
      document.body.dataset.ready = "true";
    } catch (err) {
      errorBox.hidden = false;
      errorBox.textContent = "This page could not be shown: " + (err && err.message ? err.message : String(err));
      throw err;
    }
  }

  P.DiffApp = DiffApp;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})(PYI);
