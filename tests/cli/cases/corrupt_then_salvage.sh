python3 -c "
d = bytearray(open('demo.pyitrace', 'rb').read())
d[600] ^= 0xff  # inside the only chunk: its checksum fails
open('flip.pyitrace', 'wb').write(d)"
$REPORT flip.pyitrace || echo "status $?"
$REPORT --salvage --no-header flip.pyitrace
