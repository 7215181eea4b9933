PYTHONDONTWRITEBYTECODE=1 $REPORT convert hostile.pyitrace -o h.json
python3 -c "
import json
raw = open(\"h.json\").read()
assert \"<\" not in raw and \">\" not in raw, \"raw angle brackets in JSON\"
doc = json.load(open(\"h.json\"))
names = sorted(f[\"name\"] for f in doc[\"functions\"])
print(\"\\n\".join(repr(n) for n in names))
print(doc[\"threads\"][0][\"name\"])"
