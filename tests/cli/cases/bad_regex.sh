$REPORT --focus "(" tiny.pyitrace
