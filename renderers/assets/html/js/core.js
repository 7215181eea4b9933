/* pyinst report page, core: the PYI namespace, safe DOM helpers, formatting
 * and colours shared by every view component. Trace data only ever reaches
 * the page through textContent and attribute values set here. */
"use strict";
var PYI = window.PYI = window.PYI || {};
(function (P) {
  /* Code classes of a function (PYI_CODE_* in pyi/analyzer.h). */
  P.CODE = { APP: 1, STDLIB: 2, SITE: 4, IMPORTLIB: 8, PROFILER: 16, NATIVE: 32, SYNTHETIC: 64,
             LIBRARY: 2 | 4 | 8 };

  /* An element with a class and text; text is set as text, never parsed. */
  P.el = function (tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  var SVG_NS = "http://www.w3.org/2000/svg";
  P.svg = function (tag, attributes) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attributes) if (Object.prototype.hasOwnProperty.call(attributes, k))
      e.setAttribute(k, String(attributes[k]));
    return e;
  };

  P.clear = function (e) { while (e.firstChild) e.removeChild(e.firstChild); };

  /* Parses the JSON data block; the renderer escaped it so it cannot close its tag. */
  P.readData = function (id) {
    var block = document.getElementById(id);
    return JSON.parse(block.textContent);
  };

  /* "1.234 s", "12.5 ms", "340 us": seconds with 3-4 significant digits. */
  P.formatSeconds = function (ns) {
    var s = ns / 1e9;
    if (s >= 100) return s.toFixed(1) + " s";
    if (s >= 1) return s.toFixed(3) + " s";
    if (s >= 1e-3) return (s * 1e3).toFixed(s >= 0.1 ? 1 : 2) + " ms";
    if (s > 0) return (s * 1e6).toFixed(0) + " \u00b5s";
    return "0 s";
  };

  P.formatValue = function (value, metric) {
    if (metric === "samples") return value + (value === 1 ? " sample" : " samples");
    return P.formatSeconds(value);
  };

  P.formatShare = function (value, total) {
    if (!total) return "0%";
    var p = 100 * value / total;
    return (p >= 10 ? p.toFixed(1) : p >= 1 ? p.toFixed(1) : p.toFixed(2)) + "%";
  };

  /* A stable small hash of a string, for colours. */
  P.hash = function (text) {
    var h = 2166136261;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  };

  /* Colour of a frame by the kind of code it is: warm for the user's code,
   * blue for libraries, green for the standard library, grey for native. */
  P.frameColor = function (code, name) {
    var h = P.hash(name || "");
    var j = h % 20;
    if (code & P.CODE.NATIVE) return "hsl(" + (260 + j) + ",18%," + (72 + (h >> 8) % 8) + "%)";
    if (code & P.CODE.SITE) return "hsl(" + (205 + j) + ",55%," + (70 + (h >> 8) % 10) + "%)";
    if (code & (P.CODE.STDLIB | P.CODE.IMPORTLIB)) return "hsl(" + (130 + j) + ",38%," + (70 + (h >> 8) % 10) + "%)";
    if (code & (P.CODE.PROFILER | P.CODE.SYNTHETIC)) return "hsl(0,0%," + (78 + (h >> 8) % 8) + "%)";
    return "hsl(" + (12 + j) + ",78%," + (62 + (h >> 8) % 12) + "%)";
  };

  /* One tooltip element shared by the views. lines: array of strings. */
  P.tooltip = {
    show: function (lines, x, y) {
      var t = document.getElementById("pyi-tooltip");
      if (!t) return;
      t.textContent = lines.join("\n");
      t.hidden = false;
      var w = t.offsetWidth, h = t.offsetHeight;
      var left = x + 14, top = y + 14;
      if (left + w > window.innerWidth - 4) left = Math.max(4, x - w - 10);
      if (top + h > window.innerHeight - 4) top = Math.max(4, y - h - 10);
      t.style.left = left + "px";
      t.style.top = top + "px";
    },
    hide: function () {
      var t = document.getElementById("pyi-tooltip");
      if (t) t.hidden = true;
    }
  };

  /* Text cut to fit about `width` pixels at ~6.6 px per character. */
  P.fitText = function (text, width) {
    var room = Math.floor((width - 6) / 6.6);
    if (room < 3) return "";
    return text.length <= room ? text : text.slice(0, room - 1) + "\u2026";
  };
})(PYI);
