$REPORT --flat --metric cpu --no-header demo.pyitrace
