$REPORT --help | head -12
