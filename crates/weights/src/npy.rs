//! NumPy `.npy` arrays: the reference activations of the fixtures, and the format
//! `aann activations` writes (NCHW `float32`, C order).

use std::io::{BufReader, BufWriter};
use std::path::Path;

use npyz::WriterBuilder;

use crate::{NamedTensor, Result, WeightsError};

const FORMAT: &str = "NumPy .npy";

/// Read a `.npy` file of `float32` or `float64` in C or Fortran order, as a row-major tensor.
pub fn read_npy(path: &Path) -> Result<NamedTensor> {
    let file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| WeightsError::format(path, FORMAT, e))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let dtype = npy.dtype();
    let data: Vec<f32> = match &dtype {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float && t.size_field() == 4 => {
            npy.into_vec::<f32>()
                .map_err(|e| WeightsError::format(path, FORMAT, e))?
        }
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float && t.size_field() == 8 => {
            npy.into_vec::<f64>()
                .map_err(|e| WeightsError::format(path, FORMAT, e))?
                .into_iter()
                .map(|v| v as f32)
                .collect()
        }
        other => {
            return Err(WeightsError::DType {
                path: path.to_path_buf(),
                name: path.display().to_string(),
                dtype: format!("{other:?}"),
            });
        }
    };
    let data = if order == npyz::Order::Fortran {
        fortran_to_c(&shape, &data)
    } else {
        data
    };
    Ok(NamedTensor::new(shape, data))
}

/// Write a row-major `f32` tensor as a C-order `float32` `.npy` file.
pub fn write_npy(path: &Path, tensor: &NamedTensor) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| WeightsError::io(path, e))?;
    let shape: Vec<u64> = tensor.shape.iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(|e| WeightsError::io(path, e))?;
    writer
        .extend(tensor.data.iter().copied())
        .map_err(|e| WeightsError::io(path, e))?;
    writer.finish().map_err(|e| WeightsError::io(path, e))
}

fn fortran_to_c(shape: &[usize], data: &[f32]) -> Vec<f32> {
    let n = data.len();
    let rank = shape.len();
    let mut out = vec![0.0; n];
    // Strides of the Fortran layout.
    let mut f_strides = vec![1usize; rank];
    for d in 1..rank {
        f_strides[d] = f_strides[d - 1] * shape[d - 1];
    }
    let mut index = vec![0usize; rank];
    for slot in out.iter_mut() {
        let src: usize = index.iter().zip(&f_strides).map(|(i, s)| i * s).sum();
        *slot = data[src];
        for d in (0..rank).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_preserves_shape_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.npy");
        let t = NamedTensor::new(vec![2, 3, 1], vec![1.0, -2.5, 3.0, 4.0, 5.5, -6.0]);
        write_npy(&path, &t).unwrap();
        let back = read_npy(&path).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn fortran_order_is_transposed_to_c() {
        // A 2x3 matrix [[1,2,3],[4,5,6]] stored column-major is 1,4,2,5,3,6.
        let c = fortran_to_c(&[2, 3], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(c, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn a_non_npy_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.npy");
        std::fs::write(&path, b"this is not numpy").unwrap();
        let err = read_npy(&path).unwrap_err().to_string();
        assert!(err.contains("bad.npy") && err.contains("NumPy"), "{err}");
    }
}
