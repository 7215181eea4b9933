python3 -c "
d = open(\"demo.pyitrace\", \"rb\").read()
open(\"cut.pyitrace\", \"wb\").write(d[:len(d) // 2])"
$REPORT --no-header cut.pyitrace
