//! Arms: the conditions of an experiment, typed. An arm says what it is (the baseline, an
//! ablation of a given kind, a circuit replacement, a null set) so that statistics,
//! reports and claims never recognise a role from a condition's name.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::CircuitReplacement;
use aann_model::{ChannelSet, Condition, Edit, Intervention, Tap, Variant};

/// The unmodified network's arm name in records and reports: every experiment's first arm.
pub const BASELINE: &str = "baseline";

/// How a family's channels are removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ablation {
    /// Set to zero.
    Zero,
    /// Set to the channel's mean over the tune split (spatially uniform).
    Mean,
    /// Taken from another image (seeded).
    Resample,
}

impl Ablation {
    /// The arm's name in records and reports.
    pub fn arm_name(self) -> &'static str {
        match self {
            Ablation::Zero => "zero-ablate",
            Ablation::Mean => "mean-ablate",
            Ablation::Resample => "resample-ablate",
        }
    }
}

/// What an arm is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArmKind {
    /// The unmodified network.
    Baseline,
    /// The family ablated.
    Ablate { ablation: Ablation },
    /// The family replaced by a hand-written circuit.
    Replace { circuit: String },
    /// A control of a circuit (`of`: the replacement arm it controls; none for the relay,
    /// which controls every circuit).
    Control {
        #[serde(flatten)]
        control: super::Control,
        of: Option<String>,
    },
    /// A random channel set of the family's size, zero-ablated (the null distribution).
    NullSet { index: usize },
    /// A shuffle of a circuit's unit mapping (the replacement null), calibrated as `fit`
    /// says (none in results written before the two calibrations existed).
    MappingNull {
        of: String,
        index: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fit: Option<super::ControlFit>,
    },
    /// The lineage study: the family one level down (the one the circuits read, e.g. the
    /// early curves of inception_3a) removed, alone (`upper` none) or together with the
    /// target family. Its fractions are taken against the arm with both removals
    /// zero-ablated, never against the target's own ablation.
    Lineage {
        lower: Removal,
        upper: Option<Removal>,
    },
    /// The ladder from pixels: families below the target (and, at the top of a stack, the
    /// target) each removed. Its fractions are taken against the arm that zero-ablates
    /// (or mean-ablates) the same families.
    Ladder {
        removed: Vec<super::ladder::LevelRemoval>,
    },
    /// One neuron of the target family removed alone (a single-neuron card). Its fractions
    /// are taken against that neuron's own zero-ablation.
    Neuron { channel: usize, how: Removal },
}

/// How a family is taken out in a lineage or ladder arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Removal {
    ZeroAblated,
    /// Set to its channel means over the tune split.
    MeanAblated,
    /// Computed by a circuit instead (for the target family: the circuit arm `by`, fed the
    /// lower family's artificial units).
    Replaced {
        by: String,
    },
    /// Computed by a control of the circuit arm `of` (its units on the wrong neurons).
    Controlled {
        control: super::Control,
        of: String,
    },
}

impl Removal {
    pub fn is_replaced(&self) -> bool {
        matches!(self, Removal::Replaced { .. })
    }
}

impl ArmKind {
    pub fn ablation(&self) -> Option<Ablation> {
        match self {
            ArmKind::Ablate { ablation } => Some(*ablation),
            _ => None,
        }
    }

    pub fn is_replacement(&self) -> bool {
        matches!(self, ArmKind::Replace { .. })
    }
}

/// An arm as records, summaries and reports know it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmInfo {
    pub name: String,
    #[serde(flatten)]
    pub kind: ArmKind,
    /// The edits in words (tap, channels, intervention).
    pub description: String,
}

impl ArmInfo {
    pub fn baseline() -> Self {
        ArmInfo {
            name: BASELINE.into(),
            kind: ArmKind::Baseline,
            description: "none".into(),
        }
    }
}

/// An arm ready to run: what it is, and the model edits that realise it.
#[derive(Clone, Debug)]
pub struct Arm {
    pub kind: ArmKind,
    pub condition: Condition,
}

impl Arm {
    /// `channels` at `tap` ablated by `intervention` (zero, mean or resample).
    pub fn ablate(
        ablation: Ablation,
        tap: Tap,
        channels: ChannelSet,
        intervention: Intervention,
    ) -> Self {
        Arm {
            kind: ArmKind::Ablate { ablation },
            condition: Condition::new(
                ablation.arm_name(),
                vec![Edit {
                    tap,
                    channels,
                    intervention,
                }],
            ),
        }
    }

    /// The replacement's natural channels at `tap` computed by its circuit instead.
    pub fn replace(
        name: impl Into<String>,
        tap: Tap,
        replacement: Arc<CircuitReplacement>,
    ) -> Self {
        Arm {
            kind: ArmKind::Replace {
                circuit: replacement.circuit.name(),
            },
            condition: Condition::new(
                name,
                vec![Edit {
                    tap,
                    channels: ChannelSet::new(replacement.mapping.channels.clone()),
                    intervention: Intervention::Replace(replacement),
                }],
            ),
        }
    }

    /// A control: `replacement` (built from the controlled circuit's machinery or inputs)
    /// standing in for the family.
    pub fn control(
        control: super::Control,
        of: Option<String>,
        tap: Tap,
        replacement: Arc<CircuitReplacement>,
    ) -> Self {
        let name = control.arm_name(of.as_deref().unwrap_or(""));
        let mut arm = Arm::replace(name, tap, replacement);
        arm.kind = ArmKind::Control { control, of };
        arm
    }

    /// Shuffle `index` of the circuit arm `of`'s unit mapping, calibrated as `fit` says.
    pub fn mapping_null(
        of: &str,
        index: usize,
        fit: super::ControlFit,
        tap: Tap,
        replacement: Arc<CircuitReplacement>,
    ) -> Self {
        let mut arm = Arm::replace(format!("{of}~null-{fit}-{index:03}"), tap, replacement);
        arm.kind = ArmKind::MappingNull {
            of: of.to_string(),
            index,
            fit: Some(fit),
        };
        arm
    }

    /// A lineage arm: `edits` (the lower family's first, then the target's, if any).
    pub fn lineage(
        name: impl Into<String>,
        lower: Removal,
        upper: Option<Removal>,
        edits: Vec<Edit>,
    ) -> Self {
        Arm {
            kind: ArmKind::Lineage { lower, upper },
            condition: Condition::new(name, edits),
        }
    }

    /// An arm of a given kind with these edits (the ladder's).
    pub fn with_kind(name: impl Into<String>, kind: ArmKind, edits: Vec<Edit>) -> Self {
        Arm {
            kind,
            condition: Condition::new(name, edits),
        }
    }

    /// Null set `index`: `channels` at `tap` zero-ablated.
    pub fn null_set(index: usize, tap: Tap, channels: Vec<usize>) -> Self {
        Arm {
            kind: ArmKind::NullSet { index },
            condition: Condition::new(
                format!("null-{index:02}"),
                vec![Edit {
                    tap,
                    channels: ChannelSet::new(channels),
                    intervention: Intervention::ZeroAblate,
                }],
            ),
        }
    }

    pub fn name(&self) -> &str {
        &self.condition.name
    }

    pub fn info(&self, variant: Variant) -> ArmInfo {
        ArmInfo {
            name: self.condition.name.clone(),
            kind: self.kind.clone(),
            description: self.condition.describe(variant),
        }
    }
}

/// The arms' descriptions, baseline first (the order records and summaries use).
pub fn arm_infos(arms: &[Arm], variant: Variant) -> Vec<ArmInfo> {
    std::iter::once(ArmInfo::baseline())
        .chain(arms.iter().map(|a| a.info(variant)))
        .collect()
}

/// Split arms into their conditions (for the evaluator) and descriptions.
pub fn into_conditions(arms: Vec<Arm>, variant: Variant) -> (Vec<Condition>, Vec<ArmInfo>) {
    let infos = arm_infos(&arms, variant);
    (arms.into_iter().map(|a| a.condition).collect(), infos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_serialise_with_their_kind_and_roles_come_from_it() {
        let info = ArmInfo {
            name: "my-ablation".into(),
            kind: ArmKind::Ablate {
                ablation: Ablation::Mean,
            },
            description: "d".into(),
        };
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["kind"], "ablate");
        assert_eq!(json["ablation"], "mean");
        let back: ArmInfo = serde_json::from_value(json).unwrap();
        assert_eq!(back, info);
        // The role is the kind's, whatever the name says.
        assert_eq!(back.kind.ablation(), Some(Ablation::Mean));
        let replace = ArmKind::Replace {
            circuit: "x-ablate".into(),
        };
        assert!(replace.is_replacement() && replace.ablation().is_none());
        let n = Arm::null_set(3, Tap::INPUT, vec![0, 1]);
        assert_eq!(n.name(), "null-03");
        assert_eq!(n.kind, ArmKind::NullSet { index: 3 });
        // A lineage arm keeps both removals, typed.
        let lineage = ArmKind::Lineage {
            lower: Removal::Replaced {
                by: "early-curves-from-pixels".into(),
            },
            upper: Some(Removal::ZeroAblated),
        };
        let json = serde_json::to_value(&lineage).unwrap();
        assert_eq!(json["kind"], "lineage");
        assert_eq!(json["lower"]["how"], "replaced");
        assert_eq!(json["upper"]["how"], "zero_ablated");
        assert_eq!(serde_json::from_value::<ArmKind>(json).unwrap(), lineage);
        assert!(!lineage.is_replacement() && lineage.ablation().is_none());
    }
}
