$REPORT --callees main --no-header demo.pyitrace
