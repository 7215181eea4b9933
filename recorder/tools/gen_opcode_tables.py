# SPDX-License-Identifier: MIT
"""Generates recorder/src/py_opcodes_table.c: per-CPython-minor opcode facts
the native-leaf detector needs (base opcode of every specialised or
instrumented opcode, inline cache sizes, and which base opcodes call or load
a name). Run it with every supported interpreter; each one contributes its
own minor version, because the opcode module only describes itself:

    for py in ~/.pyenv/versions/3.{8,9,10,11,12,13}*/bin/python3; do
        "$py" recorder/tools/gen_opcode_tables.py --part > /tmp/op-$("$py" -c \
            'import sys; print("%d%d" % sys.version_info[:2])').inc
    done
    python3 recorder/tools/gen_opcode_tables.py --join /tmp/op-3*.inc \
        > recorder/src/py_opcodes_table.c
"""
import sys

# Kinds, mirrored by enum pyi_op_kind in py_opcodes_internal.h.
KIND = {
    "OTHER": 0, "CALL": 1, "LOAD_GLOBAL": 2, "LOAD_LOCAL": 3, "EXTENDED_ARG": 4, "OPAQUE": 5,
    "LOAD_ATTR": 6, "NEUTRAL": 7, "CALL_PY": 8,
}
CALLS = {"CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_FUNCTION_EX", "CALL_METHOD",
         "PRECALL", "CALL", "CALL_KW"}
# Specialised calls that only ever call Python functions: a frame stopped on
# one is pushing its callee's frame, not running native code.
PY_CALLS = {"PRECALL_PYFUNC", "PRECALL_BOUND_METHOD", "CALL_PY_EXACT_ARGS",
            "CALL_PY_WITH_DEFAULTS", "CALL_BOUND_METHOD_EXACT_ARGS", "CALL_PY_GENERAL",
            "CALL_BOUND_METHOD_GENERAL", "CALL_ALLOC_AND_ENTER_INIT"}
# Base opcodes whose oparg (shifted) indexes co_names: attributes of the value
# below them, and plain names.
ATTR_LOADS = {"LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR"}
GLOBAL_LOADS = {"LOAD_GLOBAL", "LOAD_NAME"}
# Instructions that share the callee's source range without computing it.
NEUTRAL = {"PUSH_NULL", "NOP", "CACHE", "KW_NAMES", "RESUME"}
# Base opcodes whose oparg indexes the local variable names.
LOCAL_LOADS = {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF"}


# Stack effects before 3.11, for finding which instruction pushed a call's
# callable by walking back from the call (straight-line code only). Classes,
# mirrored by PYI_EFFECT_* in py_opcodes_internal.h: 0 unknown (the scan
# stops), 1 fixed (pops, pushes), 2 pops oparg, 3 pops 2*oparg, 4 pops
# oparg+1, 5 pops oparg+2, 6 FORMAT_VALUE, 7 MAKE_FUNCTION, 8 CALL_FUNCTION_EX.
EFFECTS = {}
for _n in ("LOAD_CONST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_FAST", "LOAD_DEREF",
           "LOAD_CLASSDEREF", "LOAD_CLOSURE", "LOAD_BUILD_CLASS", "LOAD_ASSERTION_ERROR"):
    EFFECTS[_n] = (1, 0, 1)
EFFECTS.update({"LOAD_ATTR": (1, 1, 1), "LOAD_METHOD": (1, 1, 2), "NOP": (1, 0, 0),
                "LIST_TO_TUPLE": (1, 1, 1), "LIST_EXTEND": (1, 1, 0), "SET_UPDATE": (1, 1, 0),
                "DICT_UPDATE": (1, 1, 0), "DICT_MERGE": (1, 1, 0), "IS_OP": (1, 2, 1),
                "CONTAINS_OP": (1, 2, 1), "COMPARE_OP": (1, 2, 1), "BINARY_SUBSCR": (1, 2, 1),
                "BUILD_TUPLE": (2, 0, 1), "BUILD_LIST": (2, 0, 1), "BUILD_SET": (2, 0, 1),
                "BUILD_STRING": (2, 0, 1), "BUILD_SLICE": (2, 0, 1), "BUILD_MAP": (3, 0, 1),
                "BUILD_CONST_KEY_MAP": (4, 0, 1), "CALL_FUNCTION": (4, 0, 1),
                "CALL_METHOD": (5, 0, 1), "CALL_FUNCTION_KW": (5, 0, 1),
                "FORMAT_VALUE": (6, 0, 1), "MAKE_FUNCTION": (7, 0, 1),
                "CALL_FUNCTION_EX": (8, 0, 1)})
for _n in ("BUILD_TUPLE_UNPACK", "BUILD_LIST_UNPACK", "BUILD_SET_UNPACK", "BUILD_MAP_UNPACK",
           "BUILD_TUPLE_UNPACK_WITH_CALL", "BUILD_MAP_UNPACK_WITH_CALL"):
    EFFECTS[_n] = (2, 0, 1)


def effect_of(name, version):
    if version >= (3, 11):
        return 0
    if name.startswith(("UNARY_",)):
        klass, pops, pushes = 1, 1, 1
    elif name.startswith(("BINARY_", "INPLACE_")) and name != "BINARY_SUBSCR":
        klass, pops, pushes = 1, 2, 1
    elif name in EFFECTS:
        klass, pops, pushes = EFFECTS[name]
    else:
        return 0
    return klass | (pops << 4) | (pushes << 8)


def name_shift(name, version):
    if name == "LOAD_GLOBAL" and version >= (3, 11):
        return 1
    if name == "LOAD_ATTR" and version >= (3, 12):
        return 1
    if name == "LOAD_SUPER_ATTR":
        return 2
    return 0


def part():
    import dis
    import opcode
    version = sys.version_info[:2]
    all_opname = getattr(dis, "_all_opname", opcode.opname)
    deopt, caches, kind, shift = [0] * 256, [0] * 256, [0] * 256, [0] * 256
    effect = [0] * 256
    base_of = {}
    if version >= (3, 13):
        import _opcode_metadata
        specs = _opcode_metadata._specializations
    else:
        specs = getattr(opcode, "_specializations", {})
    for base, variants in specs.items():
        for variant in variants:
            base_of[variant] = base
    for op in range(256):
        name = all_opname[op]
        if name.startswith("<"):
            continue
        base = base_of.get(name, name)
        if base.startswith("INSTRUMENTED_"):
            stripped = base[len("INSTRUMENTED_"):]
            if stripped in ("LINE", "INSTRUCTION"):
                kind[op] = KIND["OPAQUE"]  # the real opcode is kept elsewhere
                continue
            base = stripped
        if base not in opcode.opmap:
            continue
        base_op = opcode.opmap[base]
        if base_op >= 256:
            continue
        deopt[op] = base_op
        if version >= (3, 13):
            caches[op] = dis._get_cache_size(base)
        elif version >= (3, 11):
            caches[op] = opcode._inline_cache_entries[base_op]
        if name in PY_CALLS:
            kind[op] = KIND["CALL_PY"]
        elif base in CALLS:
            kind[op] = KIND["CALL"]
        elif base in ATTR_LOADS:
            kind[op] = KIND["LOAD_ATTR"]
        elif base in GLOBAL_LOADS:
            kind[op] = KIND["LOAD_GLOBAL"]
        elif base in NEUTRAL:
            kind[op] = KIND["NEUTRAL"]
        elif base in LOCAL_LOADS and (version >= (3, 11) or base == "LOAD_FAST"):
            # before 3.11 LOAD_DEREF indexes cells and free variables, not co_varnames
            kind[op] = KIND["LOAD_LOCAL"]
        elif base == "EXTENDED_ARG":
            kind[op] = KIND["EXTENDED_ARG"]
        shift[op] = name_shift(base, version)
        effect[op] = effect_of(base, version)
    tag = "%d%d" % version
    out = ["/* CPython %d.%d (generated by %s) */" % (version + (sys.version.split()[0],))]
    for label, values in (("deopt", deopt), ("caches", caches), ("kind", kind),
                          ("name_shift", shift)):
        out.append("static const uint8_t op%s_%s[256] = {" % (tag, label))
        for i in range(0, 256, 16):
            out.append("    " + ", ".join(str(v) for v in values[i:i + 16]) + ",")
        out.append("};")
    out.append("static const uint16_t op%s_effect[256] = {" % tag)
    for i in range(0, 256, 16):
        out.append("    " + ", ".join(str(v) for v in effect[i:i + 16]) + ",")
    out.append("};")
    out.append("#define OP%s_HAVE_ARGUMENT %d" % (tag, opcode.HAVE_ARGUMENT))
    print("\n".join(out))


def join(paths):
    print("/* SPDX-License-Identifier: MIT */")
    print("/* Opcode facts per CPython minor, generated by recorder/tools/gen_opcode_tables.py:")
    print(" * do not edit; regenerate with the command in that script's docstring. */")
    print('#include "py_opcodes_internal.h"')
    print()
    tags = []
    for path in sorted(paths, key=lambda p: int(p.rsplit("op-3", 1)[1].split(".")[0])):
        with open(path) as f:
            print(f.read())
        tags.append(path.rsplit("op-", 1)[1].split(".")[0])
    print("const pyi_opcode_table pyi__opcode_tables[] = {")
    for tag in tags:
        minor = int(tag[1:])
        print("    {%d, OP%s_HAVE_ARGUMENT, op%s_deopt, op%s_caches, op%s_kind, op%s_name_shift,"
              " op%s_effect}," % (minor, tag, tag, tag, tag, tag, tag))
    print("};")
    print("const size_t pyi__opcode_table_count = %d;" % len(tags))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--part"]:
        part()
    elif sys.argv[1:2] == ["--join"]:
        join(sys.argv[2:])
    else:
        sys.exit(__doc__)
