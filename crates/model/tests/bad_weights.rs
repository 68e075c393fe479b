//! Wrong weight files give errors that name the tensor, file, and what was expected.
use std::path::PathBuf;

use aann_model::{InceptionV1, ModelError, Variant};
use aann_weights::{NamedTensor, pth};
use burn::tensor::Device;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/inception5h-fixture/inception5h-random.pth")
}

fn error_of(r: Result<InceptionV1, ModelError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let mut set = pth::read_pth(&fixture()).unwrap();
    set.take("mixed4c_3x3_pre_relu_conv.bias").unwrap();
    let err = error_of(InceptionV1::from_tensors(
        Variant::Lucid,
        &set,
        &Device::default(),
    ));
    assert!(
        err.contains("mixed4c_3x3_pre_relu_conv.bias") && err.contains("missing"),
        "{err}"
    );
    assert!(err.contains("inception5h-random.pth"), "{err}");
}

#[test]
fn a_mis_shaped_tensor_gives_expected_and_found_shapes() {
    let mut set = pth::read_pth(&fixture()).unwrap();
    let t = set.take("mixed3b_5x5_pre_relu_conv.weight").unwrap();
    // Same number of values, wrong layout (as if a converter forgot to transpose HWIO).
    set.insert(
        "mixed3b_5x5_pre_relu_conv.weight",
        NamedTensor::new(vec![5, 5, 32, 96], t.data),
    );
    let err = error_of(InceptionV1::from_tensors(
        Variant::Lucid,
        &set,
        &Device::default(),
    ));
    assert!(err.contains("mixed3b_5x5_pre_relu_conv.weight"), "{err}");
    assert!(
        err.contains("[96, 32, 5, 5]") && err.contains("[5, 5, 32, 96]"),
        "{err}"
    );
}

#[test]
fn weights_of_the_other_model_are_recognised() {
    let set = pth::read_pth(&fixture()).unwrap();
    let err = error_of(InceptionV1::from_tensors(
        Variant::Bvlc,
        &set,
        &Device::default(),
    ));
    assert!(
        err.contains("lucid") && err.contains("--model lucid"),
        "{err}"
    );
}

#[test]
fn a_non_weights_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("model.pth");
    std::fs::write(&bogus, b"<html>404 not found</html>").unwrap();
    let cache = aann_weights::WeightCache::new(dir.path().join("cache"));
    let err = error_of(InceptionV1::load(
        Variant::Lucid,
        &bogus,
        &cache,
        &Device::default(),
    ));
    assert!(err.contains("model.pth"), "{err}");
}

/// Weights that convert but fail validation as the requested model are not left in the
/// cache: the next load parses (and refuses) the source again.
#[test]
fn a_conversion_that_fails_validation_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cache = aann_weights::WeightCache::new(dir.path());
    let err = error_of(InceptionV1::load(
        Variant::Bvlc,
        &fixture(),
        &cache,
        &Device::default(),
    ));
    assert!(err.contains("--model lucid"), "{err}");
    let sha = aann_weights::sha256_source(&fixture()).unwrap();
    assert!(
        !cache.entry_path(&sha).exists(),
        "the failed conversion stays out of the cache"
    );
    assert!(!cache.checksum_path(&sha).exists());
}
