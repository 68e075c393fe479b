//! Unit tests against published or hand-verifiable reference values.
//!
//! Each test cites its source. Values marked "exact" were computed with exact
//! rational arithmetic (sums of binomial coefficients over 2^n), which anyone
//! can redo by hand or with a computer-algebra system; the tests also
//! recompute several of them independently in integer arithmetic.

use aann_stats::{
    IntervalMethod, PairedTable, compare_binary, compare_means, mcnemar_exact, mean_with_ci,
    paired_difference_interval, proportion_with_ci, wilson_interval,
};

fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected} ± {tolerance}"
    );
}

/// Newcombe (1998a), "Two-sided confidence intervals for the single
/// proportion: comparison of seven methods", Stat Med 17:857–872, Table II,
/// method 3 (score interval without continuity correction), 95 %, printed to
/// four decimals: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605;
/// 0/20 → 0.0000–0.1611; 1/29 → 0.0061–0.1718.
#[test]
fn wilson_matches_newcombe_1998_table_ii() {
    let cases = [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ];
    for (k, n, lo, hi) in cases {
        let ci = wilson_interval(k, n, 0.95).unwrap();
        assert_close(ci.lo, lo, 5e-5, &format!("Wilson lower {k}/{n}"));
        assert_close(ci.hi, hi, 5e-5, &format!("Wilson upper {k}/{n}"));
        assert_eq!(ci.level, 0.95);
    }
}

/// Wilson's closed form worked by hand for 0/n and n/n: the bounds are exactly
/// 0 (resp. 1) and `n / (n + z²)` (resp. `z² / (n + z²)`), with
/// z = 1.959963984540054 for 95 %.
#[test]
fn wilson_boundary_cases_by_hand() {
    let z2 = 1.959963984540054f64.powi(2);
    let ci = wilson_interval(0, 20, 0.95).unwrap();
    assert_eq!(ci.lo, 0.0);
    assert_close(ci.hi, z2 / (20.0 + z2), 1e-12, "0/20 upper");
    let ci = wilson_interval(20, 20, 0.95).unwrap();
    assert_eq!(ci.hi, 1.0);
    assert_close(ci.lo, 20.0 / (20.0 + z2), 1e-12, "20/20 lower");
    // 90 % uses z = 1.6448536269514722.
    let z2_90 = 1.6448536269514722f64.powi(2);
    let ci = wilson_interval(0, 10, 0.90).unwrap();
    assert_close(ci.hi, z2_90 / (10.0 + z2_90), 1e-12, "0/10 upper, 90 %");
}

#[test]
fn proportion_with_ci_counts_successes() {
    let outcomes: Vec<bool> = (0..263).map(|i| i < 81).collect();
    let estimate = proportion_with_ci(&outcomes, 0.95).unwrap();
    assert_close(estimate.point, 81.0 / 263.0, 1e-15, "point");
    assert_eq!(estimate.method, IntervalMethod::Wilson);
    assert_close(estimate.ci.lo, 0.2553, 5e-5, "lower");
}

/// Exact two-sided binomial tails, the exact McNemar p-value
/// `min(1, 2 P(X <= min(b, c)))`, X ~ Bin(b + c, 1/2), which equals R's
/// `binom.test(x, n)$p.value`:
/// - binom.test(1, 10): 2·(1 + 10)/1024 = 22/1024 = 0.021484375 (exact).
/// - binom.test(2, 10): 2·(1 + 10 + 45)/1024 = 112/1024 = 0.109375 (exact).
/// - binom.test(40, 100): 0.05688793364098079 (exact; R prints 0.05689).
/// - binom.test(20, 60): 0.01348929373119186 (exact).
/// - Agresti (2002), *Categorical Data Analysis*, 2nd ed., §10.1, Table 10.1
///   (prime minister approval in two surveys of 1600 people: 794, 150, 86,
///   570; McNemar z = −4.17); discordant pairs 150 and 86:
///   exact p = 2 Σ_{i<=86} C(236, i)/2^236 = 3.715936139571442e-05.
#[test]
fn exact_mcnemar_matches_exact_binomial_tails() {
    let cases: [(u64, u64, f64); 6] = [
        (1, 9, 22.0 / 1024.0),
        (9, 1, 22.0 / 1024.0),
        (2, 8, 112.0 / 1024.0),
        (40, 60, 0.05688793364098079),
        (20, 40, 0.01348929373119186),
        (150, 86, 3.715936139571442e-05),
    ];
    for (only_a, only_b, expected) in cases {
        let test = mcnemar_exact(only_a, only_b);
        assert!(
            (test.p_value - expected).abs() <= 1e-10 * expected,
            "McNemar ({only_a}, {only_b}): got {}, expected {expected}",
            test.p_value
        );
    }
}

/// Mid-p = 2·P(X <= k) − P(X = k) (Lancaster 1961), by hand with X ~ Bin(10, 1/2):
/// (1, 9): 2·(1 + 10)/1024 − 10/1024 = 12/1024 = 0.01171875;
/// (2, 8): 2·(1 + 10 + 45)/1024 − 45/1024 = 67/1024 = 0.0654296875.
#[test]
fn mid_p_matches_hand_values() {
    assert_close(
        mcnemar_exact(1, 9).mid_p_value,
        12.0 / 1024.0,
        1e-14,
        "mid-p (1, 9)",
    );
    assert_close(
        mcnemar_exact(2, 8).mid_p_value,
        67.0 / 1024.0,
        1e-14,
        "mid-p (2, 8)",
    );
    // Balanced discordant counts: exact p = 1 (the point mass that makes the
    // exact p-value non-uniform), mid-p = 1 by symmetry.
    assert_eq!(mcnemar_exact(5, 5).p_value, 1.0);
    assert_close(mcnemar_exact(5, 5).mid_p_value, 1.0, 1e-14, "mid-p (5, 5)");
    // No discordant pairs: no evidence either way.
    assert_eq!(mcnemar_exact(0, 0).p_value, 1.0);
}

/// Independent check of the exact tail for every split of m = 30 discordant
/// pairs, with integer binomial coefficients (exact below 2^63).
#[test]
fn exact_mcnemar_matches_integer_arithmetic_for_all_splits() {
    let m: u64 = 30;
    let mut coefficients = vec![1u64; (m + 1) as usize];
    for i in 1..=m as usize {
        coefficients[i] = coefficients[i - 1] * (m - i as u64 + 1) / i as u64;
    }
    let total = 2f64.powi(m as i32);
    for only_b in 0..=m {
        let k = only_b.min(m - only_b) as usize;
        let tail: u64 = coefficients[..=k].iter().sum();
        let expected = (2.0 * tail as f64 / total).min(1.0);
        let mid = (2.0 * tail as f64 - coefficients[k] as f64) / total;
        let test = mcnemar_exact(m - only_b, only_b);
        assert!(
            (test.p_value - expected).abs() <= 1e-12 * expected.max(1e-300),
            "split {only_b}/{m}: {} vs {expected}",
            test.p_value
        );
        assert!((test.mid_p_value - mid.min(1.0)).abs() <= 1e-12 * mid.max(1e-300));
    }
}

/// Fagerland, Lydersen & Laake (2017), *Statistical Analysis of Contingency
/// Tables*, ch. 8 (their R package `contingencytables`,
/// `Newcombe_square_and_add_CI_paired_2x2`), complete response before and
/// after consolidation therapy (Cavo et al. 2012), table (59, 6; 16, 80):
/// estimate −0.0621, 95 % CI −0.1186 to −0.0046.
///
/// In their orientation the first measurement is the row; here `b` is the row
/// (`only_b` = 6) and `a` the column (`only_a` = 16), so the difference
/// `p_b − p_a` is theirs.
#[test]
fn newcombe_paired_interval_matches_fagerland_example() {
    let table = PairedTable {
        both: 59,
        only_b: 6,
        only_a: 16,
        neither: 80,
    };
    let ci = paired_difference_interval(&table, 0.95).unwrap();
    assert_close(ci.lo, -0.1186, 5e-5, "lower");
    assert_close(ci.hi, -0.0046, 5e-5, "upper");

    // Same through compare_binary on per-image vectors.
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (count, x, y) in [
        (59, true, true),
        (6, false, true),
        (16, true, false),
        (80, false, false),
    ] {
        for _ in 0..count {
            a.push(x);
            b.push(y);
        }
    }
    let comparison = compare_binary(&a, &b, 0.95).unwrap();
    assert_close(
        comparison.difference.point,
        -10.0 / 161.0,
        1e-15,
        "difference",
    );
    assert_close(
        comparison.difference.ci.lo,
        -0.1186,
        5e-5,
        "lower via vectors",
    );
    assert_eq!(comparison.table, table);
    assert_eq!(comparison.mcnemar.only_a, 16);
    assert_eq!(comparison.mcnemar.only_b, 6);
    assert_eq!(
        comparison.difference.method,
        IntervalMethod::NewcombePairedHybridScore
    );
    // Exact McNemar for 6 vs 16: 2 Σ_{i<=6} C(22, i)/2^22 = 2·35443/4194304.
    let tail: u64 = [1u64, 22, 231, 1540, 7315, 26334, 74613].iter().sum();
    assert_close(
        comparison.mcnemar.p_value,
        2.0 * tail as f64 / 4_194_304.0,
        1e-14,
        "McNemar p",
    );
}

/// R: `t.test(1:5)` → mean 3, 95 percent confidence interval 1.036757
/// 4.963243 (s = √2.5, t_{4, 0.975} = 2.776445).
#[test]
fn t_interval_matches_r_t_test() {
    let estimate = mean_with_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
    assert_close(estimate.point, 3.0, 1e-15, "mean");
    assert_close(estimate.ci.lo, 1.036757, 5e-7, "lower");
    assert_close(estimate.ci.hi, 4.963243, 5e-7, "upper");
    assert_eq!(estimate.method, IntervalMethod::StudentT);
}

/// R's `sleep` data (Cushny & Peebles 1905, as in Student 1908):
/// `t.test(extra ~ group, data = sleep, paired = TRUE)` → t = −4.0621,
/// df = 9, p-value = 0.002833, 95 % CI −2.4598858 −0.7001142, mean
/// difference −1.58 (group 1 − group 2).
#[test]
fn paired_t_matches_r_sleep_example() {
    let group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    let group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    // Difference is b − a, so a = group 2 and b = group 1 give R's sign.
    let comparison = compare_means(&group2, &group1, 0.95).unwrap();
    assert_close(comparison.difference.point, -1.58, 1e-12, "mean difference");
    assert_close(comparison.difference.ci.lo, -2.4598858, 5e-7, "lower");
    assert_close(comparison.difference.ci.hi, -0.7001142, 5e-7, "upper");
    assert_close(comparison.t_statistic.unwrap(), -4.0621, 5e-5, "t");
    assert_close(comparison.p_value.unwrap(), 0.002833, 5e-7, "p");
    assert_eq!(comparison.degrees_of_freedom, 9);
    assert_eq!(comparison.difference.method, IntervalMethod::PairedStudentT);
}

/// With 50,000 images the t quantile must still be right: t_{49999, 0.975}
/// lies between z = 1.959964 and z + (z³ + z)/(4·df) (Cornish–Fisher first
/// term), i.e. 1.959964 < t < 1.959964 + 0.0000577.
#[test]
fn t_quantile_is_accurate_for_large_samples() {
    let n = 50_000;
    let values: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let estimate = mean_with_ci(&values, 0.95).unwrap();
    let sd = (n as f64 / (n as f64 - 1.0)).sqrt();
    let t = estimate.ci.hi / (sd / (n as f64).sqrt());
    let z = 1.959963984540054;
    let cornish_fisher = z + (z * z * z + z) / (4.0 * (n as f64 - 1.0));
    assert!(t > z && (t - cornish_fisher).abs() < 1e-7, "t = {t}");
}
