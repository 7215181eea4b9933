$REPORT tiny.pyitrace
