$REPORT --from soon tiny.pyitrace
