# A 200 000-sample trace spans several chunks; damage in one of them: the
# strict load refuses, --salvage keeps the other chunks and warns once.
$FIXTURE big big.pyitrace 200000
python3 -c "
d = bytearray(open('big.pyitrace', 'rb').read())
d[len(d) // 2] ^= 0x55
open('hurt.pyitrace', 'wb').write(d)"
$REPORT -q hurt.pyitrace > /dev/null 2>&1 || echo "strict load: status $?"
$REPORT --salvage -r json hurt.pyitrace | python3 -c "
import json, sys
doc = json.load(sys.stdin)
kept = doc['totals']['samples']
print('salvaged a part:', 0 < kept < 200000)"
