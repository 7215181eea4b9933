$REPORT --no-header tiny.pyitrace 2>&1 >/dev/null | wc -c
