# Under a pseudo-terminal (util-linux script): progress on stderr and colours
# on stdout; NO_COLOR turns colours off; binary output to a terminal is refused.
tty() { script -qec "$1" /dev/null | tr -d '\r'; }
tty "$REPORT --no-header tiny.pyitrace" | od -c | head -3
echo "--- NO_COLOR=1"
tty "NO_COLOR=1 $REPORT -q --no-header tiny.pyitrace"
echo "--- pprof"
tty "$REPORT -q -r pprof tiny.pyitrace; echo status \$?"
