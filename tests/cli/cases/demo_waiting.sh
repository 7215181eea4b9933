$REPORT --waiting --no-header demo.pyitrace
