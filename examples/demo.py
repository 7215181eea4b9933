"""The bundled example for `./dev.sh demo`: a small program whose profile
has an obvious shape (a busy function, a sleeping one, a worker thread, and
some library calls), so the report can be checked by eye."""
import json
import threading
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def busy():
    """Pure Python work: about half of the main thread's time."""
    return fib(27)


def wait_for_io():
    """Time spent waiting in C: shows as time.sleep under this function."""
    time.sleep(0.15)


def encode_documents():
    docs = [{"id": i, "tags": ["a", "b", "c"], "score": i / 7} for i in range(20000)]
    return len(json.dumps(docs))


def worker():
    for _ in range(3):
        time.sleep(0.05)
        fib(18)


def main():
    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    for _ in range(2):
        busy()
        wait_for_io()
    encode_documents()
    thread.join()


if __name__ == "__main__":
    main()
