$REPORT -r pprof tiny.pyitrace | gzip -t && echo "pprof to a pipe is fine"
