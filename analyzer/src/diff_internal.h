/* SPDX-License-Identifier: MIT */
/*
 * Private to analyzer/: the differential profile's storage, shared by the
 * run tracker (diff_runs.c, fed sample by sample while traces load), the
 * statistics (diff_stats.c) and the result builder (diff.c, diff_rows.c).
 */
#ifndef PYI_DIFF_INTERNAL_H
#define PYI_DIFF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model_internal.h"
#include "pyi/diff.h"

/*
 * What one row (a function or a call path) collected on one thread while the
 * samples streamed in, in metric units. A "run" of a row is a maximal
 * stretch of consecutive samples of the thread with the row on the stack
 * (inclusive) or innermost (self); a "cluster" is a maximal stretch with one
 * unchanged call path. Squares of their lengths feed the variance
 * (spec/diff.md, "Noise model").
 */
typedef struct pyi__thread_acc {
    uint32_t row;     /* function id, or path node id */
    uint32_t thread;  /* model thread id */
    int is_path;
    double total;     /* inclusive value */
    double total_sq;  /* sum over inclusive runs of (run value)^2 */
    double self;      /* self value */
    double self_sq;   /* sum over self runs of (run value)^2 */
    double inside_sq; /* sum over clusters with the row on their path of (value)^2 */
    double leaf_sq;   /* sum over clusters with the row innermost of (value)^2 */
} pyi__thread_acc;

/* One row in one run (trace): the sums over the run's threads, built once
 * every sample is in (pyi__diff_collect). */
typedef struct pyi__diff_acc {
    double total, total_sq, self, self_sq; /* as in pyi__thread_acc */
    double total_var; /* sum over threads t of (1 - p_t)^2 total_sq_t + p_t^2 outside_t,
                         p_t = total_t / T_t and outside_t the squares of t's clusters
                         without the row: the inclusive share's variance times T^2, given
                         each thread's total (an idle thread adds nothing) */
    double self_var;  /* the same for the self share */
} pyi__diff_acc;

/* One trace's totals. */
typedef struct pyi__diff_run {
    double total;      /* every kept sample, metric units */
    uint64_t samples;  /* kept samples */
} pyi__diff_run;

/* A node of the call-path trie: the path of its parent plus one function. */
typedef struct pyi__diff_path {
    uint32_t parent;   /* 0 for the root (node 1) */
    uint32_t function; /* model function id; 0 for the root */
    uint32_t depth;    /* root 0 */
} pyi__diff_path;

/* A function on the current path of a thread and where its run began. */
typedef struct pyi__open_run {
    uint32_t function;
    uint32_t acc;   /* its pyi__thread_acc index + 1 on this thread */
    uint64_t start; /* thread clock at the run's first sample */
} pyi__open_run;

/* An ancestor of a thread's current path node, by depth. */
typedef struct pyi__open_node {
    uint32_t acc;   /* the node's pyi__thread_acc index + 1 on this thread */
    uint64_t start; /* thread clock at its run's first sample */
} pyi__open_node;

/* Where a thread is while its samples stream in. */
typedef struct pyi__diff_thread {
    uint32_t id;             /* model thread id; 0 = no sample yet */
    uint32_t run;            /* index of its trace (model source id - 1) */
    double cluster_sq;       /* sum over its clusters of (value)^2 */
    uint32_t node;           /* current path node; 0 = no sample yet, or closed */
    uint64_t clock;          /* metric accumulated on this thread so far */
    uint64_t cluster_start;  /* clock where the current cluster began */
    uint64_t self_start;     /* clock where the current innermost function's run began */
    pyi__open_node *nodes;   /* [depth]: the current node and its ancestors */
    size_t node_capacity;
    pyi__open_run *open;     /* distinct functions on the current path, innermost first */
    size_t open_count, open_capacity;
} pyi__diff_thread;

struct pyi_diff {
    pyi_diff_options options; /* model's borrowed strings cleared after pyi_diff_new */
    pyi_model *model;
    size_t runs[2];           /* traces expected per side */
    size_t run_count;         /* runs[0] + runs[1] */
    size_t files_added;
    int finished;
    char detail[1024];

    pyi__diff_run *run; /* [run_count] */

    /* the call-path trie, built as stacks appear */
    pyi__diff_path *paths; /* [id - 1]; node 1 is the root */
    size_t path_count, path_capacity;
    pyi__map path_index;   /* (parent, function) -> node id */
    uint32_t *stack_path;  /* [model stack id]: its node; 0 = not mapped yet */
    size_t stack_path_capacity;
    pyi_view_frame *frames; /* scratch for pyi__view_frames */
    size_t frame_capacity;

    pyi__thread_acc *thread_accs; /* what every row collected on every thread */
    size_t thread_acc_count, thread_acc_capacity;
    pyi__map function_index;  /* (function, thread) -> thread_accs index + 1 */
    pyi__map node_index;      /* (node, thread) -> thread_accs index + 1 */

    pyi__diff_acc *function_acc; /* [(function - 1) * run_count + run], by pyi__diff_collect */
    size_t function_acc_count;   /* functions covered */
    pyi__diff_acc *path_acc;     /* [(node - 1) * run_count + run] */

    pyi__diff_thread *threads; /* [model thread id - 1] */
    size_t thread_capacity;

    /* scratch for set differences, indexed by function id */
    uint32_t *mark;        /* == mark_value: on the new path */
    uint32_t *was_open;    /* == mark_value: open before the change, its run in open_run */
    pyi__open_run *open_run;
    uint32_t mark_value;
    size_t mark_capacity;

    double dispersion[2][2]; /* [side][0 shares, 1 times]: see pyi__dispersion */

    /* results */
    pyi_diff_function *functions;
    size_t function_count;
    pyi_diff_node *nodes; /* [id - 1] */
    pyi_diff_summary summary;
    pyi_diff_verdict verdict;
};

/* Sets the diff's message; returns error. */
int pyi__diff_fail(pyi_diff *d, int error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* diff_runs.c: the model's sample hook; the end of every open run; then the
 * per-run sums of every row (function_acc, path_acc). */
int pyi__diff_on_sample(void *ctx, uint32_t thread, uint32_t stack, const pyi_metrics *sample);
int pyi__diff_close_runs(pyi_diff *d);
int pyi__diff_collect(pyi_diff *d);

/* Accumulators, or NULL when the row never had time. */
const pyi__diff_acc *pyi__diff_function_acc(const pyi_diff *d, uint32_t function, size_t run);
const pyi__diff_acc *pyi__diff_path_acc(const pyi_diff *d, uint32_t node, size_t run);

/* ---- Statistics (diff_stats.c) ------------------------------------------------- */

/* Upper tail of the standard normal: P(Z > z). */
double pyi__normal_upper(double z);
/* Upper tail of Student's t with df degrees of freedom (INFINITY: normal). */
double pyi__t_upper(double t, double df);
/* The t with pyi__t_upper(t, df) == p, for 0 < p < 0.5. */
double pyi__t_quantile_upper(double p, double df);
/* Regularized incomplete beta I_x(a, b). */
double pyi__incomplete_beta(double x, double a, double b);
/* Holm's step-down adjustment of n p-values (pointers into estimates), in place
 * on each estimate's p_adjusted. Returns 0 or PYI_E_NOMEM. */
int pyi__holm(pyi_diff_estimate **tests, size_t n);

/* One side of one comparison. */
typedef struct pyi__side_value {
    double value;       /* the estimate */
    double var_model;   /* its variance from the noise model; < 0: none */
    double run_var;     /* sample variance of the per-run values; < 0: one run */
    double pearson;     /* sum over runs of (run value - value)^2 / (its model variance):
                           about chi-square with runs - 1 degrees of freedom when the model
                           explains the spread; < 0: unknown */
    double dispersion;  /* how much the runs of this side scatter beyond the model, over
                           the whole profile (>= 1); see pyi__dispersion */
    size_t runs;
} pyi__side_value;

/* Fills an estimate from two sides at the given confidence (spec/diff.md,
 * "Several runs per side"): the model variance times the side's dispersion,
 * unless this row's own runs scatter significantly more, in which case their
 * spread counts (borrowed by a side with one run) with Welch-Satterthwaite
 * degrees of freedom. */
void pyi__estimate(pyi_diff_estimate *e, const pyi__side_value *base,
                   const pyi__side_value *head, double confidence);

/* The profile-wide dispersion of one side from its rows' Pearson statistics
 * (runs - 1 degrees of freedom each): the median over rows, divided by the
 * chi-square median, at least 1; 1 when there is nothing to go by. The
 * median keeps one erratic row from blurring every other; that row is
 * caught by its own test. Sorts values in place. */
double pyi__dispersion(double *pearson, size_t n, size_t runs);

/* Upper quantile of chi-square with k degrees of freedom (Wilson-Hilferty). */
double pyi__chi2_quantile_upper(double p, double k);

/* Sample variance of n values (n >= 2). */
double pyi__sample_variance(const double *values, size_t n);

/* ---- Rows (diff_rows.c) ------------------------------------------------------------ */

/* Builds functions[], nodes[], the overlap and the Holm adjustments. */
int pyi__diff_build_rows(pyi_diff *d);

#endif /* PYI_DIFF_INTERNAL_H */
