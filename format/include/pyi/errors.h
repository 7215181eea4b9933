/* SPDX-License-Identifier: MIT */
/*
 * Error values shared by every pyinst library. Errors are negative ints, 0 is
 * success; each has a stable name and a one-line message generated from one
 * list so they cannot drift. Values are pinned: never renumber, only append.
 */
#ifndef PYI_ERRORS_H
#define PYI_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Values down to -99 are stable API. */
#define PYI_ERRNO_MAP(X)                                                                   \
    X(OK, 0, "success")                                                                    \
    X(E_IO, -1, "input/output error")                                                      \
    X(E_NOMEM, -2, "out of memory")                                                        \
    X(E_CORRUPT, -3, "the trace is corrupt")                                               \
    X(E_VERSION, -4, "the trace needs a newer reader")                                     \
    X(E_TRUNCATED, -5, "the trace is truncated")                                           \
    X(E_UNSUPPORTED, -6, "unsupported feature")                                            \
    X(E_NOT_TRACE, -7, "not a .pyitrace file")                                             \
    X(E_INVALID_ARG, -8, "invalid argument")                                               \
    X(E_STATE, -9, "operation not valid in the current state")                             \
    X(E_LIMIT, -10, "a size limit was exceeded")                                           \
    X(E_EMPTY, -11, "the file is empty")

enum pyi_error {
#define PYI_ERRNO_ENUM(name, value, message) PYI_##name = (value),
    PYI_ERRNO_MAP(PYI_ERRNO_ENUM)
#undef PYI_ERRNO_ENUM
};

/* The message for an error value; never NULL ("unknown error" for others). */
const char *pyi_strerror(int error);

/* The symbolic name without prefix, e.g. "E_CORRUPT"; never NULL. */
const char *pyi_err_name(int error);

#ifdef __cplusplus
}
#endif

#endif /* PYI_ERRORS_H */
