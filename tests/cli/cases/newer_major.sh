python3 -c "
d = bytearray(open(\"tiny.pyitrace\", \"rb\").read())
d[16] = 9  # header payload: tag (8 bytes) then the u16 major
open(\"newer.pyitrace\", \"wb\").write(d)"
$REPORT newer.pyitrace
