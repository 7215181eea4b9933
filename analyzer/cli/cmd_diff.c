/* SPDX-License-Identifier: MIT */
/*
 * pyinst-report diff BASE... -- HEAD...: loads both sides into a differential
 * profile (pyi/diff.h), renders it to stdout and to each -o file, and exits
 * with the verdict: 0 clean, 1 regression, 2 usage or input error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "diff_options.h"

static int render_to(const pyi_diff *diff, const pyi_diff_renderer *r,
                     const pyi_render_options *options, FILE *out, const char *name)
{
    pyi_sink sink = {pyi_sink_file_write, out};
    char error[512] = "";
    int rc = r->render(diff, options, &sink, error, sizeof(error));
    int flush_failed = fflush(out) != 0;
    if (rc || flush_failed) {
        report_error("diff: %s: %s", name, rc ? error : "cannot write the output");
        return 2;
    }
    return 0;
}

static int write_outputs(const diff_cli_options *o, const pyi_diff *diff)
{
    pyi_render_options options = o->render;
    options.color = 0; /* files never get terminal escapes */
    for (size_t i = 0; i < o->output_count; i++) {
        FILE *f = fopen(o->outputs[i].path, "wb");
        if (!f) {
            report_error("diff: %s: cannot write: %s", o->outputs[i].path, strerror(errno));
            return 2;
        }
        int rc = render_to(diff, o->outputs[i].renderer, &options, f, o->outputs[i].path);
        if (fclose(f) != 0 && !rc) {
            report_error("diff: %s: cannot write the output", o->outputs[i].path);
            rc = 2;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int write_stdout(const diff_cli_options *o, const pyi_diff *diff)
{
    if (o->quiet)
        return 0;
    pyi_render_options options = o->render;
    if (o->color < 0) {
        const char *no_color = getenv("NO_COLOR");
        options.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    } else {
        options.color = o->color;
    }
    return render_to(diff, o->renderer, &options, stdout, "stdout");
}

/* One line on stderr when stdout does not already carry the text verdict. */
static void print_verdict(const diff_cli_options *o, const pyi_diff *diff)
{
    if (!o->quiet && !strcmp(o->renderer->name, "text"))
        return;
    const pyi_diff_verdict *v = pyi_diff_get_verdict(diff);
    const pyi_diff_estimate *total = &pyi_diff_get_summary(diff)->total;
    fprintf(stderr, "pyinst-report diff: %s: total time per run %+.1f%%%s, %zu function%s "
            "failing", !v->comparable ? "not comparable" : v->regression ? "REGRESSION"
            : "no regression", total->base > 0 ? 100 * total->delta / total->base : 0,
            total->tested ? "" : " (untested)", v->functions_failing,
            v->functions_failing == 1 ? "" : "s");
    if (v->thresholds.path_points >= 0)
        fprintf(stderr, ", %zu path%s failing", v->paths_failing,
                v->paths_failing == 1 ? "" : "s");
    fprintf(stderr, "%s%s\n", *v->note ? "; " : "", v->note);
}

int cmd_diff(int argc, char **argv)
{
    diff_cli_options o;
    int rc = diff_options_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    pyi_diff *diff = NULL;
    char detail[1024];
    rc = pyi_diff_load(&diff, (const char *const *)o.base, o.base_count,
                       (const char *const *)o.head, o.head_count, &o.diff, detail,
                       sizeof(detail));
    if (rc) {
        report_error("%s", detail);
        diff_options_destroy(&o);
        return 2;
    }
    const pyi_model *model = pyi_diff_model(diff);
    for (uint32_t id = 1; id <= pyi_model_get_info(model)->source_count; id++) {
        const pyi_model_source *s = pyi_model_source_get(model, id);
        if (!o.quiet && *s->warning)
            report_error("warning: %s", s->warning);
    }
    rc = write_stdout(&o, diff);
    if (!rc)
        rc = write_outputs(&o, diff);
    if (!rc) {
        print_verdict(&o, diff);
        const pyi_diff_verdict *v = pyi_diff_get_verdict(diff);
        rc = !v->comparable ? 2 : v->regression ? 1 : 0;
    }
    pyi_diff_free(diff);
    diff_options_destroy(&o);
    return rc;
}
