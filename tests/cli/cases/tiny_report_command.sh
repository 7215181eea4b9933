$REPORT report --no-header tiny.pyitrace
