echo "hello, not a trace" > notes.pyitrace && $REPORT notes.pyitrace
