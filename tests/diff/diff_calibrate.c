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

typedef struct tally {
    int flagged, named;
    double z_sum, z_sq, z_max_sum;
    size_t z_count;
} tally;

/* Writes one side's recordings of a pair into dir; 0 or -1. */
static int write_side(const settings *s, const char *dir, int pair, int side,
                      char paths[][512], const char **list)
{
    for (int r = 0; r < s->runs; r++) {
        fx_diff_params p = {0};
        p.seed = s->seed * 1000003u + (uint64_t)(pair * 64 + side * 16 + r);
        p.samples = s->samples;
        p.workers = s->workers;
        p.mean_run_scale = s->runscale;
        p.run_noise = s->runnoise;
        p.target_share = side ? s->share : 0;
        snprintf(paths[r], 512, "%s/%d-%d.pyitrace", dir, side, r);
        if (fx_diff_scenario(paths[r], &p))
            return -1;
        list[r] = paths[r];
    }
    return 0;
}

/* What failed a report, for reading the figures. */
static void print_failures(const pyi_diff *d, int pair)
{
    const pyi_diff_verdict *v = pyi_diff_get_verdict(d);
    if (v->total_fails) {
        const pyi_diff_summary *sum = pyi_diff_get_summary(d);
        printf("  pair %d: total %.4g (sd %.3g) -> %.4g (sd %.3g), p=%.2g df=%.1f\n", pair,
               sum->side[0].total / 1e9, sum->side[0].total_sd / 1e9, sum->side[1].total / 1e9,
               sum->side[1].total_sd / 1e9, sum->total.p_value, sum->total.df);
    }
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(d, &count);
    for (size_t i = 0; i < count && (rows[i].flags & PYI_DIFF_FAILS); i++)
        printf("  pair %d: %s self %+.1f (p=%.2g) total %+.1f (p=%.2g)\n", pair,
               pyi_model_function_get(pyi_diff_model(d), rows[i].function)->name,
               100 * rows[i].self_share.delta, rows[i].self_share.p_adjusted,
               100 * rows[i].total_share.delta, rows[i].total_share.p_adjusted);
}

/* Adds one report to the tally: its verdict and the z of every share. */
static void count_report(const pyi_diff *d, tally *t)
{
    size_t count = 0;
    const pyi_diff_function *rows = pyi_diff_functions(d, &count);
    int regression = pyi_diff_get_verdict(d)->regression;
    t->flagged += regression;
    t->named += regression && count &&
                !strcmp(pyi_model_function_get(pyi_diff_model(d), rows[0].function)->name,
                        "compute_prices");
    double z_max = 0;
    for (size_t i = 0; i < count; i++) {
        const pyi_diff_estimate *e[2] = {&rows[i].self_share, &rows[i].total_share};
        for (int k = 0; k < 2; k++) {
            double se = (e[k]->high - e[k]->delta) / 1.959964;
            if (!(se > 0) || (e[k]->base == 0 && e[k]->head == 0))
                continue;
            double z = e[k]->delta / se;
            t->z_sum += z;
            t->z_sq += z * z;
            t->z_count++;
            z_max = fmax(z_max, fabs(z));
        }
    }
    t->z_max_sum += z_max;
}

static void print_tally(const settings *s, const tally *t)
{
    double mean = t->z_sum / (double)t->z_count;
    printf("pairs=%d runs=%d samples=%llu share=%g workers=%d runscale=%g runnoise=%g "
           "variance=%s\n", s->pairs, s->runs, (unsigned long long)s->samples, s->share,
           s->workers, s->runscale, s->runnoise, s->naive ? "binomial" : "runs");
    printf("flagged %d of %d pairs (compute_prices named first in %d)\n", t->flagged, s->pairs,
           t->named);
    printf("z over %zu share comparisons: mean %.3f, sd %.3f; mean largest |z| per report %.2f\n",
           t->z_count, mean, sqrt(t->z_sq / (double)t->z_count - mean * mean),
           t->z_max_sum / s->pairs);
}

int main(int argc, char **argv)
{
    settings s;
    parse(&s, argc, argv);
    if (s.runs < 1 || s.runs > 16 || s.pairs < 1)
        return 2;
    char dir[] = "/tmp/diff-calibrate-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    tally t = {0};
    pyi_diff_options o;
    pyi_diff_options_init(&o);
    if (s.naive)
        o.variance = PYI_DIFF_VARIANCE_BINOMIAL;
    int rc = 0;
    for (int pair = 0; pair < s.pairs && !rc; pair++) {
        char paths[2][16][512];
        const char *sides[2][16];
        pyi_diff *d = NULL;
        char detail[512] = "";
        rc = write_side(&s, dir, pair, 0, paths[0], sides[0]) ||
             write_side(&s, dir, pair, 1, paths[1], sides[1]) ||
             pyi_diff_load(&d, sides[0], (size_t)s.runs, sides[1], (size_t)s.runs, &o, detail,
                           sizeof(detail));
        if (rc) {
            fprintf(stderr, "diff-calibrate: pair %d failed%s%s\n", pair, *detail ? ": " : "",
                    detail);
            break;
        }
        print_failures(d, pair);
        count_report(d, &t);
        pyi_diff_free(d);
    }
    if (!rc)
        print_tally(&s, &t);
    char command[600];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    return system(command) || rc ? 2 : 0;
}
