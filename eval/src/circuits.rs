//! Circuits in experiments: building them for a model, calibrating their output scale on
//! the tune split, and comparing their tuning maps with the natural neurons'.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::{
    Calibration, CalibrationFit, Circuit, CircuitReplacement, ColourMode, PixelCircuitSpec,
    PixelCurveCircuit, PixelStage, UnitCalibration, UnitMapping, UpstreamCircuitSpec,
    UpstreamCurveCircuit,
};
use aann_data::ImageSet;
use aann_model::{ChannelSet, Condition, Edit, Family, InceptionV1, Intervention, Tap};

use crate::EvalError;
use crate::lab::Feed;
use crate::means::{ActivationStats, describe_set};
use crate::tuning::{TuningGrid, TuningSpec, tune};

/// Which circuit to build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CircuitChoice {
    /// Curves from pixels (Gabors → lines → early curves → curves), or with `stage =
    /// "early-curves"` the same circuit's early curves (one level down, for the lineage).
    Pixels {
        #[serde(default)]
        colour: bool,
        #[serde(default, skip_serializing_if = "PixelStage::is_curves")]
        stage: PixelStage,
    },
    /// Curves from natural upstream early curves and lines (family files).
    Upstream { early_curves: String, lines: String },
}

impl CircuitChoice {
    pub fn name(&self) -> &'static str {
        match self {
            CircuitChoice::Pixels { colour, stage } => match (stage, colour) {
                (PixelStage::Curves, false) => "curves-from-pixels",
                (PixelStage::Curves, true) => "curves-from-pixels-colour",
                (PixelStage::EarlyCurves, false) => "early-curves-from-pixels",
                (PixelStage::EarlyCurves, true) => "early-curves-from-pixels-colour",
            },
            CircuitChoice::Upstream { .. } => "curves-from-upstream",
        }
    }
}

/// A shipped circuit, by name (`pixels`, `pixels-colour`, `upstream`): what the command
/// line and claim files say; [`CircuitChoice`] is the same with its upstream families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CircuitKind {
    /// Curves from pixels, grayscale (like the published network).
    Pixels,
    /// Curves from pixels with colour-opponent channels.
    PixelsColour,
    /// The pixel circuit's early curves (grayscale), standing in for the natural early
    /// curves one block below the curve detectors.
    PixelsEarlyCurves,
    /// Curves from the natural early curves and lines one block down.
    Upstream,
}

impl CircuitKind {
    /// The circuit with its upstream families given (or the model's shipped
    /// `early-curves-3a.toml` and `lines-3a.toml`).
    pub fn choice_with(
        self,
        variant: aann_model::Variant,
        early_curves: Option<String>,
        lines: Option<String>,
    ) -> CircuitChoice {
        let dir = format!("circuits/families/{variant}");
        match self {
            CircuitKind::Pixels => CircuitChoice::Pixels {
                colour: false,
                stage: PixelStage::Curves,
            },
            CircuitKind::PixelsColour => CircuitChoice::Pixels {
                colour: true,
                stage: PixelStage::Curves,
            },
            CircuitKind::PixelsEarlyCurves => CircuitChoice::Pixels {
                colour: false,
                stage: PixelStage::EarlyCurves,
            },
            CircuitKind::Upstream => CircuitChoice::Upstream {
                early_curves: early_curves.unwrap_or(format!("{dir}/early-curves-3a.toml")),
                lines: lines.unwrap_or(format!("{dir}/lines-3a.toml")),
            },
        }
    }

    /// The circuit with the model's shipped upstream families.
    pub fn choice(self, variant: aann_model::Variant) -> CircuitChoice {
        self.choice_with(variant, None, None)
    }
}

impl std::str::FromStr for CircuitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pixels" => Ok(CircuitKind::Pixels),
            "pixels-colour" => Ok(CircuitKind::PixelsColour),
            "pixels-early-curves" => Ok(CircuitKind::PixelsEarlyCurves),
            "upstream" => Ok(CircuitKind::Upstream),
            other => Err(format!(
                "unknown circuit `{other}`: expected pixels, pixels-colour, pixels-early-curves or upstream"
            )),
        }
    }
}

/// The hand-set numbers of a circuit: the shipped ones, or a TOML override (the same
/// fields, e.g. from `aann circuits spec`), for exploring variants without recompiling.
pub fn circuit_spec_toml(choice: &CircuitChoice) -> String {
    match choice {
        CircuitChoice::Pixels { colour, .. } => {
            toml::to_string_pretty(&PixelCircuitSpec::standard(colour_mode(*colour)))
        }
        CircuitChoice::Upstream { .. } => toml::to_string_pretty(&UpstreamCircuitSpec::standard()),
    }
    .expect("specs serialise")
}

fn colour_mode(colour: bool) -> ColourMode {
    if colour {
        ColourMode::Opponent { chroma_weight: 1.0 }
    } else {
        ColourMode::Grayscale
    }
}

/// Build a circuit. Upstream family paths resolve against `base`; their normalisers come
/// from `upstream_stats` (natural statistics of the upstream tap on the tune split).
/// `spec_override` replaces the shipped hand-set numbers (TOML).
pub fn build_circuit(
    choice: &CircuitChoice,
    model: &InceptionV1,
    base: &Path,
    upstream_stats: Option<&ActivationStats>,
    spec_override: Option<&str>,
) -> Result<Arc<dyn Circuit>, EvalError> {
    let variant = model.variant();
    let bad = |e: toml::de::Error| EvalError::Spec(format!("circuit spec: {e}"));
    Ok(match choice {
        CircuitChoice::Pixels { colour, stage } => {
            let spec = match spec_override {
                Some(text) => toml::from_str(text).map_err(bad)?,
                None => PixelCircuitSpec::standard(colour_mode(*colour)),
            };
            Arc::new(PixelCurveCircuit::new(spec, variant, model.device()).with_output(*stage))
        }
        CircuitChoice::Upstream {
            early_curves,
            lines,
        } => {
            let early = Family::load(&base.join(early_curves))?;
            let lines = Family::load(&base.join(lines))?;
            let stats = upstream_stats.ok_or_else(|| {
                EvalError::Spec(
                    "the upstream circuit needs natural statistics of its upstream tap".into(),
                )
            })?;
            if stats.tap != early.tap {
                return Err(EvalError::Spec(format!(
                    "upstream statistics are for {}, the families are at {}",
                    stats.tap, early.tap
                )));
            }
            let spec = match spec_override {
                Some(text) => toml::from_str(text).map_err(bad)?,
                None => UpstreamCircuitSpec::standard(),
            };
            Arc::new(
                UpstreamCurveCircuit::new(
                    spec,
                    variant,
                    &early,
                    &lines,
                    &stats.std,
                    &stats.image_set,
                    model.device(),
                )
                .map_err(EvalError::Spec)?,
            )
        }
    })
}

/// The tap a circuit's upstream families live at (for its normalisers), if any.
pub fn upstream_tap(choice: &CircuitChoice, base: &Path) -> Result<Option<Tap>, EvalError> {
    match choice {
        CircuitChoice::Upstream { early_curves, .. } => {
            Ok(Some(Family::load(&base.join(early_curves))?.tap()?))
        }
        CircuitChoice::Pixels { .. } => Ok(None),
    }
}

/// Every unit of a circuit and every natural neuron of a family, position by position, on
/// the calibration images: recorded once, so that any mapping of units onto neurons (the
/// circuit's own, and the shuffled or rotated controls) is calibrated on the same data with
/// the same budget, without running the model again.
pub struct CalibrationData {
    /// Per circuit unit, its pre-activation at every (image, position).
    pub units: Vec<Vec<f32>>,
    /// Per natural channel, its activation at the same (image, position)s.
    pub natural: HashMap<usize, Vec<f32>>,
    /// The image set, for provenance.
    pub split: String,
}

impl CalibrationData {
    /// Record `circuit`'s units and the natural `channels` at `target` over `set`.
    pub fn record(
        feed: &Feed<'_>,
        circuit: &dyn Circuit,
        target: Tap,
        channels: &[usize],
        set: &ImageSet,
    ) -> Result<Self, EvalError> {
        let model = feed.model();
        let units_c = circuit.unit_count();
        let target_c = target.channels(model.variant());
        let mut units: Vec<Vec<f32>> = vec![Vec::new(); units_c];
        let mut natural: HashMap<usize, Vec<f32>> =
            channels.iter().map(|c| (*c, Vec::new())).collect();
        let mut reads = circuit.reads();
        reads.push(target);
        feed.recorded(set, &reads, |_, taps| {
            let u = circuit.units(taps);
            let nat = taps[&target].clone();
            let [n, _, h, w] = nat.dims();
            let u = u
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| EvalError::Results(format!("{e:?}")))?;
            let nat = nat
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| EvalError::Results(format!("{e:?}")))?;
            for img in 0..n {
                for (k, unit) in units.iter_mut().enumerate() {
                    let at = (img * units_c + k) * h * w;
                    unit.extend_from_slice(&u[at..at + h * w]);
                }
                for (ch, values) in natural.iter_mut() {
                    let at = (img * target_c + ch) * h * w;
                    values.extend_from_slice(&nat[at..at + h * w]);
                }
            }
            Ok(())
        })?;
        Ok(CalibrationData {
            units,
            natural,
            split: describe_set(set),
        })
    }

    /// The gain and bias (one for the family, or one per neuron) that put the mapped units
    /// on their natural neurons' scale, each unit diagnosed (`aann_circuits::diagnose`).
    pub fn calibrate(
        &self,
        mapping: &UnitMapping,
        per_neuron: bool,
        fit: CalibrationFit,
    ) -> Calibration {
        let pairs = self.pairs(mapping);
        let k = pairs.len();
        let split = self.split.clone();
        if per_neuron {
            let fits: Vec<UnitCalibration> =
                pairs.iter().map(|(x, y)| fit.fit_unit(x, y)).collect();
            Calibration {
                scope: "neuron".into(),
                fit,
                gains: fits.iter().map(|f| f.gain).collect(),
                biases: fits.iter().map(|f| f.bias).collect(),
                split,
                mse: fits.iter().map(|f| f.mse).collect(),
                degenerate: fits.iter().map(|f| f.degenerate).collect(),
            }
        } else {
            let x: Vec<f32> = pairs.iter().flat_map(|(x, _)| x.iter().copied()).collect();
            let y: Vec<f32> = pairs.iter().flat_map(|(_, y)| y.iter().copied()).collect();
            let pooled = fit.fit_unit(&x, &y);
            let mut calibration = Calibration {
                scope: "family".into(),
                fit,
                gains: vec![pooled.gain; k],
                biases: vec![pooled.bias; k],
                split,
                mse: Vec::new(),
                degenerate: Vec::new(),
            };
            self.judge(mapping, &mut calibration);
            // A clipped pooled gain is every unit's.
            if pooled.degenerate == Some(aann_circuits::Degeneracy::GainClipped) {
                for d in calibration.degenerate.iter_mut().filter(|d| d.is_none()) {
                    *d = pooled.degenerate;
                }
            }
            calibration
        }
    }

    /// Another mapping driven through `calibration` unchanged (the frozen controls and the
    /// replacement null: each neuron keeps the circuit's gain and bias, only the unit feeding
    /// it changes), its units judged on these images.
    pub fn freeze(&self, mapping: &UnitMapping, calibration: &Calibration) -> Calibration {
        let mut frozen = calibration.clone();
        self.judge(mapping, &mut frozen);
        frozen
    }

    /// Each mapped unit's mean squared error and diagnosis under `calibration`'s gains.
    fn judge(&self, mapping: &UnitMapping, calibration: &mut Calibration) {
        let pairs = self.pairs(mapping);
        calibration.mse = pairs
            .iter()
            .enumerate()
            .map(|(k, (xs, ys))| {
                let (g, b) = (calibration.gains[k], calibration.biases[k]);
                xs.iter()
                    .zip(ys.iter())
                    .map(|(a, t)| ((g * f64::from(*a) + b).max(0.0) - f64::from(*t)).powi(2))
                    .sum::<f64>()
                    / xs.len().max(1) as f64
            })
            .collect();
        calibration.degenerate = pairs
            .iter()
            .enumerate()
            .map(|(k, (x, y))| {
                aann_circuits::diagnose(x, y, calibration.gains[k], calibration.biases[k])
            })
            .collect();
    }

    fn pairs(&self, mapping: &UnitMapping) -> Vec<(&[f32], &[f32])> {
        mapping
            .channels
            .iter()
            .zip(&mapping.units)
            .map(|(ch, unit)| (self.units[*unit].as_slice(), self.natural[ch].as_slice()))
            .collect()
    }
}

/// A condition replacing a family's channels with a calibrated circuit.
pub fn replacement_condition(
    name: &str,
    target: Tap,
    replacement: Arc<CircuitReplacement>,
) -> Condition {
    Condition::new(
        name,
        vec![Edit {
            tap: target,
            channels: ChannelSet::new(replacement.mapping.channels.clone()),
            intervention: Intervention::Replace(replacement),
        }],
    )
}

/// One natural neuron's tuning map next to its artificial stand-in's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuningComparison {
    pub channel: usize,
    pub unit: usize,
    pub natural_orientation_deg: f64,
    pub unit_orientation_deg: f64,
    /// Pearson correlation of the two maps over every stimulus (radius × orientation).
    pub correlation: f64,
}

/// Tuning maps of the natural channels and of the replacement (reading the replaced tap),
/// and their per-neuron correlations.
pub fn compare_tuning(
    model: &InceptionV1,
    target: Tap,
    replacement: Arc<CircuitReplacement>,
    spec: &TuningSpec,
    stats: &ActivationStats,
) -> Result<(TuningGrid, TuningGrid, Vec<TuningComparison>), EvalError> {
    let channels = replacement.mapping.channels.clone();
    let natural = tune(model, target, &channels, spec, Some(stats), None)?;
    let condition = replacement_condition(&replacement.circuit.name(), target, replacement.clone());
    let artificial = tune(
        model,
        target,
        &channels,
        spec,
        Some(stats),
        Some(&condition),
    )?;
    let circuit = replacement.circuit.clone();
    let comparisons = channels
        .iter()
        .enumerate()
        .map(|(k, &ch)| TuningComparison {
            channel: ch,
            unit: replacement.mapping.units[k],
            natural_orientation_deg: replacement.mapping.orientations[k],
            unit_orientation_deg: circuit.unit_orientation(replacement.mapping.units[k]),
            correlation: pearson(natural.map(k), artificial.map(k)),
        })
        .collect();
    Ok((natural, artificial, comparisons))
}

/// Pearson correlation (0 when either side is constant).
pub fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let mb = b.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(*x) - ma, f64::from(*y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Median of a list (0 for an empty list).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
