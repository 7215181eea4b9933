/* SPDX-License-Identifier: MIT */
/*
 * The second half of building a call tree: drop nodes under the minimum share,
 * sort siblings (largest first, then by name, so output is deterministic),
 * renumber in depth-first order, and name the libraries each group hides.
 */
#include <stdlib.h>
#include <string.h>

#include "tree_internal.h"

/* What siblings sort by, copied out so qsort needs no context (thread-safe). */
typedef struct sort_item {
    uint64_t value;
    const char *name;
    uint32_t kind, thread, line, function, id;
} sort_item;

static const char *node_name(const pyi__tree_builder *b, const pyi_tree_node *n)
{
    if (n->kind == PYI_NODE_THREAD)
        return b->model->threads[n->thread - 1].name;
    if (n->function)
        return b->model->functions[n->function - 1].name;
    return "";
}

static int compare_items(const void *pa, const void *pb)
{
    const sort_item *x = pa, *y = pb;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->function < y->function ? -1 : x->function > y->function;
}

static int is_kept(const pyi__tree_builder *b, const pyi_tree_node *n, uint64_t threshold)
{
    if (n->flags & PYI__NODE_DROP)
        return 0;
    if (n->kind == PYI_NODE_THREAD)
        return 1;
    return pyi_metrics_value(&n->total, b->options.view.metric) >= threshold;
}

/* Sorted ids of the kept children of node; *count gets their number. */
static uint32_t *sorted_children(const pyi__tree_builder *b, uint32_t node, uint64_t threshold,
                                 size_t *count)
{
    const pyi_tree_node *n = &b->nodes[node];
    size_t cap = n->child_count ? n->child_count : 1;
    *count = 0;
    uint32_t *ids = malloc(cap * sizeof(*ids));
    sort_item *items = malloc(cap * sizeof(*items));
    if (!ids || !items) {
        free(ids);
        free(items);
        return NULL;
    }
    for (uint32_t c = n->first_child; c; c = b->nodes[c].next_sibling) {
        const pyi_tree_node *k = &b->nodes[c];
        if (!is_kept(b, k, threshold))
            continue;
        items[(*count)++] = (sort_item){pyi_metrics_value(&k->total, b->options.view.metric),
                                        node_name(b, k), k->kind, k->thread, k->line,
                                        k->function, c};
    }
    qsort(items, *count, sizeof(*items), compare_items);
    for (size_t i = 0; i < *count; i++)
        ids[i] = items[i].id;
    free(items);
    return ids;
}

/* Copies builder node old as tree node number t->count, child of parent. */
static uint32_t place_node(const pyi__tree_builder *b, pyi_tree *t, uint32_t old,
                           uint32_t parent, uint32_t *last_child)
{
    uint32_t id = (uint32_t)t->count++;
    pyi_tree_node *n = &t->nodes[id];
    *n = b->nodes[old];
    n->id = id;
    n->parent = parent;
    n->first_child = n->next_sibling = 0;
    n->child_count = 0;
    n->flags &= ~PYI__NODE_DROP;
    if (id) {
        pyi_tree_node *p = &t->nodes[parent];
        if (last_child[parent])
            t->nodes[last_child[parent]].next_sibling = id;
        else
            p->first_child = id;
        last_child[parent] = id;
        p->child_count++;
        n->depth = p->depth + 1;
    }
    return id;
}

/* Depth-first renumbering with an explicit stack (trees can be thousands deep):
 * pending[] holds (builder id, new parent id) pairs still to place. */
static int lay_out(const pyi__tree_builder *b, uint64_t threshold, pyi_tree *t, uint32_t *old_ids)
{
    size_t capacity = 64, depth = 0;
    uint32_t(*pending)[2] = malloc(capacity * sizeof(*pending));
    uint32_t *last_child = calloc(b->count, sizeof(*last_child)); /* by new id */
    int rc = pending && last_child ? 0 : -1;
    if (!rc) {
        pending[0][0] = pending[0][1] = 0;
        depth = 1;
    }
    while (depth && !rc) {
        depth--;
        uint32_t old = pending[depth][0];
        uint32_t id = place_node(b, t, old, pending[depth][1], last_child);
        old_ids[id] = old;
        size_t count;
        uint32_t *kids = sorted_children(b, old, threshold, &count);
        if (!kids)
            rc = -1;
        else if (depth + count > capacity) {
            while (depth + count > capacity)
                capacity *= 2;
            void *grown = realloc(pending, capacity * sizeof(*pending));
            rc = grown ? 0 : -1;
            if (grown)
                pending = grown;
        }
        for (size_t k = count; !rc && k-- > 0;) { /* pushed last first: popped in order */
            pending[depth][0] = kids[k];
            pending[depth++][1] = id;
        }
        free(kids);
    }
    free(last_child);
    free(pending);
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "json, re" for each group node, from the (node, function) pairs. */
static int name_libraries(const pyi__tree_builder *b, pyi_tree *t, const uint32_t *new_ids)
{
    const pyi_model *m = b->model;
    for (size_t slot = 0; slot < b->hidden.capacity; slot++) {
        if (!b->hidden.values[slot])
            continue;
        uint32_t old = (uint32_t)(b->hidden.keys[slot] >> 32);
        uint32_t id = new_ids[old];
        if (id == UINT32_MAX)
            continue;
        const char *lib = m->functions[(uint32_t)b->hidden.keys[slot] - 1].library;
        if (!*lib)
            continue;
        char *have = t->libraries[id];
        size_t have_length = have ? strlen(have) : 0;
        /* the list is kept sorted and unique: ", "-separated */
        if (have) {
            char *copy = strdup(have), *save = NULL;
            if (!copy)
                return -1;
            int found = 0;
            for (char *tok = copy; tok; tok = save) {
                save = strstr(tok, ", ");
                if (save) {
                    *save = '\0';
                    save += 2;
                }
                found |= !strcmp(tok, lib);
            }
            free(copy);
            if (found)
                continue;
        }
        char *grown = realloc(have, have_length + strlen(lib) + 3);
        if (!grown)
            return -1;
        if (have_length)
            strcat(grown, ", ");
        else
            grown[0] = '\0';
        strcat(grown, lib);
        t->libraries[id] = grown;
    }
    return 0;
}

/* Sorts each library list alphabetically. */
static int sort_libraries(pyi_tree *t)
{
    for (size_t id = 0; id < t->count; id++) {
        char *list = t->libraries[id];
        if (!list || !strstr(list, ", "))
            continue;
        size_t n = 1;
        for (const char *p = list; (p = strstr(p, ", ")) != NULL; p += 2)
            n++;
        char **parts = malloc(n * sizeof(*parts));
        char *copy = strdup(list);
        if (!parts || !copy) {
            free(parts);
            free(copy);
            return -1;
        }
        size_t k = 0;
        for (char *tok = copy, *next; tok; tok = next) {
            next = strstr(tok, ", ");
            if (next) {
                *next = '\0';
                next += 2;
            }
            parts[k++] = tok;
        }
        qsort(parts, k, sizeof(*parts), compare_strings);
        list[0] = '\0';
        for (size_t i = 0; i < k; i++) {
            if (i)
                strcat(list, ", ");
            strcat(list, parts[i]);
        }
        free(parts);
        free(copy);
    }
    return 0;
}

int pyi__tree_layout(pyi__tree_builder *b, pyi_tree **out)
{
    pyi_tree *t = calloc(1, sizeof(*t));
    uint32_t *old_ids = malloc(b->count * sizeof(*old_ids));
    uint32_t *new_ids = malloc(b->count * sizeof(*new_ids));
    if (!t || !old_ids || !new_ids)
        goto fail;
    t->model = b->model;
    t->options = b->options;
    t->nodes = calloc(b->count, sizeof(*t->nodes));
    t->libraries = calloc(b->count, sizeof(*t->libraries));
    if (!t->nodes || !t->libraries)
        goto fail;
    double share = b->options.min_share > 0 ? b->options.min_share : 0;
    uint64_t threshold =
        (uint64_t)(share * (double)pyi_metrics_value(&b->nodes[0].total, b->options.view.metric));
    if (lay_out(b, threshold, t, old_ids))
        goto fail;
    for (size_t i = 0; i < b->count; i++)
        new_ids[i] = UINT32_MAX;
    for (size_t i = 0; i < t->count; i++)
        new_ids[old_ids[i]] = (uint32_t)i;
    if (name_libraries(b, t, new_ids) || sort_libraries(t))
        goto fail;
    free(old_ids);
    free(new_ids);
    *out = t;
    return 0;
fail:
    free(old_ids);
    free(new_ids);
    pyi_tree_free(t);
    return PYI_E_NOMEM;
}

/* ---- Accessors ------------------------------------------------------------------ */

void pyi_tree_free(pyi_tree *t)
{
    if (!t)
        return;
    if (t->libraries)
        for (size_t i = 0; i < t->count; i++)
            free(t->libraries[i]);
    free(t->libraries);
    free(t->nodes);
    free(t);
}

const pyi_tree_node *pyi_tree_node_get(const pyi_tree *t, uint32_t id)
{
    return id < t->count ? &t->nodes[id] : NULL;
}

size_t pyi_tree_node_count(const pyi_tree *t)
{
    return t->count;
}

const pyi_model *pyi_tree_model(const pyi_tree *t)
{
    return t->model;
}

const pyi_tree_options *pyi_tree_get_options(const pyi_tree *t)
{
    return &t->options;
}

const char *pyi_tree_node_libraries(const pyi_tree *t, uint32_t id)
{
    return id < t->count && t->libraries[id] ? t->libraries[id] : "";
}
