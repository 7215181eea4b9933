$REPORT --flat --metric cpu --no-header hostile.pyitrace
