//! One binomial proportion (an accuracy) with the Wilson score interval.

use crate::error::{Result, StatsError};
use crate::estimate::{Estimate, Interval, IntervalMethod, check_level, two_sided_z};

/// Wilson score interval for a binomial proportion `successes / n`.
///
/// The interval is the set of `p` not rejected by the two-sided score test
/// `|p̂ - p| <= z sqrt(p (1 - p) / n)` (Wilson 1927), i.e.
///
/// ```text
/// centre    = (p̂ + z²/(2n)) / (1 + z²/n)
/// halfwidth = z / (1 + z²/n) · sqrt(p̂(1 - p̂)/n + z²/(4n²))
/// ```
///
/// with `z` the `(1 + level)/2` standard normal quantile. No continuity
/// correction (Newcombe 1998, Stat Med 17:857–872, method 3). Unlike the Wald
/// interval its coverage stays close to nominal for proportions near 0 or 1
/// (Brown, Cai & DasGupta 2001, Stat Sci 16:101); it never leaves `[0, 1]`.
///
/// Errors: `n == 0`, `successes > n`, or `level` outside (0, 1).
pub fn wilson_interval(successes: u64, n: u64, level: f64) -> Result<Interval> {
    check_level(level)?;
    if n == 0 {
        return Err(StatsError::Empty {
            what: "binomial sample (n = 0)".to_string(),
        });
    }
    if successes > n {
        return Err(StatsError::SuccessesExceedTrials {
            successes,
            trials: n,
        });
    }
    let z = two_sided_z(level);
    let nf = n as f64;
    let p_hat = successes as f64 / nf;
    let z2 = z * z;
    let denominator = 1.0 + z2 / nf;
    let centre = (p_hat + z2 / (2.0 * nf)) / denominator;
    let halfwidth = z / denominator * (p_hat * (1.0 - p_hat) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At the boundaries the exact bound is 0 (or 1); floating point leaves a
    // residue of order 1e-17 that is removed here.
    let lo = if successes == 0 {
        0.0
    } else {
        (centre - halfwidth).max(0.0)
    };
    let hi = if successes == n {
        1.0
    } else {
        (centre + halfwidth).min(1.0)
    };
    Ok(Interval { lo, hi, level })
}

/// The proportion of `true` values with its Wilson score interval
/// ([`wilson_interval`]); e.g. top-1 accuracy from per-image correctness.
///
/// Errors: empty input or `level` outside (0, 1).
pub fn proportion_with_ci(outcomes: &[bool], level: f64) -> Result<Estimate> {
    check_level(level)?;
    if outcomes.is_empty() {
        return Err(StatsError::Empty {
            what: "binary outcomes".to_string(),
        });
    }
    let n = outcomes.len() as u64;
    let successes = outcomes.iter().filter(|&&x| x).count() as u64;
    Ok(Estimate {
        point: successes as f64 / n as f64,
        ci: wilson_interval(successes, n, level)?,
        method: IntervalMethod::Wilson,
    })
}
