#!/usr/bin/env python3
"""Crafts the committed test traces byte by byte: spec/vectors/ (read by both
readers, spec §10) and tests/golden/{valid,invalid}/ (the C reader's exact
messages). Run it after a format change, review the diff, commit the files.

It encodes msgpack and frames by hand and compresses chunks with the `zstd`
command, so it can also write what the C writer never would: unknown record
types, unknown frames, newer versions, and every kind of damage.

usage: make_traces.py --bin build/dev/bin
  (pyi-write-sample writes c_writer.pyitrace; pyinst-report's canonical dump
  becomes each valid vector's .json and each invalid golden trace's .error:
  review those diffs, they are what the readers are held to)
"""
import argparse
import os
import struct
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(ROOT, "spec", "vectors")
GOLDEN = os.path.join(ROOT, "tests", "golden")

# ---- msgpack -------------------------------------------------------------


class Ext:
    """A msgpack ext value (only unknown records may hold one)."""

    def __init__(self, code, data):
        self.code, self.data = code, data


class Raw:
    """Bytes inserted verbatim: for deliberately malformed msgpack."""

    def __init__(self, data):
        self.data = data


def pack(v):
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7F:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            for code, fmt, top in ((0xCC, ">B", 0xFF), (0xCD, ">H", 0xFFFF),
                                   (0xCE, ">I", 0xFFFFFFFF), (0xCF, ">Q", 2**64 - 1)):
                if v <= top:
                    return bytes([code]) + struct.pack(fmt, v)
        for code, fmt, low in ((0xD0, ">b", -128), (0xD1, ">h", -2**15),
                               (0xD2, ">i", -2**31), (0xD3, ">q", -2**63)):
            if v >= low:
                return bytes([code]) + struct.pack(fmt, v)
        raise ValueError(v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        return pack_str(v.encode("utf-8"))
    if isinstance(v, bytes):
        n = len(v)
        head = bytes([0xC4, n]) if n < 256 else b"\xc5" + struct.pack(">H", n)
        return head + v
    if isinstance(v, Ext):
        return bytes([0xC7, len(v.data), v.code]) + v.data
    if isinstance(v, (list, tuple)):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def pack_str(b):
    n = len(b)
    if n < 32:
        return bytes([0xA0 | n]) + b
    if n < 256:
        return bytes([0xD9, n]) + b
    return b"\xda" + struct.pack(">H", n) + b


# ---- frames --------------------------------------------------------------

MAGIC_HEADER, MAGIC_INDEX = 0x184D2A5B, 0x184D2A5C


def skippable(magic, payload):
    return struct.pack("<II", magic, len(payload)) + payload


def header(meta, major=1, minor=0, incompat=0, compat=0, crc_delta=0):
    body = b"PYITRACE" + struct.pack("<HHII", major, minor, incompat, compat) + pack(meta)
    crc = (zlib.crc32(body) + crc_delta) & 0xFFFFFFFF
    return skippable(MAGIC_HEADER, body + struct.pack("<I", crc))


def compress(content, checksum=True):
    args = ["zstd", "-q", "-c", "-3", "--stream-size=%d" % len(content)]
    args.append("--check" if checksum else "--no-check")
    return subprocess.run(args, input=content, stdout=subprocess.PIPE, check=True).stdout


BASE_META = {
    "recorder": "make_traces 1", "mode": "wall", "clock": "CLOCK_MONOTONIC",
    "interval_ns": 1000000, "start_mono_ns": 1000000000, "start_wall_ns": 1764000000000000000,
}


class Trace:
    """Builds a file frame by frame, keeping what the index needs."""

    def __init__(self, meta=None, **header_args):
        self.data = bytearray(header(dict(BASE_META, **(meta or {})), **header_args))
        self.chunks = []  # (offset, size, content_size, first_us, last_us, samples)

    def chunk(self, records, checksum=True, samples=0, times=(0, 0)):
        content = b"".join(r.data if isinstance(r, Raw) else pack(r) for r in records)
        frame = compress(content, checksum)
        self.chunks.append((len(self.data), len(frame), len(content), times[0], times[1], samples))
        self.data += frame
        return self

    def raw(self, data):
        self.data += data
        return self

    def index(self, summary=None, break_crc=False, count_delta=0):
        offset = len(self.data)
        body = b"PYIINDEX" + pack([[list(c) for c in self.chunks], summary or {}])
        crc = zlib.crc32(body) ^ (1 if break_crc else 0)
        trailer = struct.pack("<QII", offset, len(self.chunks) + count_delta, crc) + b"PYIEND01"
        self.data += skippable(MAGIC_INDEX, body + trailer)
        return self

    def bytes(self):
        return bytes(self.data)


# ---- the traces ------------------------------------------------------------


def basic_records():
    """Two threads, two processes, every record type, non-ASCII text."""
    first = [
        [1, 0, 1000000],
        [2, 1, "<module>"], [2, 2, "/app/main.py"], [2, 3, "Wörker.run"],
        [2, 4, "函数"], [2, 5, "sleep"], [2, 6, "MainThread"], [2, 7, "worker-1"],
        [3, 1, 1, 2, 1, 0], [3, 2, 3, 2, 10, 0], [3, 3, 4, 2, 20, 0], [3, 4, 5, 0, 0, 1],
        [4, 1, 1, 30], [4, 2, 2, 12], [4, 3, 3, 22], [4, 4, 4, 0],
        [5, 1, 0, 1], [5, 2, 1, 2], [5, 3, 2, 3], [5, 4, 1, 4],
        [6, 1, 1, 4242, 6, 1], [6, 2, 1, 4243, 7, 0],
        [7, 1, 250, 3, 3, 1000],
        [7, 2, 260, 4, 0, 1000, 0],
        [7, 1, 1003, 3, 1],
        [7, 2, 1001, 4, 0, None, 3],
        [7, 1, 998, 2, 0x1F, None, 990],
        [8, 1, 2, 3, 3000],
        [8, 0, 1, 1, 0],
        [9, 0, 1500, 0, 5, {"interval_ns": 2000000, "why": "overload"}],
        [10, "sampler.rate_hz", 1000.5],
        [10, "tags", {"team": "ïnfra", "ids": [1, -2, None, True], "blob": b"\x00\xff"}],
    ]
    second = [
        [1, 1, 1003500],
        [11, 2, 1, 5000, {"argv": ["python3", "-c", "pass"], "cwd": "/tmp"}],
        [2, 8, "child-main"],
        [6, 3, 2, 5000, 8, 1],
        [6, 2, 1, 4243, 6, 0],
        [7, 3, -100, 1, 1, 900],
        [7, 2, 5, 4, 0, 700],
        [7, 3, 2000, 0, 0],
        [12, {"samples": 8, "lost": 4, "records": 46}],
    ]
    return first, second


def write_basic():
    return basic_trace().bytes()


def basic_trace():
    first, second = basic_records()
    t = Trace({"pid": 4242, "argv": ["python3", "app.py", "--flag"], "cwd": "/app",
               "hostname": "host-1", "platform": "linux-x86_64", "python": "3.11.7",
               "python_implementation": "CPython", "status_known": 7, "max_depth": 1024,
               "custom.note": "kept by readers"})
    t.chunk(first, samples=5, times=(1000250, 1002251))
    t.chunk(second, samples=3, times=(1003400, 1005400))
    return t.index({"samples": 8, "lost": 4})


def minimal():
    t = Trace().chunk([[1, 0, 1000], [12, {}]])
    return t.index({}).bytes()


def unclosed():
    first, _ = basic_records()
    return Trace().chunk(first[:24]).bytes()


def forward_compatible():
    """A newer minor: unknown records (one holding ext), an unknown skippable
    frame, extra fields on known records, unknown compat flags and keys."""
    t = Trace({"future.key": [1, 2]}, minor=7, compat=0x80000001)
    t.raw(skippable(0x184D2A5A, b"anything at all"))
    t.chunk([
        [1, 0, 500],
        [40, "a record from the future", Ext(5, b"xyz"), {"k": [1, 2]}],
        [2, 1, "f", "extra field"],
        [3, 1, 1, 0, 0, 9, "extra", "fields"],
        [4, 1, 1, 7, None],
        [5, 1, 0, 1, {"future": 1}],
        [6, 1, 1, 0, 0, 0xFF],
        [7, 1, 10, 1, 0x100, None, None, "extra"],
        [64, 1, 2, 3],
        [12, {}],
    ])
    t.raw(skippable(0x184D2A5F, b""))
    return t.index({}).bytes()


VALID = {
    "minimal": minimal,
    "basic": write_basic,
    "unclosed": unclosed,
    "forward_compatible": forward_compatible,
}

# Each invalid trace: (builder, error name).
def newer_major():
    return Trace({"recorder": "pyinst 9.9"}, major=2, minor=3).chunk([[1, 0, 0]]).bytes()


def chunk_after_index():
    t = Trace().chunk([[1, 0, 1000], [12, {}]]).index({})
    return t.chunk([[1, 1, 1000]]).bytes()


def corrupt_checksum():
    t = basic_trace()
    data = bytearray(t.bytes())
    offset, size = t.chunks[1][0], t.chunks[1][1]
    data[offset + size - 6] ^= 0x01  # the last content byte: only the checksum sees it
    return bytes(data)


def one_chunk(records):
    return Trace().chunk([[1, 0, 1000]] + records).bytes()


INVALID = {
    "empty": (lambda: b"", "E_EMPTY"),
    "text_file": (lambda: b"def main():\n    pass\n", "E_NOT_TRACE"),
    "plain_zstd": (lambda: compress(b"\x93\x01\x00\x00"), "E_NOT_TRACE"),
    "newer_major": (newer_major, "E_VERSION"),
    "incompat_flags": (lambda: Trace(incompat=1).bytes(), "E_VERSION"),
    "header_cut": (lambda: minimal()[:30], "E_TRUNCATED"),
    "header_crc": (lambda: Trace(crc_delta=1).bytes(), "E_CORRUPT"),
    "missing_required_key": (
        lambda: skippable(MAGIC_HEADER, b"PYITRACE" + struct.pack("<HHII", 1, 0, 0, 0)
                          + pack({"recorder": "x"}) + struct.pack(
                              "<I", zlib.crc32(b"PYITRACE" + struct.pack("<HHII", 1, 0, 0, 0)
                                               + pack({"recorder": "x"})))), "E_CORRUPT"),
    "wrong_key_type": (lambda: Trace({"interval_ns": "1ms"}).bytes(), "E_CORRUPT"),
    "chunk_checksum": (corrupt_checksum, "E_CORRUPT"),
    "chunk_without_checksum": (
        lambda: Trace().chunk([[1, 0, 1000], [12, {}]], checksum=False).bytes(), "E_CORRUPT"),
    "undefined_stack": (lambda: one_chunk([[2, 1, "t"], [6, 1, 1, 0, 1, 0],
                                           [7, 1, 5, 9, 0, 5]]), "E_CORRUPT"),
    "sparse_ids": (lambda: one_chunk([[2, 1, "a"], [2, 3, "b"]]), "E_CORRUPT"),
    "redefined_id": (lambda: one_chunk([[2, 1, "a"], [2, 1, "a"]]), "E_CORRUPT"),
    "negative_dt": (lambda: one_chunk([[6, 1, 1, 0, 0, 0], [7, 1, 5, 0, 0, 5],
                                       [7, 1, -1, 0, 0, 5]]), "E_CORRUPT"),
    "record_after_end": (lambda: one_chunk([[12, {}], [2, 1, "late"]]), "E_CORRUPT"),
    "invalid_utf8": (lambda: one_chunk([Raw(b"\x93\x02\x01\xa2\xc3\x28")]), "E_CORRUPT"),
    "huge_array_claim": (lambda: one_chunk([Raw(b"\xdd\xff\xff\xff\xf0\x02")]), "E_CORRUPT"),
    "not_an_array": (lambda: one_chunk([Raw(b"\x07")]), "E_CORRUPT"),
    "chunk_begin_missing": (lambda: Trace().chunk([[2, 1, "x"]]).bytes(), "E_CORRUPT"),
    "wrong_sequence": (lambda: Trace().chunk([[1, 1, 1000]]).bytes(), "E_CORRUPT"),
    "chunk_after_index": (chunk_after_index, "E_CORRUPT"),
    "index_crc": (lambda: Trace().chunk([[1, 0, 1000], [12, {}]]).index({}, break_crc=True)
                  .bytes(), "E_CORRUPT"),
    "index_count": (lambda: Trace().chunk([[1, 0, 1000], [12, {}]]).index({}, count_delta=1)
                    .bytes(), "E_CORRUPT"),
    "garbage_frame": (lambda: Trace().raw(b"\x00\x01\x02\x03\x04\x05\x06\x07\x08").bytes(),
                      "E_CORRUPT"),
    "ext_in_meta": (lambda: one_chunk([[10, "k", Ext(1, b"a")]]), "E_CORRUPT"),
}

# Valid traces that are incomplete: truncated ones read fine up to the cut.
def truncated():
    t = basic_trace()
    return t.bytes()[: t.chunks[1][0] + 40]  # cut inside the second chunk


VALID["truncated"] = truncated


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder with pyinst-report, pyi-write-sample")
    args = parser.parse_args()
    report = os.path.join(args.bin, "pyinst-report")
    os.makedirs(VECTORS, exist_ok=True)
    for sub in ("valid", "invalid"):
        os.makedirs(os.path.join(GOLDEN, sub), exist_ok=True)
    for name, build in VALID.items():
        data = build()
        write(os.path.join(VECTORS, name + ".pyitrace"), data)
        write(os.path.join(GOLDEN, "valid", name + ".pyitrace"), data)
    for name, (build, error) in INVALID.items():
        data = build()
        write(os.path.join(VECTORS, "invalid_" + name + ".pyitrace"), data)
        write(os.path.join(VECTORS, "invalid_" + name + ".expect"), (error + "\n").encode())
        write(os.path.join(GOLDEN, "invalid", name + ".pyitrace"), data)
    out = os.path.join(VECTORS, "c_writer.pyitrace")
    subprocess.run([os.path.join(args.bin, "pyi-write-sample"), out], check=True)
    write(os.path.join(GOLDEN, "valid", "c_writer.pyitrace"), open(out, "rb").read())
    for name in list(VALID) + ["c_writer"]:
        path = os.path.join(VECTORS, name + ".pyitrace")
        dump = subprocess.run([report, "dump", path], stdout=subprocess.PIPE, check=True).stdout
        write(os.path.join(VECTORS, name + ".json"), dump)
    for name in INVALID:
        path = os.path.join(GOLDEN, "invalid", name + ".pyitrace")
        rel = os.path.relpath(path, ROOT)
        done = subprocess.run([report, "dump", rel], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        write(os.path.join(GOLDEN, "invalid", name + ".error"), done.stderr)
    print("wrote %d valid and %d invalid traces" % (len(VALID), len(INVALID)))


if __name__ == "__main__":
    sys.exit(main())
