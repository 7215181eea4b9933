/* pyinst report page, details: the panel for one function: where it is, its
 * totals under the current thread and metric, buttons that focus the views
 * on it, and its source lines (when the report embedded them) with the time
 * spent on each. Reusable: new PYI.Details(element, {onFocus, onCallers,
 * onExclude}).show(profile, options, fn). */
"use strict";
(function (P) {
  function Details(container, options) {
    this.container = container;
    this.options = options || {};
  }

  Details.prototype.empty = function (profile) {
    P.clear(this.container);
    this.container.appendChild(P.el("p", "pyi-muted", "Select a frame to see its function here: totals, " +
      "source lines and what calls it."));
    var has = profile && profile.data.source_files && profile.data.source_files.length;
    if (profile && !has) this.container.appendChild(P.el("p", "pyi-muted", "No source lines were embedded " +
      "(the files were not readable when the report was written)."));
  };

  Details.prototype.button = function (box, text, action) {
    var b = P.el("button", "", text);
    b.type = "button";
    b.addEventListener("click", action);
    box.appendChild(b);
  };

  Details.prototype.show = function (profile, options, fn) {
    var c = this.container, self = this;
    P.clear(c);
    c.appendChild(P.el("h2", "pyi-fn-name", profile.name(fn)));
    var where = profile.where(fn);
    c.appendChild(P.el("div", "pyi-muted", where || "(file unknown)"));
    var lib = profile.library(fn);
    if (lib) c.appendChild(P.el("div", "pyi-muted", "library: " + lib));
    var stats = P.functionStats(profile, options, fn);
    var total = profile.data.info.totals;
    var all = options.metric === "samples" ? total[0] : options.metric === "cpu" ? total[4]
            : options.metric === "on-cpu" ? total[3] : options.metric === "waiting" ? total[2] - total[3] : total[2];
    c.appendChild(P.el("div", "pyi-fn-totals", "total " + P.formatValue(stats.total, options.metric) + " (" +
      P.formatShare(stats.total, all) + "), self " + P.formatValue(stats.self, options.metric)));
    var actions = P.el("div", "pyi-actions");
    this.button(actions, "Focus (callees)", function () { if (self.options.onFocus) self.options.onFocus(fn, false); });
    this.button(actions, "Callers", function () { if (self.options.onFocus) self.options.onFocus(fn, true); });
    this.button(actions, "Exclude", function () { if (self.options.onExclude) self.options.onExclude(fn); });
    c.appendChild(actions);
    this.lines(profile, options, fn, stats);
  };

  /* The function's executing lines with self and total time, and their text
   * where the source was embedded. */
  Details.prototype.lines = function (profile, options, fn, stats) {
    var source = profile.sourceFile(fn), text = new Map();
    if (source) for (var i = 0; i < source.lines.length; i++) text.set(source.lines[i][0], source.lines[i][1]);
    var rows = stats.lines.slice();
    var first = profile.firstLine(fn);
    if (first && text.has(first) && !rows.some(function (r) { return r.line === first; }))
      rows.unshift({ line: first, self: 0, total: 0 });
    rows.sort(function (a, b) { return a.line - b.line; });
    if (!rows.length) return;
    var table = P.el("table", "pyi-lines");
    var head = P.el("tr");
    ["line", "self", "total", source ? "source" : ""].forEach(function (h) { head.appendChild(P.el("th", "", h)); });
    table.appendChild(head);
    for (var r = 0; r < rows.length; r++) {
      var tr = P.el("tr");
      tr.appendChild(P.el("td", "", rows[r].line || "?"));
      tr.appendChild(P.el("td", "", rows[r].self ? P.formatValue(rows[r].self, options.metric) : ""));
      tr.appendChild(P.el("td", "", rows[r].total ? P.formatValue(rows[r].total, options.metric) : ""));
      var code = P.el("td", "pyi-code", text.has(rows[r].line) ? text.get(rows[r].line) : "");
      code.title = code.textContent;
      tr.appendChild(code);
      table.appendChild(tr);
    }
    this.container.appendChild(table);
  };

  P.Details = Details;
})(PYI);
