/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the trace reader: any bytes, read strictly and in
 * salvage mode, through every record and the canonical dump. The reader
 * must never crash, hang or read out of bounds, whatever the input.
 */
#include <stdio.h>

#include "pyi/trace.h"

static void read_all(const uint8_t *data, size_t size, int salvage, FILE *sink)
{
    pyi_reader_options options;
    pyi_reader_options_init(&options);
    options.salvage = salvage;
    pyi_reader *r = NULL;
    if (pyi_reader_open_memory(&r, data, size, "fuzz", &options) == PYI_OK) {
        if (sink) {
            pyi_dump_json(r, sink);
        } else {
            pyi_record rec;
            while (pyi_reader_next(r, &rec) == 1) {
                if (rec.type == PYI_RECORD_SAMPLE && rec.u.sample.stack_id)
                    (void)pyi_reader_stack(r, rec.u.sample.stack_id)->location_id;
            }
        }
    }
    pyi_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    read_all(data, size, 0, NULL);
    read_all(data, size, 1, devnull);
    return 0;
}
