$REPORT --bogus tiny.pyitrace
