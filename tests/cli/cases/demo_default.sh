$REPORT demo.pyitrace
