$REPORT --callers lock.acquire --no-header demo.pyitrace
