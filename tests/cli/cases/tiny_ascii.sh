$REPORT --ascii tiny.pyitrace
