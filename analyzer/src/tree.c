/* SPDX-License-Identifier: MIT */
/*
 * Call trees from the model: every aggregate's processed stack is inserted
 * (outermost first, or innermost first for the callers view), nodes merge by
 * function (and call line, or self line, when those processors are off), then
 * [self] nodes are added, small nodes pruned, and the result is laid out in
 * depth-first order with children sorted largest first.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "tree_internal.h"

void pyi_tree_options_init(pyi_tree_options *options)
{
    memset(options, 0, sizeof(*options));
    pyi_view_options_init(&options->view);
    options->self_nodes = 1;
}

/* ---- Building: node lookup --------------------------------------------------- */

static uint64_t node_hash(uint32_t parent, pyi_node_kind kind, uint32_t key, uint32_t line)
{
    return pyi__hash64(((uint64_t)parent << 32 | key) ^ ((uint64_t)kind << 56) ^
                       ((uint64_t)line * 0x9e3779b97f4a7c15ull));
}

static int lookup_rehash(pyi__tree_builder *b, size_t capacity)
{
    uint32_t *table = calloc(capacity, sizeof(*table));
    if (!table)
        return -1;
    for (size_t id = 1; id < b->count; id++) {
        const pyi_tree_node *n = &b->nodes[id];
        size_t i = node_hash(n->parent, n->kind, n->kind == PYI_NODE_THREAD ? n->thread
                             : n->function, n->line) & (capacity - 1);
        while (table[i])
            i = (i + 1) & (capacity - 1);
        table[i] = (uint32_t)id;
    }
    free(b->table);
    b->table = table;
    b->table_capacity = capacity;
    return 0;
}

/* The child of parent with this identity, created if new; 0 = no memory. */
static uint32_t child_of(pyi__tree_builder *b, uint32_t parent, pyi_node_kind kind, uint32_t key,
                         uint32_t line)
{
    if ((b->count + 1) * 2 > b->table_capacity &&
        lookup_rehash(b, b->table_capacity ? b->table_capacity * 2 : 1024))
        return 0;
    size_t mask = b->table_capacity - 1;
    size_t i = node_hash(parent, kind, key, line) & mask;
    for (; b->table[i]; i = (i + 1) & mask) {
        const pyi_tree_node *n = &b->nodes[b->table[i]];
        uint32_t nkey = n->kind == PYI_NODE_THREAD ? n->thread : n->function;
        if (n->parent == parent && n->kind == kind && nkey == key && n->line == line)
            return b->table[i];
    }
    if (b->count >= UINT32_MAX - 1 ||
        pyi__array_grow((void **)&b->nodes, &b->capacity, b->count + 1, sizeof(*b->nodes)))
        return 0;
    uint32_t id = (uint32_t)b->count++;
    pyi_tree_node *n = &b->nodes[id];
    n->id = id;
    n->parent = parent;
    n->kind = kind;
    n->line = line;
    if (kind == PYI_NODE_THREAD)
        n->thread = key;
    else
        n->function = key;
    n->depth = b->nodes[parent].depth + 1;
    n->next_sibling = b->nodes[parent].first_child;
    b->nodes[parent].first_child = id;
    b->nodes[parent].child_count++;
    b->table[i] = id;
    return id;
}

static int note_hidden(pyi__tree_builder *b, uint32_t node, const uint32_t *functions,
                       uint32_t count)
{
    for (uint32_t k = 0; k < count; k++) {
        uint64_t key = (uint64_t)node << 32 | functions[k];
        if (pyi__map_get(&b->hidden, key))
            continue;
        if (pyi__map_put(&b->hidden, key, 1))
            return -1;
        b->nodes[node].hidden_frames++;
    }
    return 0;
}

/* ---- Building: inserting stacks ---------------------------------------------- */

/* The frames of one stack in the order of the tree's levels; returns the count. */
static size_t select_frames(const pyi__tree_builder *b, pyi_view_frame *frames, size_t depth,
                            size_t *first_hidden)
{
    const pyi_tree_options *o = &b->options;
    *first_hidden = 0;
    if (o->focus_function) {
        size_t at = depth;
        for (size_t i = 0; i < depth; i++)
            if (frames[i].function == o->focus_function) {
                at = i;
                if (!o->inverted)
                    break; /* outermost for callees; innermost for callers */
            }
        if (at == depth)
            return SIZE_MAX;
        if (o->inverted) {
            depth = at + 1;
        } else {
            for (size_t i = 0; i < at; i++)
                *first_hidden += frames[i].group_hidden;
            memmove(frames, frames + at, (depth - at) * sizeof(*frames));
            depth -= at;
            frames[0].call_line = 0;
        }
    }
    if (o->inverted)
        for (size_t i = 0; i < depth / 2; i++) {
            pyi_view_frame t = frames[i];
            frames[i] = frames[depth - 1 - i];
            frames[depth - 1 - i] = t;
        }
    return depth;
}

static int insert_frames(pyi__tree_builder *b, uint32_t node, const pyi_view_frame *frames,
                         size_t depth, const uint32_t *hidden, const pyi_metrics *totals)
{
    const pyi_tree_options *o = &b->options;
    unsigned proc = o->view.processors;
    for (size_t i = 0; i < depth; i++) {
        const pyi_view_frame *f = &frames[i];
        uint32_t line = !o->inverted && !(proc & PYI_PROC_AGGREGATE_CALLS) ? f->call_line : 0;
        node = child_of(b, node, PYI_NODE_FRAME, f->function, line);
        if (!node)
            return -1;
        pyi_tree_node *n = &b->nodes[node];
        pyi_metrics_add(&n->total, totals);
        if (i == 0 && o->inverted)
            pyi_metrics_add(&n->self, totals);
        n->flags |= f->flags;
        if (f->group_hidden && !o->inverted) {
            n->flags |= PYI_NODE_GROUP;
            if (note_hidden(b, node, hidden, f->group_hidden))
                return -1;
        }
        hidden += f->group_hidden;
    }
    if (depth == 0) {
        node = child_of(b, node, PYI_NODE_NO_STACK, 0, 0);
        if (!node)
            return -1;
        pyi_metrics_add(&b->nodes[node].total, totals);
    }
    if (!o->inverted) {
        pyi_metrics_add(&b->nodes[node].self, totals);
        if (o->self_nodes && depth && !(proc & PYI_PROC_MERGE_SELF)) {
            uint32_t line = b->model->locations[frames[depth - 1].location - 1].line;
            uint32_t self = child_of(b, node, PYI_NODE_SELF, frames[depth - 1].function, line);
            if (!self)
                return -1;
            pyi_metrics_add(&b->nodes[self].total, totals);
            pyi_metrics_add(&b->nodes[self].self, totals);
        }
    }
    return 0;
}

static int insert_aggregate(pyi__tree_builder *b, const pyi_model_aggregate *a)
{
    int depth = pyi__view_frames_hidden(b->model, b->options.view.processors, a->stack,
                                        b->frames, b->frame_capacity, b->hidden_scratch);
    if (depth < 0)
        return -1;
    size_t first_hidden = 0;
    size_t n = select_frames(b, b->frames, (size_t)depth, &first_hidden);
    if (n == SIZE_MAX)
        return 0; /* not through the focus function */
    if (b->options.focus_function && n == 0)
        return 0;
    uint32_t node = 0;
    if (b->options.thread_roots) {
        node = child_of(b, 0, PYI_NODE_THREAD, a->thread, 0);
        if (!node)
            return -1;
        pyi_metrics_add(&b->nodes[node].total, &a->totals);
    }
    pyi_metrics_add(&b->nodes[0].total, &a->totals);
    return insert_frames(b, node, b->frames, n, b->hidden_scratch + first_hidden, &a->totals);
}

/* ---- Finishing ----------------------------------------------------------------- */

/* pyinstrument's [self]: a frame with both self time and children shows its
 * self time as a child, so the children add up to the parent. */
static int add_self_nodes(pyi__tree_builder *b)
{
    if (!b->options.self_nodes || b->options.inverted)
        return 0;
    size_t count = b->count;
    for (size_t id = 1; id < count; id++) {
        pyi_tree_node *n = &b->nodes[id];
        if (n->kind != PYI_NODE_FRAME || !n->self.samples)
            continue;
        int frames = 0, selfs = 0;
        for (uint32_t c = n->first_child; c; c = b->nodes[c].next_sibling) {
            frames += b->nodes[c].kind != PYI_NODE_SELF;
            selfs += b->nodes[c].kind == PYI_NODE_SELF;
        }
        if (b->options.view.processors & PYI_PROC_MERGE_SELF) {
            if (!frames)
                continue;
            uint32_t self = child_of(b, (uint32_t)id, PYI_NODE_SELF, n->function, 0);
            if (!self)
                return -1;
            b->nodes[self].total = b->nodes[id].self;
            b->nodes[self].self = b->nodes[id].self;
        } else if (!frames && selfs == 1) {
            b->nodes[b->nodes[id].first_child].flags |= PYI__NODE_DROP; /* says nothing new */
        }
    }
    return 0;
}

int pyi_tree_build(pyi_tree **out, const pyi_model *m, const pyi_tree_options *options)
{
    *out = NULL;
    if (!m->finished)
        return PYI_E_STATE;
    pyi__tree_builder b;
    memset(&b, 0, sizeof(b));
    b.model = m;
    if (options)
        b.options = *options;
    else
        pyi_tree_options_init(&b.options);
    const pyi_tree_options *o = &b.options;
    if ((o->view.thread != PYI_THREAD_ALL && o->view.thread > m->thread_count) ||
        o->focus_function > m->function_count)
        return PYI_E_INVALID_ARG;
    int rc = PYI_E_NOMEM;
    b.frame_capacity = pyi__model_max_depth(m);
    b.frames = malloc(b.frame_capacity * sizeof(*b.frames));
    b.hidden_scratch = malloc(b.frame_capacity * sizeof(*b.hidden_scratch));
    if (!b.frames || !b.hidden_scratch ||
        pyi__array_grow((void **)&b.nodes, &b.capacity, 1, sizeof(*b.nodes)))
        goto out_free;
    b.count = 1; /* the root */
    for (size_t i = 0; i < m->aggregate_count; i++) {
        const pyi_model_aggregate *a = &m->aggregates[i];
        if (o->view.thread != PYI_THREAD_ALL && a->thread != o->view.thread)
            continue;
        if (insert_aggregate(&b, a))
            goto out_free;
    }
    if (add_self_nodes(&b))
        goto out_free;
    rc = pyi__tree_layout(&b, out);
out_free:
    free(b.frames);
    free(b.hidden_scratch);
    free(b.table);
    free(b.nodes);
    pyi__map_destroy(&b.hidden);
    return rc;
}
