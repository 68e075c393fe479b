//! Self-describing result types shared by every statistic, and input checks.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Result, StatsError};

/// A two-sided confidence interval `[lo, hi]` at confidence `level`
/// (e.g. 0.95).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound (−∞ when resamples run off without bound, e.g. a ratio whose
    /// denominator is zero in some resamples).
    #[serde(with = "bound")]
    pub lo: f64,
    /// Upper bound (+∞ likewise).
    #[serde(with = "bound")]
    pub hi: f64,
    /// Nominal coverage probability of the procedure that produced it.
    pub level: f64,
}

/// An interval's bound in JSON, which has no infinities: a number, or `"inf"`, `"-inf"` or
/// `"NaN"` (and `null`, which older files hold for any of them, is read as NaN).
mod bound {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Option::<Repr>::deserialize(d)? {
            Some(Repr::Number(v)) => Ok(v),
            Some(Repr::Text(t)) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!(
                    "an interval bound is a number, \"inf\", \"-inf\" or \"NaN\", not \"{other}\""
                ))),
            },
            None => Ok(f64::NAN),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbounded_intervals_survive_json() {
        let i = Interval {
            lo: f64::NEG_INFINITY,
            hi: 2.5,
            level: 0.95,
        };
        let text = serde_json::to_string(&i).unwrap();
        assert_eq!(text, r#"{"lo":"-inf","hi":2.5,"level":0.95}"#);
        let back: Interval = serde_json::from_str(&text).unwrap();
        assert_eq!(back, i);
        // Older files wrote every non-finite bound as null.
        let old: Interval = serde_json::from_str(r#"{"lo":null,"hi":1.0,"level":0.95}"#).unwrap();
        assert!(old.lo.is_nan());
        let err = serde_json::from_str::<Interval>(r#"{"lo":"low","hi":1.0,"level":0.95}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not \"low\""), "{err}");
    }
}
