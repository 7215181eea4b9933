#!/bin/sh
# Writes the "browser" fixture's html report and works it in chromium
# (report_test.js). usage: run.sh BIN_DIR WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 work=$2
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium is missing (scripts/install-deps.sh installs it)"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$bin/pyinst-fixture" browser "$work/browser.pyitrace"
"$bin/pyinst-report" -q -r html -o "$work/browser.html" "$work/browser.pyitrace"
# 5000 distinct deep stacks: more stack nodes than the page keeps
"$bin/pyinst-fixture" wide "$work/wide.pyitrace" 100000
"$bin/pyinst-report" -q -r html -o "$work/wide.html" "$work/wide.pyitrace"
# The trace's "</script>" names are escaped in the data block: only the page's own
# two script elements close.
closes=$(grep -o -i '</script' "$work/browser.html" | wc -l)
[ "$closes" -eq 2 ] || { echo "FAIL: $closes '</script' in the report, expected 2"; exit 1; }
echo "static: 1 passed, 0 failed"
NODE_PATH="$here/node_modules" node "$here/report_test.js" "$work/browser.html" "$work/wide.html"
