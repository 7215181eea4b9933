$REPORT --collapse-recursion --no-header demo.pyitrace
