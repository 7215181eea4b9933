$REPORT -r collapsed demo.pyitrace
