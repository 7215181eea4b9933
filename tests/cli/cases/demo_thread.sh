$REPORT --thread worker-1 --no-header demo.pyitrace
