/* pyinst report page, search: a debounced text box that turns its query into
 * a function mask (PYI.Profile.matchFunctions) for the views to highlight,
 * and shows how many frames of the current tree match. Reusable:
 * new PYI.Search(input, countElement, onChange(mask)). */
"use strict";
(function (P) {
  function Search(input, countElement, onChange) {
    this.input = input;
    this.countElement = countElement;
    this.onChange = onChange;
    this.timer = 0;
    var self = this;
    input.addEventListener("input", function () {
      window.clearTimeout(self.timer);
      self.timer = window.setTimeout(function () { self.onChange(self.input.value); }, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { self.input.value = ""; self.onChange(""); }
      if (e.key === "Enter") { window.clearTimeout(self.timer); self.onChange(self.input.value); }
    });
  }

  /* Shows the number of matching frames in tree (nodes above minShare). */
  Search.prototype.showCount = function (tree, hits, minShare) {
    if (!hits) { this.countElement.textContent = ""; return; }
    var count = 0, total = 0, min = (minShare || 0) * tree.root.total;
    var seen = new Set();
    for (var i = 1; i < tree.nodes.length; i++) {
      var n = tree.nodes[i];
      if (n.kind !== "frame" || !hits[n.fn] || n.total < min || !n.total) continue;
      count++;
      /* time under a matching frame, counted once per outermost match */
      var inner = false;
      for (var a = n.parent; a; a = a.parent) if (seen.has(a)) { inner = true; break; }
      if (!inner) total += n.total;
      seen.add(n);
    }
    this.countElement.textContent = count + (count === 1 ? " frame, " : " frames, ") +
      P.formatShare(total, tree.root.total) + " of the total";
  };

  P.Search = Search;
})(PYI);
