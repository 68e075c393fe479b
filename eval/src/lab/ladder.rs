//! The ladder from pixels: the families below the target (Gabors, lines, early curves…),
//! each taken out and rebuilt by its own hand-written circuit, alone and stacked from the
//! bottom.
//!
//! Each level alone — everything else natural — is measured against its own zero- and
//! mean-ablation and against its circuit's honest controls (the same units deranged over
//! the neurons, and turned a quarter-turn, each refitted per neuron). Then the stack: the
//! lowest two levels replaced together, the lowest three, …, and, with `top`, the target
//! family too (by one of the experiment's circuits), each against the zero-ablation of
//! the same families. Where the stack loses most is the step, level by level, of the
//! replaced stack's loss: the waterfall.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::{CircuitReplacement, UnitMapping};
use aann_data::ImageSet;
use aann_model::{ChannelSet, Edit, Family, Intervention, Tap};

use super::arm::{Arm, ArmKind, Removal};
use super::controls::{Control, ControlFit, shuffled_control};
use super::feed::Feed;
use super::lineage::UpperCircuit;
use super::replace::{FitSets, build_replacement_with_data, remapped};
use crate::EvalError;
use crate::means::stats;
use crate::spec::LadderSpec;

/// How one level is taken out in a ladder arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRemoval {
    /// The level's name (`target` for the experiment's own family).
    pub level: String,
    #[serde(flatten)]
    pub how: Removal,
}

/// One level of the ladder, built.
pub struct Level {
    pub name: String,
    pub tap: Tap,
    /// The family file, as the spec names it.
    pub family_file: String,
    pub family: Family,
    pub channels: ChannelSet,
    pub replacement: Arc<CircuitReplacement>,
    /// The arm replacing this level alone.
    pub arm: String,
    /// Its zero-ablation alone.
    pub zero_arm: String,
}

/// Every arm of the ladder, and how they are compared.
pub struct Ladder {
    pub arms: Vec<Arm>,
    pub levels: Vec<Level>,
    /// `(arm, reference)`: fractions recovered, each against the ablation of the same
    /// families.
    pub pairs: Vec<(String, String)>,
    /// `(circuit arm, other)`: a level's circuit against its ablations and controls,
    /// image by image.
    pub versus: Vec<(String, String)>,
    /// The replaced stack, bottom up: the lowest level alone, then each stack with one
    /// more level (the waterfall's steps).
    pub stack: Vec<String>,
}

/// The name the target family goes by in a ladder's arms.
pub const TARGET: &str = "target";

fn edit(tap: Tap, channels: &ChannelSet, intervention: Intervention) -> Edit {
    Edit {
        tap,
        channels: channels.clone(),
        intervention,
    }
}

fn ladder_arm(name: &str, removed: Vec<(String, Removal, Edit)>) -> Arm {
    let (kinds, edits): (Vec<LevelRemoval>, Vec<Edit>) = removed
        .into_iter()
        .map(|(level, how, e)| (LevelRemoval { level, how }, e))
        .unzip();
    Arm::with_kind(name, ArmKind::Ladder { removed: kinds }, edits)
}

/// Build the ladder of `spec`, its circuits fitted on `fit` like the experiment's own;
/// `top` is the experiment's circuit stacked on the levels for the target family; the
/// mean-ablations take the channel means of `means_set` (the tune split), the controls'
/// shuffles are seeded by `seed`.
pub fn ladder_arms(
    feed: &Feed<'_>,
    spec: &LadderSpec,
    repo: &Path,
    fit: FitSets<'_>,
    (target_tap, target_channels): (Tap, &ChannelSet),
    top: Option<&UpperCircuit<'_>>,
    (means_set, seed): (&ImageSet, u64),
) -> Result<Ladder, EvalError> {
    let session = feed.session;
    let variant = session.variant();
    if spec.levels.is_empty() {
        return Err(EvalError::Spec(
            "ladder.levels: a ladder has at least one level".into(),
        ));
    }
    let mut levels: Vec<Level> = Vec::new();
    let mut arms = Vec::new();
    let mut pairs = Vec::new();
    let mut versus = Vec::new();
    for l in &spec.levels {
        if l.name == TARGET || levels.iter().any(|o| o.name == l.name) {
            return Err(EvalError::Spec(format!(
                "ladder.levels: the name `{}` is taken (names are unique, and `{TARGET}` is \
                 the experiment's family)",
                l.name
            )));
        }
        let role = format!("ladder level `{}`", l.name);
        let family = session.family(&repo.join(&l.family), &role)?;
        let tap = family.tap()?;
        if tap.order() >= target_tap.order() {
            return Err(EvalError::Spec(format!(
                "{role}: {} lives at {}, which is not below the target's {}",
                l.family,
                tap.name(variant),
                target_tap.name(variant)
            )));
        }
        if let Some(below) = levels.last()
            && below.tap.order() > tap.order()
        {
            return Err(EvalError::Spec(format!(
                "{role}: levels go from the bottom up, but {} is below the level before it ({} at {})",
                tap.name(variant),
                below.name,
                below.tap.name(variant)
            )));
        }
        let mut sorted: Vec<usize> = family.neurons.iter().map(|n| n.channel).collect();
        sorted.sort_unstable();
        let channels = ChannelSet::new(sorted);
        // Two levels that share a channel would overwrite each other in a stack.
        let shared_with = |other_tap: Tap, other: &ChannelSet| -> Vec<usize> {
            if other_tap != tap {
                return Vec::new();
            }
            let others: std::collections::HashSet<usize> =
                other.as_slice().iter().copied().collect();
            channels
                .as_slice()
                .iter()
                .copied()
                .filter(|c| others.contains(c))
                .collect()
        };
        for (other, other_tap, other_channels) in levels
            .iter()
            .map(|o| (o.name.as_str(), o.tap, &o.channels))
            .chain(std::iter::once((TARGET, target_tap, target_channels)))
        {
            let shared = shared_with(other_tap, other_channels);
            if !shared.is_empty() {
                return Err(EvalError::Spec(format!(
                    "{role}: channels {shared:?} of {} are also in `{other}`; the levels of a \
                     ladder are disjoint families, so that a stack replaces each channel once",
                    tap.name(variant)
                )));
            }
        }
        let (replacement, data) =
            build_replacement_with_data(feed, &l.circuit, &family, repo, fit)?;
        debug_assert_eq!(replacement.mapping.channels.as_slice(), channels.as_slice());
        let label = l.circuit.condition_name(session.circuits());
        let arm = format!("{}-{label}", l.name);
        let zero_arm = format!("{}-zero-ablate", l.name);
        let mean_arm = format!("{}-mean-ablate", l.name);
        let means = stats(feed, means_set, tap)?.uniform_means(session.weights_sha256());
        let alone = |how: Removal, intervention: Intervention| {
            vec![(l.name.clone(), how, edit(tap, &channels, intervention))]
        };
        arms.push(ladder_arm(
            &zero_arm,
            alone(Removal::ZeroAblated, Intervention::ZeroAblate),
        ));
        arms.push(ladder_arm(
            &mean_arm,
            alone(
                Removal::MeanAblated,
                Intervention::MeanAblate(Arc::new(means)),
            ),
        ));
        arms.push(ladder_arm(
            &arm,
            alone(
                Removal::Replaced {
                    by: replacement.circuit.name(),
                },
                Intervention::Replace(replacement.clone()),
            ),
        ));
        pairs.push((arm.clone(), zero_arm.clone()));
        pairs.push((arm.clone(), mean_arm.clone()));
        versus.push((arm.clone(), zero_arm.clone()));
        versus.push((arm.clone(), mean_arm.clone()));
        // The honest controls: the same units on the wrong neurons, refitted per neuron.
        let mut wrong = vec![(
            Control::Shuffled {
                seed,
                fit: Some(ControlFit::Refit),
            },
            shuffled_control(&replacement.mapping, seed),
        )];
        if let Some(degrees) = spec.rotation {
            let turned = UnitMapping::by_orientation_turned(
                &family,
                replacement.circuit.as_ref(),
                degrees as f64,
            )
            .map_err(EvalError::Spec)?;
            wrong.push((
                Control::Rotated {
                    degrees,
                    fit: Some(ControlFit::Refit),
                },
                turned,
            ));
        }
        for (control, mapping) in wrong {
            let name = control.arm_name(&arm);
            let r = remapped(&replacement, mapping, &data, ControlFit::Refit);
            arms.push(ladder_arm(
                &name,
                alone(
                    Removal::Controlled {
                        control,
                        of: arm.clone(),
                    },
                    Intervention::Replace(r),
                ),
            ));
            pairs.push((name.clone(), zero_arm.clone()));
            versus.push((arm.clone(), name));
        }
        levels.push(Level {
            name: l.name.clone(),
            tap,
            family_file: l.family.clone(),
            family,
            channels,
            replacement,
            arm,
            zero_arm,
        });
    }
    // The stacks, from the bottom.
    let mut stack = vec![levels[0].arm.clone()];
    let removal = |level: &Level, replaced: bool| {
        if replaced {
            (
                level.name.clone(),
                Removal::Replaced {
                    by: level.replacement.circuit.name(),
                },
                edit(
                    level.tap,
                    &level.channels,
                    Intervention::Replace(level.replacement.clone()),
                ),
            )
        } else {
            (
                level.name.clone(),
                Removal::ZeroAblated,
                edit(level.tap, &level.channels, Intervention::ZeroAblate),
            )
        }
    };
    let mut add_stack = |name: &str, extra: Option<(Removal, Edit, Edit)>, upto: usize| {
        let zero_name = format!("up-to-{name}-zero-ablate");
        let replace_name = format!("up-to-{name}-replace");
        let mut zero: Vec<_> = levels[..upto].iter().map(|l| removal(l, false)).collect();
        let mut replaced: Vec<_> = levels[..upto].iter().map(|l| removal(l, true)).collect();
        if let Some((how, zero_edit, replace_edit)) = extra {
            zero.push((TARGET.into(), Removal::ZeroAblated, zero_edit));
            replaced.push((TARGET.into(), how, replace_edit));
        }
        arms.push(ladder_arm(&zero_name, zero));
        arms.push(ladder_arm(&replace_name, replaced));
        pairs.push((replace_name.clone(), zero_name));
        stack.push(replace_name);
    };
    for k in 2..=levels.len() {
        add_stack(&levels[k - 1].name, None, k);
    }
    if let Some(top) = top {
        // The top is fed by the hand-written levels: it reads the image or a level's tap.
        let reads = top.replacement.circuit.reads();
        if !reads.contains(&Tap::INPUT) && !levels.iter().any(|l| reads.contains(&l.tap)) {
            return Err(EvalError::Spec(format!(
                "ladder.top: `{}` reads neither the image nor a level of the ladder",
                top.name
            )));
        }
        add_stack(
            TARGET,
            Some((
                Removal::Replaced {
                    by: top.arm.clone(),
                },
                edit(target_tap, target_channels, Intervention::ZeroAblate),
                edit(
                    target_tap,
                    target_channels,
                    Intervention::Replace(top.replacement.clone()),
                ),
            )),
            levels.len(),
        );
    }
    Ok(Ladder {
        arms,
        levels,
        pairs,
        versus,
        stack,
    })
}
