$REPORT tiny.pyitrace > /dev/full || echo "status $?"
$REPORT -r json demo.pyitrace -o /dev/full || echo "status $?"
$REPORT tiny.pyitrace -o no/such/dir/r.txt || echo "status $?"
