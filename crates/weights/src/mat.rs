//! MATLAB v5 `.mat` files, as written by matcaffe for the BVLC GoogLeNet export: one
//! (zlib-compressed) numeric variable per file, stored column-major.
//!
//! A column-major array of MATLAB size `(d0, d1, …, dk)` has exactly the memory layout of
//! a row-major array of shape `(dk, …, d1, d0)`. matcaffe writes Caffe's row-major
//! `(N, C, H, W)` blobs and `(Cout, Cin, Kh, Kw)` kernels as MATLAB `(W, H, C, N)` and
//! `(Kw, Kh, Cin, Cout)`, so reversing the dimension list recovers Caffe's own layout
//! with no data movement. That is what [`read_single_array`] returns.

use std::path::Path;

use matfile::{MatFile, NumericData};

use crate::{NamedTensor, Result, Source, TensorSet, WeightsError};

const FORMAT: &str = "MATLAB .mat";

/// A numeric MATLAB variable as a row-major tensor with the dimension list reversed
/// (see the module docs). Trailing singleton MATLAB dimensions are kept as leading 1s.
pub fn read_single_array(path: &Path) -> Result<(String, NamedTensor)> {
    let file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    let mat = MatFile::parse(std::io::BufReader::new(file))
        .map_err(|e| WeightsError::format(path, FORMAT, format!("{e:?}")))?;
    let array = match mat.arrays().as_slice() {
        [one] => one,
        [] => {
            return Err(WeightsError::format(
                path,
                FORMAT,
                "the file holds no variable",
            ));
        }
        many => {
            return Err(WeightsError::format(
                path,
                FORMAT,
                format!("expected one variable, found {}", many.len()),
            ));
        }
    };
    let data: Vec<f32> = match array.data() {
        NumericData::Single { real, imag: None } => real.clone(),
        NumericData::Double { real, imag: None } => real.iter().map(|v| *v as f32).collect(),
        other => {
            return Err(WeightsError::DType {
                path: path.to_path_buf(),
                name: array.name().to_string(),
                dtype: numeric_type_name(other).to_string(),
            });
        }
    };
    let shape: Vec<usize> = array.size().iter().rev().copied().collect();
    if shape.iter().product::<usize>() != data.len() {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!(
                "size {:?} does not match {} values",
                array.size(),
                data.len()
            ),
        ));
    }
    Ok((array.name().to_string(), NamedTensor::new(shape, data)))
}

fn numeric_type_name(data: &NumericData) -> &'static str {
    match data {
        NumericData::Int8 { .. } => "int8",
        NumericData::UInt8 { .. } => "uint8",
        NumericData::Int16 { .. } => "int16",
        NumericData::UInt16 { .. } => "uint16",
        NumericData::Int32 { .. } => "int32",
        NumericData::UInt32 { .. } => "uint32",
        NumericData::Int64 { .. } => "int64",
        NumericData::UInt64 { .. } => "uint64",
        NumericData::Single { .. } => "complex single",
        NumericData::Double { .. } => "complex double",
    }
}

/// Read a directory of per-layer files `<layer>_w.mat` and `<layer>_b.mat` into tensors
/// named `<layer>.weight` and `<layer>.bias`.
///
/// Kernels come out as Caffe's `(Cout, Cin, Kh, Kw)`; a 1×1 kernel, which MATLAB stores
/// without its trailing singleton dimensions, is restored to 4-D. Biases (MATLAB
/// `(Cout, 1)`) come out as `(Cout,)`. The classifier, MATLAB `(1024, 1000)` used as
/// `features · W`, comes out as `(1000, 1024)`: the usual `(out, in)` of a linear layer.
pub fn read_layer_directory(dir: &Path) -> Result<TensorSet> {
    let mut set = TensorSet::new(Source {
        path: dir.to_path_buf(),
        format: "BVLC per-layer .mat directory",
    });
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| WeightsError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mat"))
        .collect();
    entries.sort();
    for path in entries {
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let (layer, kind) = if let Some(layer) = stem.strip_suffix("_w") {
            (layer.to_string(), "weight")
        } else if let Some(layer) = stem.strip_suffix("_b") {
            (layer.to_string(), "bias")
        } else {
            // Other files (e.g. the mean image) are not parameters.
            continue;
        };
        let (_, mut tensor) = read_single_array(&path)?;
        match kind {
            "bias" => {
                let n = tensor.num_elements();
                tensor.shape = vec![n];
            }
            _ => {
                // MATLAB drops trailing singleton dims: (1, 1, Cin, Cout) is saved as
                // (Cin, Cout), which reversed reads (Cout, Cin). Restore (Cout, Cin, 1, 1)
                // for convolutions; the classifier is recognised by its name.
                if tensor.shape.len() == 2 && !layer.contains("classifier") {
                    tensor.shape.extend([1, 1]);
                } else if tensor.shape.len() == 3 {
                    tensor.shape.push(1);
                }
            }
        }
        set.insert(format!("{layer}.{kind}"), tensor);
    }
    if set.is_empty() {
        return Err(WeightsError::format(
            dir,
            "BVLC per-layer .mat directory",
            "no <layer>_w.mat / <layer>_b.mat files found",
        ));
    }
    Ok(set)
}
