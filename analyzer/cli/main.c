/* SPDX-License-Identifier: MIT */
/* pyinst-report: the command table; each subcommand lives in cmd_<name>.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pyi/trace.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"report", cmd_report, "show the profile: a call tree, a flat table, or any format (default)"},
    {"convert", cmd_convert, "write a trace in another format (json, speedscope, pprof, ...)"},
    {"merge", cmd_merge, "merge traces (runs, processes, hosts) into one .pyitrace"},
    {"diff", cmd_diff, "compare base and head traces: slower or not, by how much, where"},
    {"info", cmd_info, "show a trace's header, chunks, threads, lost samples and damage"},
    {"dump", cmd_dump, "print every record as JSON lines (spec/pyitrace.md section 10)"},
};

void report_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pyinst-report: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_list_push(const char ***list, size_t *count, const char *value)
{
    const char **grown = realloc((void *)*list, (*count + 1) * sizeof(**list));
    if (!grown)
        return -1;
    grown[(*count)++] = value;
    *list = grown;
    return 0;
}

static void usage(FILE *out)
{
    fputs("usage: pyinst-report [COMMAND] [options] FILE...\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
        fprintf(out, "  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fputs("\nWithout a command, pyinst-report FILE... shows the report.\n"
          "'pyinst-report --help' describes the report's options;\n"
          "'pyinst-report COMMAND --help' describes a command.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("pyinst-report %s (trace format %d.%d)\n", PYI_LIBRARY_VERSION, PYI_FORMAT_MAJOR,
               PYI_FORMAT_MINOR);
        return 0;
    }
    if (!strcmp(argv[1], "commands")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
        if (!strcmp(argv[1], COMMANDS[i].name))
            return COMMANDS[i].run(argc - 1, argv + 1);
    /* No command: the whole command line is the report's (files and options). */
    return cmd_report(argc, argv);
}
