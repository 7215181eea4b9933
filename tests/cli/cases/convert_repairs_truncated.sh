python3 -c "
d = open(\"demo.pyitrace\", \"rb\").read()
open(\"cut.pyitrace\", \"wb\").write(d[:-70])"
$REPORT convert cut.pyitrace -o fixed.pyitrace && $REPORT info --verify fixed.pyitrace | tail -2
