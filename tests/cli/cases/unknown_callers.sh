$REPORT --callers nosuchfunction tiny.pyitrace
