NO_COLOR=1 $REPORT --no-header tiny.pyitrace
