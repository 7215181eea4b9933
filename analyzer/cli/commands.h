/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of pyinst-report, one file each (cmd_<name>.c). Each takes
 * its own argc/argv (argv[0] is the subcommand name) and returns the exit
 * status: 0 success, 1 a finding (damage for info --verify, a regression for
 * diff), 2 usage or input errors.
 */
#ifndef PYI_COMMANDS_H
#define PYI_COMMANDS_H

#include <stddef.h>

int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* Prints "pyinst-report: <message>" on stderr; for one-line errors. */
void report_error(const char *fmt, ...);

/* Appends value to a growable array of strings (option lists); 0 or -1. */
int cli_list_push(const char ***list, size_t *count, const char *value);

#endif /* PYI_COMMANDS_H */
