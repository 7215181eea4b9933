#!/usr/bin/env python3
"""Keeps the spec honest: the version, magics, tags, record types, status
bits, function kinds and lost reasons that spec/pyitrace.md states must be
the values format/include/pyi/trace.h defines."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    spec = open(os.path.join(ROOT, "spec/pyitrace.md"), encoding="utf-8").read()
    header = open(os.path.join(ROOT, "format/include/pyi/trace.h"), encoding="utf-8").read()
    defines = {k: v.strip() for k, v in re.findall(r"#define (PYI_\w+) ([^/\n]+)", header)}
    enums = {k: int(v) for k, v in re.findall(r"(PYI_RECORD_\w+) = (\d+)", header)}
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    version = re.search(r"\*\*format version (\d+)\.(\d+)\*\*", spec)
    expect(version and int(version.group(1)) == int(defines["PYI_FORMAT_MAJOR"]) and
           int(version.group(2)) == int(defines["PYI_FORMAT_MINOR"]), "format version")
    for name, magic in (("PYI_MAGIC_HEADER", "header"), ("PYI_MAGIC_INDEX", "index")):
        value = defines[name].rstrip("u")
        expect(re.search(r"\*\*%s\*\* for the %s" % (value, magic), spec), name)
    for name in ("PYI_HEADER_TAG", "PYI_INDEX_TAG", "PYI_TRAILER_TAG"):
        expect("`%s`" % defines[name].strip('"') in spec, name)
    table = dict((int(t), n) for t, n in re.findall(r"^\| (\d+) \| ([A-Z_]+) \| 5\.\d+ \|$",
                                                   spec, re.M))
    names = {"CHUNK_BEGIN": "CHUNK"}
    expect(len(table) == 12, "record type table has %d rows" % len(table))
    for number, name in table.items():
        expect(enums.get("PYI_RECORD_" + names.get(name, name)) == number,
               "record type %s = %d" % (name, number))
    for bit, mask, name in re.findall(r"^\| (\d) \| (0x[0-9a-f]+) \| ([A-Z_]+) \|", spec, re.M):
        expect(int(defines["PYI_STATUS_" + name].rstrip("u"), 16) == int(mask, 16) == 1 << int(bit),
               "status bit " + name)
    expect("0 Python code, 1 native function" in spec and
           defines["PYI_FUNCTION_PYTHON"] == "0u" and defines["PYI_FUNCTION_NATIVE"] == "1u" and
           defines["PYI_FUNCTION_SYNTHETIC"] == "2u", "function kinds")
    expect("1 invalid (" in spec and defines["PYI_LOST_INVALID"] == "1u" and
           defines["PYI_LOST_MISSED"] == "2u" and defines["PYI_LOST_DROPPED"] == "3u" and
           defines["PYI_LOST_OTHER"] == "4u", "lost reasons")
    expect("at most 64 MiB" in spec and defines["PYI_MAX_CHUNK_SIZE"] == "(64u << 20)",
           "chunk size limit")
    expect("(at most 1 MiB)" in spec and defines["PYI_MAX_HEADER_SIZE"] == "(1u << 20)",
           "header size limit")
    for f in failures:
        print("spec and trace.h disagree:", f)
    print("spec constants: %d problems" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
