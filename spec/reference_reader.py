#!/usr/bin/env python3
"""Reference reader for .pyitrace files, written from spec/pyitrace.md alone.

Its job is to prove that the specification is enough to write a second,
independent reader of the format. Given one trace file it prints the
canonical JSON dump of spec §10 on stdout (one header line, one line per
delivered record, one stats line) and exits 0. On failure it prints the lines
for everything delivered before the error, then one line on stderr,

    reference_reader: FILE: <what> [E_NAME]

and exits 2. With --salvage it skips damaged chunks instead of stopping
(spec §8) and lists each damaged region on stderr.

Where the spec leaves a choice, or the C reader (pyinst-report dump) reads it
otherwise, spec/reference_reader_notes.md says what each reader does; the
comments below cite those notes as N1, N2, ...

Only the Python standard library (3.8 or later) is used, plus the `zstd`
command-line tool to decompress chunk frames: the frames are delimited here
from RFC 8878's frame and block headers, and each complete chunk frame is
handed to `zstd -dc`, which verifies the frame's content checksum.

usage: reference_reader.py [--salvage] FILE   (FILE '-' reads stdin)
"""

import re
import shutil
import struct
import subprocess
import sys
import zlib

PROG = "reference_reader"
READER_MAJOR, READER_MINOR = 1, 0          # format version implemented (spec "Version")

# Frame magics (spec §3, RFC 8878 §3.1.1 and §3.1.2).
ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MIN, SKIPPABLE_MASK = 0x184D2A50, 0xFFFFFFF0
HEADER_MAGIC, INDEX_MAGIC = 0x184D2A5B, 0x184D2A5C
HEADER_TAG, INDEX_TAG, TRAILER_TAG = b"PYITRACE", b"PYIINDEX", b"PYIEND01"

MAX_HEADER_PAYLOAD = 1 << 20               # spec §4, §11
MAX_CHUNK_CONTENT = 64 << 20               # spec §5, §8, §11
MAX_NESTING = 32                           # spec §11: msgpack nesting inside a record
ZSTD_WINDOWLOG_MAX = 31                    # largest window zstd accepts (RFC 8878 §3.1.1.1.2)
ZSTD_BATCH_BYTES = 16 << 20                # content decompressed per zstd process


# ---------------------------------------------------------------------------
# Errors

class TraceError(Exception):
    """A failure with one of spec §10's error names."""

    def __init__(self, name, what):
        Exception.__init__(self, what)
        self.name = name
        self.what = what


class Corrupt(Exception):
    """Damage found while decoding bytes; the caller adds where (spec §8)."""


class Truncated(Exception):
    """The file ends inside a frame (spec §8, "Truncated files")."""


# ---------------------------------------------------------------------------
# MessagePack (spec §1)

class MsgMap(list):
    """A msgpack map: a list of (key, value) pairs, kept in file order."""


def _strict_str(raw):
    """Spec §1: a `str` holds valid UTF-8 (RFC 3629); Python's codec agrees."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Corrupt("a msgpack str is not valid UTF-8")


def _need(buf, pos, n, end):
    """Spec §8: bound every length by the bytes that remain."""
    if n > end - pos:
        raise Corrupt("a msgpack value claims %d bytes, only %d remain" % (n, end - pos))


_F32, _F64 = struct.Struct(">f"), struct.Struct(">d")


def unpack(buf, pos, end, depth):
    """Decodes one msgpack value of a known structure at buf[pos:end].

    Returns (value, next position). Strict (spec §1): ext is corrupt, str must
    be UTF-8, 0xc1 is never used. Spec §11 limits nesting to 32 levels inside
    a record: depth is the level of the container around the value, and no
    container may be deeper than 32. Level 0 is the record array for most
    fields, the map itself for `map` fields and the header (N13).
    """
    if pos >= end:
        raise Corrupt("a msgpack value is cut")
    b = buf[pos]
    pos += 1
    if b < 0x80:                                   # positive fixint
        return b, pos
    if b >= 0xe0:                                  # negative fixint
        return b - 0x100, pos
    if b < 0x90:                                   # fixmap
        return _unpack_map(buf, pos, end, b & 0x0f, depth)
    if b < 0xa0:                                   # fixarray
        return _unpack_array(buf, pos, end, b & 0x0f, depth)
    if b < 0xc0:                                   # fixstr
        n = b & 0x1f
        _need(buf, pos, n, end)
        return _strict_str(buf[pos:pos + n]), pos + n
    if b == 0xc0:
        return None, pos
    if b == 0xc2:
        return False, pos
    if b == 0xc3:
        return True, pos
    if 0xcc <= b <= 0xcf:                          # uint 8/16/32/64
        n = 1 << (b - 0xcc)
        _need(buf, pos, n, end)
        return int.from_bytes(buf[pos:pos + n], "big"), pos + n
    if 0xd0 <= b <= 0xd3:                          # int 8/16/32/64
        n = 1 << (b - 0xd0)
        _need(buf, pos, n, end)
        return int.from_bytes(buf[pos:pos + n], "big", signed=True), pos + n
    if b in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):  # str 8/16/32, bin 8/16/32
        w = 1 << ((b - 0xd9) if b >= 0xd9 else (b - 0xc4))
        _need(buf, pos, w, end)
        n = int.from_bytes(buf[pos:pos + w], "big")
        pos += w
        _need(buf, pos, n, end)
        raw = buf[pos:pos + n]
        return (_strict_str(raw) if b >= 0xd9 else bytes(raw)), pos + n
    if b == 0xca:
        _need(buf, pos, 4, end)
        return _F32.unpack_from(buf, pos)[0], pos + 4
    if b == 0xcb:
        _need(buf, pos, 8, end)
        return _F64.unpack_from(buf, pos)[0], pos + 8
    if b in (0xdc, 0xdd, 0xde, 0xdf):              # array 16/32, map 16/32
        w = 2 if b in (0xdc, 0xde) else 4
        _need(buf, pos, w, end)
        n = int.from_bytes(buf[pos:pos + w], "big")
        pos += w
        if b <= 0xdd:
            return _unpack_array(buf, pos, end, n, depth)
        return _unpack_map(buf, pos, end, n, depth)
    if b == 0xc1:
        raise Corrupt("msgpack byte 0xc1 is never used")
    raise Corrupt("a msgpack ext value in a known structure")  # 0xc7-0xc9, 0xd4-0xd8


def _unpack_array(buf, pos, end, n, depth):
    depth += 1
    if depth > MAX_NESTING:
        raise Corrupt("msgpack nesting deeper than %d levels" % MAX_NESTING)
    _need(buf, pos, n, end)                        # every element takes a byte at least
    out = []
    append = out.append
    for _ in range(n):
        v, pos = unpack(buf, pos, end, depth)
        append(v)
    return out, pos


def _unpack_map(buf, pos, end, n, depth):
    depth += 1
    if depth > MAX_NESTING:
        raise Corrupt("msgpack nesting deeper than %d levels" % MAX_NESTING)
    _need(buf, pos, 2 * n, end)                    # every entry takes two bytes at least
    out = MsgMap()
    for _ in range(n):
        k, pos = unpack(buf, pos, end, depth)
        v, pos = unpack(buf, pos, end, depth)
        out.append((k, v))
    return out, pos


# Bytes that follow the first byte of a skipped value, for the formats whose
# size is fixed (nil, bool, numbers, fixext).
_SKIP_FIXED = {0xc0: 0, 0xc2: 0, 0xc3: 0, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4,
               0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5,
               0xd7: 9, 0xd8: 17}
# Width of the length field of str, bin and ext values.
_SKIP_LENGTH = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xc7: 1, 0xc8: 2,
                0xc9: 4}


def skip(buf, pos, end):
    """Skips one msgpack value that is not decoded: the elements of unknown
    records and the extra elements of known ones (spec §5: any value, ext
    included, no UTF-8 check). Iterative, so any nesting is fine; returns the
    next position."""
    pending = 1                                    # values still to skip
    while pending:
        pending -= 1
        if pos >= end:
            raise Corrupt("a msgpack value is cut")
        b = buf[pos]
        pos += 1
        if b < 0x80 or b >= 0xe0:                  # fixints
            continue
        if b < 0xa0:                               # fixmap, fixarray
            pending += (b & 0x0f) * (2 if b < 0x90 else 1)
            n = 0
        elif b < 0xc0:                             # fixstr
            n = b & 0x1f
        elif b in _SKIP_FIXED:
            n = _SKIP_FIXED[b]
        elif b in _SKIP_LENGTH:
            w = _SKIP_LENGTH[b]
            _need(buf, pos, w, end)
            n = int.from_bytes(buf[pos:pos + w], "big") + (1 if b in (0xc7, 0xc8, 0xc9) else 0)
            pos += w                               # (an ext also has a type byte)
        elif b in (0xdc, 0xdd, 0xde, 0xdf):        # array 16/32, map 16/32
            w = 2 if b in (0xdc, 0xde) else 4
            _need(buf, pos, w, end)
            items = int.from_bytes(buf[pos:pos + w], "big") * (2 if b >= 0xde else 1)
            pos += w
            _need(buf, pos, items, end)            # every item takes a byte at least
            pending += items
            n = 0
        else:
            raise Corrupt("msgpack byte 0xc1 is never used")
        _need(buf, pos, n, end)
        pos += n
        if pending > end - pos:
            raise Corrupt("msgpack containers claim more values than bytes remain")
    return pos


def unpack_exact(buf, start, end, what):
    """Decodes exactly one value filling buf[start:end] (spec §4, §6)."""
    value, pos = unpack(buf, start, end, -1)      # the outer value is level 0
    if pos != end:
        raise Corrupt("%s does not fill its %d bytes (%d left over)" % (what, end - start,
                                                                        end - pos))
    return value


# ---------------------------------------------------------------------------
# Canonical JSON (spec §10)

_ESCAPES = {i: "\\u%04x" % i for i in range(0x20)}
_ESCAPES.update({0x22: '\\"', 0x5c: "\\\\", 0x08: "\\b", 0x0c: "\\f", 0x0a: "\\n",
                 0x0d: "\\r", 0x09: "\\t"})


def jstr(s):
    """A JSON string with only the escapes spec §10 allows."""
    return '"' + s.translate(_ESCAPES) + '"'


def jfloat(f):
    """Spec §10: the shortest of %.1g ... %.17g that reads back as the same double."""
    if f != f or f in (float("inf"), float("-inf")):
        return "null"                              # not JSON numbers: as C does (N15)
    for precision in range(1, 18):
        s = "%.*g" % (precision, f)
        if float(s) == f:
            return s
    return "%.17g" % f


def jval(v):
    """The JSON text of a decoded msgpack value (spec §10)."""
    t = type(v)
    if t is int:
        return str(v)
    if t is str:
        return jstr(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is float:
        return jfloat(v)
    if t is bytes:
        return '"' + v.hex() + '"'
    if t is MsgMap:
        return "{" + ",".join(jkey(k) + ":" + jval(x) for k, x in v) + "}"
    return "[" + ",".join(jval(x) for x in v) + "]"


def jkey(k):
    if type(k) is not str:                         # spec §1: map keys are str
        raise Corrupt("a map key is not a str")
    return jstr(k)


# ---------------------------------------------------------------------------
# Frames (spec §3, RFC 8878)

def _le32(buf, pos):
    return int.from_bytes(buf[pos:pos + 4], "little")


class Frame:
    """One delimited frame: kind is 'chunk', 'skippable' or, in salvage
    mode, 'damage' (bytes skipped to find the next frame)."""
    __slots__ = ("offset", "size", "kind", "magic", "content_size", "checksum", "dict_id",
                 "error")

    def __init__(self, offset, size, kind, magic, error=None):
        self.offset, self.size, self.kind, self.magic = offset, size, kind, magic
        self.content_size = self.checksum = self.dict_id = None
        self.error = error                         # why a 'damage' frame was skipped


def delimit_frame(buf, pos, end):
    """Finds the frame starting at pos, as ZSTD_findFrameCompressedSize does.

    Raises Truncated when the bytes end inside it, Corrupt when its magic or
    framing is invalid (spec §3, §8).
    """
    rem = end - pos
    if rem < 4:
        # Fewer than 4 bytes: a cut frame if they begin a zstd or skippable
        # magic, as zstd's stock check says; else an unknown magic (N19).
        head = bytes(buf[pos:end])
        if head == ZSTD_MAGIC.to_bytes(4, "little")[:rem] or (
                head[0] & 0xf0 == 0x50 and head[1:] == b"\x2a\x4d\x18"[:rem - 1]):
            raise Truncated()
        raise Corrupt("unknown frame magic (%d bytes: %s)" % (rem, head.hex()))
    magic = _le32(buf, pos)
    if magic & SKIPPABLE_MASK == SKIPPABLE_MIN:    # RFC 8878 §3.1.2: skippable frame
        if rem < 8:
            raise Truncated()
        size = _le32(buf, pos + 4)
        if 8 + size > rem:                         # (even for sizes >= 0xfffffff8: N20)
            raise Truncated()
        return Frame(pos, 8 + size, "skippable", magic)
    if magic != ZSTD_MAGIC:
        raise Corrupt("unknown frame magic 0x%08x" % magic)
    # RFC 8878 §3.1.1.1: Frame_Header
    if rem < 5:
        raise Truncated()
    fhd = buf[pos + 4]
    fcs_flag, single = fhd >> 6, (fhd >> 5) & 1
    did_size = (0, 1, 2, 4)[fhd & 3]
    fcs_size = (single, 2, 4, 8)[fcs_flag]
    hsize = 5 + (0 if single else 1) + did_size + fcs_size
    if rem < hsize:
        raise Truncated()
    if fhd & 0x08:
        raise Corrupt("zstd frame header: reserved bit set")
    p = pos + 5
    if not single:
        window_log = 10 + (buf[p] >> 3)
        if window_log > ZSTD_WINDOWLOG_MAX:
            raise Corrupt("zstd frame header: window too large")
        p += 1
    frame = Frame(pos, 0, "chunk", magic)
    if did_size:
        frame.dict_id = int.from_bytes(buf[p:p + did_size], "little")
    p += did_size
    if fcs_size:
        fcs = int.from_bytes(buf[p:p + fcs_size], "little")
        frame.content_size = fcs + 256 if fcs_size == 2 else fcs
    p += fcs_size
    frame.checksum = bool(fhd & 0x04)
    # RFC 8878 §3.1.1.2: blocks, each with a 3-byte header, until Last_Block
    while True:
        if end - p < 3:
            raise Truncated()
        bh = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)
        btype = (bh >> 1) & 3
        if btype == 3:
            raise Corrupt("zstd block of reserved type")
        csize = 1 if btype == 1 else bh >> 3         # an RLE block stores one byte
        if 3 + csize > end - p:
            raise Truncated()
        p += 3 + csize
        if bh & 1:
            break
    if frame.checksum:                             # RFC 8878 §3.1.1: Content_Checksum
        if end - p < 4:
            raise Truncated()
        p += 4
    frame.size = p - pos
    return frame


def check_chunk_frame(frame):
    """Spec §5: checksum on, no dictionary, declared content size <= 64 MiB."""
    if not frame.checksum:
        raise Corrupt("chunk frame without a content checksum")
    if frame.dict_id is not None:                  # a Dictionary_ID field, even 0 (N18)
        raise Corrupt("chunk frame uses a dictionary")
    if frame.content_size is None:
        raise Corrupt("chunk frame does not declare its content size")
    if frame.content_size > MAX_CHUNK_CONTENT:
        raise Corrupt("chunk frame declares %d bytes of content, more than 64 MiB"
                      % frame.content_size)


class Decompressor:
    """Decompresses chunk frames with `zstd -dc`, several frames per process.

    zstd verifies each frame's content checksum and content size. A batch that
    fails is retried frame by frame so that the failing frame is the one
    reported (spec §8).
    """

    def __init__(self, buf, frames):
        self.buf, self.frames = buf, frames        # chunk frames only, in file order
        self.done = {}                             # index -> bytes or Corrupt
        self.zstd = shutil.which("zstd")

    def content(self, i):
        if i not in self.done:
            self._batch(i)
        result = self.done.pop(i)
        if isinstance(result, Corrupt):
            raise result
        return result

    def _batch(self, i):
        """Decompresses frame i and the well-formed frames after it, up to
        ZSTD_BATCH_BYTES of content."""
        frames, total = [self.frames[i]], self.frames[i].content_size
        for f in self.frames[i + 1:]:
            try:
                check_chunk_frame(f)
            except Corrupt:
                break
            if total + f.content_size > ZSTD_BATCH_BYTES:
                break
            frames.append(f)
            total += f.content_size
        out = self._run(frames) if len(frames) > 1 else None
        if out is not None and len(out) == total:
            pos = 0
            for k, f in enumerate(frames):
                self.done[i + k] = out[pos:pos + f.content_size]
                pos += f.content_size
            return
        for k, f in enumerate(frames):
            one = self._run([f])
            if one is None:
                self.done[i + k] = Corrupt("zstd cannot decompress the chunk frame "
                                           "(bad checksum or data)")
            elif len(one) != f.content_size:
                self.done[i + k] = Corrupt("chunk content is %d bytes, not the declared %d"
                                           % (len(one), f.content_size))
            else:
                self.done[i + k] = one

    def _run(self, frames):
        if self.zstd is None:
            raise TraceError("E_IO", "the zstd command is not installed")
        data = b"".join(self.buf[f.offset:f.offset + f.size] for f in frames)
        try:
            proc = subprocess.run([self.zstd, "-dcq", "--no-progress"], input=data,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise TraceError("E_IO", "cannot run zstd: %s" % e)
        return proc.stdout if proc.returncode == 0 else None


# ---------------------------------------------------------------------------
# Header (spec §4)

META_TYPES = {                                     # spec §4.1: key -> (type, required)
    "recorder": ("str", True), "mode": ("str", True), "clock": ("str", True),
    "interval_ns": ("uint", True), "start_mono_ns": ("uint", True),
    "start_wall_ns": ("uint", True), "pid": ("int", False), "argv": ("strs", False),
    "cwd": ("str", False), "hostname": ("str", False), "platform": ("str", False),
    "python": ("str", False), "python_implementation": ("str", False),
    "status_known": ("uint", False), "max_depth": ("uint", False),
}


def is_uint(v):
    return type(v) is int and v >= 0


def has_type(v, kind):
    if kind == "str":
        return type(v) is str
    if kind == "uint":
        return is_uint(v)
    if kind == "int":
        return type(v) is int
    return type(v) is list and all(type(s) is str for s in v)     # array of str


def check_header_map(meta):
    """Spec §4.1: known keys have their type (every occurrence of a repeated
    key), required keys are present, other keys are kept as they are. Any
    width of integer is accepted (N5, N7)."""
    if type(meta) is not MsgMap:
        raise Corrupt("the header map is not a map")
    seen = set()
    for key, value in meta:
        if type(key) is not str:
            raise Corrupt("the header map has a key that is not a str")
        if key in META_TYPES and not has_type(value, META_TYPES[key][0]):
            raise Corrupt("key %r has a value of the wrong type" % key)
        seen.add(key)
    for key, (_, required) in META_TYPES.items():
        if required and key not in seen:
            raise Corrupt("the required key %r is missing" % key)


def read_header(buf):
    """Checks the header frame at offset 0 in spec §4's order (magic and tag,
    major version, CRC, incompat_flags, map); returns (header JSON line,
    offset of the first frame after it). The tag is checked on the bytes
    present before a cut or the size limit is reported (N1, N2)."""
    end = len(buf)
    if end == 0:
        raise TraceError("E_EMPTY", "the file is empty")
    magic_bytes = HEADER_MAGIC.to_bytes(4, "little")
    if bytes(buf[:4]) != magic_bytes[:min(end, 4)]:
        raise TraceError("E_NOT_TRACE", "not a .pyitrace file (no header frame magic)")
    if end < 8:
        raise TraceError("E_TRUNCATED", "the file is cut inside its header")
    size = _le32(buf, 4)
    got = min(size, end - 8)
    if bytes(buf[8:8 + min(got, 8)]) != HEADER_TAG[:min(got, 8)] or size < 8:
        raise TraceError("E_NOT_TRACE", "not a .pyitrace file (no PYITRACE tag)")
    if size > MAX_HEADER_PAYLOAD:
        raise TraceError("E_CORRUPT", "header payload of %d bytes is over 1 MiB" % size)
    if 8 + size > end:
        raise TraceError("E_TRUNCATED", "the file is cut inside its header")
    p = buf[8:8 + size]
    if size < 12:                                  # the tag, but no version (N3)
        raise TraceError("E_CORRUPT", "header payload of %d bytes is too short" % size)
    major, minor = struct.unpack_from("<HH", p, 8)
    if major > READER_MAJOR:
        raise TraceError("E_VERSION", "format %d.%d%s needs a newer reader (this one reads %d.%d)"
                         % (major, minor, _recorder_of(p), READER_MAJOR, READER_MINOR))
    if major < READER_MAJOR:                       # the spec is silent (N4)
        raise TraceError("E_VERSION", "format %d.%d is not supported (this reader reads %d.%d)"
                         % (major, minor, READER_MAJOR, READER_MINOR))
    if size < 25:
        raise TraceError("E_CORRUPT", "header payload of %d bytes is too short" % size)
    crc = _le32(p, size - 4)
    if zlib.crc32(p[:size - 4]) != crc:
        raise TraceError("E_CORRUPT", "header CRC mismatch")
    incompat, compat = struct.unpack_from("<II", p, 12)
    if incompat:
        raise TraceError("E_VERSION", "format %d.%d%s uses incompatible features 0x%x unknown "
                         "to this reader (%d.%d)" % (major, minor, _recorder_of(p), incompat,
                                                     READER_MAJOR, READER_MINOR))
    try:
        meta = unpack_exact(p, 20, size - 4, "the header map")
        check_header_map(meta)
        line = ('{"record":"header","major":%d,"minor":%d,"incompat_flags":%d,'
                '"compat_flags":%d,"meta":%s}' % (major, minor, incompat, compat, jval(meta)))
    except Corrupt as e:
        raise TraceError("E_CORRUPT", "header: %s" % e)
    return line, 8 + size


def _recorder_of(payload):
    """Best effort (spec "Versioning rules"): the recorder of a newer file."""
    try:
        meta, _ = unpack(payload, 20, len(payload), 0)
        for k, v in meta:
            if k == "recorder" and type(v) is str:
                return " (recorder %s)" % v
    except Exception:                              # noqa: any layout may follow
        pass
    return ""


# ---------------------------------------------------------------------------
# Records (spec §5)

class Dropped(Exception):
    """Salvage: the record refers to a definition lost with a skipped chunk
    (spec §8 rule 3; how this reader salvages: N27)."""


class State:
    """Definitions and counters kept across chunks (spec §5 "Ids")."""

    def __init__(self, salvage):
        # Highest id defined so far, per kind; threads are kept by id.
        self.strings = self.functions = self.locations = self.stacks = 0
        self.processes = 1                         # process 1 is predefined (§5.11)
        self.threads = {}                          # id -> (process, native_id)
        self.thread_max = 0
        self.holes = {}                            # salvage: kind -> [(lo, hi)] lost ids
        self.salvage = salvage
        self.lost_chunks = 0                       # salvage: chunks skipped so far
        self.dropped = 0                           # salvage: records dropped (§8 rule 3)
        self.delivered = 0                         # chunks delivered
        self.samples = self.lost = 0
        self.unknown_records = self.unknown_frames = 0
        self.has_end = self.has_index = self.truncated = False

    def snapshot(self):
        """Salvage: what a damaged chunk may have changed, to undo it."""
        saved = dict(self.__dict__)
        saved["threads"] = dict(self.threads)
        saved["holes"] = {k: list(v) for k, v in self.holes.items()}
        return saved

    def restore(self, saved):
        self.__dict__.update(saved)

    def lost_id(self, kind, v):
        return any(lo <= v <= hi for lo, hi in self.holes.get(kind, ()))


def fields(rec, n_required, n_total, name):
    """Spec §5: fewer elements than the required fields is corrupt, extra
    elements are ignored, optional ones left off or nil are absent (None)."""
    n = len(rec)
    if n == n_total:
        return rec
    if n < n_required:
        raise Corrupt("%s record has %d fields, needs %d" % (name, n, n_required))
    if n < n_total:
        return rec + [None] * (n_total - n)
    return rec[:n_total]


def uint(v, what):
    """A msgpack uint of any width (spec §1; the C reader limits some: N7)."""
    if type(v) is not int or v < 0:
        raise Corrupt("%s is not a uint" % what)
    return v


def sint(v, what):
    if type(v) is not int:
        raise Corrupt("%s is not an int" % what)
    return v


def ref(st, kind, v, zero_ok, what):
    """Spec §5 "Ids" rules 2 and 4: a reference to a defined id (0 = none
    where the table allows it). In salvage mode, once a chunk was skipped, a
    reference to an id that is not defined may be to a definition lost with
    it: the record is dropped (§8 rule 3)."""
    uint(v, what)
    if v == 0:
        if zero_ok:
            return v
        raise Corrupt("%s is 0" % what)
    if kind == "threads":
        defined = v in st.threads
    else:
        defined = v <= getattr(st, kind) and not st.lost_id(kind, v)
    if defined:
        return v
    if st.lost_chunks:
        raise Dropped()
    raise Corrupt("%s %d is not defined" % (what, v))


def next_id(st, kind, v, what):
    """Spec §5 "Ids" rule 1: each definition uses the next id. In salvage
    mode, once a chunk was skipped, ids may skip over lost definitions
    (§8 rule 2)."""
    uint(v, what)
    top = st.thread_max if kind == "threads" else getattr(st, kind)
    if v == top + 1:
        return v
    if st.lost_chunks and v > top + 1:
        st.holes.setdefault(kind, []).append((top + 1, v - 1))
        return v
    raise Corrupt("%s %d is not the next id (%d)" % (what, v, top + 1))


class ChunkDecoder:
    """Decodes the records of one chunk's content into JSON lines (spec §5)."""

    def __init__(self, st, frame, sequence):
        self.st, self.frame, self.sequence = st, frame, sequence
        self.base_us = 0
        self.last_us = {}                          # thread id -> its last sample time here

    def decode(self, content, out):
        st = self.st
        end = len(content)
        pos = 0
        first = True
        handlers = HANDLERS
        while pos < end:
            if st.has_end:                         # §5.13, unknown types too (N17)
                raise Corrupt("a record follows END")
            b = content[pos]
            # Spec §5: a record is an array whose first element is a uint type.
            if 0x90 <= b <= 0x9f:
                n, pos = b & 0x0f, pos + 1
            elif b == 0xdc or b == 0xdd:
                w = 2 if b == 0xdc else 4
                _need(content, pos + 1, w, end)
                n = int.from_bytes(content[pos + 1:pos + 1 + w], "big")
                pos += 1 + w
            else:
                raise Corrupt("a record is not an array")
            if n == 0:
                raise Corrupt("a record has no type")
            _need(content, pos, n, end)
            rtype, pos = unpack(content, pos, end, 0)
            if type(rtype) is not int or rtype < 0:
                raise Corrupt("a record type is not a uint")
            known = handlers.get(rtype)
            if first and rtype != 1:
                raise Corrupt("the chunk does not begin with CHUNK_BEGIN")
            if known is None:                      # unknown type: skip and count (§5)
                for _ in range(n - 1):
                    pos = skip(content, pos, end)
                st.unknown_records += 1
                continue
            handler, n_fields, map_at = known
            rec = []
            append = rec.append
            for _ in range(n - 1 if n - 1 < n_fields else n_fields):
                # Fast paths for the common small uints; unpack() does the rest.
                b = content[pos] if pos < end else 0
                if b < 0x80 and pos < end:         # positive fixint
                    append(b)
                    pos += 1
                elif b == 0xcd and pos + 3 <= end:   # uint 16
                    append((content[pos + 1] << 8) | content[pos + 2])
                    pos += 3
                elif b == 0xce and pos + 5 <= end:   # uint 32
                    append(int.from_bytes(content[pos + 1:pos + 5], "big"))
                    pos += 5
                else:
                    # A `map` field counts its nesting from itself, other
                    # fields from the record array (the C reader's count,
                    # notes N13).
                    v, pos = unpack(content, pos, end, -1 if len(rec) == map_at else 0)
                    append(v)
            for _ in range(n - 1 - n_fields):      # extra elements: ignored (§5, N11)
                pos = skip(content, pos, end)
            try:
                out.append(handler(self, rec, first))
            except Dropped:
                st.dropped += 1
            first = False
        if first:
            raise Corrupt("the chunk is empty (no CHUNK_BEGIN)")

    # One method per record type; each checks the record and returns its
    # JSON line (spec §10). The common case of a check is tested inline for
    # speed (with `or st.holes`, which is empty unless salvaging); the
    # helpers then tell what is wrong.

    def chunk_begin(self, rec, first):             # §5.1
        if not first:
            raise Corrupt("CHUNK_BEGIN inside a chunk")
        seq, base = fields(rec, 2, 2, "CHUNK_BEGIN")
        uint(seq, "CHUNK_BEGIN sequence")
        if seq != self.sequence:
            # Salvage: damaged framing may have hidden chunk frames.
            if not (self.st.lost_chunks and seq > self.sequence):
                raise Corrupt("chunk sequence %d, expected %d" % (seq, self.sequence))
            self.sequence = seq
        self.base_us = uint(base, "CHUNK_BEGIN base_time_us")
        f = self.frame
        return ('{"record":"chunk","sequence":%d,"offset":%d,"size":%d,"content_size":%d,'
                '"base_time_ns":%d}' % (seq, f.offset, f.size, f.content_size,
                                        self.base_us * 1000))

    def string(self, rec, first):                  # §5.2
        st = self.st
        sid, value = fields(rec, 2, 2, "STRING")
        if type(sid) is not int or sid != st.strings + 1:
            next_id(st, "strings", sid, "string id")
        if type(value) is not str:
            raise Corrupt("STRING value is not a str")
        st.strings = sid
        return '{"record":"string","id":%d,"value":%s}' % (sid, jstr(value))

    def function(self, rec, first):                # §5.3
        st = self.st
        fid, name, file_, line, kind = fields(rec, 5, 5, "FUNCTION")
        if type(fid) is not int or fid != st.functions + 1:
            next_id(st, "functions", fid, "function id")
        ref(st, "strings", name, False, "FUNCTION name string")
        ref(st, "strings", file_, True, "FUNCTION file string")
        uint(line, "FUNCTION first_line")
        uint(kind, "FUNCTION kind")                # an unknown kind is printed as stored
        st.functions = fid
        return ('{"record":"function","id":%d,"name":%d,"file":%d,"first_line":%d,"kind":%d}'
                % (fid, name, file_, line, kind))

    def location(self, rec, first):                # §5.4
        st = self.st
        lid, fn, line = rec[:3] if len(rec) >= 3 else fields(rec, 3, 3, "LOCATION")
        if type(lid) is not int or lid != st.locations + 1:
            next_id(st, "locations", lid, "location id")
        if type(fn) is not int or not 0 < fn <= st.functions or st.holes:
            ref(st, "functions", fn, False, "LOCATION function")
        uint(line, "LOCATION line")
        st.locations = lid
        return '{"record":"location","id":%d,"function":%d,"line":%d}' % (lid, fn, line)

    def stack(self, rec, first):                   # §5.5
        st = self.st
        sid, parent, loc = rec[:3] if len(rec) >= 3 else fields(rec, 3, 3, "STACK")
        if type(sid) is not int or sid != st.stacks + 1:
            next_id(st, "stacks", sid, "stack id")
        if type(parent) is not int or not 0 <= parent <= st.stacks or st.holes:
            ref(st, "stacks", parent, True, "STACK parent")
        if type(loc) is not int or not 0 < loc <= st.locations or st.holes:
            ref(st, "locations", loc, False, "STACK location")
        st.stacks = sid
        return '{"record":"stack","id":%d,"parent":%d,"location":%d}' % (sid, parent, loc)

    def thread(self, rec, first):                  # §5.6
        st = self.st
        tid, proc, native, name, flags = fields(rec, 5, 5, "THREAD")
        uint(tid, "thread id")
        ref(st, "processes", proc, False, "THREAD process")
        uint(native, "THREAD native_id")
        ref(st, "strings", name, True, "THREAD name string")
        uint(flags, "THREAD flags")
        known = st.threads.get(tid)
        if known is not None:                      # a rename: same process and native id
            if known != (proc, native):
                raise Corrupt("THREAD %d renamed with another process or native_id" % tid)
        elif st.lost_id("threads", tid):           # salvage: a lost thread, defined again
            st.threads[tid] = (proc, native)
        else:
            next_id(st, "threads", tid, "thread id")
            st.threads[tid] = (proc, native)
            st.thread_max = tid
        return ('{"record":"thread","id":%d,"process":%d,"native_id":%d,"name":%d,"flags":%d}'
                % (tid, proc, native, name, flags))

    def sample(self, rec, first):                  # §5.7, "Times"
        st = self.st
        tid, dt, stack, status, weight, cpu = fields(rec, 4, 6, "SAMPLE")
        if type(tid) is not int or tid not in st.threads:
            ref(st, "threads", tid, False, "SAMPLE thread")
        sint(dt, "SAMPLE dt")
        if type(stack) is not int or not 0 <= stack <= st.stacks or st.holes:
            ref(st, "stacks", stack, True, "SAMPLE stack")
        uint(status, "SAMPLE status")              # printed as stored, unknown bits too
        last = self.last_us.get(tid)
        if last is None:
            t = self.base_us + dt
        else:
            if dt < 0:
                raise Corrupt("negative SAMPLE dt after the thread's first sample in the chunk")
            t = last + dt
        if t < 0:
            raise Corrupt("SAMPLE time below 0")
        if weight is None:
            if dt < 0:                             # the default weight is no uint (N9)
                raise Corrupt("negative SAMPLE dt with no weight")
            weight = dt
        else:
            uint(weight, "SAMPLE weight")
        cpu_text = "null" if cpu is None else str(uint(cpu, "SAMPLE cpu") * 1000)
        self.last_us[tid] = t
        st.samples += 1
        return ('{"record":"sample","thread":%d,"time_ns":%d,"stack":%d,"status":%d,'
                '"weight_ns":%d,"cpu_ns":%s}' % (tid, t * 1000, stack, status, weight * 1000,
                                                 cpu_text))

    def lost(self, rec, first):                    # §5.9
        st = self.st
        tid, reason, count, weight = fields(rec, 4, 4, "LOST")
        ref(st, "threads", tid, True, "LOST thread")
        uint(reason, "LOST reason")                # an unknown reason is printed as stored
        uint(count, "LOST count")
        uint(weight, "LOST weight_us")
        st.lost += count
        return ('{"record":"lost","thread":%d,"reason":%d,"count":%d,"weight_ns":%d}'
                % (tid, reason, count, weight * 1000))

    def marker(self, rec, first):                  # §5.10
        st = self.st
        tid, time_us, duration, name, args = fields(rec, 4, 5, "MARKER")
        ref(st, "threads", tid, True, "MARKER thread")
        sint(time_us, "MARKER time_us")
        uint(duration, "MARKER duration_us")
        ref(st, "strings", name, False, "MARKER name string")
        if args is None:
            args = MsgMap()
        elif type(args) is not MsgMap:
            raise Corrupt("MARKER args is not a map")
        t = self.base_us + time_us
        if t < 0:                                  # as for samples (N10)
            raise Corrupt("MARKER time below 0")
        return ('{"record":"marker","thread":%d,"name":%d,"time_ns":%d,"duration_ns":%d,'
                '"args":%s}' % (tid, name, t * 1000, duration * 1000, jval(args)))

    def meta(self, rec, first):                    # §5.12
        key, value = fields(rec, 2, 2, "META")
        if type(key) is not str:
            raise Corrupt("META key is not a str")
        return '{"record":"meta","key":%s,"value":%s}' % (jstr(key), jval(value))

    def process(self, rec, first):                 # §5.11
        st = self.st
        pid_, parent, ospid, meta = fields(rec, 4, 4, "PROCESS")
        if type(pid_) is not int or pid_ != st.processes + 1:
            next_id(st, "processes", pid_, "process id")
        ref(st, "processes", parent, True, "PROCESS parent")
        sint(ospid, "PROCESS pid")
        if type(meta) is not MsgMap:               # keys: str, checked when printed (N12)
            raise Corrupt("PROCESS meta is not a map")
        line = ('{"record":"process","id":%d,"parent":%d,"pid":%d,"meta":%s}'
                % (pid_, parent, ospid, jval(meta)))
        st.processes = pid_
        return line

    def end(self, rec, first):                     # §5.13
        (summary,) = fields(rec, 1, 1, "END")
        if type(summary) is not MsgMap:
            raise Corrupt("END summary is not a map")
        line = '{"record":"end","summary":%s}' % jval(summary)
        self.st.has_end = True
        return line


# Record type -> (method, number of fields in its table, position of its
# `map` field or -1), spec §5.
HANDLERS = {1: (ChunkDecoder.chunk_begin, 2, -1), 2: (ChunkDecoder.string, 2, -1),
            3: (ChunkDecoder.function, 5, -1), 4: (ChunkDecoder.location, 3, -1),
            5: (ChunkDecoder.stack, 3, -1), 6: (ChunkDecoder.thread, 5, -1),
            7: (ChunkDecoder.sample, 6, -1), 8: (ChunkDecoder.lost, 4, -1),
            9: (ChunkDecoder.marker, 5, 4), 10: (ChunkDecoder.meta, 2, -1),
            11: (ChunkDecoder.process, 4, 3), 12: (ChunkDecoder.end, 1, 0)}


# ---------------------------------------------------------------------------
# Index (spec §6)

def check_index(buf, frame, chunk_frames):
    """Checks an index frame against the chunk frames read (spec §6)."""
    payload = buf[frame.offset + 8:frame.offset + frame.size]
    size = len(payload)
    if size < 8 + 1 + 24:
        raise Corrupt("index payload of %d bytes is too short" % size)
    if bytes(payload[:8]) != INDEX_TAG:
        raise Corrupt("index tag is not PYIINDEX")
    if bytes(payload[size - 8:]) != TRAILER_TAG:
        raise Corrupt("trailer tag is not PYIEND01")
    n = size - 32
    index_offset = int.from_bytes(payload[8 + n:16 + n], "little")
    chunk_count = _le32(payload, 16 + n)
    crc = _le32(payload, 20 + n)
    if zlib.crc32(payload[:8 + n]) != crc:
        raise Corrupt("index CRC mismatch")
    if index_offset != frame.offset:
        raise Corrupt("index_offset %d is not the frame's offset" % index_offset)
    if chunk_count != len(chunk_frames):
        raise Corrupt("chunk_count %d, but %d chunk frames were read"
                      % (chunk_count, len(chunk_frames)))
    check_index_body(payload, 8, 8 + n, chunk_frames)


def array_header(buf, pos, end):
    """Reads a msgpack array header; returns (length, next position)."""
    if pos >= end:
        raise Corrupt("an array is cut")
    b = buf[pos]
    if 0x90 <= b <= 0x9f:
        return b & 0x0f, pos + 1
    if b in (0xdc, 0xdd):
        w = 2 if b == 0xdc else 4
        _need(buf, pos + 1, w, end)
        n = int.from_bytes(buf[pos + 1:pos + 1 + w], "big")
        _need(buf, pos + 1 + w, n, end)            # every element takes a byte at least
        return n, pos + 1 + w
    raise Corrupt("not an array")


def check_index_body(buf, pos, end, chunk_frames):
    """Spec §6: the array [chunks, summary] filling the bytes exactly; each
    entry's offset, size and content_size agree with the chunk frames read.
    As in records, extra elements are skipped unchecked, and so are the
    entries' time and sample fields, which the spec does not list among the
    checks (N11, N24)."""
    try:
        n, pos = array_header(buf, pos, end)
        if n < 2:
            raise Corrupt("too short")
        count, pos = array_header(buf, pos, end)
    except Corrupt:
        raise Corrupt("the index is not an array [chunks, summary]")
    if count != len(chunk_frames):
        raise Corrupt("the index lists %d chunks, the file has %d" % (count, len(chunk_frames)))
    for f in chunk_frames:
        try:
            m, pos = array_header(buf, pos, end)
        except Corrupt:
            raise Corrupt("an index entry is not an array")
        if m < 6:
            raise Corrupt("an index entry has %d fields, needs 6" % m)
        entry = []
        for _ in range(3):
            v, pos = unpack(buf, pos, end, 1)
            entry.append(v)
        for _ in range(m - 3):
            pos = skip(buf, pos, end)
        if not all(is_uint(v) for v in entry):
            raise Corrupt("an index entry's offset, size or content_size is not a uint")
        if entry != [f.offset, f.size, f.content_size]:
            raise Corrupt("the index entry of the chunk at offset %d does not match it"
                          % f.offset)
    summary, pos = unpack(buf, pos, end, -1)      # nesting counted from the map (N13)
    if type(summary) is not MsgMap:
        raise Corrupt("the index summary is not a map")
    for k, _ in summary:
        if type(k) is not str:
            raise Corrupt("the index summary has a key that is not a str")
    for _ in range(n - 2):
        pos = skip(buf, pos, end)
    if pos != end:
        raise Corrupt("the index array does not fill its %d bytes" % (end - 8))


# ---------------------------------------------------------------------------
# The reader (spec §8)

class Output:
    """Buffered UTF-8 output of the dump lines."""

    def __init__(self, stream):
        self.stream, self.lines = stream, []

    def add(self, lines):
        self.lines.extend(lines)
        if len(self.lines) > 4096:
            self.flush()

    def flush(self):
        if self.lines:
            self.stream.write(("\n".join(self.lines) + "\n").encode("utf-8"))
            self.lines = []
        self.stream.flush()


def scan_frames(buf, start, salvage):
    """Delimits every frame after the header (spec §3). Returns (frames,
    stop): stop is None at a clean end, ("truncated", offset) when the file
    ends inside a frame, or ("corrupt", offset, message) where the framing
    is broken. In salvage mode broken framing becomes a "damage" pseudo-frame
    and the scan goes on at the next magic that begins a readable frame
    (§8 rule 1)."""
    frames, pos, end = [], start, len(buf)
    while pos < end:
        try:
            frame = delimit_frame(buf, pos, end)
        except Truncated:
            if _le32(buf, pos) == ZSTD_MAGIC and bytes(buf[-8:]) == TRAILER_TAG:
                # A file that ends with the trailer tag was closed cleanly, so
                # a chunk frame running past its end is damaged, not cut
                # (the C reader's rule, N21). Any other cut frame, an index
                # frame included, is a cut file (§8, N22).
                error = "a chunk frame runs into the index"
            else:
                return frames, ("truncated", pos)
        except Corrupt as e:
            error = str(e)
        else:
            frames.append(frame)
            pos += frame.size
            continue
        if not salvage:
            return frames, ("corrupt", pos, error)
        resume = resync(buf, pos + 1, end)
        frames.append(Frame(pos, resume - pos, "damage", None, error))
        pos = resume
    return frames, None


_MAGIC_RE = re.compile(rb"\x28\xb5\x2f\xfd|[\x50-\x5f]\x2a\x4d\x18")


def resync(buf, pos, end):
    """Salvage: the offset of the next zstd or skippable magic that begins a
    complete, well-formed frame, or end if there is none (spec §8 rule 1)."""
    for m in _MAGIC_RE.finditer(buf, pos):
        try:
            delimit_frame(buf, m.start(), end)
            return m.start()
        except (Truncated, Corrupt):
            continue
    return end


def read_trace(buf, out, salvage, damage):
    """Delivers the header and every record of buf to out; returns the State.
    Strict mode raises TraceError at the first damage; salvage mode skips it
    and appends a line per damaged region to damage (spec §8)."""
    header_line, start = read_header(buf)
    out.add([header_line])
    st = State(salvage)
    frames, stop = scan_frames(buf, start, salvage)
    chunk_frames = [f for f in frames if f.kind == "chunk"]
    decomp = Decompressor(buf, chunk_frames)
    ci = 0                                         # chunk frames met so far
    sequence = 0                                   # expected CHUNK_BEGIN sequence
    index_seen = False
    for frame in frames:
        saved = None
        try:
            if frame.kind == "damage":
                raise Corrupt(frame.error)
            if index_seen:                         # §3: the index is the last frame
                raise Corrupt("data after the index")
            if frame.kind == "skippable":
                if frame.magic == HEADER_MAGIC:
                    raise Corrupt("a second header frame")
                if frame.magic == INDEX_MAGIC:
                    index_seen = True
                    check_index(buf, frame, chunk_frames[:ci])
                    st.has_index = True
                else:
                    st.unknown_frames += 1         # §3: skip and count
                continue
            ci += 1
            sequence += 1
            if st.has_end:
                raise Corrupt("a chunk follows END")
            check_chunk_frame(frame)
            if salvage:
                saved = st.snapshot()
            decoder = ChunkDecoder(st, frame, sequence - 1)
            lines = []                             # delivered once the chunk is whole (N25)
            decoder.decode(decomp.content(ci - 1), lines)
            sequence = decoder.sequence + 1        # (salvage may have moved it on)
            out.add(lines)
            st.delivered += 1
        except Corrupt as e:
            what = "%s at offset %d" % ({"chunk": "chunk", "damage": "data"}.get(
                frame.kind, "frame"), frame.offset)
            if not salvage:
                raise TraceError("E_CORRUPT", "%s: %s" % (what, e))
            if saved is not None:                  # undo the damaged chunk's definitions
                st.restore(saved)
            if frame.kind != "skippable":
                st.lost_chunks += 1
            damage.append("%s, %d bytes skipped: %s" % (what, frame.size, e))
    if stop is not None and (index_seen or stop[0] == "corrupt"):
        what = "data after the index" if index_seen else stop[2]
        if not salvage:
            raise TraceError("E_CORRUPT", "frame at offset %d: %s" % (stop[1], what))
        damage.append("data at offset %d, %d bytes skipped: %s"
                      % (stop[1], len(buf) - stop[1], what))
    elif stop is not None:
        st.truncated = True
        damage.append("the file is truncated at offset %d: %d bytes ignored"
                      % (stop[1], len(buf) - stop[1]))
    if st.dropped:
        damage.append("%d records dropped: they refer to definitions lost with damaged "
                      "chunks" % st.dropped)
    return st


def stats_line(st):
    """The last line of the dump (spec §10)."""
    flags = tuple("true" if x else "false" for x in (st.truncated, st.has_end, st.has_index))
    return ('{"record":"stats","chunks":%d,"samples":%d,"lost_samples":%d,'
            '"unknown_records":%d,"unknown_frames":%d,"truncated":%s,"has_end":%s,'
            '"has_index":%s}' % ((st.delivered, st.samples, st.lost, st.unknown_records,
                                  st.unknown_frames) + flags))


def read_input(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def main(argv):
    args = argv[1:]
    salvage = False
    if args and args[0] == "--salvage":
        salvage, args = True, args[1:]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write("usage: %s [--salvage] FILE\n" % PROG)
        return 2
    path = args[0]
    out = Output(sys.stdout.buffer)
    damage = []
    try:
        try:
            buf = read_input(path)
        except OSError as e:
            raise TraceError("E_IO", "cannot read: %s" % (e.strerror or e))
        st = read_trace(buf, out, salvage, damage)
        out.add([stats_line(st)])
        out.flush()
        for line in damage:                        # §8: report the cut and the damage (N26)
            sys.stderr.write("%s: %s: note: %s\n" % (PROG, path, line))
    except TraceError as e:
        out.flush()
        sys.stderr.write("%s: %s: %s [%s]\n" % (PROG, path, e.what, e.name))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
