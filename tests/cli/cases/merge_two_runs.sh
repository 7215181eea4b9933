$REPORT merge tiny.pyitrace tiny.pyitrace demo.pyitrace -o all.pyitrace
$REPORT --no-header all.pyitrace | head -8
$REPORT info all.pyitrace | grep -E "^samples|^lost"
