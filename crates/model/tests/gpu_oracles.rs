//! The oracle comparison on a GPU through burn's wgpu backend (Vulkan, Metal, DX12; in CI
//! or on a machine without a GPU, Mesa's software Vulkan driver "lavapipe" will do):
//!
//! ```text
//! cargo test -p aann-model --features wgpu --test gpu_oracles -- --nocapture
//! ```
//!
//! Every tap of both models must match Caffe's and TensorFlow's own outputs within 1e-4 of
//! the tensor's range, as on the CPU; and the GPU's logits must match the CPU's. Without the
//! `wgpu` feature this file has no tests; with it but without an adapter, the tests print
//! why and pass.
#![cfg(feature = "wgpu")]

use std::path::Path;
use std::sync::OnceLock;

use aann_model::{InceptionV1, Tap, Variant};
use aann_testkit::{relative_error, shared_data, to_input, values};
use aann_weights::{NamedTensor, WeightCache, mat, npy};
use burn::tensor::Device;

mod common;

/// The wgpu device, or `None` (with the reason printed) when no adapter is found. The
/// runtime is initialised once per process, so the tests share it.
fn gpu() -> Option<Device> {
    static GPU: OnceLock<Option<Device>> = OnceLock::new();
    let device = GPU
        .get_or_init(|| match Device::wgpu_options().init() {
            Ok(device) => {
                eprintln!("wgpu device: {device:?}");
                Some(device)
            }
            Err(e) => {
                eprintln!("no wgpu adapter: {e}");
                None
            }
        })
        .clone();
    if device.is_none() {
        eprintln!(
            "SKIPPED: no wgpu adapter; install a Vulkan driver (e.g. Debian's mesa-vulkan-drivers) to run these tests"
        );
    }
    device
}

fn load(variant: Variant, source: &Path, device: &Device) -> InceptionV1 {
    let cache = WeightCache::new(tempfile::tempdir().unwrap().keep());
    InceptionV1::load(variant, source, &cache, device).unwrap()
}

fn compare(model: &InceptionV1, input: &NamedTensor, refs: &[(Tap, Vec<f32>)], what: &str) {
    let taps: Vec<Tap> = refs.iter().map(|(t, _)| *t).collect();
    let ours = model
        .activations(to_input(input, model.device()), &taps)
        .unwrap();
    let mut worst = (0f32, String::new());
    for (tap, reference) in refs {
        let got = values(ours[tap].clone());
        let err = relative_error(&got, reference);
        let name = tap.name(model.variant());
        assert!(
            err <= 1e-4,
            "{what} {name}: max |diff| = {err:.3e} × max |reference|"
        );
        if err > worst.0 {
            worst = (err, name);
        }
    }
    eprintln!(
        "{what}: {} taps within 1e-4 on the GPU (worst {} at {:.2e})",
        refs.len(),
        worst.1,
        worst.0
    );
}

#[test]
fn bvlc_matches_every_caffe_blob_on_the_gpu() {
    let Some(device) = gpu() else { return };
    let dir = shared_data().join("googlenet-bvlc/reference");
    let model = load(
        Variant::Bvlc,
        &shared_data().join("googlenet-bvlc/params"),
        &device,
    );
    let (_, input) = mat::read_single_array(&dir.join("1_data.mat")).unwrap();
    let refs: Vec<(Tap, Vec<f32>)> = common::bvlc_blobs(&dir)
        .into_iter()
        .filter(|(tap, _)| *tap != Tap::INPUT)
        .map(|(tap, path)| (tap, mat::read_single_array(&path).unwrap().1.data))
        .collect();
    compare(&model, &input, &refs, "bvlc");
    // The GPU's logits equal the CPU's.
    let cpu = load(
        Variant::Bvlc,
        &shared_data().join("googlenet-bvlc/params"),
        &Device::flex(),
    );
    assert!(
        cpu.cpu_kernels() && !model.cpu_kernels(),
        "the CPU kernels run on flex only, also in a build with the GPU backends"
    );
    let gpu_logits = model.forward(to_input(&input, &device)).unwrap();
    let cpu_logits = cpu.forward(to_input(&input, cpu.device())).unwrap();
    let g = gpu_logits
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    let c = cpu_logits.into_data().try_to_vec::<f32>().unwrap();
    let err = relative_error(&g, &c);
    assert!(err <= 1e-4, "GPU vs CPU logits: {err:.3e}");
}

#[test]
fn lucid_matches_tensorflow_on_the_gpu() {
    let Some(device) = gpu() else { return };
    let model = load(
        Variant::Lucid,
        &shared_data().join("inception5h-fixture/inception5h-random.pth"),
        &device,
    );
    for case in ["rgb224", "rgb227x251"] {
        let (input, refs) = common::lucid_case(case);
        let refs: Vec<(Tap, Vec<f32>)> = refs
            .into_iter()
            .map(|(tap, path)| (tap, npy::read_npy(&path).unwrap().data))
            .collect();
        compare(&model, &input, &refs, case);
    }
}
