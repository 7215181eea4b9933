/* SPDX-License-Identifier: MIT */
/*
 * The differential profile (pyi/diff.h): lifecycle, loading both sides into
 * one model with the run tracker attached, and the summary and verdict once
 * the rows are built (diff_rows.c). Statistics are in diff_stats.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

#define DIFF_PROCESSORS (PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER | \
                         PYI_PROC_COLLAPSE_RECURSION)

void pyi_diff_options_init(pyi_diff_options *options)
{
    memset(options, 0, sizeof(*options));
    pyi_model_options_init(&options->model);
    options->metric = PYI_METRIC_WALL;
    options->processors = PYI_PROC_HIDE_IMPORTLIB | PYI_PROC_HIDE_PROFILER;
    options->alpha = 0.01;
    options->confidence = 0.95;
    options->variance = PYI_DIFF_VARIANCE_RUNS;
    options->fail_on.total_percent = 5;
    options->fail_on.share_points = 3;
    options->fail_on.path_points = -1;
}

int pyi__diff_fail(pyi_diff *d, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
    va_end(ap);
    return error;
}

static int check_options(pyi_diff *d, size_t base_runs, size_t head_runs)
{
    const pyi_diff_options *o = &d->options;
    if (!base_runs || !head_runs || base_runs + head_runs > UINT32_MAX / 2)
        return pyi__diff_fail(d, PYI_E_INVALID_ARG, "each side needs at least one trace");
    if (!(o->alpha > 0 && o->alpha < 1))
        return pyi__diff_fail(d, PYI_E_INVALID_ARG, "alpha must be between 0 and 1");
    if (!(o->confidence > 0 && o->confidence < 1))
        return pyi__diff_fail(d, PYI_E_INVALID_ARG, "confidence must be between 0 and 1");
    if ((unsigned)o->variance > PYI_DIFF_VARIANCE_BINOMIAL ||
        (unsigned)o->metric > PYI_METRIC_SAMPLES)
        return pyi__diff_fail(d, PYI_E_INVALID_ARG, "unknown variance model or metric");
    return 0;
}

int pyi_diff_new(pyi_diff **out, size_t base_runs, size_t head_runs,
                 const pyi_diff_options *options)
{
    pyi_diff *d = *out = calloc(1, sizeof(*d));
    if (!d)
        return PYI_E_NOMEM;
    if (options)
        d->options = *options;
    else
        pyi_diff_options_init(&d->options);
    if (d->options.alpha == 0)
        d->options.alpha = 0.01;
    if (d->options.confidence == 0)
        d->options.confidence = 0.95;
    d->options.processors &= DIFF_PROCESSORS;
    int rc = check_options(d, base_runs, head_runs);
    if (rc)
        return rc;
    d->runs[0] = base_runs;
    d->runs[1] = head_runs;
    d->run_count = base_runs + head_runs;
    d->run = calloc(d->run_count, sizeof(*d->run));
    if (!d->run)
        return pyi__diff_fail(d, PYI_E_NOMEM, "out of memory");
    rc = pyi_model_new(&d->model, &d->options.model);
    if (rc)
        return pyi__diff_fail(d, rc, "%s", pyi_model_error_detail(d->model));
    memset(&d->options.model, 0, sizeof(d->options.model)); /* its strings were borrowed */
    d->model->sample_hook = pyi__diff_on_sample;
    d->model->sample_hook_ctx = d;
    return 0;
}

int pyi_diff_add_file(pyi_diff *d, const char *path)
{
    if (d->finished || d->files_added == d->run_count)
        return pyi__diff_fail(d, PYI_E_STATE, "%s: every expected trace is already loaded",
                              path);
    int rc = pyi_model_add_file(d->model, path);
    if (rc)
        return pyi__diff_fail(d, rc, "%s", pyi_model_error_detail(d->model));
    d->files_added++;
    return 0;
}

/* ---- Summary and verdict --------------------------------------------------------- */

static void summarise_side(pyi_diff *d, int side, double *totals)
{
    pyi_diff_side_info *s = &d->summary.side[side];
    size_t first = side ? d->runs[0] : 0;
    s->runs = d->runs[side];
    s->first_source = (uint32_t)first + 1;
    double sum = 0, duration = 0;
    for (size_t i = 0; i < s->runs; i++) {
        totals[i] = d->run[first + i].total;
        sum += totals[i];
        s->samples += d->run[first + i].samples;
        duration += (double)pyi_model_source_get(d->model, (uint32_t)(first + i) + 1)->duration_ns;
    }
    s->total = sum / (double)s->runs;
    s->total_sd = s->runs >= 2 ? sqrt(pyi__sample_variance(totals, s->runs)) : 0;
    s->duration_ns = duration / (double)s->runs;
}

static int summarise(pyi_diff *d)
{
    double *totals = malloc(d->run_count * sizeof(*totals));
    if (!totals)
        return PYI_E_NOMEM;
    pyi__side_value side[2];
    for (int i = 0; i < 2; i++) {
        summarise_side(d, i, totals);
        side[i].value = d->summary.side[i].total;
        side[i].var_model = -1; /* sampling does not blur the total: only runs tell */
        side[i].run_var = d->runs[i] >= 2 ? pyi__sample_variance(totals, d->runs[i]) : -1;
        side[i].pearson = -1;
        side[i].dispersion = 1;
        side[i].runs = d->runs[i];
    }
    free(totals);
    pyi_diff_summary *s = &d->summary;
    pyi__estimate(&s->total, &side[0], &side[1], d->options.confidence);
    s->total.significant = s->total.tested && s->total.p_value < d->options.alpha;
    s->metric = d->options.metric;
    s->processors = d->options.processors;
    s->variance = d->options.variance;
    s->alpha = d->options.alpha;
    for (int i = 0; i < 2; i++) {
        s->side[i].share_dispersion = d->dispersion[i][0];
        s->side[i].time_dispersion = d->dispersion[i][1];
    }
    s->confidence = d->options.confidence;
    return 0;
}

static void note(pyi_diff_verdict *v, const char *text)
{
    size_t n = strlen(v->note);
    snprintf(v->note + n, sizeof(v->note) - n, "%s%s", n ? "; " : "", text);
}

/* Traces of one workload record one command line; say so when they do not. */
static void note_programs(pyi_diff *d)
{
    const pyi_model *m = d->model;
    const char *first = pyi_model_source_get(m, 1)->program;
    for (uint32_t id = 2; id <= d->run_count; id++) {
        const char *other = pyi_model_source_get(m, id)->program;
        if (*first && *other && strcmp(first, other)) {
            char text[200];
            snprintf(text, sizeof(text), "the traces record different command lines ('%.60s' "
                     "and '%.60s')", first, other);
            note(&d->verdict, text);
            return;
        }
    }
}

static void decide(pyi_diff *d)
{
    pyi_diff_verdict *v = &d->verdict;
    const pyi_diff_summary *s = &d->summary;
    v->thresholds = d->options.fail_on;
    size_t common = 0, only[2] = {0, 0};
    for (size_t i = 0; i < d->function_count; i++) {
        const pyi_diff_function *f = &d->functions[i];
        v->functions_failing += (f->flags & PYI_DIFF_FAILS) != 0;
        common += f->presence == PYI_DIFF_BOTH || f->presence == PYI_DIFF_MOVED ||
                  f->presence == PYI_DIFF_RENAMED;
        only[0] += f->presence == PYI_DIFF_DISAPPEARED;
        only[1] += f->presence == PYI_DIFF_APPEARED;
    }
    for (size_t i = 1; i < d->path_count; i++)
        v->paths_failing += (d->nodes[i].flags & PYI_DIFF_FAILS) != 0;
    v->comparable = common > 0 || !((common + only[0]) && (common + only[1]));
    double limit = d->options.fail_on.total_percent;
    v->total_fails = limit >= 0 && s->total.significant &&
                     s->total.delta > limit / 100.0 * s->total.base;
    v->regression = v->comparable &&
                    (v->total_fails || v->functions_failing || v->paths_failing);
    char text[160];
    if (!v->comparable)
        note(v, "base and head have no function in common: are they recordings of the same "
                "program?");
    else if (s->overlap < 0.5) {
        snprintf(text, sizeof(text), "base and head have only %.0f%% of their time in common: "
                 "are they the same workload?", 100 * s->overlap);
        note(v, text);
    }
    if (limit >= 0 && !s->total.tested)
        note(v, "total time not tested: one run per side shows no run-to-run spread "
                "(record several runs per side)");
    note_programs(d);
}

int pyi_diff_finish(pyi_diff *d)
{
    if (d->finished)
        return 0;
    if (d->files_added < d->run_count)
        return pyi__diff_fail(d, PYI_E_STATE, "%zu of %zu traces loaded", d->files_added,
                              d->run_count);
    int rc = pyi_model_finish(d->model);
    if (!rc)
        rc = pyi__diff_close_runs(d);
    if (!rc)
        rc = pyi__diff_collect(d);
    if (rc)
        return pyi__diff_fail(d, rc, "out of memory");
    for (size_t i = 0; i < d->run_count; i++)
        if (!d->run[i].samples)
            return pyi__diff_fail(d, PYI_E_EMPTY, "%s: no samples to compare%s",
                                  pyi_model_source_get(d->model, (uint32_t)i + 1)->path,
                                  pyi_model_get_info(d->model)->samples_read
                                      ? " (after the filters)" : "");
    rc = pyi__diff_build_rows(d);
    if (!rc)
        rc = summarise(d);
    if (rc)
        return pyi__diff_fail(d, rc, "out of memory");
    decide(d);
    d->finished = 1;
    return 0;
}

int pyi_diff_load(pyi_diff **out, const char *const *base_paths, size_t base_count,
                  const char *const *head_paths, size_t head_count,
                  const pyi_diff_options *options, char *detail, size_t detail_size)
{
    pyi_diff *d = NULL;
    int rc = pyi_diff_new(&d, base_count, head_count, options);
    if (d && d->model)
        d->model->progress_file_count = base_count + head_count;
    for (size_t i = 0; rc == 0 && i < base_count + head_count; i++)
        rc = pyi_diff_add_file(d, i < base_count ? base_paths[i] : head_paths[i - base_count]);
    if (rc == 0)
        rc = pyi_diff_finish(d);
    if (rc) {
        if (detail_size)
            snprintf(detail, detail_size, "%s", d ? d->detail : "out of memory");
        pyi_diff_free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

const char *pyi_diff_error_detail(const pyi_diff *d)
{
    return d ? d->detail : "out of memory";
}

void pyi_diff_free(pyi_diff *d)
{
    if (!d)
        return;
    pyi_model_free(d->model);
    free(d->run);
    free(d->paths);
    pyi__map_destroy(&d->path_index);
    free(d->path_acc);
    free(d->stack_path);
    free(d->frames);
    free(d->function_acc);
    free(d->thread_accs);
    pyi__map_destroy(&d->function_index);
    pyi__map_destroy(&d->node_index);
    for (size_t i = 0; i < d->thread_capacity; i++) {
        free(d->threads[i].nodes);
        free(d->threads[i].open);
    }
    free(d->threads);
    free(d->mark);
    free(d->was_open);
    free(d->open_run);
    free(d->functions);
    free(d->nodes);
    free(d);
}

/* ---- Accessors ----------------------------------------------------------------------- */

const pyi_diff_function *pyi_diff_functions(const pyi_diff *d, size_t *count)
{
    *count = d->finished ? d->function_count : 0;
    return d->functions;
}

size_t pyi_diff_node_count(const pyi_diff *d)
{
    return d->finished ? d->path_count : 0;
}

const pyi_diff_node *pyi_diff_node_get(const pyi_diff *d, uint32_t id)
{
    return d->finished && id && id <= d->path_count ? &d->nodes[id - 1] : NULL;
}

const pyi_diff_summary *pyi_diff_get_summary(const pyi_diff *d)
{
    return &d->summary;
}

const pyi_diff_verdict *pyi_diff_get_verdict(const pyi_diff *d)
{
    return &d->verdict;
}

const pyi_model *pyi_diff_model(const pyi_diff *d)
{
    return d->model;
}

pyi_diff_side pyi_diff_source_side(const pyi_diff *d, uint32_t source)
{
    return source > d->runs[0] ? PYI_DIFF_HEAD : PYI_DIFF_BASE;
}
