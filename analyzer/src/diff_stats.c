/* SPDX-License-Identifier: MIT */
/*
 * The diff's statistics: normal and Student's t tails and quantiles (through
 * the regularized incomplete beta function), Holm's adjustment for many
 * comparisons, and the two-sided comparison of one quantity that every row
 * of the diff uses. spec/diff.md explains the choices.
 */
#include <math.h>
#include <stdlib.h>

#include "diff_internal.h"

/* ---- Distributions --------------------------------------------------------------- */

double pyi__normal_upper(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

/* The continued fraction of I_x(a, b), by the modified Lentz method; converges
 * fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double x, double a, double b)
{
    const double tiny = 1e-300, epsilon = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        double even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        for (int k = 0; k < 2; k++) {
            double term = k ? odd : even;
            d = 1.0 + term * d;
            c = 1.0 + term / c;
            if (fabs(d) < tiny)
                d = tiny;
            if (fabs(c) < tiny)
                c = tiny;
            d = 1.0 / d;
            h *= d * c;
        }
        if (fabs(d * c - 1.0) < epsilon)
            break;
    }
    return h;
}

double pyi__incomplete_beta(double x, double a, double b)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(log_front) * beta_fraction(x, a, b) / a;
    return 1.0 - exp(log_front) * beta_fraction(1.0 - x, b, a) / b;
}

double pyi__t_upper(double t, double df)
{
    if (!isfinite(df) || df > 1e7)
        return pyi__normal_upper(t);
    if (isnan(t))
        return NAN;
    double tail = 0.5 * pyi__incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    return t >= 0 ? tail : 1.0 - tail;
}

double pyi__t_quantile_upper(double p, double df)
{
    double low = 0, high = 1;
    while (pyi__t_upper(high, df) > p && high < 1e12)
        high *= 2;
    for (int i = 0; i < 200 && high - low > 1e-12 * high; i++) {
        double mid = 0.5 * (low + high);
        if (pyi__t_upper(mid, df) > p)
            low = mid;
        else
            high = mid;
    }
    return 0.5 * (low + high);
}

/* ---- Many comparisons ------------------------------------------------------------- */

static int compare_p(const void *pa, const void *pb)
{
    double a = (*(pyi_diff_estimate *const *)pa)->p_value;
    double b = (*(pyi_diff_estimate *const *)pb)->p_value;
    return a < b ? -1 : a > b;
}

int pyi__holm(pyi_diff_estimate **tests, size_t n)
{
    if (!n)
        return 0;
    qsort(tests, n, sizeof(*tests), compare_p);
    double running = 0;
    for (size_t i = 0; i < n; i++) {
        double adjusted = (double)(n - i) * tests[i]->p_value;
        if (adjusted > 1)
            adjusted = 1;
        if (adjusted < running)
            adjusted = running; /* step-down: never below an earlier one */
        running = adjusted;
        tests[i]->p_adjusted = adjusted;
    }
    return 0;
}

/* ---- One comparison ----------------------------------------------------------------- */

double pyi__sample_variance(const double *values, size_t n)
{
    double mean = 0, sum = 0;
    for (size_t i = 0; i < n; i++)
        mean += values[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        sum += (values[i] - mean) * (values[i] - mean);
    return sum / (double)(n - 1);
}

double pyi__chi2_quantile_upper(double p, double k)
{
    double z = pyi__t_quantile_upper(p, INFINITY);
    double c = 2.0 / (9.0 * k);
    double q = 1.0 - c + (p < 0.5 ? z : -z) * sqrt(c);
    return q > 0 ? k * q * q * q : 0;
}

static int compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

double pyi__dispersion(double *pearson, size_t n, size_t runs)
{
    if (!n || runs < 2)
        return 1;
    qsort(pearson, n, sizeof(*pearson), compare_doubles);
    double median = n % 2 ? pearson[n / 2] : 0.5 * (pearson[n / 2 - 1] + pearson[n / 2]);
    double expected = pyi__chi2_quantile_upper(0.5, (double)runs - 1);
    double dispersion = expected > 0 ? median / expected : 1;
    return dispersion > 1 ? dispersion : 1;
}

/* Does this side's row scatter over its runs beyond the model and the
 * profile-wide dispersion (chi-square test at 0.1%: a row flagged by chance
 * loses power to the few degrees of freedom of its runs)? Without a model, the
 * spread is all there is. */
static int overdispersed(const pyi__side_value *s)
{
    if (s->runs < 2 || s->run_var < 0)
        return 0;
    if (s->var_model < 0 || s->pearson < 0)
        return 1;
    return s->pearson / s->dispersion > pyi__chi2_quantile_upper(0.001, (double)s->runs - 1);
}

/* A side's variance of its estimate and the degrees of freedom behind it. */
static int side_variance(const pyi__side_value *s, const pyi__side_value *other, double *var,
                         double *df)
{
    double model = s->var_model >= 0 ? s->var_model * s->dispersion : -1;
    double between = -1, between_df = INFINITY;
    if (overdispersed(s)) {
        between = s->run_var / (double)s->runs;
        between_df = (double)s->runs - 1;
    } else if (s->runs == 1 && overdispersed(other)) {
        between = other->run_var; /* the other side's spread of one run applies here */
        between_df = (double)other->runs - 1;
    }
    if (model < 0 && between < 0)
        return -1;
    *var = model > between ? model : between;
    *df = between > model ? between_df : INFINITY;
    return 0;
}

void pyi__estimate(pyi_diff_estimate *e, const pyi__side_value *base,
                   const pyi__side_value *head, double confidence)
{
    e->base = base->value;
    e->head = head->value;
    e->delta = head->value - base->value;
    e->low = e->high = e->delta;
    e->p_value = e->p_adjusted = 1;
    e->df = INFINITY;
    e->tested = e->significant = 0;
    double vb, vh, db, dh;
    if (side_variance(base, head, &vb, &db) || side_variance(head, base, &vh, &dh))
        return;
    e->tested = 1;
    double var = vb + vh, se = sqrt(var);
    double denominator = (isfinite(db) ? vb * vb / db : 0) + (isfinite(dh) ? vh * vh / dh : 0);
    e->df = denominator > 0 ? var * var / denominator : INFINITY;
    if (!(se > 0)) {
        e->p_value = e->delta == 0 ? 1 : 0;
        e->p_adjusted = e->p_value;
        return;
    }
    double t = fabs(e->delta) / se;
    e->p_value = 2 * pyi__t_upper(t, e->df);
    if (e->p_value > 1)
        e->p_value = 1;
    e->p_adjusted = e->p_value;
    double q = pyi__t_quantile_upper((1 - confidence) / 2, e->df);
    e->low = e->delta - q * se;
    e->high = e->delta + q * se;
}
