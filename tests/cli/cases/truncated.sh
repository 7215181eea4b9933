python3 -c "
d = open(\"demo.pyitrace\", \"rb\").read()
open(\"cut.pyitrace\", \"wb\").write(d[:-70])"
$REPORT --no-header cut.pyitrace
