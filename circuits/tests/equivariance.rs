//! Equivariance of the hand-written pixel circuit, end to end: every family is one motif
//! copied around a rotation group, so turning the image a quarter turn must turn every
//! unit's map a quarter turn and move it a quarter of the way round its group; and every
//! motif is its own mirror image about its axis, so mirroring the image must mirror every
//! map and move each unit to its mirror orientation (the dihedral group).

use std::collections::HashMap;

use aann_circuits::{
    Circuit, ColourMode, GaborLayerCircuit, GaborLayerSpec, PixelCircuitSpec, PixelCurveCircuit,
    PixelStage,
};
use aann_model::{Tap, Variant};
use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;

/// A quarter turn clockwise on screen (rows run down): pixel (y, x) goes to (x, H − 1 − y).
fn quarter_turn(x: Tensor<4>) -> Tensor<4> {
    x.swap_dims(2, 3).flip([3])
}

/// The image mirrored left to right: pixel (y, x) goes to (y, W − 1 − x).
fn mirror(x: Tensor<4>) -> Tensor<4> {
    x.flip([3])
}

fn units(circuit: &dyn Circuit, image: Tensor<4>) -> Tensor<4> {
    let taps = HashMap::from([(Tap::INPUT, image)]);
    circuit.units(&taps)
}

/// A grey image of smooth random blobs and strokes, from a seed (65×65: with an odd size
/// every stride-2 stage samples the same pixels after a quarter turn).
fn image(seed: u64, size: usize, device: &Device) -> Tensor<4> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64) / f64::from(1u32 << 31)
    };
    let blobs: Vec<(f64, f64, f64, f64)> = (0..6)
        .map(|_| {
            (
                next() * size as f64,
                next() * size as f64,
                2.0 + next() * 10.0,
                next() * 2.0 - 1.0,
            )
        })
        .collect();
    let mut v = vec![0.0f32; size * size];
    for y in 0..size {
        for x in 0..size {
            let s: f64 = blobs
                .iter()
                .map(|(cx, cy, r, a)| {
                    let d2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
                    a * (-d2 / (2.0 * r * r)).exp()
                })
                .sum();
            v[y * size + x] = (60.0 * s) as f32;
        }
    }
    let grey: Vec<f32> = (0..3).flat_map(|_| v.clone()).collect();
    Tensor::from_data(TensorData::new(grey, [1, 3, size, size]), device)
}

fn max_abs(t: Tensor<4>) -> f32 {
    t.abs().max().into_scalar()
}

/// A symmetry of the image and the permutation of the family it must cause.
struct Symmetry {
    name: &'static str,
    image: fn(Tensor<4>) -> Tensor<4>,
    unit: fn(&aann_circuits::RotationGroup, usize) -> usize,
}

/// A quarter turn moves unit `k` a quarter of the way round its group.
const QUARTER_TURN: Symmetry = Symmetry {
    name: "a quarter turn",
    image: quarter_turn,
    unit: |g, k| g.rotate(k, 1),
};

/// A mirror image moves unit `k` to `mirror(k)` (θ → 180° − θ): every motif of the
/// circuit is its own mirror image about its axis, so the families are dihedral.
const MIRROR: Symmetry = Symmetry {
    name: "the mirror",
    image: mirror,
    unit: |g, k| g.mirror(k).expect("the family is dihedral"),
};

/// Transforming the image by `symmetry` transforms every unit's map the same way and moves
/// the unit where the symmetry sends its orientation.
fn check(seed: u64, stage: PixelStage, symmetry: &Symmetry) {
    let device = Device::default();
    let circuit = PixelCurveCircuit::new(
        PixelCircuitSpec::standard(ColourMode::Grayscale),
        Variant::Lucid,
        &device,
    )
    .with_output(stage);
    let group = circuit.group();
    assert!(group.is_dihedral(), "{group:?}");
    let img = image(seed, 65, &device);
    let natural = units(&circuit, img.clone());
    let moved = units(&circuit, (symmetry.image)(img));
    let scale = max_abs(natural.clone()).max(1e-6);
    for k in 0..group.n {
        let m = (symmetry.unit)(&group, k);
        let expected = (symmetry.image)(natural.clone().narrow(1, k, 1));
        let got = moved.clone().narrow(1, m, 1);
        let err = max_abs(got - expected) / scale;
        assert!(
            err < 1e-4,
            "{stage:?}: unit {k} ({}°) did not become unit {m} ({}°) under {}: relative error {err}",
            group.angle(k),
            group.angle(m),
            symmetry.name
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]
    /// The curves, and the same circuit with each lower family as the output (each
    /// standing in for a natural family one or more levels down: early curves, 24 units a
    /// quarter turn apart every 6; lines, pooled or not, 8 axial units, every 4).
    #[test]
    fn a_quarter_turn_of_the_image_permutes_the_units_of_every_stage(seed in any::<u64>()) {
        for stage in PixelStage::ALL {
            check(seed, stage, &QUARTER_TURN);
        }
    }

    #[test]
    fn a_mirror_image_permutes_the_units_of_every_stage(seed in any::<u64>()) {
        for stage in PixelStage::ALL {
            check(seed, stage, &MIRROR);
        }
    }

    /// The first layer by hand: a quarter turn of the image moves Gabor (scale, phase,
    /// direction) to (scale, phase, direction + 90°), its map turned.
    #[test]
    fn a_quarter_turn_of_the_image_permutes_the_gabor_units(seed in any::<u64>()) {
        let device = Device::default();
        let spec = GaborLayerSpec::standard();
        let circuit = GaborLayerCircuit::new(spec.clone(), Variant::Lucid, &device).unwrap();
        let img = image(seed, 65, &device);
        let natural = units(&circuit, img.clone());
        let moved = units(&circuit, quarter_turn(img));
        let scale = max_abs(natural.clone()).max(1e-6);
        let shift = spec.group().quarter_shift().unwrap();
        for k in 0..spec.unit_count() {
            let (s, p, d) = spec.parts(k);
            let m = spec.unit(s, p, (d + shift) % spec.directions);
            let expected = quarter_turn(natural.clone().narrow(1, k, 1));
            let err = max_abs(moved.clone().narrow(1, m, 1) - expected) / scale;
            prop_assert!(err < 1e-4, "Gabor unit {k} did not become {m}: relative error {err}");
        }
    }
}

/// Lines before pooling sit on the second convolution's grid, pooled lines on 3a's; each
/// stage accounts for the numbers it computes with and no others.
#[test]
fn the_line_stages_sit_on_their_layers_grids_and_account_for_their_numbers_only() {
    let device = Device::default();
    let spec = PixelCircuitSpec::standard(ColourMode::Grayscale);
    let at =
        |stage| PixelCurveCircuit::new(spec.clone(), Variant::Bvlc, &device).with_output(stage);
    let (lines, pooled, early) = (
        at(PixelStage::Lines),
        at(PixelStage::PooledLines),
        at(PixelStage::EarlyCurves),
    );
    assert_eq!(lines.name(), "lines-from-pixels");
    assert_eq!(pooled.name(), "pooled-lines-from-pixels");
    assert_eq!((lines.group().n, pooled.group().n), (8, 8));
    // A 224×224 image: conv2_3x3 is 56×56, inception_3a 28×28.
    let img = image(3, 224, &device);
    assert_eq!(units(&lines, img.clone()).dims(), [1, 8, 56, 56]);
    let p = units(&pooled, img.clone());
    assert_eq!(p.dims(), [1, 8, 28, 28]);
    assert_eq!(max_abs(p - full_lines(&spec, &device, img)), 0.0);
    let sections = |c: &PixelCurveCircuit| -> Vec<String> {
        c.accounting()
            .hand_set
            .iter()
            .map(|n| n.stage.clone())
            .collect()
    };
    assert!(
        !sections(&lines)
            .iter()
            .any(|s| s.starts_with("early") || s.starts_with("curves"))
    );
    assert_eq!(sections(&lines), sections(&pooled));
    assert_eq!(
        lines.accounting().expanded_weights + early.banks().early.len(),
        early.accounting().expanded_weights
    );
    assert_eq!(PixelStage::Lines.models().name(Variant::Bvlc), "conv2_3x3");
    assert_eq!(
        PixelStage::PooledLines.models().name(Variant::Bvlc),
        "inception_3a_output"
    );
}

/// The pooled lines the full circuit computes on its way to the curves.
fn full_lines(spec: &PixelCircuitSpec, device: &Device, img: Tensor<4>) -> Tensor<4> {
    PixelCurveCircuit::new(spec.clone(), Variant::Bvlc, device)
        .stages(img)
        .lines
}

#[test]
fn the_early_curve_output_is_stage_four_and_accounts_for_its_numbers_only() {
    let device = Device::default();
    let spec = PixelCircuitSpec::standard(ColourMode::Grayscale);
    let full = PixelCurveCircuit::new(spec.clone(), Variant::Bvlc, &device);
    let early =
        PixelCurveCircuit::new(spec, Variant::Bvlc, &device).with_output(PixelStage::EarlyCurves);
    assert_eq!(early.name(), "early-curves-from-pixels");
    assert_eq!(early.group().n, 24);
    assert_eq!(early.unit_count(), 24);
    let img = image(7, 65, &device);
    let stages = full.stages(img.clone());
    let units = units(&early, img);
    assert_eq!(units.dims(), stages.early.dims());
    assert_eq!(max_abs(units - stages.early), 0.0);
    // Accounting: the curve stage's numbers and weights are not the early curves'.
    let (a, b) = (full.accounting(), early.accounting());
    let sections = |a: &aann_circuits::Accounting| -> Vec<String> {
        a.hand_set.iter().map(|n| n.stage.clone()).collect()
    };
    assert!(sections(&a).iter().any(|s| s == "curves from lines"));
    assert!(!sections(&b).iter().any(|s| s.starts_with("curves from")));
    assert!(b.hand_set_count() < a.hand_set_count());
    let curve_weights = full.banks().curves_from_early.len() + full.banks().curves_from_lines.len();
    assert_eq!(b.expanded_weights + curve_weights, a.expanded_weights);
}
