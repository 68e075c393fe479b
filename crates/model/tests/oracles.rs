//! Every activation against the reference implementations' own outputs (../shared):
//! Caffe's blobs for BVLC GoogLeNet, TensorFlow's ops for the inception5h fixture.

use std::path::Path;

use aann_model::{InceptionV1, Tap, Variant};
use aann_testkit::{relative_error, shared_data, to_input, top1, values};
use aann_weights::{WeightCache, mat, npy};
use burn::tensor::Device;

mod common;

fn load(variant: Variant, source: &Path) -> InceptionV1 {
    let cache = WeightCache::new(tempfile::tempdir().unwrap().keep());
    InceptionV1::load(variant, source, &cache, &Device::default()).unwrap()
}

#[test]
fn bvlc_matches_every_caffe_blob() {
    let dir = shared_data().join("googlenet-bvlc/reference");
    let model = load(Variant::Bvlc, &shared_data().join("googlenet-bvlc/params"));
    let (_, data) = mat::read_single_array(&dir.join("1_data.mat")).unwrap();
    let input = to_input(&data, model.device());

    let blobs = common::bvlc_blobs(&dir);
    assert_eq!(
        blobs.len(),
        85,
        "every reference blob (all but the jpg) is compared"
    );
    let taps: Vec<Tap> = blobs.iter().map(|(t, _)| *t).collect();
    let ours = model.activations(input, &taps).unwrap();
    let mut worst = (0f32, String::new());
    for (tap, path) in &blobs {
        let (_, reference) = mat::read_single_array(path).unwrap();
        let got = values(ours[tap].clone());
        let err = relative_error(&got, &reference.data);
        let name = tap.name(Variant::Bvlc);
        assert!(
            err <= 1e-4,
            "{name}: max |diff| = {err:.3e} × max |reference|"
        );
        if err > worst.0 {
            worst = (err, name);
        }
    }
    eprintln!("BVLC worst blob: {} at {:.2e}", worst.1, worst.0);

    let logits = values(ours[&Tap::LOGITS].clone());
    assert_eq!(top1(&logits), 967, "espresso");
}

fn check_lucid_case(model: &InceptionV1, case: &str) {
    let (input, refs) = common::lucid_case(case);
    let taps: Vec<Tap> = refs.iter().map(|(t, _)| *t).collect();
    let ours = model
        .activations(to_input(&input, model.device()), &taps)
        .unwrap();
    for (tap, path) in &refs {
        let reference = npy::read_npy(path).unwrap();
        let got = values(ours[tap].clone());
        let name = tap.name(Variant::Lucid);
        let err = relative_error(&got, &reference.data);
        assert!(
            err <= 1e-4,
            "{case}/{name}: max |diff| = {err:.3e} × max |reference|"
        );
        if *tap == Tap::LOGITS {
            let abs = got
                .iter()
                .zip(&reference.data)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(abs <= 1e-3, "{case}/logits: max |diff| = {abs}");
        }
    }
    eprintln!("{case}: {} taps within tolerance", refs.len());
}

#[test]
fn lucid_matches_tensorflow_on_both_fixture_cases() {
    let model = load(
        Variant::Lucid,
        &shared_data().join("inception5h-fixture/inception5h-random.pth"),
    );
    check_lucid_case(&model, "rgb224");
    check_lucid_case(&model, "rgb227x251");
}
