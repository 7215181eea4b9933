for o in a.json a.speedscope.json a.pb.gz a.folded a.txt; do $REPORT convert demo.pyitrace -o $o; done
head -c 40 a.json; echo; head -c 60 a.speedscope.json; echo; gzip -t a.pb.gz && echo gzip ok; head -1 a.folded; head -1 a.txt
