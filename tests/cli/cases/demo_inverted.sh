$REPORT --inverted --no-header demo.pyitrace
