/* SPDX-License-Identifier: MIT */
/*
 * Command-line options of pyinst-report's report, convert and merge: the help
 * text, and the parsing of filters, processors, renderer and output choices
 * into the model's and renderer's option structures.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report_options.h"

static const char HELP[] =
    "NAME\n"
    "    pyinst-report - read .pyitrace files and show where the time went\n"
    "\n"
    "SYNOPSIS\n"
    "    pyinst-report [report] [OPTIONS] FILE...\n"
    "    pyinst-report convert [OPTIONS] FILE... -o OUTPUT\n"
    "    pyinst-report merge [OPTIONS] FILE... -o MERGED.pyitrace\n"
    "    pyinst-report info [--verify] FILE...\n"
    "    pyinst-report dump [--salvage] FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Loads one or more traces written by pyinst (several files merge into one\n"
    "    profile: functions match by qualified name and normalised file path), applies\n"
    "    the filters and processors below, and renders the result. By default it\n"
    "    prints a call tree of every thread to stdout. Memory grows with the number of\n"
    "    distinct stacks, not with the number of samples.\n"
    "\n"
    "    A truncated trace (the recorder was killed) loads what is intact, with one\n"
    "    warning line. Errors print one line naming the file and exit with status 2.\n"
    "\n"
    "OUTPUT\n"
    "    -r, --renderer NAME  text (default), json, speedscope, pprof, collapsed%s\n"
    "    -o, --output FILE    write to FILE; the renderer is guessed from its ending\n"
    "                         (.txt .json .speedscope.json .pb.gz .folded .html)\n"
    "    --open               write to a temporary file and open it in the browser\n"
    "    --flat               text: a table of the top functions (self and total)\n"
    "    --lines              text: the flat table per source line (self and total)\n"
    "    --limit N            text --flat: rows to show (default 40)\n"
    "    --percent            text: percentages of the total instead of seconds\n"
    "    --metric M           wall (default), cpu (measured CPU time), on-cpu or\n"
    "                         waiting (wall time by status), samples\n"
    "    --ascii              text: ASCII connectors instead of box drawing\n"
    "    --color, --no-color  force colours on or off (default: on for a terminal,\n"
    "                         off in a pipe or when NO_COLOR is set)\n"
    "    --no-header          text: leave out the header\n"
    "    --no-source          html: do not embed source lines (default: the lines the\n"
    "                         profile references, from the .py files readable now)\n"
    "    -q, --quiet          no progress and no warnings on stderr\n"
    "\n"
    "VIEWS\n"
    "    --show-all           keep every frame: no minimum share, no library grouping,\n"
    "                         import machinery shown\n"
    "    --min-share PCT      hide tree nodes under PCT percent of the total (text: 1)\n"
    "    --callers FUNCTION   inverted tree: who calls FUNCTION (name or file:name)\n"
    "    --callees FUNCTION   tree of what FUNCTION calls, all its calls merged\n"
    "    --inverted           bottom-up tree: innermost frames first, then callers\n"
    "    --thread-id ID       show one model thread (as numbered in the text tree)\n"
    "\n"
    "FILTERS (applied while loading)\n"
    "    --from SECONDS       keep samples at least SECONDS after the trace's start\n"
    "    --to SECONDS         keep samples before SECONDS after the start\n"
    "    --thread T           keep threads named T, or with model id, tid or pid:tid T\n"
    "                         (repeatable)\n"
    "    --focus REGEX        keep stacks through a function matching REGEX (its name\n"
    "                         or file:name), re-rooted at its outermost call\n"
    "    --exclude REGEX      remove frames of functions matching REGEX (their time\n"
    "                         goes to the caller; repeatable)\n"
    "    --exclude-file REGEX remove frames whose file path matches REGEX\n"
    "    --on-cpu, --waiting  keep samples on CPU only, or waiting only\n"
    "    --root DIR           show paths relative to DIR (default: the recorded cwd)\n"
    "    --salvage            skip damaged chunks instead of failing\n"
    "\n"
    "PROCESSORS (each --NAME turns one on, --no-NAME off)\n"
    "    hide-importlib       drop import machinery frames (default on)\n"
    "    hide-profiler        drop pyinst's own and runpy start-up frames (on)\n"
    "    group-library        fold chains of library frames into their first (on)\n"
    "    merge-self           one [self] line per function; off: per line (on)\n"
    "    aggregate-calls      merge calls from different lines of the caller (on)\n"
    "    collapse-recursion   fold a function calling itself into one frame (off)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 2 usage or input error; 1 a finding (info --verify, diff).\n"
    "\n"
    "EXAMPLES\n"
    "    pyinst-report run.pyitrace\n"
    "    pyinst-report --flat --metric cpu run.pyitrace\n"
    "    pyinst-report --callers time.sleep run.pyitrace\n"
    "    pyinst-report convert run.pyitrace -o run.speedscope.json\n"
    "    pyinst-report merge host1.pyitrace host2.pyitrace -o all.pyitrace\n";

static void print_help(void)
{
    size_t count;
    const pyi_renderer *const *all = pyi_renderers(&count);
    int html = 0;
    for (size_t i = 0; i < count; i++)
        html |= !strcmp(all[i]->name, "html");
    printf(HELP, html ? ", html" : "");
}

/* ---- Values --------------------------------------------------------------------- */

static int parse_seconds(const char *text, uint64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= 0) || v > 1e9)
        return -1;
    *ns = (uint64_t)llround(v * 1e9);
    return 0;
}

/* ---- Parsing -------------------------------------------------------------------- */

/* Options that take a value; returns 1 if handled, 0 if not this kind, -1 error. */
static int parse_valued(report_options *ro, const char *opt, const char *value)
{
    pyi_filter *f = &ro->model.filter;
    pyi_render_options *r = &ro->render;
    if (!strcmp(opt, "-r") || !strcmp(opt, "--renderer")) {
        ro->renderer = pyi_renderer_find(value);
        if (!ro->renderer) {
            report_error("unknown renderer '%s' (see --help)", value);
            return -1;
        }
    } else if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
        ro->output = value;
    } else if (!strcmp(opt, "--from") || !strcmp(opt, "--to")) {
        if (parse_seconds(value, opt[2] == 'f' ? &f->time_from_ns : &f->time_to_ns)) {
            report_error("%s needs a number of seconds, not '%s'", opt, value);
            return -1;
        }
    } else if (!strcmp(opt, "--thread")) {
        if (cli_list_push(&ro->threads, &f->thread_count, value))
            return -1;
    } else if (!strcmp(opt, "--exclude")) {
        if (cli_list_push(&ro->exclude_functions, &f->exclude_function_count, value))
            return -1;
    } else if (!strcmp(opt, "--exclude-file")) {
        if (cli_list_push(&ro->exclude_files, &f->exclude_file_count, value))
            return -1;
    } else if (!strcmp(opt, "--focus")) {
        f->focus = value;
    } else if (!strcmp(opt, "--root")) {
        ro->model.project_root = value;
    } else if (!strcmp(opt, "--metric")) {
        if (pyi_metric_from_name(value, &r->metric)) {
            report_error("unknown metric '%s' (wall, cpu, on-cpu, waiting, samples)", value);
            return -1;
        }
    } else if (!strcmp(opt, "--min-share")) {
        char *end;
        double pct = strtod(value, &end);
        if (end == value || *end || !(pct >= 0 && pct <= 100)) {
            report_error("--min-share needs a percentage from 0 to 100, not '%s'", value);
            return -1;
        }
        r->min_share = pct / 100.0;
    } else if (!strcmp(opt, "--limit") || !strcmp(opt, "--thread-id")) {
        char *end;
        long n = strtol(value, &end, 10);
        if (end == value || *end || n <= 0 || n > 1000000000) {
            report_error("%s needs a positive number, not '%s'", opt, value);
            return -1;
        }
        if (opt[2] == 'l')
            r->flat_limit = (int)n;
        else
            r->thread = (uint32_t)n;
    } else if (!strcmp(opt, "--callers") || !strcmp(opt, "--callees")) {
        ro->focus_name = value;
        r->inverted = !strcmp(opt, "--callers");
    } else {
        return 0;
    }
    return 1;
}

/* Flags; returns 1 if handled, 0 if unknown. */
static int parse_flag(report_options *ro, const char *opt)
{
    pyi_render_options *r = &ro->render;
    unsigned proc;
    if (!strcmp(opt, "--open"))
        ro->open = 1;
    else if (!strcmp(opt, "-q") || !strcmp(opt, "--quiet"))
        ro->quiet = 1;
    else if (!strcmp(opt, "--color") || !strcmp(opt, "--colour"))
        ro->color = 1;
    else if (!strcmp(opt, "--no-color") || !strcmp(opt, "--no-colour"))
        ro->color = 0;
    else if (!strcmp(opt, "--ascii"))
        r->ascii = 1;
    else if (!strcmp(opt, "--unicode"))
        r->ascii = 0;
    else if (!strcmp(opt, "--flat"))
        r->flat = 1;
    else if (!strcmp(opt, "--lines"))
        r->flat = r->flat_lines = 1;
    else if (!strcmp(opt, "--percent"))
        r->percent = 1;
    else if (!strcmp(opt, "--no-header"))
        r->no_header = 1;
    else if (!strcmp(opt, "--show-all"))
        r->show_all = 1;
    else if (!strcmp(opt, "--inverted"))
        r->inverted = 1;
    else if (!strcmp(opt, "--on-cpu"))
        ro->model.filter.state = PYI_STATE_ON_CPU;
    else if (!strcmp(opt, "--waiting"))
        ro->model.filter.state = PYI_STATE_WAITING;
    else if (!strcmp(opt, "--source"))
        ro->source = 1;
    else if (!strcmp(opt, "--no-source"))
        ro->source = 0;
    else if (!strcmp(opt, "--salvage"))
        ro->model.salvage = 1;
    else if (!strncmp(opt, "--no-", 5) && (proc = pyi_processor_from_name(opt + 5)) != 0) {
        r->processors_off |= proc;
        r->processors_on &= ~proc;
    } else if (!strncmp(opt, "--", 2) && (proc = pyi_processor_from_name(opt + 2)) != 0) {
        r->processors_on |= proc;
        r->processors_off &= ~proc;
    } else
        return 0;
    return 1;
}

static int needs_value(const char *opt)
{
    static const char *const VALUED[] = {
        "-r", "--renderer", "-o", "--output", "--from", "--to", "--thread", "--exclude",
        "--exclude-file", "--focus", "--root", "--metric", "--min-share", "--limit",
        "--thread-id", "--callers", "--callees"};
    for (size_t i = 0; i < sizeof(VALUED) / sizeof(VALUED[0]); i++)
        if (!strcmp(opt, VALUED[i]))
            return 1;
    return 0;
}

/* Chooses the renderer from -r, then -o's ending, then the mode's default. */
static int choose_renderer(report_options *ro)
{
    if (ro->mode == REPORT_MODE_MERGE) {
        if (!ro->output) {
            report_error("merge: -o MERGED.pyitrace is required");
            return -1;
        }
        ro->renderer = NULL;
        return 0;
    }
    const char *out = ro->output;
    size_t n = out ? strlen(out) : 0;
    if (!ro->renderer && n >= 9 && !strcmp(out + n - 9, ".pyitrace")) {
        if (ro->mode != REPORT_MODE_CONVERT) {
            report_error("to write a .pyitrace use 'pyinst-report convert' or 'merge'");
            return -1;
        }
        return 0; /* convert re-encodes the trace */
    }
    if (!ro->renderer && out)
        ro->renderer = pyi_renderer_for_path(out);
    if (!ro->renderer && ro->mode == REPORT_MODE_CONVERT) {
        report_error("convert: say the format with -r NAME or an -o ending (see --help)");
        return -1;
    }
    if (!ro->renderer)
        ro->renderer = pyi_renderer_find("text");
    if (ro->open && !strcmp(ro->renderer->name, "text") && !out) {
        const pyi_renderer *html = pyi_renderer_find("html");
        if (!html) {
            report_error("--open needs the html renderer, which this build does not have");
            return -1;
        }
        ro->renderer = html;
    }
    return 0;
}

int report_options_parse(report_options *ro, int argc, char **argv, report_mode mode)
{
    memset(ro, 0, sizeof(*ro));
    ro->mode = mode;
    ro->color = -1;
    ro->source = -1;
    pyi_model_options_init(&ro->model);
    pyi_render_options_init(&ro->render);
    ro->files = calloc((size_t)argc + 1, sizeof(char *));
    if (!ro->files)
        return 2;
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !strcmp(a, "-")) {
            ro->files[ro->file_count++] = argv[i];
        } else if (!strcmp(a, "--")) {
            only_files = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help();
            report_options_destroy(ro);
            return 0;
        } else if (needs_value(a)) {
            if (i + 1 >= argc) {
                report_error("%s needs a value", a);
                goto fail;
            }
            if (parse_valued(ro, a, argv[++i]) < 0)
                goto fail;
        } else if (!parse_flag(ro, a)) {
            report_error("unknown option '%s' (see --help)", a);
            goto fail;
        }
    }
    if (!ro->file_count) {
        report_error("no trace files given (see --help)");
        goto fail;
    }
    if (choose_renderer(ro))
        goto fail;
    /* html shows source lines unless told not to; others only when asked */
    ro->render.with_source = ro->source >= 0 ? ro->source
                           : ro->renderer && !strcmp(ro->renderer->name, "html");
    ro->model.filter.threads = ro->threads;
    ro->model.filter.exclude_functions = ro->exclude_functions;
    ro->model.filter.exclude_files = ro->exclude_files;
    ro->render.producer = "pyinst-report " PYI_ANALYZER_VERSION;
    return -1;
fail:
    report_options_destroy(ro);
    return 2;
}

void report_options_destroy(report_options *ro)
{
    free(ro->files);
    free((void *)ro->threads);
    free((void *)ro->exclude_functions);
    free((void *)ro->exclude_files);
    memset(ro, 0, sizeof(*ro));
}
