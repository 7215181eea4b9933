/* SPDX-License-Identifier: MIT */
/*
 * The diff's rows: one per function (moved and renamed functions paired with
 * their old selves) and one per call-path node, each with its four
 * comparisons (self and inclusive, as share and as time per run), adjusted
 * for the number of comparisons, flagged and ranked.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

typedef enum measure {
    MEASURE_TOTAL_SHARE,
    MEASURE_SELF_SHARE,
    MEASURE_TOTAL_TIME,
    MEASURE_SELF_TIME,
} measure;

/* A row's identity on each side: function ids, or one path node for both. */
typedef struct row_ref {
    uint32_t base_id, head_id;
    int is_path;
} row_ref;

static const pyi__diff_acc ZERO_ACC;

static const pyi__diff_acc *row_acc(const pyi_diff *d, row_ref ref, size_t run)
{
    uint32_t id = run < d->runs[0] ? ref.base_id : ref.head_id;
    const pyi__diff_acc *a = ref.is_path ? pyi__diff_path_acc(d, id, run)
                                         : pyi__diff_function_acc(d, id, run);
    return a ? a : &ZERO_ACC;
}

/* ---- Side values ------------------------------------------------------------------ */

static int is_share(measure what)
{
    return what == MEASURE_TOTAL_SHARE || what == MEASURE_SELF_SHARE;
}

/* One run's value of a measure and what its variance is made of. */
typedef struct run_value {
    double x;     /* the row's value in the run */
    double sq;    /* sum of squared runs (time) */
    double var;   /* share: the conditional variance times T^2 (pyi__diff_acc) */
    double total; /* the run's total */
    double value; /* the measure: x / total for shares, x for times */
} run_value;

static run_value value_in_run(const pyi_diff *d, row_ref ref, size_t run, measure what)
{
    const pyi__diff_acc *a = row_acc(d, ref, run);
    int self = what == MEASURE_SELF_SHARE || what == MEASURE_SELF_TIME;
    run_value v;
    v.x = self ? a->self : a->total;
    v.sq = self ? a->self_sq : a->total_sq;
    v.var = self ? a->self_var : a->total_var;
    v.total = d->run[run].total;
    v.value = is_share(what) ? (v.total > 0 ? v.x / v.total : 0) : v.x;
    return v;
}

/* The per-run variances for the Pearson statistic (the model's, or the
 * binomial's for the naive test), and the pooled model variance. */
static double model_variances(const pyi_diff *d, const run_value *v, size_t runs, size_t first,
                              measure what, double *per_run)
{
    double x = 0, sum = 0, total = 0, samples = 0;
    for (size_t i = 0; i < runs; i++) {
        x += v[i].x;
        total += v[i].total;
        samples += (double)d->run[first + i].samples;
    }
    double mean_weight = samples > 0 ? total / samples : 0;
    int binomial = d->options.variance == PYI_DIFF_VARIANCE_BINOMIAL;
    double p = total > 0 ? x / total : 0;
    for (size_t i = 0; i < runs; i++) {
        double n = (double)d->run[first + i].samples, t = v[i].total;
        if (is_share(what))
            per_run[i] = binomial ? (n > 0 ? p * (1 - p) / n : 0)
                                  : (t > 0 ? v[i].var / (t * t) : 0);
        else
            per_run[i] = binomial ? v[i].x * mean_weight : v[i].sq;
        sum += is_share(what) && !binomial ? v[i].var : per_run[i];
    }
    if (!is_share(what))
        return sum / ((double)runs * runs);
    if (binomial)
        return samples > 0 ? p * (1 - p) / samples : 0;
    return total > 0 ? sum / (total * total) : 0;
}

/* One side of one measure: pooled value, model variance, per-run spread. */
static int side_value(const pyi_diff *d, row_ref ref, int side, measure what,
                      pyi__side_value *out)
{
    size_t runs = d->runs[side], first = side ? d->runs[0] : 0;
    run_value *v = malloc(runs * sizeof(*v));
    double *var = malloc(runs * sizeof(*var));
    if (!v || !var) {
        free(v);
        free(var);
        return PYI_E_NOMEM;
    }
    double x = 0, total = 0, mean = 0, spread = 0;
    for (size_t i = 0; i < runs; i++) {
        v[i] = value_in_run(d, ref, first + i, what);
        x += v[i].x;
        total += v[i].total;
        mean += v[i].value / (double)runs;
    }
    out->value = is_share(what) ? (total > 0 ? x / total : 0) : x / (double)runs;
    out->var_model = model_variances(d, v, runs, first, what, var);
    out->runs = runs;
    out->run_var = -1;
    out->pearson = runs >= 2 ? 0 : -1;
    out->dispersion = d->dispersion[side][is_share(what) ? 0 : 1];
    for (size_t i = 0; runs >= 2 && i < runs; i++) {
        double gap = v[i].value - out->value;
        spread += (v[i].value - mean) * (v[i].value - mean);
        if (out->pearson >= 0)
            out->pearson = var[i] > 0 ? out->pearson + gap * gap / var[i] : -1;
    }
    if (runs >= 2)
        out->run_var = spread / (double)(runs - 1);
    free(v);
    free(var);
    return 0;
}

static int estimate(const pyi_diff *d, row_ref ref, measure what, pyi_diff_estimate *e)
{
    pyi__side_value base, head;
    int rc = side_value(d, ref, 0, what, &base);
    if (!rc)
        rc = side_value(d, ref, 1, what, &head);
    if (!rc)
        pyi__estimate(e, &base, &head, d->options.confidence);
    return rc;
}

static int estimate_all(const pyi_diff *d, row_ref ref, pyi_diff_estimate *total_share,
                        pyi_diff_estimate *self_share, pyi_diff_estimate *total_time,
                        pyi_diff_estimate *self_time)
{
    int rc = estimate(d, ref, MEASURE_TOTAL_SHARE, total_share);
    rc = rc ? rc : estimate(d, ref, MEASURE_SELF_SHARE, self_share);
    rc = rc ? rc : estimate(d, ref, MEASURE_TOTAL_TIME, total_time);
    return rc ? rc : estimate(d, ref, MEASURE_SELF_TIME, self_time);
}

/* The profile-wide dispersion of each side, for shares and for times, from
 * every function row seen on both sides (pyi__dispersion). */
static int measure_dispersion(pyi_diff *d, const row_ref *refs,
                              const pyi_diff_presence *presence, size_t count)
{
    double *pearson = malloc((2 * count + 1) * sizeof(*pearson));
    if (!pearson)
        return PYI_E_NOMEM;
    for (int side = 0; side < 2; side++)
        for (int family = 0; family < 2; family++) {
            size_t n = 0;
            d->dispersion[side][family] = 1;
            for (size_t i = 0; i < count && d->runs[side] >= 2; i++) {
                if (presence[i] != PYI_DIFF_BOTH)
                    continue;
                for (int k = 0; k < 2; k++) {
                    pyi__side_value v;
                    measure what = (measure)(family * 2 + k);
                    if (side_value(d, refs[i], side, what, &v)) {
                        free(pearson);
                        return PYI_E_NOMEM;
                    }
                    if (v.pearson >= 0)
                        pearson[n++] = v.pearson;
                }
            }
            d->dispersion[side][family] = pyi__dispersion(pearson, n, d->runs[side]);
        }
    free(pearson);
    return 0;
}

/* ---- Functions: presence and pairing ------------------------------------------------ */

static double side_sum(const pyi_diff *d, row_ref ref, int side)
{
    double sum = 0;
    size_t first = side ? d->runs[0] : 0;
    for (size_t i = 0; i < d->runs[side]; i++)
        sum += row_acc(d, ref, first + i)->total;
    return sum;
}

static double side_share(const pyi_diff *d, uint32_t function, int side)
{
    double total = 0;
    size_t first = side ? d->runs[0] : 0;
    for (size_t i = 0; i < d->runs[side]; i++)
        total += d->run[first + i].total;
    row_ref ref = {function, function, 0};
    return total > 0 ? side_sum(d, ref, side) / total : 0;
}

/* Does function f on the head side share a caller with g on the base side? */
static int have_common_caller(const pyi_diff *d, uint32_t f, uint32_t g, uint8_t *seen)
{
    size_t n = d->model->function_count + 1;
    memset(seen, 0, n);
    for (uint32_t id = 2; id <= d->path_count; id++) {
        row_ref ref = {id, id, 1};
        if (d->paths[id - 1].function == g && side_sum(d, ref, 0) > 0)
            seen[d->paths[d->paths[id - 1].parent - 1].function] = 1;
    }
    for (uint32_t id = 2; id <= d->path_count; id++) {
        row_ref ref = {id, id, 1};
        if (d->paths[id - 1].function == f && side_sum(d, ref, 1) > 0 &&
            seen[d->paths[d->paths[id - 1].parent - 1].function])
            return 1;
    }
    return 0;
}

/* How well disappeared g explains appeared f: 2 moved, 1 renamed, 0 not. */
static int pairing(const pyi_diff *d, uint32_t f, uint32_t g, uint8_t *seen)
{
    const pyi_model_function *a = pyi_model_function_get(d->model, f);
    const pyi_model_function *b = pyi_model_function_get(d->model, g);
    /* <module>, <lambda>, <listcomp>...: every file has them, none of them moves. */
    if (a->kind != b->kind || a->name[0] == '<' || b->name[0] == '<')
        return 0;
    if (!strcmp(a->name, b->name))
        return 2; /* functions match by name and file, so the file differs */
    if (!strcmp(a->file, b->file) && have_common_caller(d, f, g, seen))
        return 1;
    return 0;
}

/* Pairs each appeared row with the disappeared row that best explains it;
 * a paired disappeared row is dropped (its function becomes base_function). */
static int pair_rows(pyi_diff *d, row_ref *refs, pyi_diff_presence *presence, size_t count)
{
    uint8_t *seen = malloc(d->model->function_count + 1);
    if (!seen)
        return PYI_E_NOMEM;
    for (size_t i = 0; i < count; i++) {
        if (presence[i] != PYI_DIFF_APPEARED)
            continue;
        double share = side_share(d, refs[i].head_id, 1);
        size_t best = count;
        int best_kind = 0;
        double best_gap = INFINITY;
        for (size_t j = 0; j < count; j++) {
            if (presence[j] != PYI_DIFF_DISAPPEARED)
                continue;
            int kind = pairing(d, refs[i].head_id, refs[j].base_id, seen);
            double gap = fabs(share - side_share(d, refs[j].base_id, 0));
            if (kind > best_kind || (kind && kind == best_kind && gap < best_gap)) {
                best = j;
                best_kind = kind;
                best_gap = gap;
            }
        }
        if (best < count) {
            refs[i].base_id = refs[best].base_id;
            presence[i] = best_kind == 2 ? PYI_DIFF_MOVED : PYI_DIFF_RENAMED;
            presence[best] = (pyi_diff_presence)-1; /* merged into row i */
        }
    }
    free(seen);
    return 0;
}

/* ---- Functions: rows, flags, order ---------------------------------------------------- */

static double threshold(double points)
{
    return points >= 0 ? points / 100.0 : 0;
}

/* Did the share move significantly beyond the threshold (sign: +1 up, -1
 * down), with the interval of the time per run on the same side of zero? A
 * share alone also rises when other code got faster or went away; time alone
 * also rises when the machine got slower. The time only confirms a change
 * the share test found, so its interval is not adjusted for many tests. */
static int moved(const pyi_diff_estimate *share, const pyi_diff_estimate *time, double th,
                 int sign)
{
    return share->significant && sign * share->delta > th && time->tested &&
           (sign > 0 ? time->low > 0 : time->high < 0);
}

static void flag_function(const pyi_diff *d, pyi_diff_function *f)
{
    double th = threshold(d->options.fail_on.share_points);
    int self_up = moved(&f->self_share, &f->self_time, th, 1);
    int total_up = moved(&f->total_share, &f->total_time, th, 1);
    int self_down = moved(&f->self_share, &f->self_time, th, -1);
    int total_down = moved(&f->total_share, &f->total_time, th, -1);
    f->flags = 0;
    if (self_up || total_up) {
        f->flags |= PYI_DIFF_SLOWER | (self_up ? PYI_DIFF_SELF_COUNTS : 0);
        if (d->options.fail_on.share_points >= 0)
            f->flags |= PYI_DIFF_FAILS;
    } else if (self_down || total_down) {
        f->flags |= PYI_DIFF_FASTER | (self_down ? PYI_DIFF_SELF_COUNTS : 0);
    }
}

/* Sort key: slower rows, self increases first, then by size; then faster
 * ones, largest decrease first; then the rest by their largest change. */
static int compare_functions(const void *pa, const void *pb)
{
    const pyi_diff_function *a = pa, *b = pb;
    int ga = a->flags & PYI_DIFF_SLOWER ? 0 : a->flags & PYI_DIFF_FASTER ? 1 : 2;
    int gb = b->flags & PYI_DIFF_SLOWER ? 0 : b->flags & PYI_DIFF_FASTER ? 1 : 2;
    if (ga != gb)
        return ga - gb;
    double ka, kb, ta, tb;
    if (ga < 2) {
        double sign = ga == 0 ? 1 : -1;
        ka = a->flags & PYI_DIFF_SELF_COUNTS ? sign * a->self_share.delta : -1;
        kb = b->flags & PYI_DIFF_SELF_COUNTS ? sign * b->self_share.delta : -1;
        ta = sign * a->total_share.delta;
        tb = sign * b->total_share.delta;
    } else {
        ka = fmax(fabs(a->self_share.delta), fabs(a->total_share.delta));
        kb = fmax(fabs(b->self_share.delta), fabs(b->total_share.delta));
        ta = a->total_share.head;
        tb = b->total_share.head;
    }
    if (ka != kb)
        return ka > kb ? -1 : 1;
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return a->function < b->function ? -1 : a->function > b->function;
}

/* Collects functions with time on either side, with their presence. */
static int collect_functions(pyi_diff *d, row_ref **refs, pyi_diff_presence **presence,
                             size_t *count)
{
    size_t n = d->function_acc_count;
    *refs = calloc(n + 1, sizeof(**refs));
    *presence = calloc(n + 1, sizeof(**presence));
    if (!*refs || !*presence)
        return PYI_E_NOMEM;
    *count = 0;
    for (uint32_t f = 1; f <= n; f++) {
        row_ref ref = {f, f, 0};
        int in_base = side_sum(d, ref, 0) > 0, in_head = side_sum(d, ref, 1) > 0;
        if (!in_base && !in_head)
            continue;
        (*refs)[*count] = ref;
        (*presence)[(*count)++] = in_base && in_head ? PYI_DIFF_BOTH
                                  : in_head          ? PYI_DIFF_APPEARED
                                                     : PYI_DIFF_DISAPPEARED;
    }
    return 0;
}

static int build_functions(pyi_diff *d)
{
    row_ref *refs = NULL;
    pyi_diff_presence *presence = NULL;
    size_t count = 0;
    int rc = collect_functions(d, &refs, &presence, &count);
    if (!rc)
        rc = measure_dispersion(d, refs, presence, count);
    if (!rc)
        rc = pair_rows(d, refs, presence, count);
    if (!rc && !(d->functions = calloc(count + 1, sizeof(*d->functions))))
        rc = PYI_E_NOMEM;
    for (size_t i = 0; !rc && i < count; i++) {
        if (presence[i] == (pyi_diff_presence)-1)
            continue;
        pyi_diff_function *f = &d->functions[d->function_count++];
        f->function = presence[i] == PYI_DIFF_DISAPPEARED ? refs[i].base_id : refs[i].head_id;
        f->base_function = presence[i] == PYI_DIFF_APPEARED ? 0 : refs[i].base_id;
        f->presence = presence[i];
        rc = estimate_all(d, refs[i], &f->total_share, &f->self_share, &f->total_time,
                          &f->self_time);
    }
    free(refs);
    free(presence);
    return rc;
}

/* Adds a row's two estimates of one kind to a Holm family. */
static void adjust(pyi_diff_estimate **tests, size_t *n, pyi_diff_estimate *a,
                   pyi_diff_estimate *b)
{
    if (a->tested)
        tests[(*n)++] = a;
    if (b->tested)
        tests[(*n)++] = b;
}

static int adjust_functions(pyi_diff *d)
{
    pyi_diff_estimate **tests = malloc((2 * d->function_count + 1) * sizeof(*tests));
    if (!tests)
        return PYI_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < d->function_count; i++)
        adjust(tests, &n, &d->functions[i].self_share, &d->functions[i].total_share);
    d->summary.function_tests = n;
    pyi__holm(tests, n);
    n = 0;
    for (size_t i = 0; i < d->function_count; i++)
        adjust(tests, &n, &d->functions[i].self_time, &d->functions[i].total_time);
    pyi__holm(tests, n);
    free(tests);
    return 0;
}

static void mark_significant(pyi_diff_estimate *e, double alpha)
{
    e->significant = e->tested && e->p_adjusted < alpha;
}

static void finish_functions(pyi_diff *d)
{
    double alpha = d->options.alpha, overlap = 0;
    for (size_t i = 0; i < d->function_count; i++) {
        pyi_diff_function *f = &d->functions[i];
        mark_significant(&f->self_share, alpha);
        mark_significant(&f->total_share, alpha);
        mark_significant(&f->self_time, alpha);
        mark_significant(&f->total_time, alpha);
        flag_function(d, f);
        overlap += fmin(f->self_share.base, f->self_share.head);
    }
    d->summary.overlap = overlap;
    qsort(d->functions, d->function_count, sizeof(*d->functions), compare_functions);
}

/* ---- Paths ------------------------------------------------------------------------- */

typedef struct child_key {
    uint32_t parent, id;
    double size;
} child_key;

static int compare_children(const void *pa, const void *pb)
{
    const child_key *a = pa, *b = pb;
    if (a->parent != b->parent)
        return a->parent < b->parent ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Links children to parents, largest first. */
static int link_nodes(pyi_diff *d)
{
    child_key *keys = malloc((d->path_count + 1) * sizeof(*keys));
    if (!keys)
        return PYI_E_NOMEM;
    size_t n = 0;
    for (uint32_t id = 2; id <= d->path_count; id++) {
        const pyi_diff_node *node = &d->nodes[id - 1];
        keys[n++] = (child_key){node->parent, id,
                                fmax(node->total_share.base, node->total_share.head)};
    }
    qsort(keys, n, sizeof(*keys), compare_children);
    for (size_t i = n; i-- > 0;) {
        pyi_diff_node *parent = &d->nodes[keys[i].parent - 1];
        d->nodes[keys[i].id - 1].next_sibling = parent->first_child;
        parent->first_child = keys[i].id;
    }
    free(keys);
    return 0;
}

/* Holm over the nodes' shares, then over their times; the root is left out
 * (its total share is 1 on both sides). */
static int adjust_nodes(pyi_diff *d)
{
    pyi_diff_estimate **tests = malloc((2 * d->path_count + 1) * sizeof(*tests));
    if (!tests)
        return PYI_E_NOMEM;
    size_t n = 0;
    for (uint32_t id = 2; id <= d->path_count; id++)
        adjust(tests, &n, &d->nodes[id - 1].self_share, &d->nodes[id - 1].total_share);
    d->summary.path_tests = n;
    pyi__holm(tests, n);
    n = 0;
    for (uint32_t id = 2; id <= d->path_count; id++)
        adjust(tests, &n, &d->nodes[id - 1].self_time, &d->nodes[id - 1].total_time);
    pyi__holm(tests, n);
    free(tests);
    return 0;
}

static int build_nodes(pyi_diff *d)
{
    d->nodes = calloc(d->path_count + 1, sizeof(*d->nodes));
    int rc = d->nodes ? 0 : PYI_E_NOMEM;
    for (uint32_t id = 1; !rc && id <= d->path_count; id++) {
        pyi_diff_node *node = &d->nodes[id - 1];
        const pyi__diff_path *p = &d->paths[id - 1];
        *node = (pyi_diff_node){.id = id, .parent = p->parent, .depth = p->depth,
                                .function = p->function};
        row_ref ref = {id, id, 1};
        rc = estimate_all(d, ref, &node->total_share, &node->self_share, &node->total_time,
                          &node->self_time);
    }
    if (!rc)
        rc = adjust_nodes(d);
    double th = threshold(d->options.fail_on.path_points);
    for (uint32_t id = 1; !rc && id <= d->path_count; id++) {
        pyi_diff_node *node = &d->nodes[id - 1];
        mark_significant(&node->self_share, d->options.alpha);
        mark_significant(&node->total_share, d->options.alpha);
        mark_significant(&node->self_time, d->options.alpha);
        mark_significant(&node->total_time, d->options.alpha);
        node->flags = moved(&node->total_share, &node->total_time, th, 1)    ? PYI_DIFF_SLOWER
                      : moved(&node->total_share, &node->total_time, th, -1) ? PYI_DIFF_FASTER
                                                                              : 0;
        if ((node->flags & PYI_DIFF_SLOWER) && d->options.fail_on.path_points >= 0)
            node->flags |= PYI_DIFF_FAILS;
    }
    return rc ? rc : link_nodes(d);
}

int pyi__diff_build_rows(pyi_diff *d)
{
    int rc = build_functions(d);
    if (!rc)
        rc = adjust_functions(d);
    if (!rc)
        finish_functions(d);
    return rc ? rc : build_nodes(d);
}
