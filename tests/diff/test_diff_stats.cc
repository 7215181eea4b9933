// SPDX-License-Identifier: MIT
// The diff's statistics against values known in closed form or from tables:
// normal and t tails and quantiles, the incomplete beta function, Holm's
// adjustment, the dispersion factor, and how one comparison picks its
// variance.
#include <gtest/gtest.h>

#include <cmath>

extern "C" {
#include "diff_internal.h"
}

TEST(DiffStats, NormalTail)
{
    EXPECT_NEAR(pyi__normal_upper(0), 0.5, 1e-15);
    EXPECT_NEAR(pyi__normal_upper(1.959963984540054), 0.025, 1e-12);
    EXPECT_NEAR(pyi__normal_upper(-1.959963984540054), 0.975, 1e-12);
    EXPECT_NEAR(pyi__t_upper(3.090232306167813, INFINITY), 0.001, 1e-12);
}

TEST(DiffStats, StudentTailInClosedForm)
{
    EXPECT_NEAR(pyi__t_upper(1, 1), 0.25, 1e-12);  // Cauchy
    EXPECT_NEAR(pyi__t_upper(2, 2), 0.5 - 1 / std::sqrt(6.0), 1e-12); // df 2: t / (2 sqrt(2 + t^2))
    EXPECT_NEAR(pyi__t_upper(-2, 2), 0.5 + 1 / std::sqrt(6.0), 1e-12);
    EXPECT_NEAR(pyi__t_upper(2.228138851986274, 10), 0.025, 1e-10); // table value
    EXPECT_NEAR(pyi__t_upper(0, 7), 0.5, 1e-12);
}

TEST(DiffStats, StudentQuantilesFromTables)
{
    EXPECT_NEAR(pyi__t_quantile_upper(0.025, 10), 2.228138851986274, 1e-8);
    EXPECT_NEAR(pyi__t_quantile_upper(0.005, 4), 4.604094871415897, 1e-8);
    EXPECT_NEAR(pyi__t_quantile_upper(0.025, INFINITY), 1.959963984540054, 1e-8);
    EXPECT_NEAR(pyi__t_quantile_upper(0.05, 1), 6.313751514675043, 1e-7);
}

TEST(DiffStats, IncompleteBeta)
{
    EXPECT_NEAR(pyi__incomplete_beta(0.5, 2, 3), 11.0 / 16.0, 1e-12);
    EXPECT_NEAR(pyi__incomplete_beta(0.3, 1, 1), 0.3, 1e-12);
    EXPECT_NEAR(pyi__incomplete_beta(0.9, 5, 0.5) + pyi__incomplete_beta(0.1, 0.5, 5), 1, 1e-12);
    EXPECT_EQ(pyi__incomplete_beta(0, 2, 3), 0);
    EXPECT_EQ(pyi__incomplete_beta(1, 2, 3), 1);
}

TEST(DiffStats, ChiSquareQuantileIsCloseToTables)
{
    EXPECT_NEAR(pyi__chi2_quantile_upper(0.01, 4), 13.2767, 0.05);
    EXPECT_NEAR(pyi__chi2_quantile_upper(0.01, 2), 9.2103, 0.15);
    EXPECT_NEAR(pyi__chi2_quantile_upper(0.5, 4), 3.3567, 0.02);
}

TEST(DiffStats, HolmStepDown)
{
    pyi_diff_estimate e[4] = {};
    double p[4] = {0.01, 0.04, 0.03, 0.005};
    pyi_diff_estimate *tests[4];
    for (int i = 0; i < 4; i++) {
        e[i].p_value = p[i];
        tests[i] = &e[i];
    }
    ASSERT_EQ(pyi__holm(tests, 4), 0);
    EXPECT_NEAR(e[0].p_adjusted, 0.03, 1e-15); // 3 * 0.01
    EXPECT_NEAR(e[1].p_adjusted, 0.06, 1e-15); // max(2 * 0.03, 1 * 0.04)
    EXPECT_NEAR(e[2].p_adjusted, 0.06, 1e-15);
    EXPECT_NEAR(e[3].p_adjusted, 0.02, 1e-15); // 4 * 0.005
}

TEST(DiffStats, DispersionIsTheMedianRatioAndAtLeastOne)
{
    double median = pyi__chi2_quantile_upper(0.5, 2);
    double calm[5] = {median, median, median, median, median};
    EXPECT_NEAR(pyi__dispersion(calm, 5, 3), 1, 1e-12);
    double noisy[5] = {3 * median, 0.1, 3 * median, 100, 3 * median};
    EXPECT_NEAR(pyi__dispersion(noisy, 5, 3), 3, 1e-12); // one erratic row does not count
    double quiet[3] = {0.01, 0.02, 0.03};
    EXPECT_EQ(pyi__dispersion(quiet, 3, 3), 1);
    EXPECT_EQ(pyi__dispersion(quiet, 3, 1), 1); // one run: nothing to go by
    EXPECT_EQ(pyi__dispersion(nullptr, 0, 3), 1);
}

static pyi__side_value side(double value, double var_model, double run_var, double pearson,
                            size_t runs, double dispersion = 1)
{
    pyi__side_value s;
    s.value = value;
    s.var_model = var_model;
    s.run_var = run_var;
    s.pearson = pearson;
    s.dispersion = dispersion;
    s.runs = runs;
    return s;
}

TEST(DiffStats, OneRunPerSideUsesTheModel)
{
    pyi__side_value base = side(0.10, 0.0001, -1, -1, 1), head = side(0.13, 0.0003, -1, -1, 1);
    pyi_diff_estimate e;
    pyi__estimate(&e, &base, &head, 0.95);
    double se = std::sqrt(0.0004);
    EXPECT_TRUE(e.tested);
    EXPECT_NEAR(e.delta, 0.03, 1e-15);
    EXPECT_NEAR(e.p_value, 2 * pyi__normal_upper(0.03 / se), 1e-12);
    EXPECT_NEAR(e.high - e.delta, 1.959963984540054 * se, 1e-9);
    EXPECT_TRUE(std::isinf(e.df));
}

TEST(DiffStats, DispersionWidensTheModel)
{
    pyi__side_value base = side(0.10, 0.0001, 0.0003, 2, 3, 4);
    pyi__side_value head = side(0.13, 0.0001, 0.0003, 2, 3, 4);
    pyi_diff_estimate e;
    pyi__estimate(&e, &base, &head, 0.95);
    EXPECT_NEAR(e.high - e.delta, 1.959963984540054 * std::sqrt(0.0008), 1e-9);
}

TEST(DiffStats, AnOverdispersedRowUsesItsSpreadWithWelchDegreesOfFreedom)
{
    // Pearson 20 on 2 degrees of freedom is far beyond chi-square's 1% point.
    pyi__side_value base = side(0.10, 0.0001, 0.003, 20, 3);
    pyi__side_value head = side(0.13, 0.0001, 0.003, 20, 3);
    pyi_diff_estimate e;
    pyi__estimate(&e, &base, &head, 0.95);
    double vb = 0.003 / 3, var = 2 * vb;
    EXPECT_NEAR(e.df, var * var / (2 * vb * vb / 2), 1e-9); // = 4
    EXPECT_NEAR(e.high - e.delta, pyi__t_quantile_upper(0.025, 4) * std::sqrt(var), 1e-9);
}

TEST(DiffStats, ASideWithOneRunBorrowsTheOthersSpread)
{
    pyi__side_value base = side(0.10, 0.0001, -1, -1, 1);
    pyi__side_value head = side(0.13, 0.0001, 0.003, 20, 4);
    pyi_diff_estimate e;
    pyi__estimate(&e, &base, &head, 0.95);
    double vb = 0.003, vh = 0.003 / 4, var = vb + vh; // both from the head's 4 runs: df 3 each
    EXPECT_NEAR(e.df, var * var / (vb * vb / 3 + vh * vh / 3), 1e-9);
    EXPECT_NEAR(e.high - e.delta, pyi__t_quantile_upper(0.025, e.df) * std::sqrt(var), 1e-9);
}

TEST(DiffStats, TotalTimeWithoutRunsIsNotTested)
{
    pyi__side_value base = side(1e9, -1, -1, -1, 1), head = side(1.2e9, -1, -1, -1, 1);
    pyi_diff_estimate e;
    pyi__estimate(&e, &base, &head, 0.95);
    EXPECT_FALSE(e.tested);
    EXPECT_EQ(e.p_value, 1);
    EXPECT_EQ(e.low, e.delta);
}
