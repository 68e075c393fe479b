//! Self-describing result types shared by every statistic, and input checks.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Result, StatsError};

/// A two-sided confidence interval `[lo, hi]` at confidence `level`
/// (e.g. 0.95).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Nominal coverage probability of the procedure that produced it.
    pub level: f64,
}

impl Interval {
    /// Whether `value` lies in the closed interval `[lo, hi]`.
    pub fn contains(&self, value: f64) -> bool {
        self.lo <= value && value <= self.hi
    }

    /// `hi - lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// How an interval was computed. Serialised as a snake_case name; see
/// [`IntervalMethod::description`] for the one-line citation a report prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// Wilson score interval for one binomial proportion.
    Wilson,
    /// Student-t interval for one mean.
    StudentT,
    /// Student-t interval for the mean of a non-negative quantity (cross-entropy, KL),
    /// its lower end cut at 0: the quantity's own range, so coverage is unchanged.
    StudentTNonNegative,
    /// Student-t interval for the mean of paired differences.
    PairedStudentT,
    /// Newcombe's hybrid score (square-and-add) interval for the difference of
    /// two paired proportions.
    NewcombePairedHybridScore,
    /// Percentile interval of a paired (image-resampling) bootstrap.
    BootstrapPercentile,
    /// Bias-corrected and accelerated interval of a paired bootstrap.
    BootstrapBca,
}

impl IntervalMethod {
    /// One line naming the method and its reference, for reports.
    pub fn description(&self) -> &'static str {
        match self {
            IntervalMethod::Wilson => {
                "Wilson score interval (Wilson 1927; Newcombe 1998, Stat Med 17:857, method 3)"
            }
            IntervalMethod::StudentT => "Student t interval for a mean (n-1 degrees of freedom)",
            IntervalMethod::StudentTNonNegative => {
                "Student t interval for a non-negative mean (n-1 degrees of freedom), lower end cut at 0"
            }
            IntervalMethod::PairedStudentT => {
                "paired Student t interval for the mean per-image difference (n-1 degrees of freedom)"
            }
            IntervalMethod::NewcombePairedHybridScore => {
                "Newcombe hybrid score interval for paired proportions (Newcombe 1998, Stat Med 17:2635, method 10)"
            }
            IntervalMethod::BootstrapPercentile => {
                "paired bootstrap over images, percentile interval (Efron & Tibshirani 1993, ch. 13)"
            }
            IntervalMethod::BootstrapBca => {
                "paired bootstrap over images, BCa interval with jackknife acceleration (Efron 1987, JASA 82:171)"
            }
        }
    }
}

/// A point estimate with its confidence interval and the method that made the
/// interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate.
    pub point: f64,
    /// Confidence interval.
    pub ci: Interval,
    /// How `ci` was computed.
    pub method: IntervalMethod,
}

/// Checks that a confidence level lies strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<()> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidLevel(level))
    }
}

/// The standard normal quantile `z` with `P(Z <= z) = p`.
pub(crate) fn standard_normal_quantile(p: f64) -> f64 {
    standard_normal().inverse_cdf(p)
}

/// The standard normal distribution function.
pub(crate) fn standard_normal_cdf(x: f64) -> f64 {
    standard_normal().cdf(x)
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The two-sided critical value `z_{1-(1-level)/2}`.
pub(crate) fn two_sided_z(level: f64) -> f64 {
    standard_normal_quantile(0.5 + level / 2.0)
}

/// Errors on an empty slice or on the first non-finite value.
pub(crate) fn check_finite(values: &[f64], what: &str) -> Result<()> {
    if values.is_empty() {
        return Err(StatsError::Empty {
            what: what.to_string(),
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            what: what.to_string(),
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Errors unless both slices have the same length.
pub(crate) fn check_same_length(left: usize, right: usize, what: &str) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch {
            what: what.to_string(),
            left,
            right,
        })
    }
}
