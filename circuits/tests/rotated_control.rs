//! The rotated control turns every neuron's unit by 90° or 180° within the circuit's
//! rotation group: the unit standing in for a neuron must then prefer the neuron's curves
//! turned by that angle. Here the pixel circuit's units feeding the 17 curve neurons of
//! BVLC's `inception_3b` are swept over curve orientations, with the circuit's own mapping
//! and with the rotated controls' mappings.

use std::collections::HashMap;
use std::path::Path;

use aann_circuits::{Circuit, ColourMode, PixelCircuitSpec, PixelCurveCircuit, UnitMapping};
use aann_model::{Family, Tap, Variant};
use aann_stimuli::{Curve, ImageSize, Offset, Stimulus, Style};
use burn::tensor::{Device, Tensor, TensorData};

const STEP: f64 = 15.0;

/// Each unit's response at the grid cell under the image centre to a curve whose apex sits
/// there, for every orientation `0, STEP, …`.
fn tuning(circuit: &PixelCurveCircuit, device: &Device) -> Vec<Vec<f32>> {
    let size = 224u32;
    let input = Variant::Bvlc.preprocess().input;
    let n = (360.0 / STEP) as usize;
    let planes: Vec<f32> = (0..n)
        .flat_map(|i| {
            let curve = Curve::new(Offset { dx: 0.0, dy: 0.0 }, 40.0, i as f64 * STEP);
            let image = Stimulus::Curve(curve)
                .render(ImageSize::square(size), &Style::black_on_white())
                .expect("a valid curve");
            input.encode_unit_rgb_planes(&image.to_chw())
        })
        .collect();
    let s = size as usize;
    let batch = Tensor::<4>::from_data(TensorData::new(planes, [n, 3, s, s]), device);
    let units = circuit.units(&HashMap::from([(Tap::INPUT, batch)]));
    let [_, k, h, w] = units.dims();
    let v = units.into_data().try_to_vec::<f32>().unwrap();
    (0..k)
        .map(|u| {
            (0..n)
                .map(|o| v[((o * k + u) * h + h / 2) * w + w / 2])
                .collect()
        })
        .collect()
}

fn peak(map: &[f32]) -> f64 {
    let i = (0..map.len())
        .max_by(|a, b| map[*a].total_cmp(&map[*b]))
        .unwrap();
    i as f64 * STEP
}

fn circular_distance(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

#[test]
fn a_rotated_controls_units_peak_at_the_neurons_orientation_turned() {
    let device = Device::default();
    let family = Family::load(Path::new("families/bvlc/curves-3b.toml")).unwrap();
    let circuit = PixelCurveCircuit::new(
        PixelCircuitSpec::standard(ColourMode::Grayscale),
        Variant::Bvlc,
        &device,
    );
    let maps = tuning(&circuit, &device);
    let own = UnitMapping::by_orientation(&family, &circuit).unwrap();
    for degrees in [90.0, 180.0] {
        let turned = UnitMapping::by_orientation_turned(&family, &circuit, degrees).unwrap();
        assert_eq!(turned.channels, own.channels);
        for (k, (&u, &t)) in own.units.iter().zip(&turned.units).enumerate() {
            // The unit moves by the angle within the group…
            let moved = circular_distance(
                circuit.unit_orientation(t),
                circuit.unit_orientation(u) + degrees,
            );
            assert!(moved < 1e-9, "neuron {k}: unit {u} → {t} for {degrees}°");
            // …and its tuning map peaks at the turned angle (to within one step of the
            // sweep: sampled on a stride-8 grid, a unit's peak sits up to 15° off its angle).
            let want = circuit.unit_orientation(u) + degrees;
            let p_turned = peak(&maps[t]);
            assert!(
                circular_distance(p_turned, want) <= STEP,
                "neuron {} ({}°): unit {u} turned to unit {t} peaks at {p_turned}°, not {want}°",
                own.channels[k],
                own.orientations[k]
            );
            // The control's unit prefers other curves than the neuron's own unit does.
            assert!(circular_distance(p_turned, peak(&maps[u])) >= degrees - 2.0 * STEP);
        }
    }
    // The circuit's own units peak near the neurons' preferred orientations, so the
    // rotated control peaks near the neurons' orientation turned by the angle.
    let near = own
        .units
        .iter()
        .zip(&own.orientations)
        .filter(|(u, o)| circular_distance(peak(&maps[**u]), **o) <= 2.0 * STEP)
        .count();
    assert!(
        near >= 14,
        "{near} of 17 units peak within 30° of their neuron"
    );
}
