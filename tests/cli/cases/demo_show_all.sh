$REPORT --show-all --no-header demo.pyitrace
