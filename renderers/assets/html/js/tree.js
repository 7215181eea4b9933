/* pyinst report page, tree view: a collapsible call tree (top-down or
 * inverted) that creates rows only for expanded nodes, with keyboard
 * navigation, search hits and a [self] row where a frame has both self time
 * and shown children. Reusable: new PYI.TreeView(element, {onSelect, value}). */
"use strict";
(function (P) {
  var AUTO_EXPAND_SHARE = 0.1; /* nodes above 10% of the total start open */
  var AUTO_EXPAND_DEPTH = 60;
  var MAX_SEARCH_EXPAND = 200;

  /* options.onSelect(node) when a row is chosen; options.value(node) -> number
   * shown (default node.total); options.columns(node) -> extra strings. */
  function TreeView(container, options) {
    this.container = container;
    this.options = options || {};
    this.tree = null;
    this.opened = new Set();
    this.closed = new Set();
    this.selected = null;
    this.rowOf = new Map();
    var self = this;
    container.addEventListener("click", function (e) { self.onClick(e); });
    container.addEventListener("keydown", function (e) { self.onKey(e); });
  }

  function keyOf(node) {
    var parts = [];
    for (var n = node; n && n.parent; n = n.parent) parts.push(n.kind[0] + n.fn + ":" + n.line + ":" + n.thread);
    return parts.reverse().join("/");
  }
  TreeView.keyOf = keyOf;

  TreeView.prototype.isShown = function (node) {
    var root = this.tree.root;
    return node.total > 0 && node.total >= this.minShare * root.total;
  };

  TreeView.prototype.shownChildren = function (node) {
    var out = [];
    for (var i = 0; i < node.children.length; i++)
      if (this.isShown(node.children[i])) out.push(node.children[i]);
    return out;
  };

  TreeView.prototype.isOpen = function (node) {
    var key = keyOf(node);
    if (this.opened.has(key)) return true;
    if (this.closed.has(key)) return false;
    return node.depth < AUTO_EXPAND_DEPTH && node.total >= AUTO_EXPAND_SHARE * this.tree.root.total;
  };

  /* Renders tree (from PYI.buildTree) with view {metric, minShare, hits}:
   * hits is a function mask (Uint8Array by fn id) or null. */
  TreeView.prototype.render = function (tree, view) {
    this.tree = tree;
    this.view = view;
    this.minShare = view.minShare || 0;
    this.rowOf = new Map();
    P.clear(this.container);
    var top = this.shownChildren(tree.root);
    if (!top.length) {
      this.container.appendChild(P.el("div", "pyi-empty", "Nothing to show: no samples pass these filters."));
      return;
    }
    if (view.hits) this.openHits(view.hits);
    var frag = document.createDocumentFragment();
    for (var i = 0; i < top.length; i++) frag.appendChild(this.nodeElement(top[i]));
    this.container.appendChild(frag);
    if (this.selected) {
      var again = this.rowOf.get(keyOf(this.selected));
      if (again) again.classList.add("pyi-selected");
    }
  };

  /* Opens the ancestors of the first matching nodes so hits are visible. */
  TreeView.prototype.openHits = function (hits) {
    var nodes = this.tree.nodes, found = 0;
    for (var i = 1; i < nodes.length && found < MAX_SEARCH_EXPAND; i++) {
      var n = nodes[i];
      if (n.kind !== "frame" || !hits[n.fn] || !this.isShown(n)) continue;
      found++;
      for (var a = n.parent; a && a.parent; a = a.parent) {
        var key = keyOf(a);
        this.opened.add(key);
        this.closed.delete(key);
      }
    }
  };

  TreeView.prototype.rowElement = function (node, open, hasChildren) {
    var p = this.tree.profile, view = this.view;
    var row = P.el("div", "pyi-row");
    row.setAttribute("role", "treeitem");
    row.setAttribute("aria-level", String(node.depth));
    row.dataset.id = String(node.id);
    row.style.paddingLeft = (node.depth - 1) * 14 + 4 + "px";
    if (hasChildren) row.setAttribute("aria-expanded", open ? "true" : "false");
    var toggle = P.el("span", "pyi-toggle", hasChildren ? (open ? "\u25be" : "\u25b8") : "");
    var value = this.options.value ? this.options.value(node) : node.total;
    var time = P.el("span", "pyi-time", P.formatValue(value, view.metric));
    var share = P.el("span", "pyi-share");
    var bar = P.el("span");
    bar.style.width = Math.max(0, Math.min(100, 100 * node.total / (this.tree.root.total || 1))) + "%";
    share.appendChild(bar);
    share.title = P.formatShare(node.total, this.tree.root.total);
    var name = P.el("span", "pyi-name", P.nodeName(p, node));
    row.appendChild(toggle);
    row.appendChild(time);
    row.appendChild(share);
    row.appendChild(name);
    if (node.kind === "frame") {
      if (p.code(node.fn) & P.CODE.LIBRARY) row.classList.add("pyi-lib");
      var hidden = P.hiddenText(p, node);
      if (hidden) row.appendChild(P.el("span", "pyi-group", "[" + hidden + "]"));
      row.appendChild(P.el("span", "pyi-loc", p.where(node.fn) +
                                         (node.line ? " (called from line " + node.line + ")" : "")));
      if (view.hits && view.hits[node.fn]) row.classList.add("pyi-hit");
    } else {
      row.classList.add("pyi-" + node.kind);
    }
    var extra = this.options.columns ? this.options.columns(node) : null;
    for (var i = 0; extra && i < extra.length; i++) row.appendChild(P.el("span", "pyi-extra", extra[i]));
    this.rowOf.set(keyOf(node), row);
    return row;
  };

  TreeView.prototype.nodeElement = function (node) {
    var kids = this.shownChildren(node);
    var selfRow = node.kind === "frame" && node.self > 0 && kids.length > 0;
    var hasChildren = kids.length > 0;
    var open = hasChildren && this.isOpen(node);
    var wrap = P.el("div", "pyi-node");
    wrap.appendChild(this.rowElement(node, open, hasChildren));
    if (open) wrap.appendChild(this.childrenElement(node, kids, selfRow));
    return wrap;
  };

  TreeView.prototype.childrenElement = function (node, kids, selfRow) {
    var box = P.el("div", "pyi-kids");
    box.setAttribute("role", "group");
    for (var i = 0; i < kids.length; i++) box.appendChild(this.nodeElement(kids[i]));
    if (selfRow) {
      var self = { kind: "self", fn: node.fn, line: 0, thread: 0, parent: node, depth: node.depth + 1,
                   total: node.self, self: node.self, children: [], id: -1, hidden: null };
      var r = this.rowElement(self, false, false);
      r.dataset.id = "self-" + node.id;
      var wrap = P.el("div", "pyi-node");
      wrap.appendChild(r);
      box.insertBefore(wrap, this.selfPosition(box, kids, node.self));
    }
    return box;
  };

  /* [self] sits among its siblings by size, as pyinstrument shows it. */
  TreeView.prototype.selfPosition = function (box, kids, value) {
    for (var i = 0; i < kids.length; i++) if (kids[i].total < value) return box.children[i];
    return null;
  };

  TreeView.prototype.toggle = function (node, open) {
    var row = this.rowOf.get(keyOf(node));
    if (!row || !row.hasAttribute("aria-expanded")) return;
    var isOpen = row.getAttribute("aria-expanded") === "true";
    if (open === undefined) open = !isOpen;
    if (open === isOpen) return;
    var key = keyOf(node);
    if (open) { this.opened.add(key); this.closed.delete(key); }
    else { this.closed.add(key); this.opened.delete(key); }
    var wrap = row.parentNode;
    if (open) {
      var kids = this.shownChildren(node);
      wrap.appendChild(this.childrenElement(node, kids, node.kind === "frame" && node.self > 0));
    } else if (wrap.children.length > 1) {
      wrap.removeChild(wrap.lastChild);
    }
    row.setAttribute("aria-expanded", open ? "true" : "false");
    row.firstChild.textContent = open ? "\u25be" : "\u25b8";
  };

  TreeView.prototype.nodeOfRow = function (row) {
    var id = row.dataset.id;
    if (id.indexOf("self-") === 0) return null;
    return this.tree.nodes[Number(id)];
  };

  TreeView.prototype.select = function (row) {
    var old = this.container.querySelector(".pyi-row.pyi-selected");
    if (old) old.classList.remove("pyi-selected");
    row.classList.add("pyi-selected");
    var node = this.nodeOfRow(row);
    this.selected = node;
    if (node && this.options.onSelect) this.options.onSelect(node);
    if (row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
  };

  TreeView.prototype.onClick = function (e) {
    var row = e.target.closest(".pyi-row");
    if (!row || !this.container.contains(row)) return;
    var node = this.nodeOfRow(row);
    if (node && (e.target.classList.contains("pyi-toggle") || e.detail === 2)) this.toggle(node);
    this.select(row);
  };

  TreeView.prototype.onKey = function (e) {
    var rows = Array.prototype.slice.call(this.container.querySelectorAll(".pyi-row"));
    if (!rows.length) return;
    var current = this.container.querySelector(".pyi-row.pyi-selected");
    var at = rows.indexOf(current);
    var node = current ? this.nodeOfRow(current) : null;
    if (e.key === "ArrowDown") this.select(rows[Math.min(rows.length - 1, at + 1)]);
    else if (e.key === "ArrowUp") this.select(rows[Math.max(0, at - 1)]);
    else if (e.key === "ArrowRight" && node) this.toggle(node, true);
    else if (e.key === "ArrowLeft" && node) {
      if (current.getAttribute("aria-expanded") === "true") this.toggle(node, false);
      else if (node.parent && node.parent.parent) {
        var up = this.rowOf.get(keyOf(node.parent));
        if (up) this.select(up);
      }
    } else return;
    e.preventDefault();
  };

  P.TreeView = TreeView;
})(PYI);
