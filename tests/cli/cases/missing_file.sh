$REPORT missing.pyitrace
