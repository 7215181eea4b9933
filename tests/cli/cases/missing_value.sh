$REPORT tiny.pyitrace --from
