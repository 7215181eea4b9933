$REPORT --percent --no-header tiny.pyitrace
