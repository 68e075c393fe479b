//! PyTorch checkpoints (`torch.save` of a state dict), such as the `inception5h.pth` of the
//! PyTorch port of Lucid's InceptionV1. Parsing is done by `pytorch-reader` (burn's reader,
//! no Python needed); this module converts every floating-point tensor to `f32`.

use std::path::Path;

use pytorch_reader::{DType, PytorchReader};

use crate::{NamedTensor, Result, Source, TensorSet, WeightsError};

/// Read every tensor of a PyTorch checkpoint. Non-float tensors (e.g. BatchNorm's
/// `num_batches_tracked`) are skipped: InceptionV1 has none that matter.
pub fn read_pth(path: &Path) -> Result<TensorSet> {
    let reader =
        PytorchReader::new(path).map_err(|e| WeightsError::format(path, "PyTorch .pth", e))?;
    let mut set = TensorSet::new(Source {
        path: path.to_path_buf(),
        format: "PyTorch .pth",
    });
    for (name, tensor) in reader.into_tensors() {
        let bytes = tensor
            .read()
            .map_err(|e| WeightsError::format(path, "PyTorch .pth", e))?;
        let data: Vec<f32> = match tensor.dtype() {
            DType::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F64 => bytes
                .chunks_exact(8)
                .map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
            DType::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_ne_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_ne_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => continue,
        };
        set.insert(name, NamedTensor::new(tensor.shape().to_vec(), data));
    }
    if set.is_empty() {
        return Err(WeightsError::format(
            path,
            "PyTorch .pth",
            "the checkpoint holds no floating-point tensors",
        ));
    }
    Ok(set)
}
