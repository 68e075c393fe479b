//! Simulation tests of calibration: on synthetic paired data with a known true
//! effect, do the 95 % intervals cover the truth 93–97 % of the time, and is
//! the McNemar test valid under the null?
//!
//! Every simulation is seeded (experiment `e` uses its own ChaCha stream), so
//! these tests are deterministic; they are still real tests, since a
//! miscalibrated method (e.g. an unpaired interval, a Wald interval, a
//! percentile interval of the wrong statistic) lands outside the band. With
//! N experiments the Monte Carlo standard error of a 95 % coverage is
//! √(0.95·0.05/N): 0.49 points for N = 2000, 0.69 points for N = 1000, so the
//! 93–97 % band is about ±3–4 standard errors around nominal.

use aann_stats::{
    BootstrapConfig, ColumnKey, Metric, PairedBootstrap, compare_binary, compare_means,
};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::distribution::Uniform;
use statrs::stats_tests::NaNPolicy;
use statrs::stats_tests::ks_test::{KSOneSampleAlternativeMethod, ks_onesample};

const LEVEL: f64 = 0.95;

/// The random stream of experiment `experiment` of simulation `simulation`.
fn experiment_rng(simulation: u64, experiment: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(simulation);
    rng.set_stream(experiment as u64);
    rng
}

/// Exp(1) by inversion.
fn exponential(rng: &mut impl Rng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

fn assert_coverage(covered: usize, experiments: usize, what: &str) {
    let coverage = covered as f64 / experiments as f64;
    println!("{what}: coverage {coverage:.4} over {experiments} experiments");
    assert!(
        (0.93..=0.97).contains(&coverage),
        "{what}: 95% intervals covered the truth in {:.2}% of {experiments} experiments (want 93-97%)",
        100.0 * coverage
    );
}

/// Draws one of four cells with the given probabilities (summing to 1).
fn draw_cell(rng: &mut impl Rng, probabilities: &[f64]) -> usize {
    let u: f64 = rng.random();
    let mut cumulative = 0.0;
    for (cell, p) in probabilities.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return cell;
        }
    }
    probabilities.len() - 1
}

/// Newcombe's paired interval for the accuracy difference `p_b − p_a`,
/// simulated from a paired 2×2 table with known cell probabilities
/// (both, only a, only b, neither). Two regimes: a moderate sample like a
/// small evaluation, and a small sample with accuracies near 1 where Wald
/// intervals fail.
#[test]
fn accuracy_difference_interval_covers_true_difference() {
    let scenarios: [(&str, usize, [f64; 4]); 2] = [
        ("n=500, p_a=0.70, p_b=0.63", 500, [0.55, 0.15, 0.08, 0.22]),
        ("n=80, p_a=0.93, p_b=0.88", 80, [0.85, 0.08, 0.03, 0.04]),
    ];
    let experiments = 2000;
    for (index, (name, n, cells)) in scenarios.into_iter().enumerate() {
        let true_difference = cells[2] - cells[1];
        let covered = (0..experiments)
            .into_par_iter()
            .filter(|&e| {
                let mut rng = experiment_rng(100 + index as u64, e);
                let mut a = Vec::with_capacity(n);
                let mut b = Vec::with_capacity(n);
                for _ in 0..n {
                    let cell = draw_cell(&mut rng, &cells);
                    a.push(cell == 0 || cell == 1);
                    b.push(cell == 0 || cell == 2);
                }
                let comparison = compare_binary(&a, &b, LEVEL).unwrap();
                comparison.difference.ci.contains(true_difference)
            })
            .count();
        assert_coverage(
            covered,
            experiments,
            &format!("accuracy difference ({name})"),
        );
    }
}

/// Kolmogorov–Smirnov p-value of `sample` against U(0, 1), asymptotic
/// Kolmogorov (1933) distribution as implemented by `statrs`
/// (`KSOneSampleAlternativeMethod::TwoSidedAsymptotic`), adequate for the
/// thousands of draws used here.
fn ks_uniform_p_value(sample: Vec<f64>) -> (f64, f64) {
    ks_onesample(
        sample,
        &Uniform::new(0.0, 1.0).unwrap(),
        KSOneSampleAlternativeMethod::TwoSidedAsymptotic,
        NaNPolicy::Error,
    )
    .unwrap()
}

/// McNemar p-values of `experiments` simulated paired experiments with `n`
/// images each, where `a` and `b` are independent fair coins with
/// `P(b) = p_b` (the null is `p_b = 1/2`). Returns (exact, mid-p) p-values.
fn simulate_mcnemar(simulation: u64, experiments: usize, n: usize, p_b: f64) -> Vec<(f64, f64)> {
    (0..experiments)
        .into_par_iter()
        .map(|e| {
            let mut rng = experiment_rng(simulation, e);
            let mut a = Vec::with_capacity(n);
            let mut b = Vec::with_capacity(n);
            for _ in 0..n {
                a.push(rng.next_u32() & 1 == 1);
                b.push(rng.random::<f64>() < p_b);
            }
            let test = compare_binary(&a, &b, LEVEL).unwrap().mcnemar;
            (test.p_value, test.mid_p_value)
        })
        .collect()
}

/// Under the null the McNemar p-value must be valid and (for the mid-p)
/// uniform.
///
/// What is tested and why: the exact conditional p-value is a discrete
/// statistic with atoms (e.g. p = 1 whenever the discordant counts are
/// equal), so its distribution is *not* U(0, 1) and a KS test against
/// uniformity can fail from discreteness alone, however correct the code.
/// What a valid test guarantees is `P(p <= α) <= α` for every α; that is
/// checked on a grid of α with a Monte Carlo allowance of 3 standard errors.
/// Uniformity proper is tested by KS on the mid-p value (exact p minus half
/// the probability of the observed table, which centres every atom), with
/// about 5,000 discordant pairs per experiment so that the largest atom
/// (≈ 2·P(X = m/2) ≈ 0.02) is small against the KS critical value
/// (≈ 1.36/√4000 ≈ 0.021 at the 5 % level). The exact p-value is also checked
/// to be conservative on average (mean above 1/2).
#[test]
fn mcnemar_is_valid_and_mid_p_is_uniform_under_the_null() {
    let experiments = 4000;
    // a and b independent fair coins: P(only a) = P(only b) = 1/4, so about
    // n/2 = 5,000 discordant pairs per experiment.
    let p_values = simulate_mcnemar(200, experiments, 10_000, 0.5);
    let exact: Vec<f64> = p_values.iter().map(|p| p.0).collect();
    let mid: Vec<f64> = p_values.iter().map(|p| p.1).collect();

    for alpha in [0.01, 0.025, 0.05, 0.1, 0.2, 0.5] {
        let slack = 3.0 * (alpha * (1.0 - alpha) / experiments as f64).sqrt();
        let rejection_rate =
            exact.iter().filter(|&&p| p <= alpha).count() as f64 / experiments as f64;
        println!("alpha {alpha}: exact McNemar rejection rate {rejection_rate:.4}");
        assert!(
            rejection_rate <= alpha + slack,
            "exact McNemar rejects {rejection_rate} > {alpha} + {slack} under the null"
        );
    }
    let mean_exact = exact.iter().sum::<f64>() / experiments as f64;
    assert!(
        mean_exact > 0.5,
        "exact p-value should be conservative, mean {mean_exact}"
    );

    let (statistic, p) = ks_uniform_p_value(mid);
    println!("KS of mid-p against U(0,1): D = {statistic:.4}, p = {p:.4}");
    assert!(
        p > 0.01,
        "mid-p McNemar not uniform under the null: D = {statistic}, p = {p}"
    );
}

/// The KS check above can fail: it rejects uniformity (i) for exact p-values
/// with few discordant pairs, where discreteness dominates, and (ii) for
/// mid-p values under an alternative (p_b = 0.52 against p_a = 0.5).
#[test]
fn ks_check_detects_non_uniform_p_values() {
    let few_discordant = simulate_mcnemar(300, 2000, 30, 0.5);
    let (_, p_exact_small) = ks_uniform_p_value(few_discordant.iter().map(|p| p.0).collect());
    assert!(
        p_exact_small < 1e-6,
        "discrete exact p-values should fail KS, p = {p_exact_small}"
    );

    let alternative = simulate_mcnemar(301, 2000, 10_000, 0.52);
    let (_, p_alternative) = ks_uniform_p_value(alternative.iter().map(|p| p.1).collect());
    assert!(
        p_alternative < 1e-6,
        "mid-p under the alternative should fail KS, p = {p_alternative}"
    );
}

/// Per-image cross-entropy for baseline B, ablation A and replacement R with
/// skewed (exponential) losses and correlated damage:
/// `L_B = U`, `L_A = L_B + 0.5 E1`, `L_R = L_B + 0.2 E1 + 0.1 E2` with
/// U, E1, E2 ~ Exp(1) independent. True means 1, 1.5, 1.3, so the true
/// fraction recovered is (1.3 − 1.5)/(1 − 1.5) = 0.4 and the true loss
/// difference R − A is −0.2.
fn simulate_losses(rng: &mut impl Rng, n: usize) -> [Vec<f64>; 3] {
    let mut baseline = Vec::with_capacity(n);
    let mut ablation = Vec::with_capacity(n);
    let mut replacement = Vec::with_capacity(n);
    for _ in 0..n {
        let difficulty = exponential(rng);
        let damage = exponential(rng);
        let noise = exponential(rng);
        baseline.push(difficulty);
        ablation.push(difficulty + 0.5 * damage);
        replacement.push(difficulty + 0.2 * damage + 0.1 * noise);
    }
    [baseline, ablation, replacement]
}

fn key(condition: &str, metric: Metric) -> ColumnKey {
    ColumnKey {
        condition: condition.to_string(),
        metric,
    }
}

/// Coverage of the BCa bootstrap interval for the cross-entropy fraction
/// recovered (1,000 experiments × 2,000 resamples, 300 images each), and
/// in the same experiments of the paired t interval and the bootstrap
/// interval for the loss difference R − A.
///
/// Bootstrap intervals of a ratio undercover slightly in small samples; in
/// 4,000-experiment runs of this simulation (not part of the suite) the
/// fraction's BCa coverage was 93.8 % at 100 images, 94.3 % at 200 and
/// 94.8 % at 400 (percentile: 93.9, 94.5, 94.7 %). Real evaluations use
/// thousands to 50,000 images, where the shortfall vanishes.
#[test]
fn fraction_recovered_interval_covers_truth_for_cross_entropy() {
    let experiments = 1000;
    let n = 300;
    let true_fraction = 0.4;
    let true_difference = -0.2;
    let results: Vec<[bool; 3]> = (0..experiments)
        .into_par_iter()
        .map(|e| {
            let mut rng = experiment_rng(400, e);
            let [baseline, ablation, replacement] = simulate_losses(&mut rng, n);
            let paired_t = compare_means(&ablation, &replacement, LEVEL).unwrap();
            let config = BootstrapConfig {
                seed: e as u64,
                ..BootstrapConfig::default()
            };
            let boot = PairedBootstrap::from_columns(
                vec![
                    (key("B", Metric::CrossEntropy), baseline),
                    (key("A", Metric::CrossEntropy), ablation),
                    (key("R", Metric::CrossEntropy), replacement),
                ],
                config,
            )
            .unwrap();
            let fraction = boot
                .fraction_recovered(Metric::CrossEntropy, "R", "A", "B")
                .unwrap();
            let estimate = fraction
                .fraction
                .expect("the simulated ablation clearly hurts");
            let difference = boot.difference(Metric::CrossEntropy, "A", "R").unwrap();
            [
                estimate.ci.contains(true_fraction),
                paired_t.difference.ci.contains(true_difference),
                difference.ci.contains(true_difference),
            ]
        })
        .collect();
    let count = |i: usize| results.iter().filter(|r| r[i]).count();
    assert_coverage(
        count(0),
        experiments,
        "fraction recovered, cross-entropy, BCa",
    );
    assert_coverage(count(1), experiments, "loss difference R-A, paired t");
    assert_coverage(count(2), experiments, "loss difference R-A, bootstrap BCa");
}

/// Joint probabilities of top-1 correctness (B, A, R) per image, in the order
/// (B,A,R) = 111, 110, 101, 100, 011, 010, 001, 000. Marginals: P(B) = 0.72,
/// P(A) = 0.52, P(R) = 0.64, so the true fraction recovered is
/// (0.64 − 0.52)/(0.72 − 0.52) = 0.6.
const TOP1_CELLS: [f64; 8] = [0.45, 0.03, 0.14, 0.10, 0.02, 0.02, 0.03, 0.21];

/// Coverage of the BCa bootstrap interval for the top-1 fraction recovered
/// (1,000 experiments × 2,000 resamples, 300 images each; the denominator
/// 0.2 is about 7 standard errors from 0, so the fraction is defined). In
/// 4,000-experiment runs (not part of the suite) coverage was 94.3 % at 250
/// images and 94.5 % at 400.
#[test]
fn fraction_recovered_interval_covers_truth_for_top1_accuracy() {
    let experiments = 1000;
    let n = 300;
    let marginal = |bit: usize| -> f64 {
        TOP1_CELLS
            .iter()
            .enumerate()
            .filter(|(cell, _)| (7 - cell) >> (2 - bit) & 1 == 1)
            .map(|(_, p)| p)
            .sum()
    };
    let (p_b, p_a, p_r) = (marginal(0), marginal(1), marginal(2));
    assert!((p_b - 0.72).abs() < 1e-12 && (p_a - 0.52).abs() < 1e-12 && (p_r - 0.64).abs() < 1e-12);
    let true_fraction = (p_r - p_a) / (p_b - p_a);

    let covered = (0..experiments)
        .into_par_iter()
        .filter(|&e| {
            let mut rng = experiment_rng(500, e);
            let mut columns = [
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            ];
            for _ in 0..n {
                let pattern = 7 - draw_cell(&mut rng, &TOP1_CELLS);
                for (bit, column) in columns.iter_mut().enumerate() {
                    column.push(((pattern >> (2 - bit)) & 1) as f64);
                }
            }
            let [baseline, ablation, replacement] = columns;
            let config = BootstrapConfig {
                seed: e as u64,
                ..BootstrapConfig::default()
            };
            let boot = PairedBootstrap::from_columns(
                vec![
                    (key("B", Metric::Top1Accuracy), baseline),
                    (key("A", Metric::Top1Accuracy), ablation),
                    (key("R", Metric::Top1Accuracy), replacement),
                ],
                config,
            )
            .unwrap();
            let fraction = boot
                .fraction_recovered(Metric::Top1Accuracy, "R", "A", "B")
                .unwrap();
            fraction
                .fraction
                .expect("the simulated ablation clearly hurts")
                .ci
                .contains(true_fraction)
        })
        .count();
    assert_coverage(covered, experiments, "fraction recovered, top-1, BCa");
}

/// One simulated experiment in the regime of the headline run (500 images): returns, for
/// the cross-entropy, KL and top-5 fractions recovered, `None` when the fraction was
/// undefined (the ablation's own interval contained 0) and else whether its BCa interval
/// covered the truth.
///
/// - Cross-entropy: `L_A − L_B = μ + σ(E₁ − 1)` with μ = 0.18 nats and σ chosen so the
///   gap is about 6 standard errors (σ = μ√n/6, a skewed, heavy per-image damage as in
///   the real run: +0.177 nats, interval ±0.055); `L_R = L_B + 0.15(L_A − L_B) + 0.05(E₂ − 1)`:
///   true fraction 0.85.
/// - KL(baseline ‖ ·): `KL_A = κ G`, `KL_R = 0.1 KL_A + 0.02 κ E₃` with G ~ Exp(1), κ = 0.12:
///   true fraction 1 − 0.1 − 0.02 = 0.88.
/// - Top-5: correctness cells with P(B) = 0.92, P(A) = 0.90, P(R) = 0.914: true fraction
///   0.7, the gap about 2.4 standard errors (the real run: 92.2% → 90.0%, 2.5).
fn regime_experiment(e: usize, n: usize) -> [Option<bool>; 3] {
    let mut rng = experiment_rng(600, e);
    let mu = 0.18;
    let sigma = mu * (n as f64).sqrt() / 6.0;
    let kappa = 0.12;
    let (mut lb, mut la, mut lr) = (vec![], vec![], vec![]);
    let (mut kb, mut ka, mut kr) = (vec![], vec![], vec![]);
    let (mut tb, mut ta, mut tr) = (vec![], vec![], vec![]);
    // Top-5 cells (B, A, R) = 111, 110, 101, 100, 011, 010, 001, 000.
    const CELLS: [f64; 8] = [0.886, 0.006, 0.020, 0.008, 0.005, 0.003, 0.003, 0.069];
    for _ in 0..n {
        let base = exponential(&mut rng);
        let damage = mu + sigma * (exponential(&mut rng) - 1.0);
        let noise = 0.05 * (exponential(&mut rng) - 1.0);
        lb.push(base);
        la.push(base + damage);
        lr.push(base + 0.15 * damage + noise);
        let g = kappa * exponential(&mut rng);
        kb.push(0.0);
        ka.push(g);
        kr.push(0.1 * g + 0.02 * kappa * exponential(&mut rng));
        let pattern = 7 - draw_cell(&mut rng, &CELLS);
        for (bit, column) in [&mut tb, &mut ta, &mut tr].into_iter().enumerate() {
            column.push(((pattern >> (2 - bit)) & 1) as f64);
        }
    }
    let marginal = |bit: usize| -> f64 {
        CELLS
            .iter()
            .enumerate()
            .filter(|(cell, _)| (7 - cell) >> (2 - bit) & 1 == 1)
            .map(|(_, p)| p)
            .sum()
    };
    let top5_truth = (marginal(2) - marginal(1)) / (marginal(0) - marginal(1));
    let boot = PairedBootstrap::from_columns(
        vec![
            (key("B", Metric::CrossEntropy), lb),
            (key("A", Metric::CrossEntropy), la),
            (key("R", Metric::CrossEntropy), lr),
            (key("B", Metric::KlFromBaseline), kb),
            (key("A", Metric::KlFromBaseline), ka),
            (key("R", Metric::KlFromBaseline), kr),
            (key("B", Metric::Top5Accuracy), tb),
            (key("A", Metric::Top5Accuracy), ta),
            (key("R", Metric::Top5Accuracy), tr),
        ],
        BootstrapConfig {
            seed: e as u64,
            ..BootstrapConfig::default()
        },
    )
    .unwrap();
    let covered = |metric: Metric, truth: f64| {
        boot.fraction_recovered(metric, "R", "A", "B")
            .unwrap()
            .fraction
            .map(|f| f.ci.contains(truth))
    };
    [
        covered(Metric::CrossEntropy, 0.85),
        covered(Metric::KlFromBaseline, 1.0 - 0.1 - 0.02),
        covered(Metric::Top5Accuracy, top5_truth),
    ]
}

/// Coverage of the fractions recovered in the regime of the headline run (see
/// [`regime_experiment`]), 1,000 experiments of 500 images × 2,000 resamples; coverage is
/// conditional on the fraction being defined, and how often it is defined is printed too.
/// Measured (docs/results.md): cross-entropy 93.6%, KL 94.3%, top-5 95.0% of the 705
/// experiments where its fraction was defined (the other 295 have a top-5 gap whose interval
/// contains 0, as the real run's top-5 gap nearly does).
#[test]
fn fractions_cover_the_truth_in_the_regime_of_the_headline_run() {
    let experiments = 1000;
    let results: Vec<[Option<bool>; 3]> = (0..experiments)
        .into_par_iter()
        .map(|e| regime_experiment(e, 500))
        .collect();
    for (i, what) in ["cross-entropy", "KL", "top-5"].iter().enumerate() {
        let defined: Vec<bool> = results.iter().filter_map(|r| r[i]).collect();
        let covered = defined.iter().filter(|c| **c).count();
        println!(
            "{what}: defined in {} of {experiments} experiments",
            defined.len()
        );
        if i < 2 {
            // The loss fractions are (almost) always defined at 6 standard errors.
            assert!(defined.len() >= 990, "{what}: {}", defined.len());
        }
        assert_coverage(
            covered,
            defined.len(),
            &format!("fraction recovered, {what}, BCa"),
        );
    }
}
