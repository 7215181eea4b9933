: > zero.pyitrace && $REPORT zero.pyitrace
