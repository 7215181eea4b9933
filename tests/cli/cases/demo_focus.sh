$REPORT --focus "^fetch$" --no-header demo.pyitrace
