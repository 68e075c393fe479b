//! The reference activations the oracle tests compare with (../shared), as the CPU and GPU
//! tests both read them.

use std::path::{Path, PathBuf};

use aann_model::{Tap, Variant};
use aann_testkit::shared_data;
use aann_weights::{NamedTensor, npy};

/// Caffe's blobs for BVLC GoogLeNet in `dir` (`<index>_<blob name>.mat`), each with its tap.
pub fn bvlc_blobs(dir: &Path) -> Vec<(Tap, PathBuf)> {
    let mut blobs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "mat") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let Some((_, name)) = stem.split_once('_') else {
            continue;
        };
        let tap = Tap::parse(name, Variant::Bvlc)
            .unwrap_or_else(|e| panic!("reference blob {stem} has no tap: {e}"));
        blobs.push((tap, path));
    }
    blobs
}

/// The input of one inception5h fixture case (`rgb224`, `rgb227x251`) and TensorFlow's
/// outputs for it (`<tap name>.npy`), each with its tap.
pub fn lucid_case(case: &str) -> (NamedTensor, Vec<(Tap, PathBuf)>) {
    let dir = shared_data()
        .join("inception5h-fixture/reference")
        .join(case);
    let input = npy::read_npy(&dir.join("input.npy")).unwrap();
    let mut refs = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "input" {
            continue;
        }
        let tap = Tap::parse(&name, Variant::Lucid)
            .unwrap_or_else(|e| panic!("reference {name} has no tap: {e}"));
        refs.push((tap, path));
    }
    (input, refs)
}
