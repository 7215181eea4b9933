/* SPDX-License-Identifier: MIT */
/* Private to analyzer/: the call-tree builder's state, shared by tree.c
 * (inserting stacks) and tree_layout.c (pruning, sorting, laying out). */
#ifndef PYI_TREE_INTERNAL_H
#define PYI_TREE_INTERNAL_H

#include "model_internal.h"

#define PYI__NODE_DROP 0x80000000u /* builder only: leave this node out */

typedef struct pyi__tree_builder {
    const pyi_model *model;
    pyi_tree_options options;
    pyi_tree_node *nodes; /* nodes[0] is the root; children linked newest first */
    size_t count, capacity;
    uint32_t *table;      /* (parent, kind, key, line) -> node, open addressing */
    size_t table_capacity;
    pyi__map hidden;      /* (node, function) pairs hidden by library grouping */
    pyi_view_frame *frames;  /* scratch for one stack */
    uint32_t *hidden_scratch;
    size_t frame_capacity;
} pyi__tree_builder;

struct pyi_tree {
    const pyi_model *model;
    pyi_tree_options options;
    pyi_tree_node *nodes; /* depth-first order, children sorted */
    size_t count;
    char **libraries;     /* [id]: for GROUP nodes, else NULL */
};

/* Prunes, sorts and lays out the builder's nodes into a new tree. */
int pyi__tree_layout(pyi__tree_builder *b, pyi_tree **out);

#endif /* PYI_TREE_INTERNAL_H */
