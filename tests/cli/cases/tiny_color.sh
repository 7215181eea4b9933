$REPORT --color --no-header tiny.pyitrace
