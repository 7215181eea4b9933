/* SPDX-License-Identifier: MIT */
/*
 * The differential profile: what `pyinst-report diff` computes before any
 * renderer sees it. Two sides, base and head, each one or more traces of the
 * same workload (repeated runs lower the noise), are loaded into one model
 * (pyi/analyzer.h), so functions match across sides by qualified name, kind
 * and normalised file, never by line. From that model the diff derives:
 *
 *   per function   self and inclusive values, as a share of all sampled time
 *                  and as time per run, with an interval and a p-value;
 *   per call path  the same, for every node of a differential call tree;
 *   total          time per run, tested when the runs give a spread;
 *   a verdict      against thresholds (pyi_diff_thresholds), with the
 *                  significance corrected for the number of comparisons.
 *
 * The noise model (spec/diff.md says why): samples come in runs of
 * consecutive samples in one function, so a share's variance is estimated by
 * treating runs, not samples, as the independent units (a cluster ratio
 * estimator); with several runs per side the run-to-run spread is used when
 * it is larger (Welch). Holm's method holds the chance of any false alarm in
 * a whole report under alpha.
 *
 * DAG: part of analyzer/ (it reads traces through the model); renderers get a
 * finished pyi_diff and read it through the accessors below.
 *
 * Conventions as in pyi/analyzer.h: 0 or a negative pyi_error, with a
 * one-line message naming the file in pyi_diff_error_detail; ids are dense
 * from 1; shares are fractions (0..1); times are in the metric's unit
 * (nanoseconds, or samples for PYI_METRIC_SAMPLES). A finished diff is
 * read-only and may be read from any number of threads.
 */
#ifndef PYI_DIFF_H
#define PYI_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "pyi/analyzer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Options --------------------------------------------------------------- */

typedef enum pyi_diff_side {
    PYI_DIFF_BASE = 0,
    PYI_DIFF_HEAD = 1,
} pyi_diff_side;

/* How the variance of a share is estimated on one run. */
typedef enum pyi_diff_variance {
    PYI_DIFF_VARIANCE_RUNS = 0, /* runs of consecutive samples are the units (default) */
    PYI_DIFF_VARIANCE_BINOMIAL, /* every sample independent: the naive test, which
                                   overstates significance; kept for comparison */
} pyi_diff_variance;

/* What fails the diff. A negative value turns a check off. */
typedef struct pyi_diff_thresholds {
    double total_percent;  /* total time per run up by more than this many percent */
    double share_points;   /* a function's self or inclusive share up by more than this
                              many percentage points */
    double path_points;    /* a call path's share up by more than this many points */
} pyi_diff_thresholds;

typedef struct pyi_diff_options {
    pyi_model_options model;   /* filters, salvage, project root: applied to every trace
                                  (borrowed during pyi_diff_new only) */
    pyi_metric metric;         /* what is compared; default WALL */
    unsigned processors;       /* PYI_PROC_HIDE_IMPORTLIB, _HIDE_PROFILER and
                                  _COLLAPSE_RECURSION apply; the others are ignored */
    double alpha;              /* chance of any false alarm in one report; 0 = 0.01 */
    double confidence;         /* of the intervals shown; 0 = 0.95 */
    pyi_diff_variance variance;
    pyi_diff_thresholds fail_on;
} pyi_diff_options;

/* Defaults: wall time, hide import machinery and pyinst's frames, alpha 0.01,
 * 95% intervals, runs variance, fail on total +5% or a share +3 points (both
 * significant), paths not checked. */
void pyi_diff_options_init(pyi_diff_options *options);

/* ---- Lifecycle --------------------------------------------------------------- */

typedef struct pyi_diff pyi_diff;

/*
 * Creates an empty diff expecting base_runs traces on the base side and
 * head_runs on the head side (each at least 1), added in that order: all base
 * traces, then all head traces. Errors: PYI_E_INVALID_ARG (bad counts or
 * options; a regex that does not compile), PYI_E_NOMEM. On error *out may
 * hold the message: free it anyway.
 */
int pyi_diff_new(pyi_diff **out, size_t base_runs, size_t head_runs,
                 const pyi_diff_options *options);

/* Streams the next trace in (see pyi_diff_new for the order). Errors as
 * pyi_model_add_file, plus PYI_E_STATE when every expected trace is in. */
int pyi_diff_add_file(pyi_diff *diff, const char *path);

/*
 * Computes everything. Errors: PYI_E_STATE (traces missing), PYI_E_EMPTY (a
 * trace has no sample once filtered: the message names it), PYI_E_NOMEM.
 */
int pyi_diff_finish(pyi_diff *diff);

/* Convenience: new + add every path + finish. On failure *out is NULL and the
 * message is copied to detail (detail_size bytes, may be 0). */
int pyi_diff_load(pyi_diff **out, const char *const *base_paths, size_t base_count,
                  const char *const *head_paths, size_t head_count,
                  const pyi_diff_options *options, char *detail, size_t detail_size);

/* "path: what went wrong" for the last error; "" if none. Borrowed. */
const char *pyi_diff_error_detail(const pyi_diff *diff);

void pyi_diff_free(pyi_diff *diff);

/* ---- Results ---------------------------------------------------------------- */

/* One quantity compared between the sides. */
typedef struct pyi_diff_estimate {
    double base, head;   /* the side's value (share 0..1, or metric units per run) */
    double delta;        /* head - base */
    double low, high;    /* confidence interval of delta; both = delta when untested */
    double p_value;      /* two-sided, for this comparison alone; 1 when untested */
    double p_adjusted;   /* Holm-adjusted over its family (functions, or paths) */
    double df;           /* degrees of freedom of the test; INFINITY = normal */
    int tested;          /* 0: no variance estimate exists (e.g. total time with one
                            run per side) */
    int significant;     /* tested and p_adjusted < alpha */
} pyi_diff_estimate;

/* How a function relates across the sides. */
typedef enum pyi_diff_presence {
    PYI_DIFF_BOTH = 0,    /* sampled on both sides */
    PYI_DIFF_APPEARED,    /* only on the head side */
    PYI_DIFF_DISAPPEARED, /* only on the base side */
    PYI_DIFF_MOVED,       /* base_function in another file, same qualified name */
    PYI_DIFF_RENAMED,     /* base_function in the same file under another name, with a
                             caller in common: probably a rename */
} pyi_diff_presence;

/* Why a row is listed where it is. */
#define PYI_DIFF_SLOWER 0x01u      /* its self or total share rose significantly by more than
                                      the share threshold, and the interval of its time per
                                      run lies above zero (a share alone also rises when
                                      other code gets faster or goes away) */
#define PYI_DIFF_FASTER 0x02u      /* the same, downwards */
#define PYI_DIFF_FAILS 0x04u       /* counted by the verdict (SLOWER and that check is on) */
#define PYI_DIFF_SELF_COUNTS 0x08u /* the self share is what crossed the threshold */

typedef struct pyi_diff_function {
    uint32_t function;       /* model function id (the head's when moved or renamed) */
    uint32_t base_function;  /* the base's model function id; 0 when it appeared */
    pyi_diff_presence presence;
    unsigned flags;          /* PYI_DIFF_SLOWER... */
    pyi_diff_estimate self_share, total_share; /* of all sampled time */
    pyi_diff_estimate self_time, total_time;   /* metric per run */
} pyi_diff_function;

/*
 * Every function with time on either side, ranked: significant increases
 * above the threshold first (self increases before inclusive-only ones, then
 * by size), then significant decreases, then the rest by the size of their
 * largest change. Borrowed from the diff.
 */
const pyi_diff_function *pyi_diff_functions(const pyi_diff *diff, size_t *count);

/*
 * The differential call tree: one node per call path (functions, outermost
 * first, lines ignored) seen on either side. Node 1 is the root (all sampled
 * time; its self time is samples with no Python frame). Children are sorted
 * by the larger of their two inclusive shares.
 */
typedef struct pyi_diff_node {
    uint32_t id;
    uint32_t parent;        /* 0 for the root */
    uint32_t first_child;   /* 0 = none */
    uint32_t next_sibling;  /* 0 = last */
    uint32_t depth;         /* root 0 */
    uint32_t function;      /* model function id; 0 for the root */
    unsigned flags;         /* PYI_DIFF_SLOWER / _FASTER by the inclusive share, using the
                               path threshold (or 0 points when that check is off) */
    pyi_diff_estimate self_share, total_share;
    pyi_diff_estimate self_time, total_time;
} pyi_diff_node;

size_t pyi_diff_node_count(const pyi_diff *diff);
/* Nodes 1..count; NULL out of range. */
const pyi_diff_node *pyi_diff_node_get(const pyi_diff *diff, uint32_t id);

/* One side's runs. */
typedef struct pyi_diff_side_info {
    size_t runs;
    uint32_t first_source;   /* model source ids first_source .. first_source + runs - 1 */
    double total;            /* sampled time per run (metric units), mean over runs */
    double total_sd;         /* its standard deviation over runs; 0 with one run */
    double duration_ns;      /* wall duration per run, mean over runs */
    uint64_t samples;        /* samples kept, all runs */
    double share_dispersion; /* how much more its runs' shares scatter than the noise
                                model says, over the whole profile (>= 1; 1 with one run) */
    double time_dispersion;  /* the same for times per run */
} pyi_diff_side_info;

typedef struct pyi_diff_summary {
    pyi_diff_side_info side[2]; /* PYI_DIFF_BASE, PYI_DIFF_HEAD */
    pyi_diff_estimate total;    /* sampled time per run, base -> head */
    pyi_metric metric;
    unsigned processors;
    pyi_diff_variance variance;
    double alpha, confidence;
    double overlap;             /* sum over functions of min(base, head) self share: how
                                   much of the profile the sides have in common (0..1) */
    size_t function_tests;      /* comparisons in the function family (self + inclusive) */
    size_t path_tests;          /* ...and in the path family */
} pyi_diff_summary;

const pyi_diff_summary *pyi_diff_get_summary(const pyi_diff *diff);

typedef struct pyi_diff_verdict {
    int regression;             /* 1: a check failed (the command exits 1) */
    int comparable;             /* 0: the sides have no function in common; the command
                                   treats that as an input error (exit 2) */
    pyi_diff_thresholds thresholds;
    int total_fails;            /* the total-time check failed */
    size_t functions_failing;   /* rows with PYI_DIFF_FAILS */
    size_t paths_failing;       /* nodes whose inclusive share failed the path check */
    char note[512];             /* "" or one line for the user (no spread for total time,
                                   little in common, ...) */
} pyi_diff_verdict;

const pyi_diff_verdict *pyi_diff_get_verdict(const pyi_diff *diff);

/* The combined model (every trace of both sides) for names, files and
 * sources. Borrowed from the diff. */
const pyi_model *pyi_diff_model(const pyi_diff *diff);
/* The side a model source belongs to. */
pyi_diff_side pyi_diff_source_side(const pyi_diff *diff, uint32_t source);

#ifdef __cplusplus
}
#endif

#endif /* PYI_DIFF_H */
