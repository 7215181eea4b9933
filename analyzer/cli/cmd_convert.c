/* SPDX-License-Identifier: MIT */
/*
 * pyinst-report convert FILE... -o OUT: any trace to any renderer's format
 * (chosen by -r or OUT's ending), or to .pyitrace: one unfiltered input is
 * re-encoded record by record (lossless); several inputs or filters go
 * through the model, like merge.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report_options.h"

static int has_filters(const report_options *ro)
{
    const pyi_filter *f = &ro->model.filter;
    return f->time_from_ns || f->time_to_ns || f->thread_count || f->focus ||
           f->exclude_function_count || f->exclude_file_count || f->state != PYI_STATE_ALL;
}

int write_model_trace(const report_options *ro)
{
    pyi_model *model = NULL;
    int rc = report_load(ro, &model);
    if (rc == 0 && pyi_model_write_trace(model, ro->output)) {
        report_error("%s", pyi_model_error_detail(model));
        rc = 2;
    }
    pyi_model_free(model);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    report_options ro;
    int rc = report_options_parse(&ro, argc, argv, REPORT_MODE_CONVERT);
    if (rc >= 0)
        return rc;
    if (!ro.renderer) { /* .pyitrace output */
        if (ro.file_count == 1 && !has_filters(&ro)) {
            char detail[1024];
            rc = pyi_trace_copy(ro.files[0], ro.output, ro.model.salvage, detail,
                                sizeof(detail));
            if (rc)
                report_error("%s", detail);
            rc = rc ? 2 : 0;
        } else {
            rc = write_model_trace(&ro);
        }
    } else {
        pyi_model *model = NULL;
        rc = report_load(&ro, &model);
        if (rc == 0)
            rc = report_render(&ro, model);
        pyi_model_free(model);
    }
    report_options_destroy(&ro);
    return rc;
}
