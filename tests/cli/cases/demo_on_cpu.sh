$REPORT --on-cpu --no-header demo.pyitrace
