/* pyinst report page, profile: the embedded aggregated data (see
 * renderers/assets/html/README.md) and the processing every view shares:
 * processors on one stack, call trees (top-down, inverted, focused, per
 * thread) and per-function line totals, all computed here in the page. */
"use strict";
(function (P) {
  /* Undoes the compact encodings of the blob in place: times written in a
   * unit become nanoseconds, parent deltas become parent ids. */
  function decode(data) {
    if (data.decoded) return;
    function scale(obj, keys, unit) {
      if (!unit || unit === 1) return;
      for (var k = 0; k < keys.length; k++) {
        var a = obj[keys[k]];
        for (var i = 0; i < a.length; i++) a[i] *= unit;
      }
    }
    scale(data.aggregates, ["wall", "on_cpu", "cpu"], data.aggregates.time_unit_ns);
    var timelines = data.timelines || [];
    for (var t = 0; t < timelines.length; t++) scale(timelines[t], ["wall", "on_cpu"], timelines[t].time_unit_ns);
    var st = data.stacks;
    if (!st.parent) {
      st.parent = new Array(st.parent_delta.length);
      for (var id = 1; id <= st.parent_delta.length; id++) st.parent[id - 1] = id - st.parent_delta[id - 1];
    }
    data.decoded = true;
  }
  P.decodeData = decode;

  function Profile(data) {
    decode(data);
    this.data = data;
    var f = data.functions;
    this.fnName = f.name; this.fnFile = f.file; this.fnLibrary = f.library;
    this.fnLine = f.line; this.fnKind = f.kind; this.fnCode = f.code; this.fnSource = f.source;
    this.functionCount = f.name.length;
    this.locFn = data.locations.function;
    this.locLine = data.locations.line;
    this.stackParent = data.stacks.parent;
    this.stackLoc = data.stacks.location;
    this.agg = data.aggregates;
    this.aggregateCount = data.aggregates.thread.length;
    this.threads = data.threads;
    this.threadById = {};
    for (var i = 0; i < data.threads.length; i++) this.threadById[data.threads[i].id] = data.threads[i];
    this.stackCache = new Map();
  }

  Profile.prototype.name = function (fn) { return this.fnName[fn - 1]; };
  Profile.prototype.file = function (fn) { return this.fnFile[fn - 1]; };
  Profile.prototype.code = function (fn) { return this.fnCode[fn - 1]; };
  Profile.prototype.library = function (fn) { return this.fnLibrary[fn - 1]; };
  Profile.prototype.firstLine = function (fn) { return this.fnLine[fn - 1]; };
  Profile.prototype.sourceFile = function (fn) {
    var i = this.fnSource ? this.fnSource[fn - 1] : -1;
    return i >= 0 ? this.data.source_files[i] : null;
  };
  /* "file:line" of a function, or "" when the file is unknown. */
  Profile.prototype.where = function (fn, line) {
    var file = this.file(fn);
    if (!file) return "";
    var l = line || this.firstLine(fn);
    return l ? file + ":" + l : file;
  };
  Profile.prototype.threadLabel = function (id) {
    var t = this.threadById[id];
    if (!t) return "thread " + id;
    return (t.name || "thread") + " (" + (t.tid || id) + ")";
  };

  /* Location ids of a stack, outermost first (cached: the array is shared). */
  Profile.prototype.stackLocations = function (stack) {
    var cached = this.stackCache.get(stack);
    if (cached) return cached;
    var locs = [];
    for (var s = stack; s; s = this.stackParent[s - 1]) locs.push(this.stackLoc[s - 1]);
    locs.reverse();
    this.stackCache.set(stack, locs);
    return locs;
  };

  /* An aggregate's value in a metric ("wall", "on-cpu", "waiting", "cpu", "samples"). */
  Profile.prototype.value = function (i, metric) {
    var a = this.agg;
    switch (metric) {
      case "on-cpu": return a.on_cpu[i];
      case "waiting": return a.wall[i] - a.on_cpu[i];
      case "cpu": return a.cpu[i];
      case "samples": return a.samples[i];
      default: return a.wall[i];
    }
  };

  /* Functions whose name or file contains the query (case-insensitive), as a
   * mask indexed by function id; null for an empty query. */
  Profile.prototype.matchFunctions = function (query) {
    query = (query || "").trim().toLowerCase();
    if (!query) return null;
    var mask = new Uint8Array(this.functionCount + 1);
    for (var id = 1; id <= this.functionCount; id++) {
      var name = this.fnName[id - 1].toLowerCase();
      var file = this.fnFile[id - 1].toLowerCase();
      if (name.indexOf(query) >= 0 || file.indexOf(query) >= 0) mask[id] = 1;
    }
    return mask;
  };

  /* ---- view options ------------------------------------------------------------ */

  /* The options every view takes; P.defaultOptions fills them from the data. */
  P.defaultOptions = function (data) {
    var v = data.view || {};
    var processors = v.processors || [];
    function has(name) { return processors.indexOf(name) >= 0; }
    return {
      thread: v.thread ? String(v.thread) : "all", /* "all" (separately), "merged", or an id */
      metric: v.metric || "wall",
      minShare: typeof v.min_share === "number" ? v.min_share : 0.001,
      inverted: !!v.inverted,
      focus: v.focus_function || 0,
      groupLibrary: has("group-library"),
      hideImportlib: has("hide-importlib"),
      hideProfiler: has("hide-profiler"),
      aggregateCalls: has("aggregate-calls"),
      collapseRecursion: has("collapse-recursion"),
      exclude: ""
    };
  };

  /* Compiles options against a profile: the exclude regex as a function mask,
   * and a per-stack cache of processed frames. Throws on a bad regex. */
  function Processor(profile, o) {
    this.profile = profile;
    this.o = o;
    this.excluded = null;
    if (o.exclude) {
      var re = new RegExp(o.exclude);
      this.excluded = new Uint8Array(profile.functionCount + 1);
      for (var id = 1; id <= profile.functionCount; id++) {
        var name = profile.name(id);
        if (re.test(name) || re.test(profile.file(id) + ":" + name)) this.excluded[id] = 1;
      }
    }
    this.cache = new Map();
  }
  P.Processor = Processor;

  /* The frames of a stack after the processors, outermost first: objects
   * {fn, loc, line (call site in the caller), hidden (array of fn ids folded in
   * by library grouping, or null)}. Mirrors the analyzer's view processors
   * (analyzer/src/view.c) so the page and the command line agree. Cached: do
   * not modify the result. */
  Processor.prototype.frames = function (stack) {
    var cached = this.cache.get(stack);
    if (cached) return cached;
    var p = this.profile, o = this.o, C = P.CODE;
    var locs = p.stackLocations(stack), kept = [];
    for (var i = 0; i < locs.length; i++) {
      var fn = p.locFn[locs[i] - 1], code = p.fnCode[fn - 1];
      if (o.hideImportlib && (code & C.IMPORTLIB)) continue;
      if (o.hideProfiler && (code & C.PROFILER)) continue;
      if (this.excluded && this.excluded[fn]) continue;
      kept.push(locs[i]);
    }
    var start = 0;
    if (o.hideProfiler) { /* leading runpy start-up frames go when something follows */
      while (start < kept.length && this.isRunpy(p.locFn[kept[start] - 1])) start++;
      if (start === kept.length) start = 0;
    }
    var out = [], inGroup = false;
    for (var k = start; k < kept.length; k++) {
      var loc = kept[k], f = p.locFn[loc - 1], last = out.length ? out[out.length - 1] : null;
      if (last && o.collapseRecursion && last.fn === f && !last.hidden) { last.loc = loc; continue; }
      if (o.groupLibrary && this.isGroupable(f)) {
        if (inGroup && last) {
          if (!last.hidden) last.hidden = [];
          if (last.hidden.indexOf(f) < 0) last.hidden.push(f);
          continue;
        }
        inGroup = true;
      } else {
        inGroup = false;
      }
      out.push({ fn: f, loc: loc, line: 0, hidden: null });
    }
    for (var j = 1; j < out.length; j++) out[j].line = p.locLine[out[j - 1].loc - 1];
    this.cache.set(stack, out);
    return out;
  };

  Processor.prototype.isRunpy = function (fn) {
    var p = this.profile;
    return p.fnLibrary[fn - 1] === "runpy" && (p.fnCode[fn - 1] & P.CODE.STDLIB) !== 0;
  };

  Processor.prototype.isGroupable = function (fn) {
    var code = this.profile.fnCode[fn - 1], C = P.CODE;
    return (code & C.LIBRARY) !== 0 && (code & (C.NATIVE | C.SYNTHETIC)) === 0;
  };

  /* The frames a tree inserts for one stack: focus re-roots (callees from the
   * outermost call; callers from the innermost), inverted reverses. null when
   * a focus is set and the stack does not pass through it. */
  Processor.prototype.path = function (stack) {
    var frames = this.frames(stack), o = this.o;
    if (o.focus) {
      var at = -1;
      for (var i = 0; i < frames.length; i++)
        if (frames[i].fn === o.focus && (at < 0 || o.inverted)) at = i;
      if (at < 0) return null;
      frames = o.inverted ? frames.slice(0, at + 1) : frames.slice(at);
    }
    return o.inverted ? frames.slice().reverse() : frames;
  };

  /* ---- call trees ------------------------------------------------------------ */

  function Node(parent, kind, fn, line) {
    this.parent = parent; this.kind = kind; this.fn = fn; this.line = line;
    this.total = 0; this.self = 0; this.thread = 0;
    this.hidden = null; this.map = null; this.children = null; this.id = 0; this.depth = 0;
  }

  function childOf(node, key, kind, fn, line) {
    if (!node.map) node.map = new Map();
    var c = node.map.get(key);
    if (!c) { c = new Node(node, kind, fn, line); node.map.set(key, c); }
    return c;
  }

  function addHidden(node, hidden) {
    if (!node.hidden) node.hidden = new Set();
    for (var i = 0; i < hidden.length; i++) node.hidden.add(hidden[i]);
  }

  function insertPath(node, path, value, aggregateCalls) {
    for (var j = 0; j < path.length; j++) {
      var f = path[j];
      node = childOf(node, aggregateCalls ? f.fn : f.fn + ":" + f.line, "frame", f.fn,
                     aggregateCalls ? 0 : f.line);
      node.total += value;
      if (f.hidden) addHidden(node, f.hidden);
    }
    node.self += value;
  }

  /* Turns child maps into arrays sorted by total (largest first) and numbers
   * the nodes depth-first; iterative, since stacks can be thousands deep. */
  function finish(root) {
    var nodes = [], todo = [root];
    while (todo.length) {
      var n = todo.pop();
      n.id = nodes.length;
      nodes.push(n);
      n.children = n.map ? Array.from(n.map.values()) : [];
      n.map = null;
      n.children.sort(function (a, b) { return b.total - a.total || a.fn - b.fn; });
      for (var i = n.children.length - 1; i >= 0; i--) {
        n.children[i].depth = n.depth + 1;
        todo.push(n.children[i]);
      }
    }
    return nodes;
  }

  /* Builds the call tree for options o: {thread, metric, inverted, focus,
   * groupLibrary, hideImportlib, hideProfiler, aggregateCalls,
   * collapseRecursion, exclude}. Returns {root, nodes, processor, options}.
   * With thread "all" and several threads, the root's children are threads. */
  P.buildTree = function (profile, o) {
    var processor = new Processor(profile, o);
    var agg = profile.agg;
    var only = o.thread !== "all" && o.thread !== "merged" ? Number(o.thread) : 0;
    var root = new Node(null, "root", 0, 0);
    var threadRoots = o.thread === "all" && profile.threads.length > 1;
    for (var i = 0; i < profile.aggregateCount; i++) {
      var thread = agg.thread[i];
      if (only && thread !== only) continue;
      var value = profile.value(i, o.metric);
      if (!value) continue;
      var stack = agg.stack[i];
      var path = stack ? processor.path(stack) : [];
      if (!path || (!stack && o.focus)) continue;
      var node = root;
      root.total += value;
      if (threadRoots) {
        node = childOf(root, "t" + thread, "thread", 0, 0);
        node.thread = thread;
        node.total += value;
      }
      if (!stack) {
        node = childOf(node, "none", "nostack", 0, 0);
        node.total += value;
        node.self += value;
        continue;
      }
      insertPath(node, path, value, o.aggregateCalls);
    }
    return { root: root, nodes: finish(root), processor: processor, options: o, profile: profile };
  };

  /* Display name of a tree node. */
  P.nodeName = function (profile, node) {
    switch (node.kind) {
      case "root": return "all";
      case "thread": return profile.threadLabel(node.thread);
      case "nostack": return "[no Python frame]";
      case "self": return "[self]";
      default: return profile.name(node.fn);
    }
  };

  /* "N frames hidden (json, re)" for a library group node, else "". */
  P.hiddenText = function (profile, node) {
    if (!node.hidden || !node.hidden.size) return "";
    var libs = [];
    node.hidden.forEach(function (fn) {
      var lib = profile.library(fn);
      if (lib && libs.indexOf(lib) < 0) libs.push(lib);
    });
    libs.sort();
    var n = node.hidden.size;
    return n + (n === 1 ? " frame hidden" : " frames hidden") + (libs.length ? " (" + libs.join(", ") + ")" : "");
  };

  /* Totals of one function under the thread and metric of o, from the raw
   * stacks (no processor): {total, self, lines: [{line, self, total}]}, where
   * total counts a sample once however often the function recurses, and the
   * lines are those executing in its frames. */
  P.functionStats = function (profile, o, fn) {
    var agg = profile.agg, only = o.thread !== "all" && o.thread !== "merged" ? Number(o.thread) : 0;
    var total = 0, self = 0, lines = new Map();
    function line(n) {
      var e = lines.get(n);
      if (!e) { e = { line: n, self: 0, total: 0, mark: -1 }; lines.set(n, e); }
      return e;
    }
    for (var i = 0; i < profile.aggregateCount; i++) {
      if ((only && agg.thread[i] !== only) || !agg.stack[i]) continue;
      var value = profile.value(i, o.metric);
      if (!value) continue;
      var locs = profile.stackLocations(agg.stack[i]), seen = false;
      for (var j = 0; j < locs.length; j++) {
        if (profile.locFn[locs[j] - 1] !== fn) continue;
        seen = true;
        var e = line(profile.locLine[locs[j] - 1]);
        if (e.mark !== i) { e.total += value; e.mark = i; }
        if (j === locs.length - 1) { self += value; e.self += value; }
      }
      if (seen) total += value;
    }
    var list = Array.from(lines.values());
    list.sort(function (a, b) { return a.line - b.line; });
    return { total: total, self: self, lines: list };
  };

  P.Profile = Profile;
})(PYI);
