$REPORT --no-aggregate-calls --no-merge-self --show-all --no-header demo.pyitrace
