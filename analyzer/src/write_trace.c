/* SPDX-License-Identifier: MIT */
/* Writes a finished model back as a .pyitrace through the format writer. */
#include "model_internal.h"
#include "pyi/trace.h"

int pyi_model_write_trace(pyi_model *m, const char *path)
{
    return pyi__model_fail(m, PYI_E_UNSUPPORTED, "%s: writing a model is not built yet", path);
}
