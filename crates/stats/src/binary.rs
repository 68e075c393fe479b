//! Paired comparison of two binary outcomes on the same images (e.g. top-1
//! correctness of baseline and ablation): exact McNemar test and Newcombe's
//! paired interval for the difference of accuracies.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, Discrete, DiscreteCDF};

use crate::error::{Result, StatsError};
use crate::estimate::{Estimate, Interval, IntervalMethod, check_level, check_same_length};
use crate::proportion::{proportion_with_ci, wilson_interval};

/// The paired 2×2 table of two binary outcomes `a` and `b` on the same items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedTable {
    /// Items where both `a` and `b` succeed.
    pub both: u64,
    /// Items where only `a` succeeds (discordant).
    pub only_a: u64,
    /// Items where only `b` succeeds (discordant).
    pub only_b: u64,
    /// Items where neither succeeds.
    pub neither: u64,
}

impl PairedTable {
    /// Tabulates two aligned outcome vectors.
    ///
    /// Errors: different lengths or empty input.
    pub fn from_outcomes(a: &[bool], b: &[bool]) -> Result<Self> {
        check_same_length(a.len(), b.len(), "paired binary outcomes (a, b)")?;
        if a.is_empty() {
            return Err(StatsError::Empty {
                what: "paired binary outcomes".to_string(),
            });
        }
        let mut table = PairedTable {
            both: 0,
            only_a: 0,
            only_b: 0,
            neither: 0,
        };
        for (&x, &y) in a.iter().zip(b) {
            match (x, y) {
                (true, true) => table.both += 1,
                (true, false) => table.only_a += 1,
                (false, true) => table.only_b += 1,
                (false, false) => table.neither += 1,
            }
        }
        Ok(table)
    }

    /// Total number of items.
    pub fn n(&self) -> u64 {
        self.both + self.only_a + self.only_b + self.neither
    }

    /// Number of discordant items, `only_a + only_b`.
    pub fn discordant(&self) -> u64 {
        self.only_a + self.only_b
    }

    /// Successes of `a`.
    pub fn successes_a(&self) -> u64 {
        self.both + self.only_a
    }

    /// Successes of `b`.
    pub fn successes_b(&self) -> u64 {
        self.both + self.only_b
    }
}

/// Exact (conditional) McNemar test of marginal homogeneity,
/// `H0: P(a succeeds) = P(b succeeds)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemarTest {
    /// Items where only `a` succeeds.
    pub only_a: u64,
    /// Items where only `b` succeeds.
    pub only_b: u64,
    /// Two-sided exact p-value: `min(1, 2 · P(X ≤ min(only_a, only_b)))` with
    /// `X ~ Binomial(only_a + only_b, 1/2)`. Equal to R's
    /// `binom.test(only_b, only_a + only_b)$p.value`. Valid (never
    /// anti-conservative) but conservative because the statistic is discrete.
    pub p_value: f64,
    /// Two-sided mid-p value: the exact p-value minus the probability of the
    /// observed table, `2 · P(X < k) + 2 · P(X = k) / 2` (Lancaster 1961),
    /// capped at 1. Closer to nominal size; recommended by Fagerland, Lydersen
    /// & Laake (2013, BMC Med Res Methodol 13:91), but not guaranteed to keep
    /// the size below α.
    pub mid_p_value: f64,
}

/// Exact conditional McNemar test from the two discordant counts.
///
/// Under `H0` and conditional on the number of discordant pairs
/// `m = only_a + only_b`, `only_b ~ Binomial(m, 1/2)` (McNemar 1947). The
/// two-sided p-value doubles the smaller tail (the distribution is symmetric,
/// so this equals the "sum of probabilities at most the observed one" rule of
/// R's `binom.test`); binomial tails come from `statrs`. With no discordant
/// pairs both p-values are 1.
pub fn mcnemar_exact(only_a: u64, only_b: u64) -> McNemarTest {
    let m = only_a + only_b;
    if m == 0 {
        return McNemarTest {
            only_a,
            only_b,
            p_value: 1.0,
            mid_p_value: 1.0,
        };
    }
    let k = only_a.min(only_b);
    let null = Binomial::new(0.5, m).expect("p = 1/2 is a valid binomial probability");
    let lower_tail = null.cdf(k);
    let point_probability = null.pmf(k);
    McNemarTest {
        only_a,
        only_b,
        p_value: (2.0 * lower_tail).min(1.0),
        mid_p_value: (2.0 * lower_tail - point_probability).clamp(0.0, 1.0),
    }
}

/// Newcombe's hybrid score interval for the paired difference
/// `p_b − p_a = (only_b − only_a) / n` (Newcombe 1998, "Improved confidence
/// intervals for the difference between binomial proportions based on paired
/// data", Stat Med 17:2635–2650, method 10; the "Newcombe square-and-add"
/// interval recommended by Fagerland, Lydersen & Laake 2014, Stat Med
/// 33:2850–2875).
///
/// With Wilson intervals `(l_a, u_a)` and `(l_b, u_b)` for the two marginal
/// proportions and the estimated correlation `φ` of the two outcomes,
///
/// ```text
/// lo = d − sqrt((p_b − l_b)² − 2φ(p_b − l_b)(u_a − p_a) + (u_a − p_a)²)
/// hi = d + sqrt((u_b − p_b)² − 2φ(u_b − p_b)(p_a − l_a) + (p_a − l_a)²)
/// ```
///
/// where, with `A = both·neither − only_a·only_b` and `P` the product of the
/// four marginal totals, `φ = (A − n/2)/√P` if `A > n/2`, `0` if
/// `0 ≤ A ≤ n/2`, `A/√P` if `A < 0`, and `φ = 0` if any margin is zero
/// (Newcombe's definition; the `n/2` shrinkage only matters for small `n`).
/// The result is clipped to `[−1, 1]`.
///
/// Errors: empty table or `level` outside (0, 1).
pub fn paired_difference_interval(table: &PairedTable, level: f64) -> Result<Interval> {
    check_level(level)?;
    let n = table.n();
    if n == 0 {
        return Err(StatsError::Empty {
            what: "paired table".to_string(),
        });
    }
    let nf = n as f64;
    let successes_a = table.successes_a();
    let successes_b = table.successes_b();
    let p_a = successes_a as f64 / nf;
    let p_b = successes_b as f64 / nf;
    let difference = p_b - p_a;
    let wilson_a = wilson_interval(successes_a, n, level)?;
    let wilson_b = wilson_interval(successes_b, n, level)?;

    let margins = [successes_a, n - successes_a, successes_b, n - successes_b];
    let phi = if margins.contains(&0) {
        0.0
    } else {
        let product: f64 = margins.iter().map(|&m| m as f64).product();
        let cross =
            table.both as f64 * table.neither as f64 - table.only_a as f64 * table.only_b as f64;
        if cross > nf / 2.0 {
            (cross - nf / 2.0) / product.sqrt()
        } else if cross >= 0.0 {
            0.0
        } else {
            cross / product.sqrt()
        }
    };

    let below_b = p_b - wilson_b.lo;
    let above_b = wilson_b.hi - p_b;
    let below_a = p_a - wilson_a.lo;
    let above_a = wilson_a.hi - p_a;
    let lower_half = (below_b * below_b - 2.0 * phi * below_b * above_a + above_a * above_a)
        .max(0.0)
        .sqrt();
    let upper_half = (above_b * above_b - 2.0 * phi * above_b * below_a + below_a * below_a)
        .max(0.0)
        .sqrt();
    Ok(Interval {
        lo: (difference - lower_half).max(-1.0),
        hi: (difference + upper_half).min(1.0),
        level,
    })
}

/// Paired comparison of a binary metric (e.g. top-1 correctness) between
/// conditions `a` and `b` on the same images. Differences are `b − a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryComparison {
    /// Number of paired images.
    pub n: u64,
    /// The paired 2×2 table (concordant and discordant counts).
    pub table: PairedTable,
    /// Proportion of successes under `a`, Wilson interval.
    pub proportion_a: Estimate,
    /// Proportion of successes under `b`, Wilson interval.
    pub proportion_b: Estimate,
    /// `p_b − p_a` with Newcombe's paired hybrid score interval
    /// ([`paired_difference_interval`]).
    pub difference: Estimate,
    /// Exact McNemar test of `p_a = p_b` ([`mcnemar_exact`]).
    pub mcnemar: McNemarTest,
}

/// Compares two aligned binary outcome vectors: both proportions with Wilson
/// intervals, the paired difference `b − a` with Newcombe's paired interval,
/// and the exact McNemar test.
///
/// Errors: different lengths, empty input, or `level` outside (0, 1).
pub fn compare_binary(a: &[bool], b: &[bool], level: f64) -> Result<BinaryComparison> {
    check_level(level)?;
    let table = PairedTable::from_outcomes(a, b)?;
    let n = table.n();
    Ok(BinaryComparison {
        n,
        table,
        proportion_a: proportion_with_ci(a, level)?,
        proportion_b: proportion_with_ci(b, level)?,
        difference: Estimate {
            point: (table.only_b as f64 - table.only_a as f64) / n as f64,
            ci: paired_difference_interval(&table, level)?,
            method: IntervalMethod::NewcombePairedHybridScore,
        },
        mcnemar: mcnemar_exact(table.only_a, table.only_b),
    })
}
