$REPORT --flat --no-header tiny.pyitrace
