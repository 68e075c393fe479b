//! The original formats, end to end: the inception5h fixture written as a TensorFlow
//! GraphDef (Const nodes under the real inception5h names, HWIO kernels), the BVLC weights
//! written as a `.caffemodel` (both Caffe layouts). Imported back through format detection
//! and the cache, the tensors must equal the originals bit for bit, and the model built from
//! them must reproduce the reference implementations' activations (TensorFlow's for the
//! fixture, Caffe's blobs for BVLC).
use std::path::Path;

use aann_model::{InceptionV1, Tap, Variant};
use aann_weights::{SourceFormat, TensorSet, WeightCache, mat, npy, pth, read_source};
use burn::tensor::Device;

#[path = "../../weights/tests/support/writers.rs"]
mod writers;
use aann_testkit::{relative_error, shared_data, to_input, top1, values};
use writers::{CaffeLayout, assert_bit_identical};

/// Import `path` and check it holds every tensor of `original` bit for bit.
fn check_import(path: &Path, format: SourceFormat, original: &TensorSet) {
    assert_eq!(SourceFormat::detect(path).unwrap(), format);
    let imported = read_source(path).unwrap();
    for (name, t) in original.iter() {
        assert_bit_identical(name, imported.get(name).unwrap(), t);
    }
}

/// Load through the weight cache, as `aann` does.
fn load(variant: Variant, path: &Path, cache_dir: &Path) -> InceptionV1 {
    let cache = WeightCache::new(cache_dir);
    InceptionV1::load(variant, path, &cache, &Device::default()).unwrap()
}

#[test]
fn lucid_from_a_graphdef_reproduces_tensorflow() {
    let original =
        pth::read_pth(&shared_data().join("inception5h-fixture/inception5h-random.pth")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("tensorflow_inception_graph.pb");
    std::fs::write(&pb, writers::inception5h_graphdef(&original)).unwrap();
    check_import(&pb, SourceFormat::TfGraphDef, &original);

    let model = load(Variant::Lucid, &pb, &dir.path().join("cache"));
    let reference = shared_data().join("inception5h-fixture/reference/rgb224");
    let input = npy::read_npy(&reference.join("input.npy")).unwrap();
    let taps: Vec<Tap> = ["mixed3b", "softmax2_pre_activation"]
        .iter()
        .map(|n| Tap::parse(n, Variant::Lucid).unwrap())
        .collect();
    let ours = model
        .activations(to_input(&input, model.device()), &taps)
        .unwrap();
    for tap in &taps {
        let name = tap.name(Variant::Lucid);
        let want = npy::read_npy(&reference.join(format!("{name}.npy"))).unwrap();
        let got = values(ours[tap].clone());
        let err = relative_error(&got, &want.data);
        assert!(
            err <= 1e-4,
            "{name}: max |diff| = {err:.3e} × max |reference|"
        );
    }
}

#[test]
fn bvlc_from_a_caffemodel_reproduces_caffe() {
    let original = mat::read_layer_directory(&shared_data().join("googlenet-bvlc/params")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for layout in [CaffeLayout::Layer, CaffeLayout::V1Layers] {
        let path = dir
            .path()
            .join(format!("bvlc_googlenet_{layout:?}.caffemodel"));
        std::fs::write(&path, writers::bvlc_caffemodel(&original, layout)).unwrap();
        check_import(&path, SourceFormat::CaffeModel, &original);
        paths.push(path);
    }
    // Both layouts import identically (checked above), so one forward pass covers both; the
    // legacy layout is the one BVLC's 2014 release uses.
    let model = load(Variant::Bvlc, &paths[1], &dir.path().join("cache"));
    let reference = shared_data().join("googlenet-bvlc/reference");
    let (_, data) = mat::read_single_array(&reference.join("1_data.mat")).unwrap();
    let taps: Vec<Tap> = ["inception_3b_output", "loss3_classifier"]
        .iter()
        .map(|n| Tap::parse(n, Variant::Bvlc).unwrap())
        .collect();
    let ours = model
        .activations(to_input(&data, model.device()), &taps)
        .unwrap();
    for (tap, file) in taps
        .iter()
        .zip(["32_inception_3b_output.mat", "120_loss3_classifier.mat"])
    {
        let (_, want) = mat::read_single_array(&reference.join(file)).unwrap();
        let got = values(ours[tap].clone());
        let err = relative_error(&got, &want.data);
        let name = tap.name(Variant::Bvlc);
        assert!(
            err <= 1e-4,
            "{name}: max |diff| = {err:.3e} × max |reference|"
        );
    }
    let logits = values(ours[&Tap::LOGITS].clone());
    assert_eq!(top1(&logits), 967, "espresso");
}
