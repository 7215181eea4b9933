$REPORT convert demo.pyitrace -o copy.pyitrace
$REPORT dump demo.pyitrace | grep -v "\"chunk\"\|\"header\"\|\"stats\"\|\"end\"" > a.jsonl
$REPORT dump copy.pyitrace | grep -v "\"chunk\"\|\"header\"\|\"stats\"\|\"end\"" > b.jsonl
cmp a.jsonl b.jsonl && wc -l < a.jsonl
$REPORT demo.pyitrace > a.txt && $REPORT copy.pyitrace > b.txt && cmp a.txt b.txt && echo same report
