//! Behaviour of the public API: determinism, hand-checkable results, the
//! undefined-fraction rule, error handling and serialisation.

use aann_stats::{
    Alternative, BootstrapConfig, BootstrapInterval, ColumnKey, ConditionOutcomes, FractionStatus,
    IntervalMethod, MIN_RESAMPLES, Metric, PairedBootstrap, StatsError, compare_binary,
    compare_conditions, compare_means, empirical_p_value, mean_with_ci, nonnegative_mean_with_ci,
    proportion_with_ci, random_channel_sets, summarize_condition, wilson_interval,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn key(condition: &str, metric: Metric) -> ColumnKey {
    ColumnKey {
        condition: condition.to_string(),
        metric,
    }
}

/// Three loss columns (baseline, ablation, replacement) with a clear ablation
/// effect: means 1.0, 2.0 and 1.25 + noise.
fn loss_columns(n: usize, seed: u64) -> Vec<(ColumnKey, Vec<f64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut baseline = Vec::new();
    let mut ablation = Vec::new();
    let mut replacement = Vec::new();
    for _ in 0..n {
        let difficulty: f64 = 2.0 * rng.random::<f64>();
        baseline.push(difficulty);
        ablation.push(difficulty + 2.0 * rng.random::<f64>());
        replacement.push(difficulty + 0.5 * rng.random::<f64>());
    }
    vec![
        (key("baseline", Metric::CrossEntropy), baseline),
        (key("ablation", Metric::CrossEntropy), ablation),
        (key("replacement", Metric::CrossEntropy), replacement),
    ]
}

fn with_seed(seed: u64) -> BootstrapConfig {
    BootstrapConfig {
        seed,
        ..BootstrapConfig::default()
    }
}

#[test]
fn bootstrap_is_deterministic_and_independent_of_thread_count() {
    let columns = loss_columns(300, 1);
    let run_with_threads = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| PairedBootstrap::from_columns(columns.clone(), with_seed(7)).unwrap())
    };
    let one = run_with_threads(1);
    let three = run_with_threads(3);
    for condition in ["baseline", "ablation", "replacement"] {
        let a = one
            .replicate_means(condition, Metric::CrossEntropy)
            .unwrap();
        let b = three
            .replicate_means(condition, Metric::CrossEntropy)
            .unwrap();
        assert_eq!(a.len(), MIN_RESAMPLES);
        assert_eq!(a, b, "replicates differ between 1 and 3 threads");
    }
    let f1 = one
        .fraction_recovered(Metric::CrossEntropy, "replacement", "ablation", "baseline")
        .unwrap();
    let f3 = three
        .fraction_recovered(Metric::CrossEntropy, "replacement", "ablation", "baseline")
        .unwrap();
    assert_eq!(f1, f3);

    let other_seed = PairedBootstrap::from_columns(columns, with_seed(8)).unwrap();
    assert_ne!(
        one.replicate_means("baseline", Metric::CrossEntropy)
            .unwrap(),
        other_seed
            .replicate_means("baseline", Metric::CrossEntropy)
            .unwrap()
    );
}

#[test]
fn replicate_means_have_the_bootstrap_mean_and_spread() {
    let columns = loss_columns(400, 2);
    let values = columns[0].1.clone();
    let boot = PairedBootstrap::from_columns(columns, with_seed(3)).unwrap();
    let replicates = boot
        .replicate_means("baseline", Metric::CrossEntropy)
        .unwrap();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    // The bootstrap distribution of the mean has mean x̄ and standard
    // deviation σ̂/√n with σ̂² the plug-in variance (divisor n).
    let plug_in_sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let b = replicates.len() as f64;
    let replicate_mean = replicates.iter().sum::<f64>() / b;
    let replicate_sd = (replicates
        .iter()
        .map(|v| (v - replicate_mean).powi(2))
        .sum::<f64>()
        / (b - 1.0))
        .sqrt();
    let standard_error = plug_in_sd / n.sqrt();
    // Monte Carlo error with B = 2000: mean ± 4·SE/√B, sd within ~±6 %.
    assert!((replicate_mean - mean).abs() < 4.0 * standard_error / b.sqrt());
    assert!(
        (replicate_sd / standard_error - 1.0).abs() < 0.1,
        "{replicate_sd} vs {standard_error}"
    );
}

#[test]
fn bootstrap_mean_interval_agrees_with_t_interval_for_symmetric_data() {
    let columns = loss_columns(2000, 4);
    let values = columns[0].1.clone();
    let t = mean_with_ci(&values, 0.95).unwrap();
    for interval in [BootstrapInterval::Bca, BootstrapInterval::Percentile] {
        let config = BootstrapConfig {
            interval,
            ..with_seed(5)
        };
        let boot = PairedBootstrap::from_columns(columns.clone(), config).unwrap();
        let estimate = boot.mean("baseline", Metric::CrossEntropy).unwrap();
        assert_eq!(estimate.point, t.point);
        let expected_method = match interval {
            BootstrapInterval::Bca => IntervalMethod::BootstrapBca,
            BootstrapInterval::Percentile => IntervalMethod::BootstrapPercentile,
        };
        assert_eq!(estimate.method, expected_method);
        // Same width within 10 % and same centre within 10 % of the width.
        assert!((estimate.ci.width() / t.ci.width() - 1.0).abs() < 0.1);
        let centre = |lo: f64, hi: f64| (lo + hi) / 2.0;
        assert!(
            (centre(estimate.ci.lo, estimate.ci.hi) - centre(t.ci.lo, t.ci.hi)).abs()
                < 0.1 * t.ci.width()
        );
    }
}

#[test]
fn fraction_recovered_point_is_the_ratio_of_mean_differences() {
    let columns = loss_columns(500, 6);
    let mean = |i: usize| columns[i].1.iter().sum::<f64>() / columns[i].1.len() as f64;
    let (m_b, m_a, m_r) = (mean(0), mean(1), mean(2));
    let boot = PairedBootstrap::from_columns(columns, with_seed(9)).unwrap();
    let result = boot
        .fraction_recovered(Metric::CrossEntropy, "replacement", "ablation", "baseline")
        .unwrap();
    assert_eq!(result.status, FractionStatus::Defined);
    let fraction = result.fraction.unwrap();
    assert!((fraction.point - (m_r - m_a) / (m_b - m_a)).abs() < 1e-12);
    assert!((result.numerator.point - (m_r - m_a)).abs() < 1e-12);
    assert!((result.denominator.point - (m_b - m_a)).abs() < 1e-12);
    assert!(fraction.ci.lo < fraction.point && fraction.point < fraction.ci.hi);
    assert_eq!(fraction.method, IntervalMethod::BootstrapBca);
    assert_eq!(result.resamples, MIN_RESAMPLES);
    assert_eq!(result.denominator_sign_changes, 0);
    assert_eq!(result.indeterminate_resamples, 0);
    // True fraction (1.25 − 2)/(1 − 2) = 0.75; 500 images pin it down.
    assert!(fraction.ci.contains(0.75), "{fraction:?}");

    // The same ratio through the generic function-of-means interface.
    let generic = boot
        .function_of_means(
            &[
                ("replacement", Metric::CrossEntropy),
                ("ablation", Metric::CrossEntropy),
                ("baseline", Metric::CrossEntropy),
            ],
            |m| (m[0] - m[1]) / (m[2] - m[1]),
        )
        .unwrap();
    assert_eq!(generic, fraction);
}

#[test]
fn fraction_is_undefined_when_the_ablation_has_no_detectable_effect() {
    // The "ablation" is the baseline plus symmetric noise: m_B − m_A is 0 in
    // truth, so its interval contains 0 and no fraction may be printed.
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let n = 300;
    let baseline: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let ablation: Vec<f64> = baseline
        .iter()
        .map(|b| b + rng.random::<f64>() - 0.5)
        .collect();
    let replacement: Vec<f64> = baseline
        .iter()
        .map(|b| b + 0.1 * rng.random::<f64>())
        .collect();
    let boot = PairedBootstrap::from_columns(
        vec![
            (key("B", Metric::CrossEntropy), baseline),
            (key("A", Metric::CrossEntropy), ablation),
            (key("R", Metric::CrossEntropy), replacement),
        ],
        with_seed(11),
    )
    .unwrap();
    let result = boot
        .fraction_recovered(Metric::CrossEntropy, "R", "A", "B")
        .unwrap();
    assert!(result.denominator.ci.contains(0.0));
    assert!(result.fraction.is_none());
    match &result.status {
        FractionStatus::Undefined { reason } => {
            assert!(reason.contains("contains 0"), "{reason}");
        }
        FractionStatus::Defined => panic!("fraction should be undefined"),
    }
}

#[test]
fn fraction_for_identical_baseline_and_ablation_is_undefined() {
    // Zero denominator in every resample: undefined, never a division by 0.
    let values: Vec<f64> = (0..50).map(|i| (i % 5) as f64).collect();
    let boot = PairedBootstrap::from_columns(
        vec![
            (key("B", Metric::Top1Accuracy), values.clone()),
            (key("A", Metric::Top1Accuracy), values.clone()),
            (key("R", Metric::Top1Accuracy), values),
        ],
        with_seed(0),
    )
    .unwrap();
    let result = boot
        .fraction_recovered(Metric::Top1Accuracy, "R", "A", "B")
        .unwrap();
    assert!(matches!(result.status, FractionStatus::Undefined { .. }));
    assert_eq!(result.denominator.point, 0.0);
    assert_eq!(result.denominator.ci.lo, 0.0);
    assert_eq!(result.denominator.ci.hi, 0.0);
}

fn condition(name: &str, n: usize, accuracy: f64, loss: f64, seed: u64) -> ConditionOutcomes {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let top1: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < accuracy).collect();
    let top5: Vec<bool> = top1
        .iter()
        .map(|&t| t || rng.random::<f64>() < 0.5)
        .collect();
    let ce: Vec<f64> = (0..n).map(|_| loss * 2.0 * rng.random::<f64>()).collect();
    let kl: Vec<f64> = (0..n).map(|_| loss * rng.random::<f64>()).collect();
    ConditionOutcomes::new(name, top1, top5, ce, Some(kl)).unwrap()
}

#[test]
fn conditions_are_summarised_compared_and_bootstrapped_together() {
    let baseline = condition("baseline", 400, 0.7, 1.0, 1);
    let ablated = condition("zero_ablate", 400, 0.4, 2.0, 2);
    let summary = summarize_condition(&baseline, 0.95).unwrap();
    assert_eq!(summary.condition, "baseline");
    assert_eq!(
        summary.top1_accuracy,
        proportion_with_ci(baseline.correct_top1(), 0.95).unwrap()
    );
    assert_eq!(
        summary.cross_entropy,
        nonnegative_mean_with_ci(baseline.cross_entropy(), 0.95).unwrap()
    );
    // Away from zero, that is the plain t interval.
    assert_eq!(
        summary.cross_entropy.ci,
        mean_with_ci(baseline.cross_entropy(), 0.95).unwrap().ci
    );
    assert!(summary.kl_from_baseline.is_some());

    let comparison = compare_conditions(&baseline, &ablated, 0.95).unwrap();
    assert_eq!(
        (comparison.a.as_str(), comparison.b.as_str()),
        ("baseline", "zero_ablate")
    );
    assert_eq!(
        comparison.top1_accuracy,
        compare_binary(baseline.correct_top1(), ablated.correct_top1(), 0.95).unwrap()
    );
    assert_eq!(
        comparison.cross_entropy,
        compare_means(baseline.cross_entropy(), ablated.cross_entropy(), 0.95).unwrap()
    );
    assert!(comparison.top1_accuracy.difference.point < 0.0);
    assert!(comparison.top1_accuracy.mcnemar.p_value < 1e-6);

    let boot =
        PairedBootstrap::from_conditions(&[baseline, ablated], BootstrapConfig::default()).unwrap();
    assert_eq!(boot.columns().len(), 8);
    assert_eq!(boot.n_images(), 400);
    let difference = boot
        .difference(Metric::Top1Accuracy, "baseline", "zero_ablate")
        .unwrap();
    assert!((difference.point - comparison.top1_accuracy.difference.point).abs() < 1e-12);
    assert!(boot.mean("zero_ablate", Metric::KlFromBaseline).is_ok());
}

/// Structural equality of two JSON values, numbers equal to 1e-15 relative
/// (serde_json's default float parser can differ from the printed value in
/// the last bit).
fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-15 * x.abs().max(y.abs()), "{x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).for_each(|(x, y)| assert_json_close(x, y));
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
            x.values()
                .zip(y.values())
                .for_each(|(x, y)| assert_json_close(x, y));
        }
        _ => assert_eq!(a, b),
    }
}

#[test]
fn results_serialise_with_point_bounds_level_and_method() {
    let boot = PairedBootstrap::from_columns(loss_columns(200, 12), with_seed(1)).unwrap();
    let result = boot
        .fraction_recovered(Metric::CrossEntropy, "replacement", "ablation", "baseline")
        .unwrap();
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["metric"], "cross_entropy");
    assert_eq!(json["status"]["status"], "defined");
    assert_eq!(json["fraction"]["method"], "bootstrap_bca");
    assert_eq!(json["fraction"]["ci"]["level"], 0.95);
    assert!(json["fraction"]["point"].is_f64());
    assert!(json["fraction"]["ci"]["lo"].is_f64() && json["fraction"]["ci"]["hi"].is_f64());
    let back: aann_stats::FractionRecovered = serde_json::from_value(json.clone()).unwrap();
    assert_json_close(&serde_json::to_value(&back).unwrap(), &json);

    let comparison = compare_conditions(
        &condition("a", 100, 0.6, 1.0, 3),
        &condition("b", 100, 0.5, 1.1, 4),
        0.9,
    )
    .unwrap();
    let text = serde_json::to_string(&comparison).unwrap();
    assert!(text.contains("\"newcombe_paired_hybrid_score\""));
    assert!(text.contains("\"paired_student_t\""));
    let back: aann_stats::ConditionComparison = serde_json::from_str(&text).unwrap();
    assert_json_close(
        &serde_json::to_value(&back).unwrap(),
        &serde_json::to_value(&comparison).unwrap(),
    );

    let undefined = FractionStatus::Undefined {
        reason: "why".to_string(),
    };
    assert_eq!(
        serde_json::to_string(&undefined).unwrap(),
        r#"{"status":"undefined","reason":"why"}"#
    );
    assert_eq!(Metric::REPORT_ORDER[0], Metric::CrossEntropy);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    for level in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            wilson_interval(1, 2, level),
            Err(StatsError::InvalidLevel(_))
        ));
        assert!(matches!(
            mean_with_ci(&[1.0, 2.0], level),
            Err(StatsError::InvalidLevel(_))
        ));
        assert!(matches!(
            compare_binary(&[true], &[false], level),
            Err(StatsError::InvalidLevel(_))
        ));
    }
    assert!(matches!(
        wilson_interval(0, 0, 0.95),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        wilson_interval(3, 2, 0.95),
        Err(StatsError::SuccessesExceedTrials {
            successes: 3,
            trials: 2
        })
    ));
    assert!(matches!(
        proportion_with_ci(&[], 0.95),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        mean_with_ci(&[], 0.95),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        mean_with_ci(&[1.0], 0.95),
        Err(StatsError::TooFewObservations { .. })
    ));
    assert!(matches!(
        mean_with_ci(&[1.0, f64::NAN], 0.95),
        Err(StatsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        compare_binary(&[true, false], &[true], 0.95),
        Err(StatsError::LengthMismatch {
            left: 2,
            right: 1,
            ..
        })
    ));
    assert!(matches!(
        compare_binary(&[], &[], 0.95),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        compare_means(&[1.0, 2.0], &[1.0, 2.0, 3.0], 0.95),
        Err(StatsError::LengthMismatch { .. })
    ));

    assert!(matches!(
        ConditionOutcomes::new("x", vec![true], vec![false], vec![0.1], None),
        Err(StatsError::Top1NotInTop5 { index: 0, .. })
    ));
    assert!(matches!(
        ConditionOutcomes::new("x", vec![true, false], vec![true], vec![0.1, 0.2], None),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ConditionOutcomes::new("x", vec![true], vec![true], vec![f64::INFINITY], None),
        Err(StatsError::NonFinite { .. })
    ));
    assert!(matches!(
        ConditionOutcomes::new("x", vec![], vec![], vec![], None),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        ConditionOutcomes::new("x", vec![true], vec![true], vec![0.1], Some(vec![])),
        Err(StatsError::LengthMismatch { .. })
    ));

    let few = BootstrapConfig {
        resamples: MIN_RESAMPLES - 1,
        ..BootstrapConfig::default()
    };
    assert!(matches!(
        PairedBootstrap::from_columns(loss_columns(10, 0), few),
        Err(StatsError::TooFewResamples { .. })
    ));
    let bad_level = BootstrapConfig {
        level: 1.0,
        ..BootstrapConfig::default()
    };
    assert!(matches!(
        PairedBootstrap::from_columns(loss_columns(10, 0), bad_level),
        Err(StatsError::InvalidLevel(_))
    ));
    assert!(matches!(
        PairedBootstrap::from_columns(Vec::new(), BootstrapConfig::default()),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        PairedBootstrap::from_columns(loss_columns(1, 0), BootstrapConfig::default()),
        Err(StatsError::TooFewObservations { .. })
    ));
    let mut ragged = loss_columns(10, 0);
    ragged[2].1.pop();
    assert!(matches!(
        PairedBootstrap::from_columns(ragged, BootstrapConfig::default()),
        Err(StatsError::LengthMismatch { .. })
    ));
    let mut duplicated = loss_columns(10, 0);
    duplicated[2].0 = duplicated[1].0.clone();
    assert!(matches!(
        PairedBootstrap::from_columns(duplicated, BootstrapConfig::default()),
        Err(StatsError::DuplicateCondition(_))
    ));
    let twice = [
        condition("same", 10, 0.5, 1.0, 1),
        condition("same", 10, 0.5, 1.0, 2),
    ];
    assert!(matches!(
        PairedBootstrap::from_conditions(&twice, BootstrapConfig::default()),
        Err(StatsError::DuplicateCondition(_))
    ));

    let boot =
        PairedBootstrap::from_columns(loss_columns(10, 0), BootstrapConfig::default()).unwrap();
    assert!(matches!(
        boot.mean("nope", Metric::CrossEntropy),
        Err(StatsError::UnknownCondition(_))
    ));
    assert!(matches!(
        boot.fraction_recovered(Metric::Top1Accuracy, "replacement", "ablation", "baseline"),
        Err(StatsError::MissingMetric { .. })
    ));

    assert!(matches!(
        empirical_p_value(1.0, &[], Alternative::Greater),
        Err(StatsError::Empty { .. })
    ));
    assert!(matches!(
        empirical_p_value(f64::NAN, &[1.0], Alternative::Greater),
        Err(StatsError::NonFiniteObserved(_))
    ));
    assert!(matches!(
        empirical_p_value(1.0, &[1.0, f64::NAN], Alternative::Less),
        Err(StatsError::NonFinite { .. })
    ));
    for (n, size, k, exclude) in [
        (10, 0, 5, vec![]),
        (10, 3, 0, vec![]),
        (10, 3, 5, vec![10]),
        (5, 4, 2, vec![0, 1]),
    ] {
        assert!(matches!(
            random_channel_sets(n, size, k, 0, &exclude),
            Err(StatsError::InvalidChannelSets(_))
        ));
    }
}

#[test]
fn empirical_p_value_matches_hand_counts() {
    // Null 1, 2, …, 99 (k = 99).
    let null: Vec<f64> = (1..=99).map(f64::from).collect();
    // Larger than every null draw: the smallest attainable p, 1/(k + 1).
    let top = empirical_p_value(99.5, &null, Alternative::Greater).unwrap();
    assert_eq!(top.as_or_more_extreme, 0);
    assert!((top.p_value - 0.01).abs() < 1e-15);
    assert!((top.percentile - 100.0).abs() < 1e-12);
    // Observed 50: 50 draws are >= 50, so p = 51/100; 50 draws are <= 50.
    let middle = empirical_p_value(50.0, &null, Alternative::Greater).unwrap();
    assert_eq!(middle.as_or_more_extreme, 50);
    assert!((middle.p_value - 0.51).abs() < 1e-15);
    let less = empirical_p_value(50.0, &null, Alternative::Less).unwrap();
    assert!((less.p_value - 0.51).abs() < 1e-15);
    // Percentile with the tie counted half: (49 + 0.5)/99.
    assert!((middle.percentile - 100.0 * 49.5 / 99.0).abs() < 1e-12);
    // Two-sided: twice the smaller tail, capped at 1.
    let two = empirical_p_value(3.0, &null, Alternative::TwoSided).unwrap();
    assert_eq!(two.as_or_more_extreme, 3);
    assert!((two.p_value - 2.0 * 4.0 / 100.0).abs() < 1e-15);
    let capped = empirical_p_value(50.0, &null, Alternative::TwoSided).unwrap();
    assert_eq!(capped.p_value, 1.0);
    assert!((middle.null_mean - 50.0).abs() < 1e-12);
    assert_eq!((middle.null_min, middle.null_max), (1.0, 99.0));
    assert!(
        empirical_p_value(1.0, &[2.0], Alternative::Less)
            .unwrap()
            .null_sd
            .is_none()
    );
}

#[test]
fn random_channel_sets_are_seeded_sorted_distinct_and_respect_exclusions() {
    let exclude = [3, 7, 7, 11];
    let sets = random_channel_sets(64, 8, 200, 42, &exclude).unwrap();
    assert_eq!(sets.len(), 200);
    for set in &sets {
        assert_eq!(set.len(), 8);
        assert!(
            set.windows(2).all(|w| w[0] < w[1]),
            "sorted and distinct: {set:?}"
        );
        assert!(set.iter().all(|&c| c < 64 && !exclude.contains(&c)));
    }
    assert_eq!(sets, random_channel_sets(64, 8, 200, 42, &exclude).unwrap());
    // Set i does not depend on how many sets are drawn.
    assert_eq!(
        sets[..50],
        random_channel_sets(64, 8, 50, 42, &exclude).unwrap()[..]
    );
    assert_ne!(sets, random_channel_sets(64, 8, 200, 43, &exclude).unwrap());
    // Exactly the available channels when the set is as large as possible.
    let all = random_channel_sets(5, 3, 1, 0, &[1, 3]).unwrap();
    assert_eq!(all, vec![vec![0, 2, 4]]);
}

/// Uniformity of the sets: each of the 61 available channels should appear in
/// 8/61 of the sets. Pearson's chi-square over channels with 60 degrees of
/// freedom (ignoring the weak negative dependence within a set, which only
/// lowers the statistic) must stay below the 0.999 quantile, 99.61.
#[test]
fn random_channel_sets_are_uniform_over_available_channels() {
    let exclude = [3, 7, 11];
    let k = 6000;
    let sets = random_channel_sets(64, 8, k, 5, &exclude).unwrap();
    let mut counts = [0usize; 64];
    for set in &sets {
        for &c in set {
            counts[c] += 1;
        }
    }
    let expected = (k * 8) as f64 / 61.0;
    let chi_square: f64 = (0..64)
        .filter(|c| !exclude.contains(c))
        .map(|c| (counts[c] as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi_square < 99.61, "chi-square {chi_square}");
    assert!(exclude.iter().all(|&c| counts[c] == 0));
}
