$REPORT convert tiny.pyitrace
