$FIXTURE deep deep.pyitrace
$REPORT --no-header --show-all deep.pyitrace > deep.txt
echo "text: $(wc -l < deep.txt) lines; last: $(tail -1 deep.txt | sed 's/^[^0-9]*//')"
$REPORT --collapse-recursion --no-header deep.pyitrace
for r in json speedscope pprof collapsed; do
    $REPORT -q -r $r deep.pyitrace -o deep.$r && echo "$r: $(wc -c < deep.$r) bytes"
done
python3 -c "
import json, sys
sys.setrecursionlimit(20000)
node, depth = json.load(open('deep.json'))['root'], 0
while node['children']:
    node, depth = node['children'][0], depth + 1
print('json tree depth', depth)"
