for r in text json speedscope collapsed; do $REPORT -r $r empty.pyitrace | head -c 300; echo; done
$REPORT -r pprof empty.pyitrace -o e.pb.gz && gzip -t e.pb.gz && echo pprof ok
