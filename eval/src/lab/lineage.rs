//! The lineage study, one level down: the family the target's circuits read (the early
//! curves of inception_3a, under the curve detectors of inception_3b) is taken out and
//! rebuilt by its own hand-written circuit, alone and together with the target family.
//! With the target's circuits stacked on the lower circuit, the curve detectors are
//! computed from artificial early curves: the lineage from pixels, level by level.

use std::path::Path;
use std::sync::Arc;

use aann_circuits::CircuitReplacement;
use aann_model::{ChannelSet, Edit, Intervention, Tap, Variant};

use super::arm::{Arm, Removal};
use super::feed::Feed;
use super::replace::{FitSets, build_replacement};
use crate::EvalError;
use crate::spec::LineageSpec;

/// The lineage arms, and which arm each replacement is measured against.
pub struct Lineage {
    pub arms: Vec<Arm>,
    /// `(arm, reference)`: an arm with replacements against the arm that zero-ablates the
    /// same families.
    pub pairs: Vec<(String, String)>,
    /// The lower family's replacement (its mapping and calibration go in the results).
    pub replacement: Arc<CircuitReplacement>,
    /// Where the lower family lives, and the arm that replaces it alone (whose units are
    /// compared with the natural lower neurons).
    pub lower_tap: Tap,
    pub lower_arm: String,
    /// The arms with both levels replaced, one per `under` circuit, in order: compared
    /// with each other image by image.
    pub stacked: Vec<String>,
}

/// A circuit of the experiment that the lineage may stack on the lower circuit.
pub struct UpperCircuit<'a> {
    /// The name in the spec (`upstream-echo`, or the circuit's own name).
    pub name: String,
    /// Its arm (`replace-…`).
    pub arm: String,
    pub replacement: &'a Arc<CircuitReplacement>,
}

/// The circuit of `circuits` named `wanted` (by name or arm); `role` names the spec key
/// that asked for it in the error.
pub fn find_circuit<'c, 'a>(
    circuits: &'c [UpperCircuit<'a>],
    wanted: &str,
    role: &str,
) -> Result<&'c UpperCircuit<'a>, EvalError> {
    circuits
        .iter()
        .find(|c| c.name == wanted || c.arm == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = circuits.iter().map(|c| c.name.as_str()).collect();
            EvalError::Spec(format!(
                "{role}: no circuit `{wanted}` in [[circuits]]; the circuits are: {}",
                names.join(", ")
            ))
        })
}

/// The circuit of `circuits` named `wanted`, which must read `lower_tap` for the lower
/// circuit stacked under it to feed it.
fn upper_circuit<'c, 'a>(
    circuits: &'c [UpperCircuit<'a>],
    wanted: &str,
    lower_tap: Tap,
    variant: Variant,
) -> Result<&'c UpperCircuit<'a>, EvalError> {
    let upper = find_circuit(circuits, wanted, "lineage.under")?;
    if !upper.replacement.circuit.reads().contains(&lower_tap) {
        return Err(EvalError::Spec(format!(
            "lineage.under: `{wanted}` does not read {}, so stacking it on the lower circuit would not feed it the artificial units",
            lower_tap.name(variant)
        )));
    }
    Ok(upper)
}

/// Build the lineage arms of `spec` under the target family (`target_tap`,
/// `target_channels`); the lower circuit is fitted on `fit` like the experiment's circuits.
pub fn lineage_arms(
    feed: &Feed<'_>,
    spec: &LineageSpec,
    repo: &Path,
    fit: FitSets<'_>,
    (target_tap, target_channels): (Tap, &ChannelSet),
    circuits: &[UpperCircuit<'_>],
) -> Result<Lineage, EvalError> {
    let session = feed.session;
    let variant = session.variant();
    let lower = session.family(&repo.join(&spec.family), "lineage.family")?;
    let lower_tap = lower.tap()?;
    if lower_tap.order() >= target_tap.order() {
        return Err(EvalError::Spec(format!(
            "lineage.family: {} lives at {}, which is not below the target's {}",
            spec.family,
            lower_tap.name(variant),
            target_tap.name(variant)
        )));
    }
    let replacement = build_replacement(feed, &spec.circuit, &lower, repo, fit)?;
    if let Some(read) = replacement
        .circuit
        .reads()
        .into_iter()
        .find(|t| t.order() >= lower_tap.order())
    {
        return Err(EvalError::Spec(format!(
            "lineage.circuit: `{}` reads {}, which is not below the family it replaces ({})",
            replacement.circuit.name(),
            read.name(variant),
            lower_tap.name(variant)
        )));
    }
    let lower_channels = ChannelSet::new(replacement.mapping.channels.clone());
    let zero = |tap: Tap, channels: ChannelSet| Edit {
        tap,
        channels,
        intervention: Intervention::ZeroAblate,
    };
    let replace = |tap: Tap, r: &Arc<CircuitReplacement>| Edit {
        tap,
        channels: ChannelSet::new(r.mapping.channels.clone()),
        intervention: Intervention::Replace(r.clone()),
    };
    let lower_circuit = Removal::Replaced {
        by: replacement.circuit.name(),
    };
    let name = &spec.name;
    let lower_zero = format!("{name}-zero-ablate");
    let lower_replaced = format!("{name}-{}", spec.circuit.condition_name(session.circuits()));
    let both_zero = format!("{name}-and-target-zero-ablate");
    let mut arms = vec![
        Arm::lineage(
            &lower_zero,
            Removal::ZeroAblated,
            None,
            vec![zero(lower_tap, lower_channels.clone())],
        ),
        Arm::lineage(
            &lower_replaced,
            lower_circuit.clone(),
            None,
            vec![replace(lower_tap, &replacement)],
        ),
        Arm::lineage(
            &both_zero,
            Removal::ZeroAblated,
            Some(Removal::ZeroAblated),
            vec![
                zero(lower_tap, lower_channels.clone()),
                zero(target_tap, target_channels.clone()),
            ],
        ),
    ];
    let mut pairs = vec![(lower_replaced.clone(), lower_zero)];
    let mut stacked = Vec::new();
    for wanted in &spec.under {
        let upper = upper_circuit(circuits, wanted, lower_tap, variant)?;
        let arm = format!("{name}-and-{}", upper.arm);
        arms.push(Arm::lineage(
            &arm,
            lower_circuit.clone(),
            Some(Removal::Replaced {
                by: upper.arm.clone(),
            }),
            vec![
                replace(lower_tap, &replacement),
                replace(target_tap, upper.replacement),
            ],
        ));
        pairs.push((arm.clone(), both_zero.clone()));
        stacked.push(arm);
    }
    Ok(Lineage {
        arms,
        pairs,
        replacement,
        lower_tap,
        lower_arm: lower_replaced,
        stacked,
    })
}
