/* SPDX-License-Identifier: MIT */
/*
 * Command-line options of `pyinst-report diff`: the help text, the two sides
 * split at "--", --fail-on thresholds, outputs, and the load filters that
 * apply to every trace.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "diff_options.h"

static const char HELP[] =
    "NAME\n"
    "    pyinst-report diff - did a change make a program slower, by how much, and where?\n"
    "\n"
    "SYNOPSIS\n"
    "    pyinst-report diff [OPTIONS] BASE.pyitrace... -- HEAD.pyitrace...\n"
    "\n"
    "DESCRIPTION\n"
    "    Compares traces of the same workload recorded before (base) and after (head)\n"
    "    a change. Several traces per side are merged; repeated runs lower the noise\n"
    "    and, from two per side, let total time be tested. Functions match by\n"
    "    qualified name and file (not line); a function that moved to another file\n"
    "    or was renamed in place is paired with its old self when it can be told.\n"
    "\n"
    "    Every function is compared by self and total (inclusive) time, as a share\n"
    "    of all sampled time and as time per run, and so is every call path. Each\n"
    "    change gets an interval and a p-value from a noise model that treats runs\n"
    "    of consecutive samples, not samples, as independent (spec/diff.md); the\n"
    "    p-values are adjusted (Holm) so that one report raises a false alarm with\n"
    "    probability at most --alpha. A change counts only when it is significant\n"
    "    and beyond its threshold.\n"
    "\n"
    "CHECKS\n"
    "    --fail-on LIST       comma-separated checks, replacing the default\n"
    "                         total:5,share:3:\n"
    "                           total:PCT    total time per run up by more than PCT%%\n"
    "                                        (needs at least two runs on one side)\n"
    "                           share:POINTS a function's self or total share up by\n"
    "                                        more than POINTS percentage points\n"
    "                           path:POINTS  a call path's total share up by more\n"
    "                                        than POINTS points\n"
    "                           none         report only, never fail\n"
    "    --alpha A            chance of any false alarm in one report (default 0.01)\n"
    "    --confidence C       of the intervals shown (default 0.95)\n"
    "    --naive              treat samples as independent (a binomial test): it\n"
    "                         overstates significance; for comparison only\n"
    "\n"
    "OUTPUT\n"
    "    -r, --renderer NAME  format on stdout: %s (default text)\n"
    "    -o, --output FILE    also write FILE, in the format its ending names\n"
    "                         (%s); repeatable\n"
    "    -q, --quiet          nothing on stdout (the verdict still goes to stderr)\n"
    "    --limit N            rows per table (default 10)\n"
    "    --min-share PCT      tree: hide paths under PCT%% on both sides (default 1)\n"
    "    --ascii, --color, --no-color\n"
    "\n"
    "WHAT IS COMPARED\n"
    "    --metric M           wall (default), cpu, on-cpu, waiting, samples\n"
    "    --no-hide-importlib, --no-hide-profiler, --collapse-recursion\n"
    "    --thread T, --from S, --to S, --focus RE, --exclude RE, --exclude-file RE,\n"
    "    --on-cpu, --waiting, --root DIR, --salvage\n"
    "                         filters, applied to every trace (see pyinst-report --help)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 no regression; 1 a check failed; 2 usage or input error, including traces\n"
    "    without samples and sides with no function in common.\n"
    "\n"
    "EXAMPLE\n"
    "    pyinst-report diff base-*.pyitrace -- head-*.pyitrace -o diff.md -o diff.html\n";

static void list_renderers(char *names, size_t names_size, char *endings, size_t endings_size)
{
    size_t count;
    const pyi_diff_renderer *const *all = pyi_diff_renderers(&count);
    names[0] = endings[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(names), e = strlen(endings);
        snprintf(names + n, names_size - n, "%s%s", i ? ", " : "", all[i]->name);
        snprintf(endings + e, endings_size - e, "%s%s", i ? " " : "", all[i]->extension);
    }
}

static void print_help(void)
{
    char names[256], endings[256];
    list_renderers(names, sizeof(names), endings, sizeof(endings));
    printf(HELP, names, endings);
}

/* ---- Values ------------------------------------------------------------------------ */

static int parse_number(const char *text, double low, double high, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= low && v <= high))
        return -1;
    *out = v;
    return 0;
}

/* "total:5,share:3" or "none" into thresholds (unnamed checks off). */
static int parse_fail_on(const char *text, pyi_diff_thresholds *th)
{
    th->total_percent = th->share_points = th->path_points = -1;
    if (!strcmp(text, "none"))
        return 0;
    char copy[256];
    if (snprintf(copy, sizeof(copy), "%s", text) >= (int)sizeof(copy))
        return -1;
    for (char *item = strtok(copy, ","); item; item = strtok(NULL, ",")) {
        char *colon = strchr(item, ':');
        double *slot = NULL;
        if (colon) {
            *colon = '\0';
            slot = !strcmp(item, "total") ? &th->total_percent
                 : !strcmp(item, "share") ? &th->share_points
                 : !strcmp(item, "path")  ? &th->path_points : NULL;
        }
        if (!slot || parse_number(colon + 1, 0, 1e6, slot))
            return -1;
    }
    return 0;
}

static int add_output(diff_cli_options *o, const char *path)
{
    const pyi_diff_renderer *r = pyi_diff_renderer_for_path(path);
    if (!r) {
        report_error("diff: cannot tell the format of '%s' from its ending (see --help)", path);
        return -1;
    }
    if (o->output_count == DIFF_MAX_OUTPUTS) {
        report_error("diff: at most %d -o outputs", DIFF_MAX_OUTPUTS);
        return -1;
    }
    o->outputs[o->output_count++] = (diff_output){path, r};
    return 0;
}

/* ---- Parsing ----------------------------------------------------------------------- */

/* Options of the checks and outputs; 1 handled, 0 not this kind, -1 error. */
static int parse_check_valued(diff_cli_options *o, const char *opt, const char *value)
{
    double number;
    if (!strcmp(opt, "--fail-on")) {
        if (parse_fail_on(value, &o->diff.fail_on) == 0)
            return 1;
        report_error("diff: --fail-on takes total:PCT, share:POINTS, path:POINTS (comma "
                     "separated) or none, not '%s'", value);
    } else if (!strcmp(opt, "--alpha") || !strcmp(opt, "--confidence")) {
        if (parse_number(value, 1e-12, 0.999999, &number) == 0) {
            *(opt[2] == 'a' ? &o->diff.alpha : &o->diff.confidence) = number;
            return 1;
        }
        report_error("diff: %s takes a number between 0 and 1, not '%s'", opt, value);
    } else if (!strcmp(opt, "-r") || !strcmp(opt, "--renderer")) {
        if ((o->renderer = pyi_diff_renderer_find(value)) != NULL)
            return 1;
        report_error("diff: unknown renderer '%s' (see --help)", value);
    } else if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
        return add_output(o, value) ? -1 : 1;
    } else if (!strcmp(opt, "--limit")) {
        if (parse_number(value, 1, 1e9, &number) == 0) {
            o->render.flat_limit = (int)number;
            return 1;
        }
        report_error("diff: --limit takes a positive number, not '%s'", value);
    } else if (!strcmp(opt, "--min-share")) {
        if (parse_number(value, 0, 100, &number) == 0) {
            o->render.min_share = number / 100;
            return 1;
        }
        report_error("diff: --min-share takes a percentage from 0 to 100, not '%s'", value);
    } else if (!strcmp(opt, "--metric")) {
        if (pyi_metric_from_name(value, &o->diff.metric) == 0)
            return 1;
        report_error("diff: unknown metric '%s' (wall, cpu, on-cpu, waiting, samples)", value);
    } else {
        return 0;
    }
    return -1;
}

/* The load filters; 1 handled, 0 not this kind, -1 error. */
static int parse_filter_valued(diff_cli_options *o, const char *opt, const char *value)
{
    pyi_filter *f = &o->diff.model.filter;
    double seconds;
    if (!strcmp(opt, "--thread"))
        return cli_list_push(&o->threads, &f->thread_count, value) ? -1 : 1;
    if (!strcmp(opt, "--exclude"))
        return cli_list_push(&o->exclude_functions, &f->exclude_function_count, value) ? -1 : 1;
    if (!strcmp(opt, "--exclude-file"))
        return cli_list_push(&o->exclude_files, &f->exclude_file_count, value) ? -1 : 1;
    if (!strcmp(opt, "--focus")) {
        f->focus = value;
        return 1;
    }
    if (!strcmp(opt, "--root")) {
        o->diff.model.project_root = value;
        return 1;
    }
    if (!strcmp(opt, "--from") || !strcmp(opt, "--to")) {
        if (parse_number(value, 0, 1e9, &seconds)) {
            report_error("diff: %s needs a number of seconds, not '%s'", opt, value);
            return -1;
        }
        *(opt[2] == 'f' ? &f->time_from_ns : &f->time_to_ns) = (uint64_t)llround(seconds * 1e9);
        return 1;
    }
    return 0;
}

static int parse_flag(diff_cli_options *o, const char *opt)
{
    unsigned proc;
    if (!strcmp(opt, "-q") || !strcmp(opt, "--quiet"))
        o->quiet = 1;
    else if (!strcmp(opt, "--color") || !strcmp(opt, "--colour"))
        o->color = 1;
    else if (!strcmp(opt, "--no-color") || !strcmp(opt, "--no-colour"))
        o->color = 0;
    else if (!strcmp(opt, "--ascii"))
        o->render.ascii = 1;
    else if (!strcmp(opt, "--naive"))
        o->diff.variance = PYI_DIFF_VARIANCE_BINOMIAL;
    else if (!strcmp(opt, "--on-cpu"))
        o->diff.model.filter.state = PYI_STATE_ON_CPU;
    else if (!strcmp(opt, "--waiting"))
        o->diff.model.filter.state = PYI_STATE_WAITING;
    else if (!strcmp(opt, "--salvage"))
        o->diff.model.salvage = 1;
    else if (!strncmp(opt, "--no-", 5) && (proc = pyi_processor_from_name(opt + 5)) != 0)
        o->diff.processors &= ~proc;
    else if (!strncmp(opt, "--", 2) && (proc = pyi_processor_from_name(opt + 2)) != 0)
        o->diff.processors |= proc;
    else
        return 0;
    return 1;
}

static int needs_value(const char *opt)
{
    static const char *const VALUED[] = {
        "-r", "--renderer", "-o", "--output", "--fail-on", "--alpha", "--confidence",
        "--limit", "--min-share", "--metric", "--thread", "--exclude", "--exclude-file",
        "--focus", "--root", "--from", "--to"};
    for (size_t i = 0; i < sizeof(VALUED) / sizeof(VALUED[0]); i++)
        if (!strcmp(opt, VALUED[i]))
            return 1;
    return 0;
}

static void init(diff_cli_options *o)
{
    memset(o, 0, sizeof(*o));
    o->color = -1;
    pyi_diff_options_init(&o->diff);
    pyi_render_options_init(&o->render);
    o->render.producer = "pyinst-report " PYI_ANALYZER_VERSION;
    o->renderer = pyi_diff_renderer_find("text");
}

/* One argument; 1 consumed a value too, 0 alone, -1 error, 2 --help. */
static int parse_one(diff_cli_options *o, int argc, char **argv, int i, int *after_separator)
{
    const char *a = argv[i];
    if (a[0] != '-' || !strcmp(a, "-")) {
        char **side = *after_separator ? o->head : o->base;
        side[(*after_separator ? o->head_count++ : o->base_count++)] = argv[i];
        return 0;
    }
    if (!strcmp(a, "--")) {
        if (*after_separator) {
            report_error("diff: '--' separates base from head traces and appears once");
            return -1;
        }
        *after_separator = 1;
        return 0;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help"))
        return 2;
    if (needs_value(a)) {
        if (i + 1 >= argc) {
            report_error("diff: %s needs a value", a);
            return -1;
        }
        int rc = parse_check_valued(o, a, argv[i + 1]);
        if (rc == 0)
            rc = parse_filter_valued(o, a, argv[i + 1]);
        return rc < 0 ? -1 : 1;
    }
    if (parse_flag(o, a))
        return 0;
    report_error("diff: unknown option '%s' (see --help)", a);
    return -1;
}

int diff_options_parse(diff_cli_options *o, int argc, char **argv)
{
    init(o);
    o->base = calloc((size_t)argc + 1, sizeof(char *));
    o->head = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->base || !o->head)
        goto fail;
    int after_separator = 0;
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(o, argc, argv, i, &after_separator);
        if (rc == 2) {
            print_help();
            diff_options_destroy(o);
            return 0;
        }
        if (rc < 0)
            goto fail;
        i += rc;
    }
    if (!after_separator || !o->base_count || !o->head_count) {
        report_error("diff: give base and head traces: BASE.pyitrace... -- HEAD.pyitrace... "
                     "(see --help)");
        goto fail;
    }
    o->diff.model.filter.threads = o->threads;
    o->diff.model.filter.exclude_functions = o->exclude_functions;
    o->diff.model.filter.exclude_files = o->exclude_files;
    return -1;
fail:
    diff_options_destroy(o);
    return 2;
}

void diff_options_destroy(diff_cli_options *o)
{
    free(o->base);
    free(o->head);
    free((void *)o->threads);
    free((void *)o->exclude_functions);
    free((void *)o->exclude_files);
    memset(o, 0, sizeof(*o));
}
