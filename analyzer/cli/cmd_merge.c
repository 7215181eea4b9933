/* SPDX-License-Identifier: MIT */
/*
 * pyinst-report merge FILE... -o MERGED.pyitrace: many traces (runs,
 * processes, hosts) into one model, with the filters applied, written back as
 * one aggregated trace: exact totals per stack and thread, one process per
 * input, no per-sample timing.
 */
#include "commands.h"
#include "report_options.h"

int cmd_merge(int argc, char **argv)
{
    report_options ro;
    int rc = report_options_parse(&ro, argc, argv, REPORT_MODE_MERGE);
    if (rc >= 0)
        return rc;
    rc = write_model_trace(&ro);
    report_options_destroy(&ro);
    return rc;
}
