$REPORT --from 0.2 --to 0.5 --no-header demo.pyitrace
