#!/bin/sh
# Black-box tests of `pyinst-report diff`: exit codes (0 clean, 1 regression,
# 2 usage or input error), the text verdict and ranking, every -o format
# (JSON parsed by python3, Markdown and folded checked line by line), hostile
# names, renamed/moved functions, different programs and empty traces.
# usage: cli_diff.sh BIN_DIR WORK_DIR
set -eu
bin=$(cd "$1" && pwd) work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
report="$bin/pyinst-report"
fixture="$bin/pyinst-fixture"
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect STATUS NAME COMMAND...: runs COMMAND, stdout in NAME.out, stderr in NAME.err.
expect() {
    want=$1 name=$2
    shift 2
    set +e
    "$@" >"$name.out" 2>"$name.err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || { fail "$name: exit $got, expected $want"; sed 's/^/  | /' "$name.err"; }
}

contains() { # FILE TEXT
    grep -qF -- "$2" "$1" || fail "$1 lacks '$2'"
}

lacks() { # FILE TEXT
    if grep -qF -- "$2" "$1"; then fail "$1 has '$2'"; fi
}

"$fixture" diff base.pyitrace seed=11
"$fixture" diff same.pyitrace seed=12
"$fixture" diff slow.pyitrace seed=13 share=0.3
"$fixture" diff renamed.pyitrace seed=14 variant=renamed
"$fixture" diff moved.pyitrace seed=15 variant=moved
"$fixture" diff other.pyitrace seed=16 variant=other
for i in 1 2 3; do
    "$fixture" diff "b$i.pyitrace" 5000 seed=$((100 + i))
    "$fixture" diff "n$i.pyitrace" 5000 seed=$((300 + i))
    "$fixture" diff "h$i.pyitrace" 5000 seed=$((200 + i)) share=0.5
done
"$fixture" empty empty.pyitrace
"$fixture" hostile hostile.pyitrace
printf 'not a trace at all\n' > garbage.pyitrace

# ---- Verdicts ---------------------------------------------------------------------
expect 1 regression "$report" diff --no-color base.pyitrace -- slow.pyitrace
contains regression.out "Verdict: REGRESSION (exit status 1)"
# The first row of the "Slower" table names the slower function.
sed -n '/^Slower/{n;n;p;q}' regression.out > first-row.txt
contains first-row.txt "compute_prices  pricing.py"
contains regression.out "a function's self or total share up > 3 points: "

expect 0 clean "$report" diff --no-color base.pyitrace -- same.pyitrace
contains clean.out "Verdict: no regression (exit status 0)"
contains clean.out "total time not tested: one run per side"

expect 0 fail-on-none "$report" diff --fail-on none base.pyitrace -- slow.pyitrace
contains fail-on-none.out "no checks (--fail-on none)"
expect 0 loose "$report" diff --fail-on share:50 base.pyitrace -- slow.pyitrace
expect 1 runs "$report" diff --alpha 0.05 --fail-on total:5 b1.pyitrace b2.pyitrace b3.pyitrace -- \
    h1.pyitrace h2.pyitrace h3.pyitrace
contains runs.out "total time per run up > 5%"
contains runs.out "-> FAILS"
expect 0 runs-clean "$report" diff b1.pyitrace b2.pyitrace b3.pyitrace -- n1.pyitrace \
    n2.pyitrace n3.pyitrace
expect 1 path "$report" diff --fail-on path:3 base.pyitrace -- slow.pyitrace
contains path.out "a call path's total share up > 3 points"

# -q: nothing on stdout, the verdict on stderr
expect 1 quiet "$report" diff -q base.pyitrace -- slow.pyitrace
[ -s quiet.out ] && fail "quiet: stdout is not empty"
contains quiet.err "pyinst-report diff: REGRESSION"

# ---- Renamed, moved, different programs ------------------------------------------------
expect 0 renamed "$report" diff --no-color --limit 100 base.pyitrace -- renamed.pyitrace
contains renamed.out "compute_totals  pricing.py:12  [renamed from compute_prices]"
expect 0 moved "$report" diff --no-color --limit 100 base.pyitrace -- moved.pyitrace
contains moved.out "validate  checks.py:10  [moved from validation.py]"
expect 2 other "$report" diff --no-color base.pyitrace -- other.pyitrace
contains other.out "NOT COMPARABLE"
contains other.out "no function in common"

# ---- Input and usage errors: one line, naming the file ----------------------------------
expect 2 no-separator "$report" diff base.pyitrace slow.pyitrace
contains no-separator.err "BASE.pyitrace... -- HEAD.pyitrace..."
expect 2 no-head "$report" diff base.pyitrace --
expect 2 missing "$report" diff base.pyitrace -- nowhere.pyitrace
contains missing.err "nowhere.pyitrace"
expect 2 empty "$report" diff base.pyitrace -- empty.pyitrace
contains empty.err "empty.pyitrace: no samples to compare"
expect 2 garbage "$report" diff garbage.pyitrace -- base.pyitrace
contains garbage.err "garbage.pyitrace"
expect 2 bad-fail-on "$report" diff --fail-on speed:3 base.pyitrace -- same.pyitrace
contains bad-fail-on.err "--fail-on takes"
expect 2 bad-output "$report" diff base.pyitrace -- same.pyitrace -o report.docx
contains bad-output.err "report.docx"
for name in missing empty garbage bad-fail-on bad-output no-separator; do
    [ "$(wc -l < "$name.err")" -eq 1 ] || fail "$name: the error is not one line"
done
expect 0 help "$report" diff --help
contains help.out "EXIT STATUS"

# ---- Outputs ---------------------------------------------------------------------------
expect 1 outputs "$report" diff -q base.pyitrace -- slow.pyitrace -o d.json -o d.md -o d.folded \
    -o d.txt
python3 - d.json <<'EOF' || fail "d.json does not hold what it should"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "pyinst-diff-json" and d["version"] == 1, d["schema"]
assert d["verdict"]["regression"] is True and d["verdict"]["exit_status"] == 1
assert d["thresholds"] == {"total_percent": 5, "share_points": 3, "path_points": None}
top = d["functions"][0]
assert top["name"] == "compute_prices" and top["fails"] and top["rank"] == 1, top["name"]
assert 0.05 < top["self_share"]["base"] < 0.15 and 0.25 < top["self_share"]["head"] < 0.4
assert top["self_share"]["low"] > 0.03 and top["self_share"]["p_adjusted"] < 0.01
assert d["sides"]["base"]["runs"] == 1 and d["sides"]["base"]["traces"][0]["path"] == "base.pyitrace"
def walk(node):  # every node adds up: self + children = total, on both sides
    for side in ("base", "head"):
        kids = sum(c["total_time"][side] for c in node["children"])
        total = node["total_time"][side]
        assert abs(node["self_time"][side] + kids - total) <= 1e-9 + 1e-6 * total, node.get("name")
    for c in node["children"]:
        walk(c)
walk(d["tree"])
assert abs(d["tree"]["total_time"]["base"] - d["sides"]["base"]["total_per_run"]) < 1e-6
EOF
contains d.md "### ❌ pyinst diff: regression"
contains d.md "| **compute\\_prices**<br>pricing.py:12 |"
contains d.md "<details><summary>Call tree"
contains d.txt "Verdict: REGRESSION"
lacks d.txt "$(printf '\033')"
# folded: every line "frames base head" with integer counts; totals match the JSON in us
awk 'NF < 3 || $(NF-1) !~ /^[0-9]+$/ || $NF !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' d.folded ||
    fail "d.folded has a malformed line"
python3 - d.folded d.json <<'EOF' || fail "d.folded totals differ from the JSON"
import json, sys
base = head = 0
for line in open(sys.argv[1]):
    fields = line.rsplit(" ", 2)
    base += int(fields[1]); head += int(fields[2])
d = json.load(open(sys.argv[2]))
for side, total in (("base", base), ("head", head)):
    want = d["sides"][side]["total_per_run"] * 1e6
    assert abs(total - want) < 1 + 1e-4 * want, (side, total, want)
EOF
expect 1 stdout-json "$report" diff -r json base.pyitrace -- slow.pyitrace
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' stdout-json.out || fail "-r json"
contains stdout-json.err "pyinst-report diff: REGRESSION"

# ---- Hostile names: escaped in every format ------------------------------------------------
expect 0 hostile "$report" diff hostile.pyitrace -- hostile.pyitrace -o h.json -o h.md -o h.folded \
    -o h.html
[ "$(grep -o -i '</script' h.html | wc -l)" -eq 2 ] || fail "h.html: a name closed a script element"
contains h.html '"format":"pyinst-diff-html"'
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' h.json || fail "h.json is not JSON"
lacks h.json "<script>"
lacks h.md "<script>"
lacks h.md "<img"
contains h.md "&#60;script&#62;"
lacks hostile.out "$(printf '\001')"
contains hostile.out 'new\nline\ttab\x01ctl'
[ "$(wc -l < h.folded)" -eq 6 ] || fail "h.folded: a name broke a line"

# ---- Independent cross-check: go tool pprof -diff_base --------------------------------------
go=$(command -v go || ls /usr/lib/go-*/bin/go 2>/dev/null | head -1 || true)
if [ -n "$go" ]; then
    "$report" convert -q base.pyitrace -o base.pb.gz
    "$report" convert -q slow.pyitrace -o slow.pb.gz
    "$go" tool pprof -top -flat -unit=ms -sample_index=wall -diff_base=base.pb.gz slow.pb.gz \
        > pprof.top 2>/dev/null
    python3 - pprof.top d.json <<'EOF' || fail "go tool pprof disagrees with the diff"
import json, re, sys
flat = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*(-?[\d.]+)ms\s+\S+\s+\S+\s+(-?[\d.]+)ms\s+\S+\s+(.+?)\s*$", line)
    if m:
        flat[m.group(3)] = (float(m.group(1)), float(m.group(2)))
d = json.load(open(sys.argv[2]))
checked = 0
for f in d["functions"]:
    if f["name"] in flat and f["presence"] == "both":
        self_ms, total_ms = flat[f["name"]]
        assert abs(self_ms - f["self_time"]["delta"] * 1e3) < 1, (f["name"], self_ms, f["self_time"])
        assert abs(total_ms - f["total_time"]["delta"] * 1e3) < 1, (f["name"], total_ms, f["total_time"])
        checked += 1
assert checked >= 5, checked
print("go tool pprof -diff_base agrees on", checked, "functions")
EOF
else
    echo "go tool pprof not installed: that cross-check is skipped"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli_diff: all passed"
