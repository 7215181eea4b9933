/* SPDX-License-Identifier: MIT */
/*
 * The diff's run tracker: fed every kept sample in file order by the model's
 * sample hook, it maps each stack to a call path (a trie of functions, lines
 * ignored) and follows, per thread, which functions and paths are on the
 * stack. When one leaves, the run it ends is added to its row's value and its
 * square to the row's sum of squares: the input of the noise model
 * (spec/diff.md). Work is O(1) per sample while the path stays the same and
 * O(depth) when it changes.
 */
#include <stdlib.h>
#include <string.h>

#include "diff_internal.h"

/* ---- Storage ------------------------------------------------------------------ */

/* The index + 1 of a row's accumulator on a thread, created if new; 0 when
 * memory runs out. Looked up once per run; the run keeps the index. */
static uint32_t thread_acc(pyi_diff *d, int is_path, uint32_t row, uint32_t thread)
{
    pyi__map *index = is_path ? &d->node_index : &d->function_index;
    uint64_t key = ((uint64_t)row << 32) | thread;
    uint32_t i = pyi__map_get(index, key);
    if (i)
        return i;
    if (d->thread_acc_count >= UINT32_MAX - 1 ||
        pyi__array_grow((void **)&d->thread_accs, &d->thread_acc_capacity,
                        d->thread_acc_count + 1, sizeof(*d->thread_accs)))
        return 0;
    pyi__thread_acc *a = &d->thread_accs[d->thread_acc_count++];
    a->row = row;
    a->thread = thread;
    a->is_path = is_path;
    i = (uint32_t)d->thread_acc_count;
    return pyi__map_put(index, key, i) ? 0 : i;
}

static pyi__thread_acc *acc_at(pyi_diff *d, uint32_t index)
{
    return &d->thread_accs[index - 1];
}

const pyi__diff_acc *pyi__diff_function_acc(const pyi_diff *d, uint32_t function, size_t run)
{
    if (!function || function > d->function_acc_count)
        return NULL;
    return &d->function_acc[(size_t)(function - 1) * d->run_count + run];
}

const pyi__diff_acc *pyi__diff_path_acc(const pyi_diff *d, uint32_t node, size_t run)
{
    if (!node || node > d->path_count || !d->path_acc)
        return NULL;
    return &d->path_acc[(size_t)(node - 1) * d->run_count + run];
}

/* The child of parent for function, created if new; 0 when memory runs out. */
static uint32_t path_child(pyi_diff *d, uint32_t parent, uint32_t function)
{
    uint64_t key = ((uint64_t)parent << 32) | function;
    uint32_t id = parent ? pyi__map_get(&d->path_index, key) : 0;
    if (id)
        return id;
    if (pyi__array_grow((void **)&d->paths, &d->path_capacity, d->path_count + 1,
                        sizeof(*d->paths)))
        return 0;
    id = (uint32_t)++d->path_count;
    uint32_t depth = parent ? d->paths[parent - 1].depth + 1 : 0;
    d->paths[id - 1] = (pyi__diff_path){parent, function, depth};
    if (parent && pyi__map_put(&d->path_index, key, id))
        return 0;
    return id;
}

/* The path node of a model stack (the root for stack 0), cached per stack. */
static uint32_t path_of_stack(pyi_diff *d, uint32_t stack)
{
    if (!d->path_count && !path_child(d, 0, 0))
        return 0;
    if (!stack)
        return 1;
    if (pyi__array_grow((void **)&d->stack_path, &d->stack_path_capacity, (size_t)stack + 1,
                        sizeof(*d->stack_path)))
        return 0;
    if (d->stack_path[stack])
        return d->stack_path[stack];
    size_t depth = pyi_model_stack_get(d->model, stack)->depth;
    if (depth > d->frame_capacity) {
        pyi_view_frame *grown = realloc(d->frames, depth * 2 * sizeof(*grown));
        if (!grown)
            return 0;
        d->frames = grown;
        d->frame_capacity = depth * 2;
    }
    int kept = pyi__view_frames(d->model, d->options.processors, stack, d->frames,
                                d->frame_capacity);
    uint32_t node = 1;
    for (int i = 0; i < kept && node; i++)
        node = path_child(d, node, d->frames[i].function);
    d->stack_path[stack] = node;
    return node;
}

static int grow_marks(pyi_diff *d)
{
    size_t need = d->model->function_count + 1; /* the model grows while it loads */
    size_t c1 = d->mark_capacity, c2 = d->mark_capacity;
    if (need <= d->mark_capacity)
        return 0;
    if (pyi__array_grow((void **)&d->mark, &c1, need, sizeof(*d->mark)) ||
        pyi__array_grow((void **)&d->was_open, &c2, need, sizeof(*d->was_open)) ||
        pyi__array_grow((void **)&d->open_run, &d->mark_capacity, need,
                        sizeof(*d->open_run)))
        return PYI_E_NOMEM;
    return 0;
}

/* ---- Closing runs ---------------------------------------------------------------- */

static void add_run(double *value, double *square, uint64_t from, uint64_t to)
{
    double v = (double)(to - from);
    *value += v;
    *square += v * v;
}

/* The cluster of node a ends: its value goes to a's self, its square to every
 * row that was on its path (a and its ancestors, and their functions). */
static void close_cluster(pyi_diff *d, pyi__diff_thread *t, uint32_t a)
{
    double v = (double)(t->clock - t->cluster_start);
    if (v <= 0)
        return;
    double v2 = v * v;
    t->cluster_sq += v2;
    pyi__thread_acc *leaf = acc_at(d, t->nodes[d->paths[a - 1].depth].acc);
    leaf->self += v;
    leaf->self_sq += v2;
    leaf->leaf_sq += v2;
    for (uint32_t depth = 0; depth <= d->paths[a - 1].depth; depth++)
        acc_at(d, t->nodes[depth].acc)->inside_sq += v2;
    for (size_t i = 0; i < t->open_count; i++)
        acc_at(d, t->open[i].acc)->inside_sq += v2;
    if (d->paths[a - 1].function) /* open[0] is the innermost function */
        acc_at(d, t->open[0].acc)->leaf_sq += v2;
}

static uint32_t common_ancestor(const pyi_diff *d, uint32_t a, uint32_t b)
{
    if (!a || !b)
        return 0;
    while (d->paths[a - 1].depth > d->paths[b - 1].depth)
        a = d->paths[a - 1].parent;
    while (d->paths[b - 1].depth > d->paths[a - 1].depth)
        b = d->paths[b - 1].parent;
    while (a != b) {
        a = d->paths[a - 1].parent;
        b = d->paths[b - 1].parent;
    }
    return a;
}

/* Paths from a up to their common ancestor end; those down to b begin. */
static int move_paths(pyi_diff *d, pyi__diff_thread *t, uint32_t a, uint32_t b)
{
    uint32_t c = common_ancestor(d, a, b);
    for (uint32_t n = a; n != c; n = d->paths[n - 1].parent) {
        pyi__open_node *o = &t->nodes[d->paths[n - 1].depth];
        pyi__thread_acc *acc = acc_at(d, o->acc);
        add_run(&acc->total, &acc->total_sq, o->start, t->clock);
    }
    if (!b)
        return 0;
    size_t depth = d->paths[b - 1].depth;
    if (pyi__array_grow((void **)&t->nodes, &t->node_capacity, depth + 1, sizeof(*t->nodes)))
        return PYI_E_NOMEM;
    for (uint32_t n = b; n != c; n = d->paths[n - 1].parent) {
        uint32_t acc = thread_acc(d, 1, n, t->id);
        if (!acc)
            return PYI_E_NOMEM;
        t->nodes[d->paths[n - 1].depth] = (pyi__open_node){acc, t->clock};
    }
    return 0;
}

/* Functions on the old path but not on b's end their run; new ones begin. */
static int move_functions(pyi_diff *d, pyi__diff_thread *t, uint32_t b)
{
    if (grow_marks(d))
        return PYI_E_NOMEM;
    uint32_t mark = ++d->mark_value;
    size_t count = 0;
    for (uint32_t n = b; n && d->paths[n - 1].function; n = d->paths[n - 1].parent)
        if (d->mark[d->paths[n - 1].function] != mark) {
            d->mark[d->paths[n - 1].function] = mark;
            count++;
        }
    for (size_t i = 0; i < t->open_count; i++) {
        pyi__open_run *o = &t->open[i];
        if (d->mark[o->function] != mark) {
            pyi__thread_acc *acc = acc_at(d, o->acc);
            add_run(&acc->total, &acc->total_sq, o->start, t->clock);
        } else {
            d->was_open[o->function] = mark;
            d->open_run[o->function] = *o;
        }
    }
    if (pyi__array_grow((void **)&t->open, &t->open_capacity, count + 1, sizeof(*t->open)))
        return PYI_E_NOMEM;
    t->open_count = 0;
    for (uint32_t n = b; n && d->paths[n - 1].function; n = d->paths[n - 1].parent) {
        uint32_t f = d->paths[n - 1].function;
        if (d->mark[f] != mark)
            continue; /* recursion: already listed */
        d->mark[f] = 0;
        pyi__open_run run = {f, 0, t->clock};
        if (d->was_open[f] == mark)
            run = d->open_run[f];
        else if (!(run.acc = thread_acc(d, 0, f, t->id)))
            return PYI_E_NOMEM;
        t->open[t->open_count++] = run;
    }
    return 0;
}

/* The thread's path changes from t->node to b (0: the thread ends). */
static int transition(pyi_diff *d, pyi__diff_thread *t, uint32_t b)
{
    uint32_t a = t->node;
    if (a) {
        close_cluster(d, t, a);
        uint32_t leaf_a = d->paths[a - 1].function;
        uint32_t leaf_b = b ? d->paths[b - 1].function : 0;
        if (leaf_a && leaf_a != leaf_b) {
            pyi__thread_acc *acc = acc_at(d, t->open[0].acc);
            add_run(&acc->self, &acc->self_sq, t->self_start, t->clock);
        }
        if (leaf_a != leaf_b)
            t->self_start = t->clock;
    } else {
        t->self_start = t->clock;
    }
    int rc = move_paths(d, t, a, b);
    if (!rc)
        rc = move_functions(d, t, b);
    t->cluster_start = t->clock;
    t->node = b;
    return rc;
}

/* ---- The hook ---------------------------------------------------------------------- */

static pyi__diff_thread *thread_state(pyi_diff *d, uint32_t thread)
{
    if (pyi__array_grow((void **)&d->threads, &d->thread_capacity, thread, sizeof(*d->threads)))
        return NULL;
    pyi__diff_thread *t = &d->threads[thread - 1];
    if (!t->id) {
        t->id = thread;
        t->run = pyi_model_thread_get(d->model, thread)->source - 1;
    }
    return t;
}

int pyi__diff_on_sample(void *ctx, uint32_t thread, uint32_t stack, const pyi_metrics *sample)
{
    pyi_diff *d = ctx;
    uint64_t value = pyi_metrics_value(sample, d->options.metric);
    pyi__diff_thread *t = thread_state(d, thread);
    uint32_t node = t ? path_of_stack(d, stack) : 0;
    if (!node)
        return PYI_E_NOMEM;
    if (node != t->node) {
        int rc = transition(d, t, node);
        if (rc)
            return rc;
    }
    t->clock += value;
    d->run[t->run].total += (double)value;
    d->run[t->run].samples++;
    return 0;
}

int pyi__diff_close_runs(pyi_diff *d)
{
    for (size_t i = 0; i < d->thread_capacity; i++) {
        pyi__diff_thread *t = &d->threads[i];
        if (t->node) {
            int rc = transition(d, t, 0);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- Per-run sums -------------------------------------------------------------------- */

/* A thread's contribution to the variance of a share given its total: the
 * row's runs weighted by (1 - p)^2, the clusters outside it by p^2. */
static double conditional_variance(double value, double sq, double inside_sq,
                                   const pyi__diff_thread *t)
{
    double total = (double)t->clock;
    double p = total > 0 ? value / total : 0;
    double outside = t->cluster_sq - inside_sq;
    return (1 - p) * (1 - p) * sq + p * p * (outside > 0 ? outside : 0);
}

int pyi__diff_collect(pyi_diff *d)
{
    size_t functions = d->model->function_count, runs = d->run_count;
    d->function_acc = calloc((functions + 1) * runs, sizeof(*d->function_acc));
    d->path_acc = calloc((d->path_count + 1) * runs, sizeof(*d->path_acc));
    if (!d->function_acc || !d->path_acc)
        return PYI_E_NOMEM;
    d->function_acc_count = functions;
    for (size_t i = 0; i < d->thread_acc_count; i++) {
        const pyi__thread_acc *a = &d->thread_accs[i];
        const pyi__diff_thread *t = &d->threads[a->thread - 1];
        pyi__diff_acc *sum = a->is_path ? &d->path_acc[(size_t)(a->row - 1) * runs + t->run]
                                        : &d->function_acc[(size_t)(a->row - 1) * runs + t->run];
        sum->total += a->total;
        sum->total_sq += a->total_sq;
        sum->self += a->self;
        sum->self_sq += a->self_sq;
        sum->total_var += conditional_variance(a->total, a->total_sq, a->inside_sq, t);
        sum->self_var += conditional_variance(a->self, a->self_sq, a->leaf_sq, t);
    }
    return 0;
}
