//! Means of per-image values (e.g. cross-entropy) and paired differences of
//! means, with Student-t intervals.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Result, StatsError};
use crate::estimate::{
    Estimate, Interval, IntervalMethod, check_finite, check_level, check_same_length,
    standard_normal_cdf, standard_normal_quantile,
};

/// Sample mean and sample standard deviation (n − 1 denominator), two-pass.
pub(crate) fn mean_and_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let sum_sq: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (sum_sq / (n - 1.0)).sqrt())
}

/// Degrees of freedom from which the Student-t quantile is taken from the
/// Cornish–Fisher expansion instead of `statrs`'s inverse CDF, whose
/// accuracy degrades for large df (relative error ~1e-7 at df = 5·10⁴,
/// ~1e-4 at 10⁶, non-terminating near 10⁸).
const CORNISH_FISHER_MIN_DF: f64 = 1000.0;

/// Above this many degrees of freedom the t tail is taken as normal: the
/// relative difference is of order z²/(4 df) < 1e-6 for |z| < 10, while
/// `statrs`'s incomplete beta function loses accuracy beyond ~1e9.
const NORMAL_TAIL_MIN_DF: f64 = 1e8;

/// The `p` quantile of Student's t with `df >= 1` degrees of freedom.
///
/// Below [`CORNISH_FISHER_MIN_DF`]: `statrs`'s inverse CDF (accurate to
/// ~1e-14 in probability there). From it on: the Cornish–Fisher expansion
/// around the normal quantile `z` to order ν⁻⁴ (Abramowitz & Stegun 1964,
/// 26.7.5), whose truncation error at ν >= 1000 is far below 1e-12.
fn t_quantile(p: f64, df: f64) -> f64 {
    if df < CORNISH_FISHER_MIN_DF {
        let t = StudentsT::new(0.0, 1.0, df).expect("df >= 1 is a valid Student t");
        t.inverse_cdf(p)
    } else {
        cornish_fisher_t_quantile(p, df)
    }
}

/// Abramowitz & Stegun (1964) 26.7.5: the t quantile as a series in 1/df
/// around the normal quantile, through the df⁻⁴ term.
fn cornish_fisher_t_quantile(p: f64, df: f64) -> f64 {
    let z = standard_normal_quantile(p);
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5)
        - 1920.0 * z.powi(3)
        - 945.0 * z)
        / 92160.0;
    z + g1 / df + g2 / df.powi(2) + g3 / df.powi(3) + g4 / df.powi(4)
}

/// Two-sided p-value `2 P(T_df >= |t|)`.
fn t_two_sided_p(t: f64, df: f64) -> f64 {
    let tail = if df <= NORMAL_TAIL_MIN_DF {
        StudentsT::new(0.0, 1.0, df)
            .expect("df >= 1 is a valid Student t")
            .sf(t.abs())
    } else {
        1.0 - standard_normal_cdf(t.abs())
    };
    (2.0 * tail).min(1.0)
}

/// Student-t interval `mean ± t_{n-1} · s / √n` around `mean` for a sample of
/// size `n` with standard deviation `sd`.
fn t_interval(mean: f64, sd: f64, n: usize, level: f64) -> Interval {
    let half = t_quantile(0.5 + level / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
    Interval {
        lo: mean - half,
        hi: mean + half,
        level,
    }
}

/// The sample mean with its Student-t confidence interval
/// `x̄ ± t_{n−1, (1+level)/2} · s/√n`.
///
/// Exact for normal data and asymptotically valid (central limit theorem)
/// for any finite-variance metric such as per-image cross-entropy over
/// thousands of images. A sample with zero variance gets the degenerate
/// interval `[x̄, x̄]`.
///
/// Errors: fewer than 2 values, a non-finite value, or `level` outside (0, 1).
pub fn mean_with_ci(values: &[f64], level: f64) -> Result<Estimate> {
    check_level(level)?;
    check_finite(values, "values")?;
    if values.len() < 2 {
        return Err(StatsError::TooFewObservations {
            what: "mean with a t interval".to_string(),
            needed: 2,
            got: values.len(),
        });
    }
    let (mean, sd) = mean_and_sd(values);
    Ok(Estimate {
        point: mean,
        ci: t_interval(mean, sd, values.len(), level),
        method: IntervalMethod::StudentT,
    })
}

/// Mean of a non-negative per-image quantity (cross-entropy, KL) with its Student-t
/// interval cut at 0 below: with few or skewed values the t interval can reach below zero,
/// a range the quantity cannot take.
pub fn nonnegative_mean_with_ci(values: &[f64], level: f64) -> Result<Estimate> {
    let mut e = mean_with_ci(values, level)?;
    e.ci.lo = e.ci.lo.max(0.0);
    e.method = IntervalMethod::StudentTNonNegative;
    Ok(e)
}

/// Paired comparison of a per-image continuous metric between two conditions
/// evaluated on the same images. Differences are `b − a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanComparison {
    /// Number of paired images.
    pub n: usize,
    /// Mean of `a` with its Student-t interval.
    pub mean_a: Estimate,
    /// Mean of `b` with its Student-t interval.
    pub mean_b: Estimate,
    /// Mean of the per-image differences `b_i − a_i` with the paired
    /// Student-t interval.
    pub difference: Estimate,
    /// Paired t statistic `d̄ / (s_d/√n)`; `None` when every difference is
    /// equal (zero standard deviation), where the test is degenerate.
    pub t_statistic: Option<f64>,
    /// Degrees of freedom of the paired t test, `n − 1`.
    pub degrees_of_freedom: usize,
    /// Two-sided p-value of the paired t test of `E[b − a] = 0`; `None` when
    /// the test is degenerate (see `t_statistic`).
    pub p_value: Option<f64>,
}

/// Paired comparison of two aligned samples: the mean difference `b − a` with
/// the paired Student-t interval `d̄ ± t_{n−1} s_d/√n` on the per-image
/// differences `d_i = b_i − a_i`, and the two-sided paired t test.
///
/// Pairing removes the between-image variance that two unpaired intervals
/// would double count; this is the interval to use for "did the loss change"
/// (e.g. replacement versus ablation on the same images).
///
/// Errors: different lengths, fewer than 2 pairs, a non-finite value, or
/// `level` outside (0, 1).
pub fn compare_means(a: &[f64], b: &[f64], level: f64) -> Result<MeanComparison> {
    check_level(level)?;
    check_same_length(a.len(), b.len(), "compare_means(a, b)")?;
    check_finite(a, "a")?;
    check_finite(b, "b")?;
    let n = a.len();
    if n < 2 {
        return Err(StatsError::TooFewObservations {
            what: "paired t comparison".to_string(),
            needed: 2,
            got: n,
        });
    }
    let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let (mean_difference, sd_difference) = mean_and_sd(&differences);
    let df = n - 1;
    let (t_statistic, p_value) = if sd_difference > 0.0 {
        let t = mean_difference / (sd_difference / (n as f64).sqrt());
        (Some(t), Some(t_two_sided_p(t, df as f64)))
    } else {
        (None, None)
    };
    Ok(MeanComparison {
        n,
        mean_a: mean_with_ci(a, level)?,
        mean_b: mean_with_ci(b, level)?,
        difference: Estimate {
            point: mean_difference,
            ci: t_interval(mean_difference, sd_difference, n, level),
            method: IntervalMethod::PairedStudentT,
        },
        t_statistic,
        degrees_of_freedom: df,
        p_value,
    })
}

/// A two-one-sided test (TOST, Schuirmann 1987) of equivalence for paired samples: is the
/// mean difference `b − a` within `(−margin, margin)`?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Equivalence {
    pub n: usize,
    /// The equivalence margin, in the samples' units.
    pub margin: f64,
    /// The mean difference `b − a` with its `1 − 2α` paired t interval (the interval that
    /// lies inside `(−margin, margin)` exactly when both one-sided tests reject at α).
    pub difference: Estimate,
    /// One-sided p of `H0: mean ≤ −margin`.
    pub p_lower: f64,
    /// One-sided p of `H0: mean ≥ margin`.
    pub p_upper: f64,
    /// The TOST p-value, `max(p_lower, p_upper)`.
    pub p_value: f64,
}

/// TOST of `E[b − a] ∈ (−margin, margin)` at level `alpha` (the interval reported is the
/// `1 − 2·alpha` paired t interval).
///
/// Errors: fewer than two pairs, different lengths, non-finite values, a margin that is
/// not positive and finite, or `alpha` outside (0, 0.5).
pub fn equivalence_test(a: &[f64], b: &[f64], margin: f64, alpha: f64) -> Result<Equivalence> {
    check_same_length(a.len(), b.len(), "equivalence_test(a, b)")?;
    check_finite(a, "a")?;
    check_finite(b, "b")?;
    if !(margin.is_finite() && margin > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "an equivalence margin must be positive and finite, not {margin}"
        )));
    }
    if !(alpha > 0.0 && alpha < 0.5) {
        return Err(StatsError::InvalidLevel(1.0 - 2.0 * alpha));
    }
    let n = a.len();
    if n < 2 {
        return Err(StatsError::TooFewObservations {
            what: "equivalence test".to_string(),
            needed: 2,
            got: n,
        });
    }
    let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let (mean, sd) = mean_and_sd(&differences);
    let df = (n - 1) as f64;
    let se = sd / (n as f64).sqrt();
    // P(T ≥ t) for the upper tail.
    let upper_tail = |t: f64| {
        let two = t_two_sided_p(t, df) / 2.0;
        if t >= 0.0 { two } else { 1.0 - two }
    };
    let (p_lower, p_upper) = if se > 0.0 {
        (
            upper_tail((mean + margin) / se),
            1.0 - upper_tail((mean - margin) / se),
        )
    } else {
        let inside = |x: bool| if x { 0.0 } else { 1.0 };
        (inside(mean > -margin), inside(mean < margin))
    };
    Ok(Equivalence {
        n,
        margin,
        difference: Estimate {
            point: mean,
            ci: t_interval(mean, sd, n, 1.0 - 2.0 * alpha),
            method: IntervalMethod::PairedStudentT,
        },
        p_lower,
        p_upper,
        p_value: p_lower.max(p_upper),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TOST: with d = b − a = (0.1, 0.3, −0.1, 0.2, 0.0, 0.15) and margin 0.25 the two
    /// one-sided t tests (df 5) give P(T ≥ 6.143) = 0.0008306 and P(T ≤ −2.429) = 0.02974
    /// (Simpson's rule on the t density).
    #[test]
    fn tost_matches_two_one_sided_t_tests_in_r() {
        let a = [0.0; 6];
        let b = [0.1, 0.3, -0.1, 0.2, 0.0, 0.15];
        let e = equivalence_test(&a, &b, 0.25, 0.05).unwrap();
        assert!((e.p_lower - 0.0008306).abs() < 2e-6, "{e:?}");
        assert!((e.p_upper - 0.02974).abs() < 2e-5, "{e:?}");
        assert_eq!(e.p_value, e.p_upper);
        // The 90% interval lies inside the margin exactly when both tests reject at 5%.
        assert!(e.difference.ci.lo > -0.25 && e.difference.ci.hi < 0.25);
        assert!((e.difference.ci.level - 0.9).abs() < 1e-12);
        // A narrower margin is not met.
        let tight = equivalence_test(&a, &b, 0.12, 0.05).unwrap();
        assert!(tight.p_value > 0.05 && tight.difference.ci.hi > 0.12);
        assert!(equivalence_test(&a, &b, 0.0, 0.05).is_err());
        assert!(equivalence_test(&a, &b, 0.25, 0.5).is_err());
    }

    /// R: qt(0.975, c(30, 100, 999, 1000)) = 2.042272, 1.983972, 1.962341,
    /// 1.962339; for huge df the quantile tends to qnorm(0.975) = 1.959964.
    #[test]
    fn t_quantile_matches_r_qt_on_both_sides_of_the_switch() {
        let cases = [
            (30.0, 2.042272),
            (100.0, 1.983972),
            (999.0, 1.962341),
            (1000.0, 1.962339),
            (1e9, 1.959964),
        ];
        for (df, expected) in cases {
            let q = t_quantile(0.975, df);
            assert!((q - expected).abs() < 5e-7, "df {df}: {q} vs {expected}");
        }
    }

    #[test]
    fn cornish_fisher_agrees_with_statrs_at_the_switch() {
        // Near df = 1000 both are accurate (statrs to ~1e-14 in probability,
        // the series to far below 1e-12); they must agree closely.
        for df in [500.0, 999.0] {
            let statrs = StudentsT::new(0.0, 1.0, df).unwrap();
            for p in [0.9, 0.95, 0.975, 0.995, 0.9995] {
                let difference = statrs.inverse_cdf(p) - cornish_fisher_t_quantile(p, df);
                assert!(difference.abs() < 1e-10, "df {df}, p {p}: {difference:e}");
            }
        }
    }

    #[test]
    fn two_sided_p_is_continuous_at_the_normal_switch() {
        let below = t_two_sided_p(2.5, NORMAL_TAIL_MIN_DF);
        let above = t_two_sided_p(2.5, NORMAL_TAIL_MIN_DF * 1.0001);
        assert!((below - above).abs() / below < 1e-6, "{below} vs {above}");
    }
}

#[cfg(test)]
mod nonnegative_tests {
    use super::*;

    #[test]
    fn a_skewed_non_negative_mean_never_gets_a_negative_lower_end() {
        // One large loss among near-zero ones: the t interval reaches below zero.
        let values = [0.01, 0.02, 0.0, 0.01, 3.0];
        let t = mean_with_ci(&values, 0.95).unwrap();
        assert!(t.ci.lo < 0.0, "the plain t interval does: {:?}", t.ci);
        let e = nonnegative_mean_with_ci(&values, 0.95).unwrap();
        assert_eq!(e.ci.lo, 0.0);
        assert_eq!(e.ci.hi, t.ci.hi);
        assert_eq!(e.point, t.point);
        assert_eq!(e.method, IntervalMethod::StudentTNonNegative);
    }
}
