/* SPDX-License-Identifier: MIT */
/*
 * pyinst-report [report] FILE...: load one or more traces into a model (with
 * the filters), then render it (text by default) to stdout or -o FILE, or to
 * a temporary file opened in the browser with --open. Also the engine of
 * `convert` (which only changes the defaults: see cmd_convert.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "report_options.h"
#include "pyi/analyzer.h"
#include "pyi/renderer.h"

/* ---- Progress (stderr, only when it is a terminal) -------------------------- */

static int show_progress(void *ctx, size_t file_index, size_t file_count, uint64_t done,
                         uint64_t total)
{
    (void)ctx;
    if (total)
        fprintf(stderr, "\rloading trace %zu/%zu: %3d%%", file_index + 1,
                file_count ? file_count : file_index + 1, (int)(100.0 * (double)done /
                                                                (double)total));
    else
        fprintf(stderr, "\rloading trace %zu/%zu: %llu MB", file_index + 1,
                file_count ? file_count : file_index + 1, (unsigned long long)(done >> 20));
    fflush(stderr);
    return 0;
}

static void clear_progress(void)
{
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- Loading -------------------------------------------------------------------- */

int report_load(const report_options *ro, pyi_model **out)
{
    pyi_model_options mo = ro->model;
    int progress = !ro->quiet && isatty(STDERR_FILENO);
    if (progress) {
        mo.progress = show_progress;
        mo.progress_ctx = NULL;
    }
    char detail[1024];
    int rc = pyi_model_load(out, (const char *const *)ro->files, ro->file_count, &mo, detail,
                            sizeof(detail));
    if (progress)
        clear_progress();
    if (rc) {
        report_error("%s%s", detail, rc == PYI_E_CORRUPT && !ro->model.salvage
                                         ? " (--salvage skips damaged chunks)" : "");
        return 2;
    }
    const pyi_model_info *info = pyi_model_get_info(*out);
    for (uint32_t id = 1; !ro->quiet && id <= info->source_count; id++) {
        const pyi_model_source *s = pyi_model_source_get(*out, id);
        if (*s->warning)
            report_error("warning: %s", s->warning);
    }
    int by_status = ro->model.filter.state != PYI_STATE_ALL ||
                    ro->render.metric == PYI_METRIC_ON_CPU ||
                    ro->render.metric == PYI_METRIC_WAITING;
    if (!ro->quiet && by_status && !info->has_status)
        report_error("warning: these traces do not say which samples were on CPU");
    if (!ro->quiet && ro->render.metric == PYI_METRIC_CPU && !info->has_cpu)
        report_error("warning: these traces hold no CPU time: every value is 0");
    return 0;
}

/* Resolves --callers/--callees: "name" or "file:name"; 0 if none matches. */
static uint32_t find_function(const pyi_model *m, const char *spec)
{
    const pyi_model_info *info = pyi_model_get_info(m);
    for (uint32_t id = 1; id <= info->function_count; id++) {
        const pyi_model_function *f = pyi_model_function_get(m, id);
        size_t fl = strlen(f->file);
        if (!strcmp(spec, f->name) ||
            (!strncmp(spec, f->file, fl) && spec[fl] == ':' && !strcmp(spec + fl + 1, f->name)))
            return id;
    }
    return 0;
}

/* ---- Output ------------------------------------------------------------------------ */

static int open_in_browser(const char *path)
{
    const char *browser = getenv("BROWSER");
    char command[4096];
    snprintf(command, sizeof(command), "%s '%s' >/dev/null 2>&1 &",
             browser && *browser ? browser : "xdg-open", path);
    if (system(command) != 0) {
        report_error("could not open a browser; the report is in %s", path);
        return 2;
    }
    fprintf(stderr, "pyinst-report: opened %s\n", path);
    return 0;
}

/* Opens the output: -o FILE, a temporary file for --open, or stdout. */
static FILE *open_output(report_options *ro, const pyi_renderer *r)
{
    if (ro->open) {
        /* mkdtemp is POSIX; mkstemps (with a suffix) is not. */
        char *temp = ro->open_path;
        size_t size = sizeof(ro->open_path);
        snprintf(temp, size, "%s/pyinst-report-XXXXXX",
                 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(temp)) {
            report_error("cannot create a temporary folder: %s", strerror(errno));
            return NULL;
        }
        size_t n = strlen(temp);
        snprintf(temp + n, size - n, "/report%s", r->extension);
        ro->output = temp;
    }
    if (ro->output && strcmp(ro->output, "-")) {
        FILE *f = fopen(ro->output, "wb");
        if (!f)
            report_error("%s: cannot write: %s", ro->output, strerror(errno));
        return f;
    }
    if (r->binary && isatty(STDOUT_FILENO)) {
        report_error("%s output is binary: use -o FILE or a pipe", r->name);
        return NULL;
    }
    return stdout;
}

int report_render(report_options *ro, const pyi_model *model)
{
    const pyi_renderer *r = ro->renderer;
    pyi_render_options opts = ro->render;
    if (opts.focus_function == 0 && ro->focus_name) {
        opts.focus_function = find_function(model, ro->focus_name);
        if (!opts.focus_function) {
            report_error("no function '%s' in the profile", ro->focus_name);
            return 2;
        }
    }
    FILE *out = open_output(ro, r);
    if (!out)
        return 2;
    int to_terminal = out == stdout && isatty(STDOUT_FILENO);
    if (ro->color < 0) {
        const char *no_color = getenv("NO_COLOR");
        opts.color = to_terminal && !(no_color && *no_color);
    } else {
        opts.color = ro->color;
    }
    pyi_sink sink = {pyi_sink_file_write, out};
    char error[512] = "";
    errno = 0;
    int rc = r->render(model, &opts, &sink, error, sizeof(error));
    int write_errno = errno;
    int close_failed = out == stdout ? fflush(out) != 0 : fclose(out) != 0;
    if (close_failed && !write_errno)
        write_errno = errno;
    if ((rc == PYI_E_IO || (!rc && close_failed))) {
        report_error("%s: cannot write: %s", ro->output ? ro->output : "standard output",
                     strerror(write_errno ? write_errno : EIO));
        return 2;
    }
    if (rc) {
        report_error("%s", error);
        return 2;
    }
    return ro->open ? open_in_browser(ro->output) : 0;
}

int cmd_report(int argc, char **argv)
{
    report_options ro;
    int rc = report_options_parse(&ro, argc, argv, REPORT_MODE_REPORT);
    if (rc >= 0)
        return rc;
    pyi_model *model = NULL;
    rc = report_load(&ro, &model);
    if (rc == 0)
        rc = report_render(&ro, model);
    pyi_model_free(model);
    report_options_destroy(&ro);
    return rc;
}
