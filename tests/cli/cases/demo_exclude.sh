$REPORT --exclude "^time\.sleep$" --exclude-file "json/" --no-header demo.pyitrace
