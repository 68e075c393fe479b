//! A single-neuron replacement is the family's replacement for that neuron and nothing
//! else: its one output channel equals the family replacement's channel for the neuron,
//! unit and calibration unchanged.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aann_circuits::{
    Calibration, CircuitReplacement, ColourMode, PixelCircuitSpec, PixelCurveCircuit, UnitMapping,
};
use aann_model::{Family, Tap, Variant};
use burn::tensor::{Device, Tensor, TensorData};

#[test]
fn one_neuron_of_a_replacement_is_its_channel_of_the_family_replacement() {
    let device = Device::default();
    let circuit = Arc::new(PixelCurveCircuit::new(
        PixelCircuitSpec::standard(ColourMode::Grayscale),
        Variant::Bvlc,
        &device,
    ));
    let family =
        Family::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("families/bvlc/curves-3b.toml"))
            .unwrap();
    let mapping = UnitMapping::by_orientation(&family, circuit.as_ref()).unwrap();
    let n = mapping.channels.len();
    // Per-neuron gains and biases, all different, so a wrong index shows.
    let mut calibration = Calibration::identity(n);
    calibration.gains = (0..n).map(|i| 0.5 + i as f64 * 0.1).collect();
    calibration.biases = (0..n).map(|i| -0.01 * i as f64).collect();
    let family_replacement = CircuitReplacement {
        circuit,
        mapping: mapping.clone(),
        calibration,
        device: device.clone(),
    };
    let pixels: Vec<f32> = (0..3 * 97 * 97)
        .map(|i| ((i * 37 % 255) as f32) - 120.0)
        .collect();
    let taps = HashMap::from([(
        Tap::INPUT,
        Tensor::<4>::from_data(TensorData::new(pixels, [1, 3, 97, 97]), &device),
    )]);
    let all = family_replacement.outputs(&taps);
    for (i, &channel) in mapping.channels.iter().enumerate() {
        let one = family_replacement.only(channel).unwrap();
        assert_eq!(one.mapping.channels, [channel]);
        assert_eq!(one.mapping.units, [mapping.units[i]]);
        assert_eq!(one.calibration.gains, [0.5 + i as f64 * 0.1]);
        let diff: f32 = (one.outputs(&taps) - all.clone().narrow(1, i, 1))
            .abs()
            .max()
            .into_scalar();
        assert_eq!(diff, 0.0, "channel {channel}");
    }
    assert!(family_replacement.only(10_000).is_none());
}
