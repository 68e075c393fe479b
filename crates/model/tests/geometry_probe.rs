//! Receptive-field geometry checked through the network itself: perturb one input column at
//! a time and see which unit columns of a tap change. The changed units' extents must be
//! exactly the fields and centres the layer table predicts.

use aann_model::geometry::tap_geometry;
use aann_model::{Block, InceptionV1, Layer, Tap, Variant};
use aann_testkit::{shared_data, test_cache};
use aann_weights::WeightCache;
use burn::tensor::{Device, Tensor, TensorData};

fn load(variant: Variant) -> InceptionV1 {
    let source = match variant {
        Variant::Lucid => shared_data().join("inception5h-fixture/inception5h-random.pth"),
        Variant::Bvlc => shared_data().join("googlenet-bvlc/params"),
    };
    let cache = WeightCache::new(test_cache());
    InceptionV1::load(variant, &source, &cache, &Device::default()).unwrap()
}

/// Pseudo-random input in the models' value range.
fn noise(n: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2000) as f32 / 2000.0 * 200.0 - 100.0
        })
        .collect()
}

fn check(model: &InceptionV1, tap: Tap) {
    let size = 224;
    let [_, cols] = tap_geometry(model.variant(), tap, size, size);
    let unit = cols.units / 2;
    let expected = cols.pixels_seen(unit, size);
    let probes: Vec<usize> =
        (expected.start().saturating_sub(4)..=(expected.end() + 4).min(size - 1)).collect();
    let base = noise(3 * size * size);
    let mut batch = base.clone();
    for &c in &probes {
        let mut img = base.clone();
        for ch in 0..3 {
            for y in 0..size {
                img[(ch * size + y) * size + c] += 400.0;
            }
        }
        batch.extend(img);
    }
    let n = probes.len() + 1;
    let input = Tensor::<4>::from_data(TensorData::new(batch, [n, 3, size, size]), model.device());
    let x = model.activations(input, &[tap]).unwrap()[&tap].clone();
    let [_, c, h, w] = x.dims();
    assert_eq!(w, cols.units);
    let v = x.into_data().try_to_vec::<f32>().unwrap();
    let per_image = c * h * w;
    let max = v[..per_image].iter().fold(0f32, |m, a| m.max(a.abs()));
    let changed = |probe: usize| {
        let img = &v[(probe + 1) * per_image..(probe + 2) * per_image];
        (0..c).any(|ch| {
            (0..h).any(|y| {
                let i = (ch * h + y) * w + unit;
                (img[i] - v[i]).abs() > 1e-4 * max
            })
        })
    };
    let seen: Vec<usize> = probes
        .iter()
        .enumerate()
        .filter(|(p, _)| changed(*p))
        .map(|(_, c)| *c)
        .collect();
    let name = tap.name(model.variant());
    assert!(!seen.is_empty(), "{name}: no probe reached unit {unit}");
    let (lo, hi) = (seen[0], *seen.last().unwrap());
    assert_eq!(
        lo..=hi,
        expected,
        "{name}: unit column {unit} is influenced by input columns {lo}..={hi}"
    );
    // The midpoint of the field is the predicted centre (in continuous coordinates).
    assert_eq!((lo + hi) as f64 / 2.0 + 0.5, cols.centre(unit), "{name}");
}

#[test]
fn lucid_fields_match_single_column_probes() {
    let model = load(Variant::Lucid);
    check(&model, Tap::output(Layer::Pool1));
    check(&model, Tap::mixed(Block::B3b));
}

#[test]
fn bvlc_fields_match_single_column_probes() {
    let model = load(Variant::Bvlc);
    check(&model, Tap::output(Layer::Conv2));
    check(&model, Tap::mixed(Block::B3a));
}
