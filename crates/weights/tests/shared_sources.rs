//! The readers on the real files in ../shared.
use std::path::PathBuf;

use aann_weights::{WeightCache, cache::CacheOutcome, mat, npy, pth};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

#[test]
fn inception5h_fixture_has_the_published_layout() {
    let set = pth::read_pth(&shared().join("inception5h-fixture/inception5h-random.pth")).unwrap();
    assert_eq!(set.len(), 116);
    assert_eq!(set.num_parameters(), 7_066_380);
    assert_eq!(
        set.get("conv2d0_pre_relu_conv.weight").unwrap().shape,
        vec![64, 3, 7, 7]
    );
    assert_eq!(
        set.get("softmax2_pre_activation_matmul.weight")
            .unwrap()
            .shape,
        vec![1008, 1024]
    );
    let err = set
        .get("conv2d0_pre_relu_conv.wieght")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("inception5h-random.pth") && err.contains("conv2d0_pre_relu_conv.weight"),
        "{err}"
    );
}

#[test]
fn bvlc_mat_directory_reads_caffe_layouts() {
    let set = mat::read_layer_directory(&shared().join("googlenet-bvlc/params")).unwrap();
    assert_eq!(set.len(), 116);
    assert_eq!(set.num_parameters(), 6_998_552);
    assert_eq!(
        set.get("conv1_7x7_s2.weight").unwrap().shape,
        vec![64, 3, 7, 7]
    );
    assert_eq!(set.get("conv1_7x7_s2.bias").unwrap().shape, vec![64]);
    assert_eq!(
        set.get("inception_3a_1x1.weight").unwrap().shape,
        vec![64, 192, 1, 1]
    );
    assert_eq!(
        set.get("loss3_classifier.weight").unwrap().shape,
        vec![1000, 1024]
    );
}

#[test]
fn reference_blobs_read_as_nchw() {
    let (_, data) =
        mat::read_single_array(&shared().join("googlenet-bvlc/reference/1_data.mat")).unwrap();
    // matcaffe's W×H×C(×N) reversed is (N,) C, H, W.
    assert_eq!(&data.shape[data.shape.len() - 3..], &[3, 227, 227]);
    let logits = npy::read_npy(
        &shared().join("inception5h-fixture/reference/rgb224/softmax2_pre_activation.npy"),
    )
    .unwrap();
    assert_eq!(logits.shape, vec![1, 1008]);
}

#[test]
fn cache_converts_once_then_hits_with_identical_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let cache = WeightCache::new(dir.path());
    let src = shared().join("inception5h-fixture/inception5h-random.pth");
    let (first, outcome) = cache.load(&src).unwrap();
    assert_eq!(outcome, CacheOutcome::Converted);
    let (second, outcome) = cache.load(&src).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(second.source.path, src);
    assert_eq!(first.len(), second.len());
    for (name, t) in first.iter() {
        assert_eq!(second.get(name).unwrap(), t, "{name}");
    }
}

#[test]
fn a_truncated_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = shared().join("inception5h-fixture/inception5h-random.pth");
    let bytes = std::fs::read(&src).unwrap();
    let bad = dir.path().join("broken.pth");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let err = aann_weights::read_source(&bad).unwrap_err().to_string();
    assert!(err.contains("broken.pth"), "{err}");
}

/// An altered cached conversion (100 floats changed in place) is detected by the checksum
/// kept beside it and converted again: the tensors loaded are the source's, not the
/// altered ones.
#[test]
fn an_altered_cache_entry_is_detected_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = WeightCache::new(dir.path());
    let src = shared().join("inception5h-fixture/inception5h-random.pth");
    let (original, _) = cache.load(&src).unwrap();
    let sha = aann_weights::sha256_source(&src).unwrap();
    let entry = cache.entry_path(&sha);
    let mut bytes = std::fs::read(&entry).unwrap();
    let n = bytes.len();
    for i in 0..100 {
        let at = n - 8 - 4 * (i * 997 % (n / 8));
        bytes[at..at + 4].copy_from_slice(&1234.5f32.to_le_bytes());
    }
    std::fs::write(&entry, &bytes).unwrap();
    let (reloaded, outcome) = cache.load(&src).unwrap();
    assert_eq!(outcome, CacheOutcome::Rebuilt);
    for (name, t) in original.iter() {
        assert_eq!(reloaded.get(name).unwrap(), t, "{name}");
    }
    // The rebuilt entry is trusted again.
    assert_eq!(cache.load(&src).unwrap().1, CacheOutcome::Hit);
    // An entry without its checksum is not trusted either.
    std::fs::remove_file(cache.checksum_path(&sha)).unwrap();
    assert_eq!(cache.load(&src).unwrap().1, CacheOutcome::Rebuilt);
}
