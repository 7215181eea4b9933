#!/bin/sh
# Runs one black-box case of pyinst-report: tests/cli/cases/NAME.sh is run by
# sh in a scratch folder holding the fixture traces (tiny, demo, hostile,
# empty: see tests/fixtures), with $REPORT and $FIXTURE set; its stdout,
# stderr and exit status must equal NAME.stdout, NAME.stderr and NAME.exit
# exactly. With UPDATE=1 the expectations are rewritten instead.
# usage: run_case.sh NAME BIN_DIR WORK_DIR
set -eu
name=$1 bin=$(cd "$2" && pwd) work=$3
cases=$(cd "$(dirname "$0")/cases" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
for f in tiny demo hostile empty; do "$bin/pyinst-fixture" "$f" "$f.pyitrace"; done
export REPORT="$bin/pyinst-report" FIXTURE="$bin/pyinst-fixture"
export NO_COLOR= LC_ALL=C.UTF-8 TZ=UTC
set +e
sh -eu "$cases/$name.sh" > stdout 2> stderr < /dev/null
echo $? > exit
set -e
if [ "${UPDATE:-0}" = 1 ]; then
    cp stdout "$cases/$name.stdout"; cp stderr "$cases/$name.stderr"; cp exit "$cases/$name.exit"
    echo "updated $name"
    exit 0
fi
status=0
for part in exit stdout stderr; do
    if ! cmp -s "$part" "$cases/$name.$part"; then
        echo "FAIL $name: $part differs (expected, then actual):"
        diff "$cases/$name.$part" "$part" | head -40
        status=1
    fi
done
[ $status = 0 ] && echo "ok $name"
exit $status
