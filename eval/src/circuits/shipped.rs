//! The shipped circuits, registered through the same [`CircuitEntry`] as a user's.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::{
    ColourMode, GaborLayerCircuit, GaborLayerSpec, PixelCircuitSpec, PixelCurveCircuit, PixelStage,
    UpstreamCircuitSpec, UpstreamCurveCircuit,
};
use aann_model::{Family, Variant};

use super::registry::{CircuitEntry, CircuitRegistry};
use crate::EvalError;

/// The keys of `kind = "pixels"`: curves from pixels (Gabors → lines → early curves →
/// curves), or with `stage` one of the same circuit's lower families (`early-curves`,
/// `pooled-lines`, `lines`), for the lineage and the ladder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelKeys {
    #[serde(default)]
    pub colour: bool,
    #[serde(default, skip_serializing_if = "PixelStage::is_curves")]
    pub stage: PixelStage,
}

/// The keys of `kind = "gabors"`: none (its numbers come from the spec's override file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaborKeys {}

/// The keys of `kind = "upstream"`: curves from the natural early curves and lines one
/// block down (family files relative to the repository).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamKeys {
    pub early_curves: String,
    pub lines: String,
}

impl UpstreamKeys {
    /// The model's shipped `early-curves-3a.toml` and `lines-3a.toml`.
    pub fn shipped(variant: Variant) -> Self {
        let dir = format!("circuits/families/{variant}");
        UpstreamKeys {
            early_curves: format!("{dir}/early-curves-3a.toml"),
            lines: format!("{dir}/lines-3a.toml"),
        }
    }
}

fn colour_mode(colour: bool) -> ColourMode {
    if colour {
        ColourMode::Opponent { chroma_weight: 1.0 }
    } else {
        ColourMode::Grayscale
    }
}

fn pixels(colour: bool, stage: PixelStage) -> PixelKeys {
    PixelKeys { colour, stage }
}

fn pixel_label(k: &PixelKeys) -> String {
    let name = format!("{}-from-pixels", k.stage.name());
    if k.colour {
        format!("{name}-colour")
    } else {
        name
    }
}

fn toml_text<T: Serialize>(value: &T) -> String {
    toml::to_string_pretty(value).expect("specs serialise")
}

/// The curves of the upstream circuit, from its keys and hand-set numbers.
pub fn upstream_circuit(
    keys: &UpstreamKeys,
    spec: UpstreamCircuitSpec,
    inputs: &super::CircuitInputs<'_>,
) -> Result<UpstreamCurveCircuit, EvalError> {
    let early = inputs.family(&keys.early_curves)?;
    let lines = inputs.family(&keys.lines)?;
    let stats = inputs.upstream_at(early.tap()?)?;
    UpstreamCurveCircuit::new(
        spec,
        inputs.variant,
        &early,
        &lines,
        &stats.std,
        &stats.image_set,
        inputs.device,
    )
    .map_err(EvalError::Spec)
}

/// `pixels` and `upstream`, with the command line's and claim files' names as presets.
pub(super) fn register(registry: CircuitRegistry) -> CircuitRegistry {
    let pixels_entry = CircuitEntry::new("pixels", &["colour", "stage"], |k: &PixelKeys, i| {
        let spec = i.numbers_or(|| PixelCircuitSpec::standard(colour_mode(k.colour)))?;
        Ok(
            Arc::new(PixelCurveCircuit::new(spec, i.variant, i.device).with_output(k.stage))
                as Arc<dyn aann_circuits::Circuit>,
        )
    })
    .label(pixel_label)
    .stands_in_for(|k| k.stage.models())
    .numbers(|k| toml_text(&PixelCircuitSpec::standard(colour_mode(k.colour))))
    .preset("pixels", |_| pixels(false, PixelStage::Curves))
    .preset("pixels-colour", |_| pixels(true, PixelStage::Curves))
    .preset("pixels-early-curves", |_| {
        pixels(false, PixelStage::EarlyCurves)
    })
    .preset("pixels-pooled-lines", |_| {
        pixels(false, PixelStage::PooledLines)
    })
    .preset("pixels-lines", |_| pixels(false, PixelStage::Lines));
    // The first layer: analytic Gabors for the Gabor-like first filters; no keys.
    let gabors_entry = CircuitEntry::new("gabors", &[], |_: &GaborKeys, i| {
        let spec = i.numbers_or(GaborLayerSpec::standard)?;
        Ok(
            Arc::new(GaborLayerCircuit::new(spec, i.variant, i.device).map_err(EvalError::Spec)?)
                as Arc<dyn aann_circuits::Circuit>,
        )
    })
    .label(|_| "gabors-from-pixels".into())
    .stands_in_for(|_| GaborLayerCircuit::models())
    .numbers(|_| toml_text(&GaborLayerSpec::standard()))
    .preset("gabors", |_| GaborKeys {});
    let upstream_entry = CircuitEntry::new(
        "upstream",
        &["early_curves", "lines"],
        |k: &UpstreamKeys, i| {
            let spec = i.numbers_or(UpstreamCircuitSpec::standard)?;
            Ok(Arc::new(upstream_circuit(k, spec, i)?) as Arc<dyn aann_circuits::Circuit>)
        },
    )
    .label(|_| "curves-from-upstream".into())
    .upstream(|k, repo| Ok(Some(Family::load(&repo.join(&k.early_curves))?.tap()?)))
    .files(|k| vec![k.early_curves.clone(), k.lines.clone()])
    .numbers(|_| toml_text(&UpstreamCircuitSpec::standard()))
    .preset("upstream", UpstreamKeys::shipped);
    registry
        .register(pixels_entry)
        .register(upstream_entry)
        .register(gabors_entry)
}
