/* SPDX-License-Identifier: MIT */
/* Names and messages of pyi_error values, generated from PYI_ERRNO_MAP. */
#include "pyi/errors.h"

const char *pyi_strerror(int error)
{
    switch (error) {
#define PYI_ERRNO_MESSAGE(name, value, message)                                                  \
    case PYI_##name:                                                                             \
        return message;
        PYI_ERRNO_MAP(PYI_ERRNO_MESSAGE)
#undef PYI_ERRNO_MESSAGE
    }
    return "unknown error";
}

const char *pyi_err_name(int error)
{
    switch (error) {
#define PYI_ERRNO_NAME(name, value, message)                                                     \
    case PYI_##name:                                                                             \
        return #name;
        PYI_ERRNO_MAP(PYI_ERRNO_NAME)
#undef PYI_ERRNO_NAME
    }
    return "UNKNOWN";
}
