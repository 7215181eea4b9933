mkdir -p adir && $REPORT adir
