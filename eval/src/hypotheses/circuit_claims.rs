//! Circuit claims: a hand-written circuit built for a family (mapped onto its neurons and
//! calibrated), and how well its artificial neurons track the natural ones on a sweep.

use std::sync::Arc;

use aann_circuits::CircuitReplacement;
use aann_model::Tap;

use super::context::{Context, Measured, Unavailable};
use super::report::Outcome;
use super::text::file_name;
use super::{CircuitCorrelation, CircuitFields};
use crate::circuits::{median, pearson};
use crate::lab::{Arm, Feed, FitSets, Session, build_replacement};
use crate::spec::{CircuitSpec, ImageSetSpec};
use crate::tuning::tune;

/// A circuit built for a claim, with its natural channels mapped to units and calibrated.
pub(super) struct BuiltCircuit {
    pub(super) tap: Tap,
    pub(super) family_name: String,
    /// Its arm's name, as the experiment names a circuit's arm (`replace-<circuit>`).
    pub(super) arm_name: String,
    pub(super) replacement: Arc<CircuitReplacement>,
    pub(super) note: String,
}

impl BuiltCircuit {
    /// The arm that replaces the family by the circuit.
    pub(super) fn arm(&self) -> Arm {
        Arm::replace(self.arm_name.clone(), self.tap, self.replacement.clone())
    }
}

pub(super) fn build(
    ctx: &mut Context<'_>,
    model: &Session,
    fields: &CircuitFields,
    calibration_set: &ImageSetSpec,
    upstream_set: &ImageSetSpec,
) -> Result<BuiltCircuit, Unavailable> {
    let (family, tap) = ctx.family(&fields.family)?;
    let repo = ctx.file.repository.clone();
    let choice = ctx
        .file
        .circuit_choice(fields, model.circuits())
        .map_err(Unavailable::Error)?;
    let spec = CircuitSpec {
        name: None,
        choice,
        calibration: fields.calibration,
        fit: fields.fit,
        spec: fields.spec.clone(),
    };
    let upstream = ctx.image_set(upstream_set, "upstream normaliser", false)?;
    let set = ctx.image_set(calibration_set, "calibration", false)?;
    let feed = Feed::new(model, ctx.file.model.preprocess(), ctx.batch());
    let replacement = build_replacement(
        &feed,
        &spec,
        &family,
        &repo,
        FitSets {
            upstream: &upstream,
            calibration: &set,
        },
    )?;
    let (circuit, mapping, calibration) = (
        &replacement.circuit,
        &replacement.mapping,
        &replacement.calibration,
    );
    let note = format!(
        "{}{} for {} neurons of {} ({} calibration on {} images)",
        circuit.name(),
        fields
            .spec
            .as_ref()
            .map_or(String::new(), |p| format!(" (numbers from {p})")),
        mapping.channels.len(),
        file_name(&fields.family),
        calibration.scope,
        set.len()
    );
    Ok(BuiltCircuit {
        tap,
        family_name: family.name.clone(),
        arm_name: spec.condition_name(model.circuits()),
        replacement,
        note,
    })
}

pub(super) fn circuit_correlation(
    ctx: &mut Context<'_>,
    c: &CircuitCorrelation,
    thr: &str,
) -> Measured {
    let model = ctx.model()?;
    let fields = c.circuit.as_ref().expect("parsed");
    let calibration_set = ImageSetSpec {
        images: c
            .calibration_set
            .clone()
            .unwrap_or_else(|| "imagenet-val/images".into()),
        labels: None,
        skip: 0,
        limit: c.calibration_images,
    };
    let upstream_set = ImageSetSpec {
        images: ctx.file.defaults.sigma_set.clone(),
        labels: None,
        skip: 0,
        limit: ctx.sigma_images(&c.sweep).max(1),
    };
    let built = build(ctx, &model, fields, &calibration_set, &upstream_set)?;
    let natural = ctx.grid(&model, built.tap, &c.sweep)?;
    let mut spec = c.sweep.spec();
    spec.batch_size = ctx.batch();
    let arm = built.arm();
    let mapping = &built.replacement.mapping;
    let artificial = tune(
        model.model(),
        built.tap,
        &mapping.channels,
        &spec,
        None,
        Some(&arm.condition),
    )?;
    // Pearson r is unchanged by σ scaling, so raw artificial maps compare with σ maps.
    let rows: Vec<(usize, usize, f64)> = mapping
        .channels
        .iter()
        .enumerate()
        .map(|(k, &ch)| {
            let nat = natural.channel_index(ch).expect("all channels are tuned");
            (
                ch,
                mapping.units[k],
                pearson(natural.map(nat), artificial.map(k)),
            )
        })
        .collect();
    let rs: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let constant = (0..mapping.channels.len())
        .filter(|&k| {
            let m = artificial.map(k);
            m.iter().all(|v| *v == m[0])
        })
        .count();
    let note = constant_note(constant, rows.len(), &built.replacement.calibration.gains);
    let (lo, hi) = (
        rows.iter()
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .expect("neurons"),
        rows.iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .expect("neurons"),
    );
    let sweep = format!(
        "{} orientations × {} values",
        artificial.columns(),
        artificial.rows()
    );
    Ok(match c.channel {
        Some(ch) => {
            let r = rows.iter().find(|r| r.0 == ch).expect("validated");
            Outcome::judged(
                r.2 >= c.min_r,
                r.2,
                "r",
                thr,
                format!(
                    "channel {ch} ↔ unit {}: r {:.3} over {sweep}; {}{note}",
                    r.1, r.2, built.note
                ),
            )
        }
        None => {
            let med = median(&rs);
            Outcome::judged(
                med >= c.min_r,
                med,
                "r",
                thr,
                format!(
                    "median r {med:.3} over {sweep} (lowest {:.3}: channel {} ↔ unit {}; highest {:.3}: channel {} ↔ unit {}); {}{note}",
                    lo.2, lo.0, lo.1, hi.2, hi.0, hi.1, built.note
                ),
            )
        }
    })
}

/// Why some artificial neurons may be constant over the sweep: their calibrated gains
/// (nothing when none is constant).
fn constant_note(constant: usize, neurons: usize, gains: &[f64]) -> String {
    if constant == 0 {
        return String::new();
    }
    format!(
        "; {constant} of {neurons} artificial neurons are constant over the sweep (r = 0): calibrated gains {} (a gain of 0 means the units did not predict the natural neurons on the calibration images)",
        if gains.iter().all(|g| *g == gains[0]) {
            format!("{:.3} for the family", gains[0])
        } else {
            format!(
                "from {:.3} to {:.3}",
                gains.iter().copied().fold(f64::INFINITY, f64::min),
                gains.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            )
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_neurons_are_explained_by_their_gains() {
        assert_eq!(constant_note(0, 17, &[0.0]), "");
        let one = constant_note(2, 17, &[0.0, 0.0]);
        assert!(
            one.starts_with("; 2 of 17 artificial neurons are constant over the sweep (r = 0): calibrated gains 0.000 for the family"),
            "{one}"
        );
        let range = constant_note(1, 3, &[0.5, 0.0, 1.25]);
        assert!(
            range.contains("calibrated gains from 0.000 to 1.250 ("),
            "{range}"
        );
    }
}
