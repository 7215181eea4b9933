/* SPDX-License-Identifier: MIT */
/* Private to the pyinst-report command: the options shared by report,
 * convert and merge (filters, processors, renderer, output). */
#ifndef PYI_REPORT_OPTIONS_H
#define PYI_REPORT_OPTIONS_H

#include <stddef.h>

#include "pyi/analyzer.h"
#include "pyi/renderer.h"

typedef enum report_mode {
    REPORT_MODE_REPORT,  /* pyinst-report [report]: text by default */
    REPORT_MODE_CONVERT, /* convert: renderer from -o's extension, -o required */
    REPORT_MODE_MERGE,   /* merge: writes a .pyitrace, -o required */
} report_mode;

typedef struct report_options {
    report_mode mode;
    char **files;            /* borrowed from argv */
    size_t file_count;
    const pyi_renderer *renderer; /* NULL with a .pyitrace output */
    const char *output;      /* -o; NULL = stdout */
    int open;                /* --open */
    char open_path[4096];    /* --open: the temporary file written */
    int quiet;               /* -q: no progress, no warnings */
    int color;               /* -1 auto, 0 off, 1 on */
    int source;              /* --source / --no-source: 1, 0; -1 = the renderer decides */
    const char *focus_name;  /* --callers/--callees FUNCTION */
    pyi_model_options model;
    pyi_render_options render;
    /* storage behind model.filter's pointers */
    const char **threads;
    const char **exclude_functions;
    const char **exclude_files;
} report_options;

/* Parses argv (argv[0] is the command name). Returns -1 when the command should
 * go on, else the exit status to return now (0 after --help, 2 on errors,
 * already reported). */
int report_options_parse(report_options *ro, int argc, char **argv, report_mode mode);
void report_options_destroy(report_options *ro);

/* Loads ro's files into a finished model, with progress and warnings on
 * stderr; returns 0 or 2 (error reported). */
int report_load(const report_options *ro, pyi_model **out);
/* Loads ro's files and writes the model to ro->output as a .pyitrace
 * (cmd_convert.c); returns an exit status. */
int write_model_trace(const report_options *ro);
/* Renders with ro's renderer and options; returns an exit status. */
int report_render(report_options *ro, const pyi_model *model);

#endif /* PYI_REPORT_OPTIONS_H */
