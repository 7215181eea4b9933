/* SPDX-License-Identifier: MIT */
/*
 * diff-calibrate: measures the diff's false-alarm rate and sensitivity on
 * seeded fixture pairs (tests/fixtures/fixture_diff.c), for spec/diff.md and
 * the closing notes. Not a test: it prints numbers.
 *
 * usage: diff-calibrate [pairs=N] [samples=N] [runs=R] [share=S] [workers=W]
 *                       [runscale=F] [runnoise=F] [naive=1] [seed=N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "pyi/diff.h"

typedef struct settings {
    int pairs, runs, workers, naive;
    uint64_t samples, seed;
    double share, runscale, runnoise;
} settings;

static void parse(settings *s, int argc, char **argv)
{
    *s = (settings){100, 1, 0, 0, 10000, 1, 0, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            continue;
        double v = strtod(eq + 1, NULL);
        if (!strncmp(argv[i], "pairs=", 6))
            s->pairs = (int)v;
        else if (!strncmp(argv[i], "samples=", 8))
            s->samples = (uint64_t)v;
        else if (!strncmp(argv[i], "runs=", 5))
            s->runs = (int)v;
        else if (!strncmp(argv[i], "share=", 6))
            s->share = v;
        else if (!strncmp(argv[i], "workers=", 8))
            s->workers = (int)v;
        else if (!strncmp(argv[i], "runscale=", 9))
            s->runscale = v;
        else if (!strncmp(argv[i], "runnoise=", 9))
            s->runnoise = v;
        else if (!strncmp(argv[i], "naive=", 6))
            s->naive = (int)v;
        else if (!strncmp(argv[i], "seed=", 5))
            s->seed = (uint64_t)v;
    }
}

int main(int argc, char **argv)
{
    settings s;
    parse(&s, argc, argv);
    char dir[] = "/tmp/diff-calibrate-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    int flagged = 0, named = 0;
    double z_sum = 0, z_sq = 0, z_max_sum = 0;
    size_t z_count = 0;
    for (int pair = 0; pair < s.pairs; pair++) {
        char paths[2][16][512];
        const char *sides[2][16];
        for (int side = 0; side < 2; side++)
            for (int r = 0; r < s.runs; r++) {
                fx_diff_params p = {0};
                p.seed = s.seed * 1000003u + (uint64_t)(pair * 64 + side * 16 + r);
                p.samples = s.samples;
                p.workers = s.workers;
                p.mean_run_scale = s.runscale;
                p.run_noise = s.runnoise;
                p.target_share = side ? s.share : 0;
                snprintf(paths[side][r], sizeof(paths[side][r]), "%s/%d-%d.pyitrace", dir, side, r);
                if (fx_diff_scenario(paths[side][r], &p))
                    return 2;
                sides[side][r] = paths[side][r];
            }
        pyi_diff_options o;
        pyi_diff_options_init(&o);
        if (s.naive)
            o.variance = PYI_DIFF_VARIANCE_BINOMIAL;
        pyi_diff *d = NULL;
        char detail[512];
        if (pyi_diff_load(&d, sides[0], (size_t)s.runs, sides[1], (size_t)s.runs, &o, detail,
                          sizeof(detail))) {
            fprintf(stderr, "%s\n", detail);
            return 2;
        }
        const pyi_diff_verdict *v = pyi_diff_get_verdict(d);
        flagged += v->regression;
        if (v->total_fails) {
            const pyi_diff_summary *sum = pyi_diff_get_summary(d);
            printf("  pair %d: total %.4g (sd %.3g) -> %.4g (sd %.3g), p=%.2g df=%.1f\n", pair,
                   sum->side[0].total / 1e9, sum->side[0].total_sd / 1e9,
                   sum->side[1].total / 1e9, sum->side[1].total_sd / 1e9, sum->total.p_value,
                   sum->total.df);
        }
        size_t count = 0;
        const pyi_diff_function *rows = pyi_diff_functions(d, &count);
        for (size_t i = 0; i < count && v->regression && (rows[i].flags & PYI_DIFF_FAILS); i++)
            printf("  pair %d: %s self %+.1f (p=%.2g) total %+.1f (p=%.2g)\n", pair,
                   pyi_model_function_get(pyi_diff_model(d), rows[i].function)->name,
                   100 * rows[i].self_share.delta, rows[i].self_share.p_adjusted,
                   100 * rows[i].total_share.delta, rows[i].total_share.p_adjusted);
        const pyi_model_function *first =
            count ? pyi_model_function_get(pyi_diff_model(d), rows[0].function) : NULL;
        named += v->regression && first && !strcmp(first->name, "compute_prices");
        double z_max = 0;
        for (size_t i = 0; i < count; i++) {
            const pyi_diff_estimate *e[2] = {&rows[i].self_share, &rows[i].total_share};
            for (int k = 0; k < 2; k++) {
                double se = (e[k]->high - e[k]->delta) / 1.959964;
                if (!(se > 0) || (e[k]->base == 0 && e[k]->head == 0))
                    continue;
                double z = e[k]->delta / se;
                z_sum += z;
                z_sq += z * z;
                z_count++;
                z_max = fmax(z_max, fabs(z));
            }
        }
        z_max_sum += z_max;
        pyi_diff_free(d);
    }
    double mean = z_sum / (double)z_count;
    printf("pairs=%d runs=%d samples=%llu share=%g workers=%d runscale=%g runnoise=%g "
           "variance=%s\n", s.pairs, s.runs, (unsigned long long)s.samples, s.share, s.workers,
           s.runscale, s.runnoise, s.naive ? "binomial" : "runs");
    printf("flagged %d of %d pairs (compute_prices named first in %d)\n", flagged, s.pairs,
           named);
    printf("z over %zu share comparisons: mean %.3f, sd %.3f; mean largest |z| per report %.2f\n",
           z_count, mean, sqrt(z_sq / (double)z_count - mean * mean),
           z_max_sum / s.pairs);
    char command[600];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    return system(command) ? 2 : 0;
}
