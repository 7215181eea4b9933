#!/bin/sh
# Writes three diff pages (a regression, the same pair reversed, and the
# "browser" fixture against itself) and works them in chromium (diff_test.js).
# usage: run_diff.sh BIN_DIR WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 work=$2
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium is missing (scripts/install-deps.sh installs it)"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$bin/pyinst-fixture" diff "$work/base.pyitrace" seed=11
"$bin/pyinst-fixture" diff "$work/slow.pyitrace" seed=13 share=0.3
"$bin/pyinst-fixture" browser "$work/browser.pyitrace"
report="$bin/pyinst-report"
status=0
"$report" diff -q "$work/base.pyitrace" -- "$work/slow.pyitrace" -o "$work/slower.html" || status=$?
[ "$status" -eq 1 ] || { echo "FAIL: the regression diff exited $status"; exit 1; }
"$report" diff -q "$work/slow.pyitrace" -- "$work/base.pyitrace" -o "$work/faster.html"
"$report" diff -q "$work/browser.pyitrace" -- "$work/browser.pyitrace" -o "$work/hostile.html"
# The trace's "</script>" names are escaped in the data block: only the page's own
# two script elements close.
closes=$(grep -o -i '</script' "$work/hostile.html" | wc -l)
[ "$closes" -eq 2 ] || { echo "FAIL: $closes '</script' in the diff page, expected 2"; exit 1; }
echo "static: 1 passed, 0 failed"
NODE_PATH="$here/node_modules" node "$here/diff_test.js" "$work/slower.html" "$work/faster.html" \
    "$work/hostile.html"
