#!/usr/bin/env python3
"""Reference reader for .pyitrace files, written from spec/pyitrace.md alone.

Its job is to prove that the specification is enough to write a second,
independent reader of the format. Given one trace file it prints the
canonical JSON dump of spec §10 on stdout (one header line, one line per
delivered record, one stats line) and exits 0. On failure it prints the lines
for everything delivered before the error (the complete chunks before the
damage and, as spec §8 allows, the valid records that precede the corrupt one
in its chunk), then one line on stderr,

    reference_reader: FILE: <what> [E_NAME]

and exits 2. With --salvage it follows spec §8's salvage rules instead of
stopping, and lists each damaged region on stderr.

Where the clarified spec still leaves a choice, spec/reference_reader_notes.md
says what each reader does; the comments below cite those notes as N1, N2, ...

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
MAX_NESTING = 32                           # spec §11: nesting of a value of type `any`
ZSTD_WINDOWLOG_MAX = 31                    # largest window zstd accepts (RFC 8878 §3.1.1.1.2)
ZSTD_BATCH_BYTES = 16 << 20                # content decompressed per zstd process

# Integer ranges (spec §1 "Ranges").
U32_MAX = (1 << 32) - 1                    # ids, lines, kind, flags, reason, status
U64_MAX = (1 << 64) - 1                    # count, native_id, sequence; stats sums saturate here
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1   # `int` fields: dt, time_us, pid
MAX_TIME_US = I64_MAX // 1000              # 9 223 372 036 854 775: times and durations, µs


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
    be UTF-8, 0xc1 is never used. Spec §11 limits a value of type `any` (a
    META value, a value in a `map` field) to 32 arrays or maps, counting the
    value itself: depth is the number of containers around the value that
    count, and no container may be the 33rd. So a field is decoded with depth
    0, and a `map` field with depth -1, its map not counting (N13).
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
    if rem < 8:
        # Spec §8: fewer than 8 bytes are a cut frame if they begin with (a
        # prefix of) the zstd magic or a skippable magic, whatever follows the
        # magic; anything else is damage (N19).
        head = bytes(buf[pos:end])
        n = min(rem, 4)
        if head[:n] == ZSTD_MAGIC.to_bytes(4, "little")[:n] or (
                head[0] & 0xf0 == 0x50 and head[1:n] == b"\x2a\x4d\x18"[:n - 1]):
            raise Truncated()
        raise Corrupt("unknown frame magic (%d bytes: %s)" % (rem, head.hex()))
    magic = _le32(buf, pos)
    if magic & SKIPPABLE_MASK == SKIPPABLE_MIN:    # RFC 8878 §3.1.2: skippable frame
        size = _le32(buf, pos + 4)
        if 8 + size > rem:                         # §8: truncated, whatever the size (N20)
            raise Truncated()
        return Frame(pos, 8 + size, "skippable", magic)
    if magic != ZSTD_MAGIC:
        raise Corrupt("unknown frame magic 0x%08x" % magic)
    # RFC 8878 §3.1.1.1: Frame_Header
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
    "status_known": ("u32", False), "max_depth": ("u32", False),
}


def is_uint(v):
    return type(v) is int and v >= 0


def has_type(v, kind):
    """Spec §4.1 types, with spec §1's ranges: a `uint` is 0 to 2^64-1 (any
    msgpack uint), `status_known` and `max_depth` at most 2^32-1, `pid` an
    int64."""
    if kind == "str":
        return type(v) is str
    if kind == "uint":
        return is_uint(v)
    if kind == "u32":
        return is_uint(v) and v <= U32_MAX
    if kind == "int":
        return type(v) is int and I64_MIN <= v <= I64_MAX
    return type(v) is list and all(type(s) is str for s in v)     # array of str


def check_header_map(meta):
    """Spec §4.1: known keys have their type (every occurrence of a repeated
    key), required keys are present, other keys are kept as they are."""
    if type(meta) is not MsgMap:
        raise Corrupt("the header map is not a map")
    seen = set()
    for key, value in meta:
        if type(key) is not str:
            raise Corrupt("the header map has a key that is not a str")
        if key in META_TYPES and not has_type(value, META_TYPES[key][0]):
            raise Corrupt("key %r has a value of the wrong type or out of range" % key)
        seen.add(key)
    for key, (_, required) in META_TYPES.items():
        if required and key not in seen:
            raise Corrupt("the required key %r is missing" % key)


def read_header(buf):
    """Checks the header frame at offset 0 in spec §4's order; returns (header
    JSON line, offset of the first frame after it)."""
    end = len(buf)
    if end == 0:
        raise TraceError("E_EMPTY", "the file is empty")
    # 1. The magic (bytes 0-3) and the tag (bytes 8-15), as far as the file
    #    goes, whatever the declared size (N1, N2).
    magic_bytes = HEADER_MAGIC.to_bytes(4, "little")
    if bytes(buf[:4]) != magic_bytes[:min(end, 4)]:
        raise TraceError("E_NOT_TRACE", "not a .pyitrace file (no header frame magic)")
    if bytes(buf[8:16]) != HEADER_TAG[:max(0, min(end, 16) - 8)]:
        raise TraceError("E_NOT_TRACE", "not a .pyitrace file (no PYITRACE tag)")
    # 2. The 16 bytes of magic, size and tag, then the whole payload; a size
    #    over 1 MiB is corrupt, even in a cut file (N2a).
    if end < 16:
        raise TraceError("E_TRUNCATED", "the file is cut inside its header")
    size = _le32(buf, 4)
    if size > MAX_HEADER_PAYLOAD:
        raise TraceError("E_CORRUPT", "header payload of %d bytes is over 1 MiB" % size)
    if 8 + size > end:
        raise TraceError("E_TRUNCATED", "the file is cut inside its header")
    # 3. The version fields (N3).
    p = buf[8:8 + size]
    if size < 12:
        raise TraceError("E_CORRUPT", "header payload of %d bytes is too short" % size)
    # 4. The major version: greater than this reader's, or 0 (N4).
    major, minor = struct.unpack_from("<HH", p, 8)
    if major > READER_MAJOR:
        raise TraceError("E_VERSION", "format %d.%d%s needs a newer reader (this one reads %d.%d)"
                         % (major, minor, _recorder_of(p), READER_MAJOR, READER_MINOR))
    if major < READER_MAJOR:
        raise TraceError("E_VERSION", "format %d.%d is not supported (this reader reads %d.%d)"
                         % (major, minor, READER_MAJOR, READER_MINOR))
    # 5. The CRC, which needs the flag words and the CRC itself to be there.
    if size < 24:
        raise TraceError("E_CORRUPT", "header payload of %d bytes is too short" % size)
    crc = _le32(p, size - 4)
    if zlib.crc32(p[:size - 4]) != crc:
        raise TraceError("E_CORRUPT", "header CRC mismatch")
    # 6. incompat_flags: no bit is known in 1.0.
    incompat, compat = struct.unpack_from("<II", p, 12)
    if incompat:
        raise TraceError("E_VERSION", "format %d.%d%s uses incompatible features 0x%x unknown "
                         "to this reader (%d.%d)" % (major, minor, _recorder_of(p), incompat,
                                                     READER_MAJOR, READER_MINOR))
    # 7. The map.
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
    """Salvage: the record refers to an undefined id; it is dropped and
    counted, and reading goes on with the next record (spec §8 rule 3)."""


class State:
    """Definitions and counters kept across chunks (spec §5 "Ids")."""

    def __init__(self, salvage):
        # Highest id defined so far, per kind; threads are kept by id.
        self.strings = self.functions = self.locations = self.stacks = 0
        self.processes = 1                         # process 1 is predefined (§5.11)
        self.threads = {}                          # id -> (process, native_id)
        self.thread_max = 0
        self.holes = {}                            # salvage: kind -> [(lo, hi)] ids skipped
        self.salvage = salvage
        # The sequence expected of the next CHUNK_BEGIN: the count of chunk
        # frames before it (strict), or more than the last one delivered
        # (salvage, §8 rule 4, N27b).
        self.seq_next = 0
        self.dropped = 0                           # salvage: records dropped (§8 rule 3)
        self.delivered = 0                         # chunks delivered (their CHUNK_BEGIN was)
        self.samples = self.lost = 0
        self.unknown_records = self.unknown_frames = 0
        self.has_end = self.has_index = self.truncated = False

    def skipped_id(self, kind, v):
        return any(lo <= v <= hi for lo, hi in self.holes.get(kind, ()))


def fields(rec, n_required, n_total, name):
    """Spec §5: fewer elements than the required fields is corrupt, optional
    ones left off or nil are absent (None). (Extra elements were skipped
    unchecked by the caller.)"""
    n = len(rec)
    if n == n_total:
        return rec
    if n < n_required:
        raise Corrupt("%s record has %d fields, needs %d" % (name, n, n_required))
    return rec + [None] * (n_total - n)


# Field checks: a msgpack integer of the right sign within its range (spec §1
# "Ranges"). A value outside it is corrupt.

def u32(v, what):
    """Ids, line numbers, first_line, kind, flags, reason, status."""
    if type(v) is not int or not 0 <= v <= U32_MAX:
        raise Corrupt("%s is not a uint of at most 2^32-1" % what)
    return v


def u64(v, what):
    """count, native_id, sequence (a msgpack uint is at most 2^64-1)."""
    if type(v) is not int or v < 0:
        raise Corrupt("%s is not a uint" % what)
    return v


def i64(v, what):
    """`int` fields: dt, time_us, pid."""
    if type(v) is not int or not I64_MIN <= v <= I64_MAX:
        raise Corrupt("%s is not an int of 64 bits" % what)
    return v


def time_us(v, what):
    """Times and durations in µs: 0 to 9 223 372 036 854 775."""
    if type(v) is not int or not 0 <= v <= MAX_TIME_US:
        raise Corrupt("%s is not a time in range (0 to %d µs)" % (what, MAX_TIME_US))
    return v


def map_text(v, what):
    """A `map` field: its JSON text (spec §10), which checks that its keys
    (and those of the maps inside) are `str` (spec §1, N14)."""
    if type(v) is not MsgMap:
        raise Corrupt("%s is not a map" % what)
    return jval(v)


# The checks of a record run in the order the C reader runs them, so that
# a salvaging reader drops the same records (spec §8 rules 2 and 3, N27a):
# first each field's type, and its range except for times in µs; then
# whether a definition's id is the next one (for THREAD, after its
# references); then the references (an undefined one: corrupt when strict,
# the record dropped when salvaging); then the ranges of times and
# durations and the rules that involve several fields (times, renames).

def next_id(st, top, v, what):
    """Spec §5 "Ids" rule 1: each definition uses the next id. A salvaging
    reader accepts ids that skip forward over what was lost (spec §8 rule 4,
    N27b); a lower id is still a redefinition."""
    if v == top + 1 or (st.salvage and top + 1 < v <= top + 1 + MAX_ID_SKIP):
        return
    raise Corrupt("%s %d is not the next id (%d)" % (what, v, top + 1))


MAX_ID_SKIP = 1 << 20  # spec §11: most ids a salvaging reader skips at once


def define(st, kind, v):
    """Records the definition of id v, and the ids it skipped (salvage)."""
    top = getattr(st, kind)
    if v > top + 1:
        st.holes.setdefault(kind, []).append((top + 1, v - 1))
    setattr(st, kind, v)


def undefined(st, what, v):
    """Spec §5 "Ids" rule 2 (strict) or §8 rule 3 (salvage)."""
    if st.salvage:
        raise Dropped()
    raise Corrupt("%s %d is not defined" % (what, v))


def ref(st, kind, v, zero_ok, what):
    """A reference to a defined id; 0 means "none" where the table allows it
    and is never defined otherwise (spec §5 "Ids" rule 4)."""
    if v == 0:
        if not zero_ok:
            undefined(st, what, v)
    elif v > getattr(st, kind) or (st.holes and st.skipped_id(kind, v)):
        undefined(st, what, v)


def ref_thread(st, v, zero_ok, what):
    if v == 0 and zero_ok or v in st.threads:
        return
    undefined(st, what, v)


class ChunkDecoder:
    """Decodes the records of one chunk's content into JSON lines (spec §5)."""

    def __init__(self, st, frame, sequence):
        self.st, self.frame, self.sequence = st, frame, sequence
        self.base_us = 0
        self.last_us = {}                          # thread id -> its last sample time here
        self.record = 0                            # number of the record being decoded

    def decode(self, content, out):
        """Appends the JSON line of each delivered record to out. Raises
        Corrupt at the first corrupt record: the lines of the records before
        it are in out (spec §8)."""
        st = self.st
        end = len(content)
        pos = 0
        first = True
        handlers = HANDLERS
        while pos < end:
            self.record += 1
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
                    # Nesting (spec §11) counts from a field's value, and
                    # from the values inside a `map` field (N13).
                    v, pos = unpack(content, pos, end, -1 if len(rec) == map_at else 0)
                    append(v)
            for _ in range(n - 1 - n_fields):      # extra elements: skipped unchecked (§5)
                pos = skip(content, pos, end)
            try:
                out.append(handler(self, rec, first))
            except Dropped:
                st.dropped += 1
            first = False
        if first:
            raise Corrupt("the chunk is empty (no CHUNK_BEGIN)")

    # One method per record type; each checks the record (in the order said
    # above) and only then changes the state and returns its JSON line
    # (spec §10). The common case of a check is tested inline for speed.

    def chunk_begin(self, rec, first):             # §5.1
        st = self.st
        if not first:
            raise Corrupt("CHUNK_BEGIN inside a chunk")
        seq, base = fields(rec, 2, 2, "CHUNK_BEGIN")
        u64(seq, "CHUNK_BEGIN sequence")
        time_us(base, "CHUNK_BEGIN base_time_us")
        if seq != self.sequence and not (st.salvage and seq > self.sequence):
            # A salvaging reader accepts a sequence that skips forward over
            # what was lost (§8 rule 4), never one that goes back: it expects
            # more than the last sequence it delivered, whatever it skipped
            # since (the C reader's reading, N27b).
            raise Corrupt("chunk sequence %d, expected %d" % (seq, self.sequence))
        st.seq_next = seq + 1
        self.base_us = base
        st.delivered += 1
        f = self.frame
        return ('{"record":"chunk","sequence":%d,"offset":%d,"size":%d,"content_size":%d,'
                '"base_time_ns":%d}' % (seq, f.offset, f.size, f.content_size, base * 1000))

    def string(self, rec, first):                  # §5.2
        st = self.st
        sid, value = fields(rec, 2, 2, "STRING")
        if type(value) is not str:
            raise Corrupt("STRING value is not a str")
        if type(sid) is not int or sid != st.strings + 1 or sid > U32_MAX:
            next_id(st, st.strings, u32(sid, "string id"), "string id")
        define(st, "strings", sid)
        return '{"record":"string","id":%d,"value":%s}' % (sid, jstr(value))

    def function(self, rec, first):                # §5.3
        st = self.st
        fid, name, file_, line, kind = fields(rec, 5, 5, "FUNCTION")
        u32(fid, "function id")
        u32(name, "FUNCTION name")
        u32(file_, "FUNCTION file")
        u32(line, "FUNCTION first_line")
        u32(kind, "FUNCTION kind")                 # an unknown kind is printed as stored
        if fid != st.functions + 1:
            next_id(st, st.functions, fid, "function id")
        ref(st, "strings", name, False, "FUNCTION name string")
        ref(st, "strings", file_, True, "FUNCTION file string")
        define(st, "functions", fid)
        return ('{"record":"function","id":%d,"name":%d,"file":%d,"first_line":%d,"kind":%d}'
                % (fid, name, file_, line, kind))

    def location(self, rec, first):                # §5.4
        st = self.st
        lid, fn, line = rec if len(rec) == 3 else fields(rec, 3, 3, "LOCATION")
        u32(lid, "location id")
        u32(fn, "LOCATION function")
        u32(line, "LOCATION line")
        if lid != st.locations + 1:
            next_id(st, st.locations, lid, "location id")
        if not 0 < fn <= st.functions or st.holes:
            ref(st, "functions", fn, False, "LOCATION function")
        define(st, "locations", lid)
        return '{"record":"location","id":%d,"function":%d,"line":%d}' % (lid, fn, line)

    def stack(self, rec, first):                   # §5.5
        st = self.st
        sid, parent, loc = rec if len(rec) == 3 else fields(rec, 3, 3, "STACK")
        u32(sid, "stack id")
        u32(parent, "STACK parent")
        u32(loc, "STACK location")
        if sid != st.stacks + 1:
            next_id(st, st.stacks, sid, "stack id")
        if not 0 <= parent <= st.stacks or st.holes:
            ref(st, "stacks", parent, True, "STACK parent")
        if not 0 < loc <= st.locations or st.holes:
            ref(st, "locations", loc, False, "STACK location")
        define(st, "stacks", sid)
        return '{"record":"stack","id":%d,"parent":%d,"location":%d}' % (sid, parent, loc)

    def thread(self, rec, first):                  # §5.6
        st = self.st
        tid, proc, native, name, flags = fields(rec, 5, 5, "THREAD")
        u32(tid, "thread id")
        u32(proc, "THREAD process")
        u64(native, "THREAD native_id")
        u32(name, "THREAD name")
        u32(flags, "THREAD flags")
        # (Unlike the other definitions, a THREAD's references are checked
        # before its id, as the C reader does: N27a.)
        ref(st, "processes", proc, False, "THREAD process")
        ref(st, "strings", name, True, "THREAD name string")
        known = st.threads.get(tid)
        if known is None:                          # a new thread, else a rename
            next_id(st, st.thread_max, tid, "thread id")
            st.threads[tid] = (proc, native)
            st.thread_max = tid
        elif known != (proc, native):
            raise Corrupt("THREAD %d renamed with another process or native_id" % tid)
        return ('{"record":"thread","id":%d,"process":%d,"native_id":%d,"name":%d,"flags":%d}'
                % (tid, proc, native, name, flags))

    def sample(self, rec, first):                  # §5.7, "Times"
        st = self.st
        tid, dt, stack, status, weight, cpu = fields(rec, 4, 6, "SAMPLE")
        u32(tid, "SAMPLE thread")
        i64(dt, "SAMPLE dt")
        u32(stack, "SAMPLE stack")
        u32(status, "SAMPLE status")               # printed as stored, unknown bits too
        if weight is not None:
            u64(weight, "SAMPLE weight")
        if cpu is not None:
            u64(cpu, "SAMPLE cpu")
        if tid not in st.threads:
            ref_thread(st, tid, False, "SAMPLE thread")
        if stack > st.stacks or st.holes:
            ref(st, "stacks", stack, True, "SAMPLE stack")
        if weight is not None and weight > MAX_TIME_US:
            time_us(weight, "SAMPLE weight")
        if cpu is not None and cpu > MAX_TIME_US:
            time_us(cpu, "SAMPLE cpu")
        last = self.last_us.get(tid)
        if last is None:
            t = self.base_us + dt
        else:
            if dt < 0:
                raise Corrupt("negative SAMPLE dt after the thread's first sample in the chunk")
            t = last + dt
        if not 0 <= t <= MAX_TIME_US:
            raise Corrupt("SAMPLE time out of range")
        if weight is None:
            if dt < 0:                             # the default weight is no uint (N9)
                raise Corrupt("negative SAMPLE dt with no weight")
            weight = dt
        self.last_us[tid] = t
        st.samples += 1
        return ('{"record":"sample","thread":%d,"time_ns":%d,"stack":%d,"status":%d,'
                '"weight_ns":%d,"cpu_ns":%s}' % (tid, t * 1000, stack, status, weight * 1000,
                                                 "null" if cpu is None else cpu * 1000))

    def lost(self, rec, first):                    # §5.9
        st = self.st
        tid, reason, count, weight = fields(rec, 4, 4, "LOST")
        u32(tid, "LOST thread")
        u32(reason, "LOST reason")                 # an unknown reason is printed as stored
        u64(count, "LOST count")
        u64(weight, "LOST weight_us")
        ref_thread(st, tid, True, "LOST thread")
        time_us(weight, "LOST weight_us")
        st.lost = min(st.lost + count, U64_MAX)    # §10: the sums saturate
        return ('{"record":"lost","thread":%d,"reason":%d,"count":%d,"weight_ns":%d}'
                % (tid, reason, count, weight * 1000))

    def marker(self, rec, first):                  # §5.10
        st = self.st
        tid, time_rel, duration, name, args = fields(rec, 4, 5, "MARKER")
        u32(tid, "MARKER thread")
        i64(time_rel, "MARKER time_us")
        u64(duration, "MARKER duration_us")
        u32(name, "MARKER name")
        args_text = "{}" if args is None else map_text(args, "MARKER args")
        ref_thread(st, tid, True, "MARKER thread")
        ref(st, "strings", name, False, "MARKER name string")
        time_us(duration, "MARKER duration_us")
        t = self.base_us + time_rel
        if not 0 <= t <= MAX_TIME_US:              # §5.10 (N10)
            raise Corrupt("MARKER time out of range")
        return ('{"record":"marker","thread":%d,"name":%d,"time_ns":%d,"duration_ns":%d,'
                '"args":%s}' % (tid, name, t * 1000, duration * 1000, args_text))

    def meta(self, rec, first):                    # §5.12
        key, value = fields(rec, 2, 2, "META")
        if type(key) is not str:
            raise Corrupt("META key is not a str")
        return '{"record":"meta","key":%s,"value":%s}' % (jstr(key), jval(value))

    def process(self, rec, first):                 # §5.11
        st = self.st
        pid_, parent, ospid, meta = fields(rec, 4, 4, "PROCESS")
        u32(pid_, "process id")
        u32(parent, "PROCESS parent")
        i64(ospid, "PROCESS pid")
        meta_text = map_text(meta, "PROCESS meta")   # its values are not checked (N12)
        if pid_ != st.processes + 1:
            next_id(st, st.processes, pid_, "process id")
        ref(st, "processes", parent, True, "PROCESS parent")
        define(st, "processes", pid_)
        return ('{"record":"process","id":%d,"parent":%d,"pid":%d,"meta":%s}'
                % (pid_, parent, ospid, meta_text))

    def end(self, rec, first):                     # §5.13
        (summary,) = fields(rec, 1, 1, "END")
        line = '{"record":"end","summary":%s}' % map_text(summary, "END summary")
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
    # The summary is a `map` field like END's: its values need not be
    # checked (§6), but are, as END's are and as the C reader does (N24).
    summary, pos = unpack(buf, pos, end, -1)      # nesting counted from its values (N13)
    map_text(summary, "the index summary")
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
                # §8: a file that ends with the trailer tag was finished by
                # its writer, so a zstd frame running past its end is
                # damaged, not cut (N21). Any other cut frame, a skippable
                # or index frame included, is a cut file (§6, §8, N22).
                error = "a chunk frame runs past the end of a file with a trailer"
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
    complete, well-formed frame (spec §8 rule 1). If there is none, the
    offset of the first magic that begins a frame cut by the end of the file
    (the file is then truncated there, §8; a zstd frame in a file that ends
    with the trailer tag is damaged, not cut), else end (N27c; the C reader
    stops at the first magic of either kind: notes D2)."""
    cut = None
    trailer = bytes(buf[-8:]) == TRAILER_TAG
    for m in _MAGIC_RE.finditer(buf, pos):
        try:
            delimit_frame(buf, m.start(), end)
            return m.start()
        except Truncated:
            if cut is None and not (trailer and _le32(buf, m.start()) == ZSTD_MAGIC):
                cut = m.start()
        except Corrupt:
            pass
    return end if cut is None else cut


def read_trace(buf, out, salvage, damage):
    """Delivers the header and every record of buf to out; returns the State.
    Strict mode raises TraceError at the first damage, having delivered the
    records before it; salvage mode applies spec §8's rules and appends a
    line per damaged region to damage."""
    header_line, start = read_header(buf)
    out.add([header_line])
    st = State(salvage)
    frames, stop = scan_frames(buf, start, salvage)
    # Every zstd frame is a chunk frame (§3), one that breaks §5 included:
    # the index must list them all (§6; the C reader differs: notes D1).
    chunk_frames = [f for f in frames if f.kind == "chunk"]
    decomp = Decompressor(buf, chunk_frames)
    ci = 0                                         # chunk frames met so far
    index_seen = False
    for frame in frames:
        lines = []
        decoder = None
        try:
            if frame.kind == "damage":
                raise Corrupt(frame.error)
            if index_seen:                         # §3: the index is the last frame
                raise Corrupt("data after the index")
            if frame.kind == "skippable":
                if frame.magic == HEADER_MAGIC:
                    raise Corrupt("a second header frame")
                if frame.magic == INDEX_MAGIC:
                    # Only an index that passes its checks ends the file:
                    # a salvaging reader skips a damaged one like any other
                    # damaged frame and reads on (as the C reader does, N22a).
                    check_index(buf, frame, chunk_frames[:ci])
                    index_seen = st.has_index = True
                else:
                    st.unknown_frames += 1         # §3: skip and count
                continue
            ci += 1
            if st.has_end:
                raise Corrupt("a chunk follows END")
            check_chunk_frame(frame)
            content = decomp.content(ci - 1)
            decoder = ChunkDecoder(st, frame, st.seq_next)
            decoder.decode(content, lines)
            out.add(lines)
        except Corrupt as e:
            # Strict: the records before the corrupt one are delivered, then
            # the error (§8 allows it; the C reader streams them, N25).
            # Salvage: rule 2 keeps them and skips the rest of the chunk;
            # rule 1 skips a chunk frame that cannot be read at all.
            out.add(lines)
            what = "%s at offset %d" % ({"chunk": "chunk", "damage": "data"}.get(
                frame.kind, "frame"), frame.offset)
            if decoder is not None:
                what += ", record %d" % decoder.record
            if not salvage:
                raise TraceError("E_CORRUPT", "%s: %s" % (what, e))
            if decoder is not None:
                damage.append("%s: %s; the rest of the chunk is skipped" % (what, e))
            else:
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
        damage.append("%d records dropped: they refer to undefined ids" % st.dropped)
    return st


def stats_line(st):
    """The last line of the dump (spec §10)."""
    flags = tuple("true" if x else "false" for x in (st.truncated, st.has_end, st.has_index))
    return ('{"record":"stats","chunks":%d,"samples":%d,"lost_samples":%d,'
            '"unknown_records":%d,"unknown_frames":%d,"truncated":%s,"has_end":%s,'
            '"has_index":%s}' % (tuple(min(n, U64_MAX) for n in (
                st.delivered, st.samples, st.lost, st.unknown_records, st.unknown_frames))
                + flags))


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
