/* pyinst report page, flame graph: the call tree (or inverted tree) as SVG
 * rectangles, widths by value, heaviest child first; click to zoom into a
 * frame, click an ancestor bar to zoom out; search hits stay bright while the
 * rest dims. Reusable: new PYI.FlameGraph(element, {onSelect, colorOf,
 * describe}) then render(tree, view) with any tree of PYI.buildTree's shape. */
"use strict";
(function (P) {
  var ROW = 18;
  var MIN_WIDTH = 0.5; /* pixels: narrower frames (and their children) are not drawn */

  function FlameGraph(container, options) {
    this.container = container;
    this.options = options || {};
    this.tree = null;
    this.zoom = null;
    var self = this;
    container.addEventListener("click", function (e) { self.onClick(e); });
    container.addEventListener("mousemove", function (e) { self.onMove(e); });
    container.addEventListener("mouseleave", function () { P.tooltip.hide(); });
  }

  FlameGraph.prototype.colorOf = function (node) {
    if (this.options.colorOf) return this.options.colorOf(node, this.tree.profile);
    if (node.kind !== "frame") return node.kind === "root" ? "#c9ccd0" : "#dcdfe3";
    return P.frameColor(this.tree.profile.code(node.fn), this.tree.profile.name(node.fn));
  };

  FlameGraph.prototype.label = function (node) {
    var name = P.nodeName(this.tree.profile, node);
    return node.kind === "root" ? "all (" + P.formatValue(node.total, this.view.metric) + ")" : name;
  };

  /* Renders tree with view {metric, minShare, hits}; keeps the zoom when the
   * same frame path still exists. */
  FlameGraph.prototype.render = function (tree, view) {
    var zoomKey = this.zoom ? P.TreeView.keyOf(this.zoom) : "";
    this.tree = tree;
    this.view = view;
    this.zoom = tree.root;
    if (zoomKey) {
      for (var i = 0; i < tree.nodes.length; i++)
        if (P.TreeView.keyOf(tree.nodes[i]) === zoomKey) { this.zoom = tree.nodes[i]; break; }
    }
    this.draw();
  };

  FlameGraph.prototype.zoomTo = function (node) {
    this.zoom = node || this.tree.root;
    this.draw();
  };

  FlameGraph.prototype.frame = function (node, x, y, width, extraClass) {
    var g = P.svg("g", { "class": "pyi-frame" + (extraClass ? " " + extraClass : ""),
                         "data-id": node.id, transform: "translate(" + x.toFixed(2) + "," + y + ")" });
    g.appendChild(P.svg("rect", { width: Math.max(width, 0.5).toFixed(2), height: ROW - 1,
                                  fill: this.colorOf(node) }));
    var text = P.fitText(this.label(node), width);
    if (text) {
      var t = P.svg("text", { x: 3, y: ROW - 5 });
      t.textContent = text;
      g.appendChild(t);
    }
    var hits = this.view.hits;
    if (hits && (node.kind !== "frame" || !hits[node.fn]) && node.kind !== "root") g.classList.add("pyi-dim");
    return g;
  };

  FlameGraph.prototype.draw = function () {
    var tree = this.tree, zoom = this.zoom;
    P.clear(this.container);
    var width = Math.max(300, (this.container.clientWidth || 1000) - 20);
    var svg = P.svg("svg", { "class": "pyi-flame-svg", width: width });
    var ancestors = [];
    for (var a = zoom.parent; a; a = a.parent) ancestors.unshift(a);
    var y = 0;
    for (var i = 0; i < ancestors.length; i++, y += ROW) svg.appendChild(this.frame(ancestors[i], 0, y, width, "pyi-ancestor"));
    var minValue = (this.view.minShare || 0) * tree.root.total;
    var scale = zoom.total ? width / zoom.total : 0;
    var todo = [[zoom, 0, ancestors.length]], maxDepth = ancestors.length, drawn = 0;
    while (todo.length) {
      var item = todo.pop(), node = item[0], x = item[1], depth = item[2];
      var w = node.total * scale;
      svg.appendChild(this.frame(node, x, depth * ROW, w, ""));
      drawn++;
      if (depth > maxDepth) maxDepth = depth;
      var cx = x;
      for (var c = 0; c < node.children.length; c++) {
        var child = node.children[c], cw = child.total * scale;
        if (cw >= MIN_WIDTH && child.total >= minValue && child.total > 0) todo.push([child, cx, depth + 1]);
        cx += cw;
      }
    }
    svg.setAttribute("height", String((maxDepth + 1) * ROW));
    var help = P.el("div", "pyi-flame-help",
                    "Click a frame to zoom in, an upper bar to zoom out. " + drawn + " frames drawn.");
    this.container.appendChild(help);
    this.container.appendChild(svg);
  };

  FlameGraph.prototype.nodeAt = function (target) {
    var g = target.closest ? target.closest(".pyi-frame") : null;
    return g ? this.tree.nodes[Number(g.getAttribute("data-id"))] : null;
  };

  FlameGraph.prototype.onClick = function (e) {
    var node = this.nodeAt(e.target);
    if (!node) return;
    this.zoomTo(node === this.zoom ? (node.parent || node) : node);
    if (this.options.onSelect && node.kind === "frame") this.options.onSelect(node);
  };

  FlameGraph.prototype.describe = function (node) {
    var p = this.tree.profile, v = this.view;
    var lines = [P.nodeName(p, node)];
    if (node.kind === "frame") {
      var where = p.where(node.fn);
      if (where) lines.push(where);
      var hidden = P.hiddenText(p, node);
      if (hidden) lines.push(hidden);
    }
    lines.push(P.formatValue(node.total, v.metric) + " (" + P.formatShare(node.total, this.tree.root.total) +
               "), self " + P.formatValue(node.self, v.metric));
    if (this.options.describe) lines = lines.concat(this.options.describe(node, p));
    return lines;
  };

  FlameGraph.prototype.onMove = function (e) {
    var node = this.nodeAt(e.target);
    if (!node) { P.tooltip.hide(); return; }
    P.tooltip.show(this.describe(node), e.clientX, e.clientY);
  };

  P.FlameGraph = FlameGraph;
})(PYI);
