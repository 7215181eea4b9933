$REPORT merge tiny.pyitrace
