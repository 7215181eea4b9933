$REPORT tiny.pyitrace missing.pyitrace
