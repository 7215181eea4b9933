/* SPDX-License-Identifier: MIT */
/* pyinst-report dump: the canonical JSON dump of a trace (spec §10). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "pyi/trace.h"

static const char USAGE[] = "usage: pyinst-report dump [--salvage] FILE\n"
                            "Prints the header, every record and a stats line as JSON lines,\n"
                            "as spec/pyitrace.md section 10 defines (FILE '-' reads stdin).\n"
                            "  --salvage  skip damaged chunks instead of stopping\n";

int cmd_dump(int argc, char **argv)
{
    const char *path = NULL;
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--salvage"))
            options.salvage = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            report_error("dump: unknown option '%s'", argv[i]);
            return 2;
        } else if (path) {
            report_error("dump: one file at a time");
            return 2;
        } else
            path = argv[i];
    }
    if (!path) {
        fputs(USAGE, stderr);
        return 2;
    }
    pyi_reader *r = NULL;
    int rc = strcmp(path, "-") ? pyi_reader_open(&r, path, &options)
                               : pyi_reader_open_fd(&r, 0, "<stdin>", &options);
    if (rc == PYI_OK)
        rc = pyi_dump_json(r, stdout);
    if (rc) {
        fflush(stdout);
        report_error("%s [%s]", pyi_reader_error_detail(r), pyi_err_name(rc));
    } else {
        /* spec §8: say what was skipped (damage, salvage) or ignored (a cut tail) */
        for (size_t i = 0; i < pyi_reader_damage_count(r); i++)
            report_error("%s: warning: %s", path, pyi_reader_damage(r, i));
        uint64_t dropped = pyi_reader_get_stats(r)->dropped_records;
        if (dropped)
            report_error("%s: warning: %llu records referred to undefined ids and were dropped",
                         path, (unsigned long long)dropped);
    }
    pyi_reader_free(r);
    return rc ? 2 : 0;
}
