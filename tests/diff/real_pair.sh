#!/bin/sh
# A real pair for `pyinst-report diff`: one small Python program recorded
# twice as it is, then once with one function made four times slower. The
# first pair must pass and the second fail, naming that function first. The
# bounds are loose (a share must move by more than 10 points) because the
# machine is noisy. Exits 77 (skipped) until pyinst-record is built.
# usage: real_pair.sh BIN_DIR WORK_DIR   (PYINST_RECORD overrides the recorder)
set -eu
bin=$(cd "$1" && pwd) work=$2
record=${PYINST_RECORD:-$bin/pyinst-record}
if [ ! -x "$record" ]; then
    echo "skipped: $record is not built yet"
    exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
rm -rf "$work" && mkdir -p "$work" && cd "$work"

cat > work.py <<'EOF'
import hashlib
import json
import sys

SLOWDOWN = int(sys.argv[1])


def encode_orders(n):
    return json.loads(json.dumps([{"id": i, "sku": "x%d" % i} for i in range(n)]))


def checksum(n):
    h = hashlib.sha256()
    for i in range(n):
        h.update(b"%d" % i)
    return h.hexdigest()


def price_total(n):
    total = 0
    for i in range(n * SLOWDOWN):
        total += i * i % 7
    return total


for _ in range(400):
    encode_orders(1500)
    checksum(2500)
    price_total(12000)
EOF

"$record" -q -o base1.pyitrace work.py 1
"$record" -q -o base2.pyitrace work.py 1
"$record" -q -o slower.pyitrace work.py 4

status=0
set +e
"$bin/pyinst-report" diff --no-color --fail-on share:10 base1.pyitrace -- base2.pyitrace \
    > same.txt 2>&1
same=$?
"$bin/pyinst-report" diff --no-color --fail-on share:10 base1.pyitrace -- slower.pyitrace \
    > slower.txt 2>&1
slower=$?
set -e
if [ "$same" -ne 0 ]; then
    echo "FAIL: the same program recorded twice gave exit $same, expected 0"
    cat same.txt
    status=1
fi
if [ "$slower" -ne 1 ]; then
    echo "FAIL: the slower program gave exit $slower, expected 1"
    cat slower.txt
    status=1
fi
first=$(sed -n '/^Slower/{n;n;p;q}' slower.txt)
case $first in
*price_total*) ;;
*) echo "FAIL: price_total is not named first: '$first'"; cat slower.txt; status=1 ;;
esac
[ "$status" -ne 0 ] || echo "real pair: same program passes, slower one fails naming price_total"
exit "$status"
