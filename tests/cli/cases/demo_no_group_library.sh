$REPORT --no-group-library --no-header demo.pyitrace
