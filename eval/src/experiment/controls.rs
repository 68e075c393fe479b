//! The controls of every circuit, fitted on tune: its own units mapped wrongly (deranged,
//! or turned within the rotation group), each frozen through the circuit's calibration
//! and refitted; the relay of the single best channel upstream; and the fitted readouts,
//! the linear bounds of what the circuits read.

use std::collections::HashMap;
use std::sync::Arc;

use aann_circuits::{Calibration, Circuit, CircuitReplacement, UnitMapping};
use aann_data::ImageSet;
use aann_model::Tap;

use super::inputs::Inputs;
use crate::EvalError;
use crate::circuits::CalibrationData;
use crate::lab::controls::{fit_relay, shuffled_control};
use crate::lab::readout::{Window, fit_readout};
use crate::lab::{Arm, Control, Feed, remapped};
use crate::spec::ExperimentSpec;

/// A replacement standing in for the family, with the name of its arm.
pub type Named = (String, Arc<CircuitReplacement>);

/// A control's arm and the replacement that realises it.
pub type ControlArm = (Arm, Arc<CircuitReplacement>);

/// Each circuit's units mapped wrongly — a derangement, the turns of `controls.rotations`
/// — then calibrated every way `controls.fits` asks, on the circuit's own data.
pub fn structure_controls(
    inputs: &Inputs,
    spec: &ExperimentSpec,
    replacements: &[Named],
    calibration_data: &HashMap<String, CalibrationData>,
) -> Result<Vec<ControlArm>, EvalError> {
    let seed = spec.statistics.seed;
    let mut controls = Vec::new();
    for (name, replacement) in replacements {
        let data = &calibration_data[name];
        // The wrong mappings, each then calibrated every way the spec asks.
        let mut wrong: Vec<(Option<i64>, UnitMapping)> = Vec::new();
        if spec.controls.shuffled {
            wrong.push((None, shuffled_control(&replacement.mapping, seed)));
        }
        for degrees in &spec.controls.rotations {
            let mapping = UnitMapping::by_orientation_turned(
                &inputs.family,
                replacement.circuit.as_ref(),
                *degrees as f64,
            )
            .map_err(EvalError::Spec)?;
            wrong.push((Some(*degrees), mapping));
        }
        for &how in &spec.controls.fits {
            for (turn, mapping) in &wrong {
                let fit = Some(how);
                let control = match turn {
                    None => Control::Shuffled { seed, fit },
                    Some(degrees) => Control::Rotated {
                        degrees: *degrees,
                        fit,
                    },
                };
                let r = remapped(replacement, mapping.clone(), data, how);
                let arm = Arm::control(control, Some(name.clone()), inputs.tap, r.clone());
                controls.push((arm, r));
            }
        }
    }
    Ok(controls)
}

/// The relay (`controls.relay`): each neuron computed from the one upstream channel that
/// best predicts it on tune, calibrated as `controls.relay_fit` says.
pub fn relay(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
) -> Result<Option<ControlArm>, EvalError> {
    let Some(relay_tap) = &spec.controls.relay else {
        return Ok(None);
    };
    let variant = spec.model;
    let relay_tap = Tap::parse(relay_tap, variant)
        .map_err(|e| EvalError::Spec(format!("controls.relay: {e}")))?;
    let set = &inputs.calibration.images;
    let relay = fit_relay(feed, set, relay_tap, inputs.tap, inputs.channels.as_slice())?;
    let mapping = identity_mapping(inputs);
    let data = CalibrationData::record(feed, &relay, inputs.tap, &mapping.channels, set)?;
    let calibration = data.calibrate(&mapping, false, spec.controls.relay_fit);
    let control = Control::Relay {
        tap: relay_tap.name(variant),
    };
    Ok(Some(family_control(
        feed,
        control,
        Arc::new(relay),
        mapping,
        calibration,
        inputs.tap,
    )))
}

/// The fitted bounds (`controls.readout`, `controls.pixel_readout`,
/// `controls.window_readouts`): linear readouts of what the circuits read, fitted to the
/// neurons on tune + dev.
pub fn readouts(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
) -> Result<Vec<ControlArm>, EvalError> {
    let mut fit_sets: Vec<&ImageSet> = vec![&inputs.calibration.images];
    fit_sets.extend(inputs.dev.iter().map(|d| &d.images));
    let family_channels = identity_mapping(inputs).channels;
    let mut controls = Vec::new();
    for (readout_tap, window, described) in readout_windows(inputs, spec)? {
        if feed.progress() {
            eprintln!(
                "fitting the linear readout of {} on {} images",
                readout_tap.name(spec.model),
                fit_sets.iter().map(|s| s.len()).sum::<usize>()
            );
        }
        let readout = fit_readout(
            feed,
            &fit_sets,
            readout_tap,
            window,
            inputs.tap,
            &family_channels,
            spec.controls.readout_ridge,
        )?;
        let mut calibration = Calibration::identity(family_channels.len());
        calibration.split = "none: the readout is fitted to the neurons directly".into();
        let control = Control::Readout {
            tap: readout_tap.name(spec.model),
            window: described,
        };
        controls.push(family_control(
            feed,
            control,
            Arc::new(readout),
            identity_mapping(inputs),
            calibration,
            inputs.tap,
        ));
    }
    Ok(controls)
}

/// The readouts the spec asks for: the tap, the window over it, and how the window is
/// described (none for the plain neighbourhood).
fn readout_windows(
    inputs: &Inputs,
    spec: &ExperimentSpec,
) -> Result<Vec<(Tap, Window, Option<String>)>, EvalError> {
    let variant = spec.model;
    let mut readouts = Vec::new();
    if let Some(readout_tap) = &spec.controls.readout {
        let readout_tap = Tap::parse(readout_tap, variant)
            .map_err(|e| EvalError::Spec(format!("controls.readout: {e}")))?;
        readouts.push((readout_tap, Window::NEIGHBOURHOOD, None));
    }
    if let Some(p) = &spec.controls.pixel_readout {
        let window = Window::over(variant, Tap::INPUT, inputs.tap, p.pool, p.pixels)
            .map_err(|e| EvalError::Spec(format!("controls.pixel_readout: {e}")))?;
        readouts.push((Tap::INPUT, window, Some(window.describe(p.pool))));
    }
    for (i, r) in spec.controls.window_readouts.iter().enumerate() {
        let at = format!("controls.window_readouts[{i}]");
        let readout_tap =
            Tap::parse(&r.tap, variant).map_err(|e| EvalError::Spec(format!("{at}: {e}")))?;
        let window = Window::over(variant, readout_tap, inputs.tap, r.block, r.pixels)
            .map_err(|e| EvalError::Spec(format!("{at}: {e}")))?;
        readouts.push((readout_tap, window, Some(window.describe(r.block))));
    }
    Ok(readouts)
}

/// A control with one unit per neuron (the relay, the readout): unit k stands in for the
/// k-th channel of the family, in channel order.
fn identity_mapping(inputs: &Inputs) -> UnitMapping {
    let family = &inputs.family;
    let mut by_channel: Vec<(usize, f64)> = inputs
        .channels
        .as_slice()
        .iter()
        .map(|c| {
            let o = family
                .neurons
                .iter()
                .find(|n| n.channel == *c)
                .and_then(|n| n.orientation_deg)
                .unwrap_or(f64::NAN);
            (*c, o)
        })
        .collect();
    by_channel.sort_by_key(|x| x.0);
    UnitMapping {
        channels: by_channel.iter().map(|x| x.0).collect(),
        units: (0..by_channel.len()).collect(),
        orientations: by_channel.iter().map(|x| x.1).collect(),
    }
}

/// A control that stands in for the whole family with one unit per neuron (the relay, the
/// readout), as an arm and its replacement.
fn family_control(
    feed: &Feed<'_>,
    control: Control,
    circuit: Arc<dyn Circuit>,
    mapping: UnitMapping,
    calibration: Calibration,
    tap: Tap,
) -> ControlArm {
    let r = Arc::new(CircuitReplacement {
        circuit,
        mapping,
        calibration,
        device: feed.model().device().clone(),
    });
    (Arm::control(control, None, tap, r.clone()), r)
}
