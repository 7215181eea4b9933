/* SPDX-License-Identifier: MIT */
/* Private to the pyinst-report command: the options of `diff`. */
#ifndef PYI_DIFF_OPTIONS_H
#define PYI_DIFF_OPTIONS_H

#include <stddef.h>

#include "pyi/diff.h"
#include "pyi/renderer.h"

#define DIFF_MAX_OUTPUTS 8

typedef struct diff_output {
    const char *path;                  /* borrowed from argv */
    const pyi_diff_renderer *renderer; /* from its ending */
} diff_output;

typedef struct diff_cli_options {
    char **base, **head;       /* trace paths, borrowed from argv */
    size_t base_count, head_count;
    const pyi_diff_renderer *renderer; /* for stdout */
    diff_output outputs[DIFF_MAX_OUTPUTS]; /* -o FILE, each in its own format */
    size_t output_count;
    int quiet;                 /* -q: nothing on stdout */
    int color;                 /* -1 auto, 0 off, 1 on */
    pyi_diff_options diff;
    pyi_render_options render;
    /* storage behind diff.model.filter's pointers */
    const char **threads;
    const char **exclude_functions;
    const char **exclude_files;
} diff_cli_options;

/* Parses argv (argv[0] is "diff"). Returns -1 when the command should go on,
 * else the exit status to return now (0 after --help, 2 on errors, already
 * reported). */
int diff_options_parse(diff_cli_options *o, int argc, char **argv);
void diff_options_destroy(diff_cli_options *o);

#endif /* PYI_DIFF_OPTIONS_H */
