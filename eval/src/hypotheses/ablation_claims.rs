//! Image claims, measured as the experiment measures: typed arms (the family ablated, or
//! replaced by its circuit) run after the baseline over a labelled test set through the one
//! runner, an ablation's paired change, and a circuit's fraction recovered from the paired
//! bootstrap — every arm found by its typed name, never by a role string.

use std::rc::Rc;
use std::sync::Arc;

use aann_data::{ClassOrder, ImageSet};
use aann_model::{ChannelSet, Intervention, Tap};
use aann_stats::{
    BootstrapConfig, BootstrapInterval, ConditionComparison, ConditionOutcomes, Estimate,
    FractionRecovered, FractionStatus, Metric, PairedBootstrap, compare_conditions,
};

use super::circuit_claims::build;
use super::context::{Context, Measured, Records, Unavailable};
use super::report::{Outcome, Status};
use super::text::{decode_failures, level_text, metric_unit};
use super::{AblationEffect, AblationKind, FractionRecoveredClaim};
use crate::evaluator::Evaluator;
use crate::experiment::check_disjoint;
use crate::lab::arm::into_conditions;
use crate::lab::{Arm, BASELINE, Feed, Session};
use crate::means::describe_set;
use crate::run::RunOptions;
use crate::spec::ImageSetSpec;
use crate::summary::outcomes_by_condition;

/// Evaluate typed arms (after the baseline) over a test set through the one runner,
/// keeping the records in memory; `note` says what the run ablated.
fn run_arms(
    ctx: &Context<'_>,
    model: &Session,
    arms: Vec<Arm>,
    (test, order): (&ImageSet, &ClassOrder),
    note: String,
) -> Result<Records, Unavailable> {
    let feed = Feed::new(model, ctx.file.model.preprocess(), ctx.batch());
    let (conditions, _) = into_conditions(arms, ctx.file.model);
    let evaluator = Evaluator::new(feed.model(), conditions)?;
    let options = RunOptions {
        progress: ctx.options.progress,
        ..Default::default()
    };
    let (records, failures) = crate::run::run_in_memory(&feed, &evaluator, test, order, &options)?;
    Ok(Records {
        records,
        names: evaluator.condition_names(),
        failures,
        note,
    })
}

/// The channels an ablation removes and the means set it reads.
struct Ablated<'s> {
    kind: AblationKind,
    tap: Tap,
    channels: &'s ChannelSet,
    means: &'s ImageSetSpec,
}

/// The ablation's arm (zero: the channels set to 0; mean: to their means over the means
/// set, which must share no image with `test`) and the ablation in words.
fn ablation_arm(
    ctx: &mut Context<'_>,
    model: &Session,
    a: &Ablated<'_>,
    test: &ImageSet,
) -> Result<(Arm, String), Unavailable> {
    let (intervention, note) = match a.kind {
        AblationKind::Zero => (Intervention::ZeroAblate, "zero-ablation".to_string()),
        AblationKind::Mean => {
            let set = ctx.image_set(a.means, "means", false)?;
            check_disjoint(("means", &set), ("test", test))?;
            let stats = ctx.stats_on(model, a.tap, a.means, "means")?;
            (
                Intervention::MeanAblate(Arc::new(stats.uniform_means(model.weights_sha256()))),
                format!("mean-ablation (means over {})", describe_set(&set)),
            )
        }
    };
    let arm = Arm::ablate(a.kind.ablation(), a.tap, a.channels.clone(), intervention);
    Ok((arm, note))
}

/// The outcomes of the arm named `name`.
fn outcomes_of<'o>(
    outcomes: &'o [ConditionOutcomes],
    name: &str,
) -> Result<&'o ConditionOutcomes, Unavailable> {
    outcomes
        .iter()
        .find(|o| o.name() == name)
        .ok_or_else(|| Unavailable::Error(format!("the run has no arm `{name}`")))
}

/// The paired change of `metric` in a comparison (second condition − first).
fn metric_estimate(cmp: &ConditionComparison, metric: Metric) -> Estimate {
    match metric {
        Metric::CrossEntropy => cmp.cross_entropy.difference,
        Metric::Top1Accuracy => cmp.top1_accuracy.difference,
        Metric::Top5Accuracy => cmp.top5_accuracy.difference,
        Metric::KlFromBaseline => {
            cmp.kl_from_baseline
                .as_ref()
                .expect("both conditions have KL")
                .difference
        }
    }
}

/// The two conditions' means of `metric` (a claim's metric is never KL: validated).
fn metric_means(cmp: &ConditionComparison, metric: Metric) -> (f64, f64) {
    match metric {
        Metric::CrossEntropy => (
            cmp.cross_entropy.mean_a.point,
            cmp.cross_entropy.mean_b.point,
        ),
        Metric::Top1Accuracy => (
            cmp.top1_accuracy.proportion_a.point,
            cmp.top1_accuracy.proportion_b.point,
        ),
        _ => (
            cmp.top5_accuracy.proportion_a.point,
            cmp.top5_accuracy.proportion_b.point,
        ),
    }
}

/// Whether a change's interval lies within a claim's bounds.
fn within(e: &Estimate, min_change: Option<f64>, max_change: Option<f64>) -> bool {
    min_change.is_none_or(|m| e.ci.lo >= m) && max_change.is_none_or(|m| e.ci.hi <= m)
}

/// The tap, channels and their description an ablation claim names.
fn ablation_target(
    ctx: &Context<'_>,
    c: &AblationEffect,
) -> Result<(Tap, ChannelSet, String), Unavailable> {
    Ok(match &c.family {
        Some(f) => {
            let (family, tap) = ctx.family(f)?;
            (
                tap,
                ChannelSet::new(family.channels()),
                format!("the {} {}", family.neurons.len(), family.name),
            )
        }
        None => {
            let tap = Tap::parse(c.tap.as_deref().unwrap_or_default(), ctx.file.model)?;
            let set = ChannelSet::new(c.channels.clone().unwrap_or_default());
            let what = format!("channels {set}");
            (tap, set, what)
        }
    })
}

/// The ablation run a claim reads: shared by the claims on other metrics of the same
/// ablation (tap, channels, kind, test and means sets).
fn ablation_run(
    ctx: &mut Context<'_>,
    model: &Session,
    c: &AblationEffect,
    (tap, channels): (Tap, &ChannelSet),
    (test, order): (&ImageSet, &ClassOrder),
) -> Result<Rc<Records>, Unavailable> {
    let means = c.means.clone().unwrap_or(ImageSetSpec {
        images: "imagenet-val/images".into(),
        labels: None,
        skip: 0,
        limit: 100,
    });
    let key = format!(
        "{}|{channels}|{:?}|{:?}|{:?}",
        tap.name(ctx.file.model),
        c.ablation,
        c.test,
        means
    );
    if let Some(r) = ctx.ablations.get(&key) {
        return Ok(r.clone());
    }
    let ablated = Ablated {
        kind: c.ablation,
        tap,
        channels,
        means: &means,
    };
    let (arm, note) = ablation_arm(ctx, model, &ablated, test)?;
    let run = Rc::new(run_arms(ctx, model, vec![arm], (test, order), note)?);
    ctx.ablations.insert(key, run.clone());
    Ok(run)
}

pub(super) fn ablation_effect(ctx: &mut Context<'_>, c: &AblationEffect, thr: &str) -> Measured {
    let model = ctx.model()?;
    let (tap, channels, what) = ablation_target(ctx, c)?;
    let order = ctx.class_order()?;
    let test = ctx.image_set(&c.test, "test", true)?;
    let run = ablation_run(ctx, &model, c, (tap, &channels), (&test, &order))?;
    let (images, outcomes) = outcomes_by_condition(&run.records, &run.names)?;
    if images.len() < 2 {
        return Err(Unavailable::Error(format!(
            "only {} labelled image(s) of the test set could be evaluated",
            images.len()
        )));
    }
    let ablated = outcomes_of(&outcomes, c.ablation.ablation().arm_name())?;
    let cmp = compare_conditions(outcomes_of(&outcomes, BASELINE)?, ablated, c.level)?;
    let e = metric_estimate(&cmp, c.metric);
    let (base, abl) = metric_means(&cmp, c.metric);
    Ok(Outcome::judged(
        within(&e, c.min_change, c.max_change),
        e.point,
        metric_unit(c.metric),
        thr,
        format!(
            "{} of {what} at {}: {} {base:.4} → {abl:.4}, change {:+.4} [{:+.4}, {:+.4}] ({} {}) on {} images of {}{}",
            run.note,
            tap.name(ctx.file.model),
            c.metric,
            e.point,
            e.ci.lo,
            e.ci.hi,
            level_text(c.level),
            e.method.description(),
            images.len(),
            test.source(),
            decode_failures(run.failures)
        ),
    ))
}

pub(super) fn fraction_recovered(
    ctx: &mut Context<'_>,
    c: &FractionRecoveredClaim,
    thr: &str,
) -> Measured {
    let model = ctx.model()?;
    let fields = c.circuit.as_ref().expect("parsed");
    let order = ctx.class_order()?;
    let test = ctx.image_set(&c.test, "test", true)?;
    let tune_set = ctx.image_set(&c.tune, "tune", false)?;
    check_disjoint(("tune", &tune_set), ("test", &test))?;
    let built = build(ctx, &model, fields, &c.tune, &c.tune)?;
    let channels = ChannelSet::new(built.replacement.mapping.channels.clone());
    let ablated = Ablated {
        kind: c.relative_to,
        tap: built.tap,
        channels: &channels,
        means: &c.tune,
    };
    let (ablate, note) = ablation_arm(ctx, &model, &ablated, &test)?;
    let arms = vec![ablate, built.arm()];
    let run = run_arms(ctx, &model, arms, (&test, &order), note)?;
    let (images, outcomes) = outcomes_by_condition(&run.records, &run.names)?;
    let boot = PairedBootstrap::from_conditions(
        &outcomes,
        BootstrapConfig {
            resamples: c.resamples,
            seed: c.seed,
            level: c.level,
            interval: BootstrapInterval::Bca,
        },
    )?;
    let ablation = c.relative_to.ablation().arm_name();
    let f = boot.fraction_recovered(c.metric, &built.arm_name, ablation, BASELINE)?;
    let context = format!(
        "{} images of {}{}; {} of the {} {}; {}",
        images.len(),
        test.source(),
        decode_failures(run.failures),
        run.note,
        channels.len(),
        built.family_name,
        built.note
    );
    Ok(judge_fraction(&f, c, thr, &context))
}

/// A fraction recovered against the claim's lower bound; undefined fractions fail.
fn judge_fraction(
    f: &FractionRecovered,
    c: &FractionRecoveredClaim,
    thr: &str,
    context: &str,
) -> Outcome {
    let gap = format!(
        "m_B − m_A = {:+.4} [{:+.4}, {:+.4}], m_R − m_A = {:+.4} [{:+.4}, {:+.4}]",
        f.denominator.point,
        f.denominator.ci.lo,
        f.denominator.ci.hi,
        f.numerator.point,
        f.numerator.ci.lo,
        f.numerator.ci.hi
    );
    match &f.fraction {
        None => Outcome {
            status: Status::Fail,
            measured: None,
            unit: "fraction".into(),
            threshold: thr.into(),
            detail: format!(
                "the fraction recovered is undefined: {}; {gap}; {context}",
                match &f.status {
                    FractionStatus::Undefined { reason } => reason.clone(),
                    FractionStatus::Defined => String::new(),
                }
            ),
        },
        Some(e) => Outcome::judged(
            e.ci.lo >= c.min_lower_bound,
            e.point,
            "fraction",
            thr,
            format!(
                "recovers {:.1}% [{:.1}%, {:.1}%] of the {} gap ({} BCa, {} resamples); {gap}; {context}",
                100.0 * e.point,
                100.0 * e.ci.lo,
                100.0 * e.ci.hi,
                c.metric,
                level_text(c.level),
                c.resamples
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes() -> Vec<ConditionOutcomes> {
        let (t, f) = (true, false);
        vec![
            ConditionOutcomes::new(
                BASELINE,
                vec![t, t, f, t],
                vec![t, t, t, t],
                vec![1.0, 2.0, 3.0, 4.0],
                None,
            )
            .unwrap(),
            ConditionOutcomes::new(
                "zero-ablate",
                vec![t, f, f, f],
                vec![t, t, f, t],
                vec![1.5, 2.5, 3.0, 5.0],
                None,
            )
            .unwrap(),
        ]
    }

    #[test]
    fn an_ablations_change_is_read_per_metric() {
        let outcomes = outcomes();
        let ablated = outcomes_of(&outcomes, AblationKind::Zero.ablation().arm_name()).unwrap();
        let base = outcomes_of(&outcomes, BASELINE).unwrap();
        let cmp = compare_conditions(base, ablated, 0.95).unwrap();
        let ce = metric_estimate(&cmp, Metric::CrossEntropy);
        assert!((ce.point - 0.5).abs() < 1e-12, "{ce:?}");
        assert!(ce.ci.lo < 0.5 && ce.ci.hi > 0.5, "{ce:?}");
        assert_eq!(metric_means(&cmp, Metric::CrossEntropy), (2.5, 3.0));
        assert!((metric_estimate(&cmp, Metric::Top1Accuracy).point + 0.5).abs() < 1e-12);
        assert_eq!(metric_means(&cmp, Metric::Top1Accuracy), (0.75, 0.25));
        assert!((metric_estimate(&cmp, Metric::Top5Accuracy).point + 0.25).abs() < 1e-12);
        assert_eq!(metric_means(&cmp, Metric::Top5Accuracy), (1.0, 0.75));
        // The bounds are on the interval, not the point.
        assert!(within(&ce, Some(ce.ci.lo), None));
        assert!(!within(&ce, Some(0.5), None));
        assert!(within(&ce, None, Some(ce.ci.hi)) && !within(&ce, None, Some(0.5)));
        let err = outcomes_of(&outcomes, "mean-ablate").unwrap_err();
        assert!(
            matches!(err, Unavailable::Error(ref m) if m == "the run has no arm `mean-ablate`")
        );
    }
}
