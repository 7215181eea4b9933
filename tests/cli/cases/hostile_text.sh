$REPORT hostile.pyitrace
