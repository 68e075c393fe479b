//! What aann's tests share (a dev-dependency only): where the shared data is, a cache
//! folder of their own, and the comparisons of tensors with reference activations.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aann_weights::NamedTensor;
use burn::tensor::{Device, Tensor, TensorData};

/// The shared data folder: `$AANN_DATA`, else `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    match std::env::var_os("AANN_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

/// The cache the tests use: `$AANN_CACHE` (CI sets a fresh one), else a fresh temporary
/// folder for this test process, so that a warm cache from an earlier run never hides the
/// code that fills it. Writers use unique temporary names, so test threads may share it.
pub fn test_cache() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os("AANN_CACHE") {
        Some(d) => PathBuf::from(d),
        None => tempfile::tempdir().expect("a temporary folder").keep(),
    })
    .clone()
}

/// A reference activation (`[C, H, W]` or `[N, C, H, W]`) as an input tensor.
pub fn to_input(t: &NamedTensor, device: &Device) -> Tensor<4> {
    let s = &t.shape;
    let shape = match s.len() {
        3 => [1, s[0], s[1], s[2]],
        4 => [s[0], s[1], s[2], s[3]],
        _ => panic!("unexpected input shape {s:?}"),
    };
    Tensor::from_data(TensorData::new(t.data.clone(), shape), device)
}

/// A tensor's values as `f32` on the host.
pub fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// The index of the largest value (the last of equal largest ones), e.g. a top-1 class.
pub fn top1(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0
}

/// max |ours − reference| relative to max |reference|.
pub fn relative_error(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(ours.len(), reference.len());
    let max_ref = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_diff = ours
        .iter()
        .zip(reference)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    max_diff / max_ref.max(f32::MIN_POSITIVE)
}

/// The BVLC claim file of the repository at `repo` (`eval/hypotheses/bvlc.toml`), made to
/// read the curve family from `curves` (its other family paths made absolute), written to
/// `out`: how a test checks claims against a broken family.
pub fn bvlc_claims_with_curves(repo: &Path, curves: &Path, out: &Path) -> PathBuf {
    let families = repo.join("circuits/families").canonicalize().unwrap();
    let text = std::fs::read_to_string(repo.join("eval/hypotheses/bvlc.toml"))
        .unwrap()
        .replace(
            "\"circuits/families/bvlc/curves-3b.toml\"",
            &format!("{:?}", curves.display().to_string()),
        )
        .replace(
            "\"circuits/families/",
            &format!("\"{}/", families.display()),
        );
    std::fs::write(out, text).unwrap();
    out.to_path_buf()
}
