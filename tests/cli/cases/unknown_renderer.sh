$REPORT -r nope tiny.pyitrace
