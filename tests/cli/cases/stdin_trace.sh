cat tiny.pyitrace | $REPORT --no-header -
