# 300 damaged copies of the demo trace (bit flips, cuts, garbage, splices):
# every run ends with status 0 or 2 and one clear line, never a crash.
python3 - <<'PY'
import random
random.seed(4)
data = open("demo.pyitrace", "rb").read()
for i in range(300):
    d = bytearray(data)
    kind = i % 4
    if kind == 0:
        for _ in range(random.randint(1, 8)):
            d[random.randrange(len(d))] ^= 1 << random.randrange(8)
    elif kind == 1:
        d = d[:random.randrange(len(d))]
    elif kind == 2:
        at = random.randrange(len(d))
        d[at:at + 64] = bytes(random.randrange(256) for _ in range(64))
    else:
        at = random.randrange(len(d))
        d = d[:at] + d[random.randrange(len(d)):]
    open("bad-%03d.pyitrace" % i, "wb").write(bytes(d))
PY
ok=0 refused=0 other=0
for f in bad-*.pyitrace; do
    for salvage in "" --salvage; do
        set +e
        $REPORT -q $salvage "$f" > out.txt 2> err.txt
        status=$?
        set -e
        if grep -q "runtime error\|Sanitizer\|Segmentation" err.txt; then cat err.txt; exit 1; fi
        case $status in
        0) ok=$((ok + 1)) ;;
        2) refused=$((refused + 1)); [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; exit 1; } ;;
        *) other=$((other + 1)); echo "status $status on $f $salvage" ;;
        esac
    done
done
echo "runs: $((ok + refused + other)); other statuses: $other"
