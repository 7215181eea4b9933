$REPORT --lines --no-header demo.pyitrace
