//! Caffe models (`.caffemodel`): a binary `NetParameter` whose layers carry their
//! parameters as `BlobProto`s, such as BVLC's `bvlc_googlenet.caffemodel`.
//!
//! Both layouts Caffe has written are read: the current `layer` field (`LayerParameter`,
//! string types, blobs with a `shape`) and the deprecated `layers` field
//! (`V1LayerParameter`, enum types, blobs with the 4-D `num/channels/height/width`), including
//! the oldest V0 layers nested inside V1 ones. Blob values may be `float` or `double`.
//!
//! Every layer with blobs gives `<layer>.weight` (blob 0) and `<layer>.bias` (blob 1);
//! further blobs, which GoogLeNet does not have, are `<layer>.blob<k>`. Caffe layer names
//! contain slashes (`inception_3a/1x1`, `loss3/classifier`); they become underscores
//! (`inception_3a_1x1`, `loss3_classifier`), the naming of the per-layer `.mat` export and
//! of the model crate. Layouts are Caffe's own: convolution kernels OIHW, inner-product
//! weights `[out, in]`, biases `[out]`. Legacy 4-D blobs are given those ranks: a legacy
//! bias `(1, 1, 1, N)` becomes `[N]` and a legacy inner-product weight `(1, 1, out, in)`
//! becomes `[out, in]`. The auxiliary classifiers (`loss1_*`, `loss2_*`) are kept; the
//! model simply does not use them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::proto::Message;
use crate::proto::caffe::{self, BlobProto, NetParameter};
use crate::{NamedTensor, Result, Source, TensorSet, WeightsError};

pub const FORMAT: &str = "Caffe .caffemodel";

/// Which of Caffe's layer layouts a model file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetLayout {
    /// `NetParameter.layer` (field 100): Caffe since 2015.
    Layer,
    /// `NetParameter.layers` (field 2): V1 layers, the layout of 2014-era model files.
    V1Layers,
    /// V0 layers nested in V1 ones (`V1LayerParameter.layer`).
    V0Layers,
}

impl NetLayout {
    pub fn describe(self) -> &'static str {
        match self {
            NetLayout::Layer => "current `layer` layout (LayerParameter)",
            NetLayout::V1Layers => "legacy `layers` layout (V1LayerParameter)",
            NetLayout::V0Layers => "legacy V0 layers",
        }
    }
}

/// What kind of layer a blob belongs to: it decides how a legacy 4-D blob is reshaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Convolution,
    InnerProduct,
    Other,
}

/// The result of reading a model: its tensors, and how it was laid out.
#[derive(Clone, Debug)]
pub struct Import {
    pub set: TensorSet,
    pub layouts: Vec<NetLayout>,
    /// Layers with parameters.
    pub layers_with_blobs: usize,
    /// Layers without parameters (data, ReLU, pooling, concat, …), skipped.
    pub layers_without_blobs: usize,
}

/// Read a `.caffemodel` into `<layer>.weight` / `<layer>.bias` tensors.
pub fn read_caffemodel(path: &Path) -> Result<TensorSet> {
    import(path).map(|i| i.set)
}

/// The tensor-name stem of a Caffe layer: slashes become underscores.
pub fn tensor_stem(layer: &str) -> String {
    layer.replace('/', "_")
}

/// [`read_caffemodel`], also reporting the layout and the layers skipped.
pub fn import(path: &Path) -> Result<Import> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::io(path, e))?;
    if let Some(other) = crate::sniff_other_format(&bytes) {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!("this is {other}, not a Caffe model"),
        ));
    }
    let net = NetParameter::decode(bytes.as_slice()).map_err(|e| {
        WeightsError::format(path, FORMAT, format!("truncated or corrupt protobuf ({e})"))
    })?;
    drop(bytes);
    from_net(path, net)
}

fn v1_kind(t: Option<i32>) -> Kind {
    match t {
        Some(caffe::V1_CONVOLUTION | caffe::V1_DECONVOLUTION) => Kind::Convolution,
        Some(caffe::V1_INNER_PRODUCT) => Kind::InnerProduct,
        _ => Kind::Other,
    }
}

fn string_kind(t: Option<&str>) -> Kind {
    match t.map(str::to_ascii_lowercase).as_deref() {
        Some("convolution" | "deconvolution" | "conv") => Kind::Convolution,
        Some("innerproduct" | "inner_product") => Kind::InnerProduct,
        _ => Kind::Other,
    }
}

/// A layer's name, kind and blobs, whatever its layout.
struct Layer {
    name: String,
    kind: Kind,
    blobs: Vec<BlobProto>,
}

fn from_net(path: &Path, net: NetParameter) -> Result<Import> {
    let mut layers = Vec::new();
    let mut layouts = Vec::new();
    if !net.layer.is_empty() {
        layouts.push(NetLayout::Layer);
    }
    for (i, l) in net.layer.into_iter().enumerate() {
        layers.push(Layer {
            name: l.name.unwrap_or_else(|| format!("layer{i}")),
            kind: string_kind(l.r#type.as_deref()),
            blobs: l.blobs,
        });
    }
    for (i, l) in net.layers.into_iter().enumerate() {
        if let Some(v0) = l.layer {
            if !layouts.contains(&NetLayout::V0Layers) {
                layouts.push(NetLayout::V0Layers);
            }
            layers.push(Layer {
                name: v0.name.or(l.name).unwrap_or_else(|| format!("layers{i}")),
                kind: string_kind(v0.r#type.as_deref()),
                blobs: if v0.blobs.is_empty() {
                    l.blobs
                } else {
                    v0.blobs
                },
            });
        } else {
            if !layouts.contains(&NetLayout::V1Layers) {
                layouts.push(NetLayout::V1Layers);
            }
            layers.push(Layer {
                name: l.name.unwrap_or_else(|| format!("layers{i}")),
                kind: v1_kind(l.r#type),
                blobs: l.blobs,
            });
        }
    }
    if layers.is_empty() {
        return Err(WeightsError::format(
            path,
            FORMAT,
            "the file has no layers (is it a Caffe NetParameter?)",
        ));
    }
    let mut set = TensorSet::new(Source {
        path: path.to_path_buf(),
        format: FORMAT,
    });
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let (mut with, mut without) = (0, 0);
    for layer in layers {
        if layer.blobs.is_empty() {
            without += 1;
            continue;
        }
        with += 1;
        let stem = tensor_stem(&layer.name);
        if let Some(previous) = seen.insert(stem.clone(), layer.name.clone()) {
            return Err(WeightsError::format(
                path,
                FORMAT,
                format!(
                    "two layers with parameters are both named `{stem}` (`{previous}` and `{}`)",
                    layer.name
                ),
            ));
        }
        for (k, blob) in layer.blobs.iter().enumerate() {
            let suffix = match k {
                0 => "weight".to_string(),
                1 => "bias".to_string(),
                k => format!("blob{k}"),
            };
            let tensor = blob_tensor(path, &layer.name, k, layer.kind, blob)?;
            set.insert(format!("{stem}.{suffix}"), tensor);
        }
    }
    if set.is_empty() {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!(
                "none of its {without} layers holds parameters (a network definition without weights?)"
            ),
        ));
    }
    Ok(Import {
        set,
        layouts,
        layers_with_blobs: with,
        layers_without_blobs: without,
    })
}

fn blob_tensor(
    path: &Path,
    layer: &str,
    index: usize,
    kind: Kind,
    blob: &BlobProto,
) -> Result<NamedTensor> {
    let bad = |reason: String| {
        WeightsError::format(
            path,
            FORMAT,
            format!("layer `{layer}`, blob {index}: {reason}"),
        )
    };
    let dims = |v: &[i64]| -> Result<Vec<usize>> {
        v.iter()
            .map(|&d| usize::try_from(d).map_err(|_| bad(format!("dimension {d} in {v:?}"))))
            .collect()
    };
    let shape = match &blob.shape {
        Some(s) => dims(&s.dim)?,
        None => {
            let legacy = [blob.num, blob.channels, blob.height, blob.width].map(|d| d.unwrap_or(0));
            let [n, c, h, w] = dims(&legacy)?[..] else {
                unreachable!("four dimensions")
            };
            if n * c * h * w == 0 {
                return Err(bad(format!(
                    "no shape and legacy dimensions (num, channels, height, width) = {legacy:?}"
                )));
            }
            match (kind, index) {
                // Biases: legacy (1, 1, 1, N).
                (Kind::Convolution | Kind::InnerProduct, 1) => vec![n * c * h * w],
                // Inner-product weights: legacy (1, 1, out, in).
                (Kind::InnerProduct, 0) if n == 1 && c == 1 => vec![h, w],
                _ => vec![n, c, h, w],
            }
        }
    };
    let count: usize = shape.iter().product();
    let data: Vec<f32> = if !blob.data.is_empty() {
        blob.data.clone()
    } else if !blob.double_data.is_empty() {
        blob.double_data.iter().map(|&v| v as f32).collect()
    } else {
        Vec::new()
    };
    if data.len() != count {
        return Err(bad(format!(
            "shape {shape:?} needs {count} values, the blob has {}",
            data.len()
        )));
    }
    Ok(NamedTensor::new(shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::caffe::{BlobShape, LayerParameter, V0LayerParameter, V1LayerParameter};

    fn write(dir: &Path, net: &NetParameter) -> std::path::PathBuf {
        let path = dir.join("net.caffemodel");
        std::fs::write(&path, net.encode_to_vec()).unwrap();
        path
    }

    fn legacy_blob(dims: [i64; 4], data: Vec<f32>) -> BlobProto {
        BlobProto {
            num: Some(dims[0]),
            channels: Some(dims[1]),
            height: Some(dims[2]),
            width: Some(dims[3]),
            data,
            ..Default::default()
        }
    }

    #[test]
    fn legacy_blobs_get_caffe_ranks_and_slashes_become_underscores() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetParameter {
            layers: vec![
                V1LayerParameter {
                    name: Some("data".into()),
                    r#type: Some(5),
                    ..Default::default()
                },
                V1LayerParameter {
                    name: Some("conv1/7x7_s2".into()),
                    r#type: Some(caffe::V1_CONVOLUTION),
                    blobs: vec![
                        legacy_blob([2, 1, 1, 1], vec![1.0, 2.0]),
                        legacy_blob([1, 1, 1, 2], vec![0.5, -0.5]),
                    ],
                    ..Default::default()
                },
                V1LayerParameter {
                    name: Some("loss3/classifier".into()),
                    r#type: Some(caffe::V1_INNER_PRODUCT),
                    blobs: vec![
                        legacy_blob([1, 1, 3, 2], vec![1., 2., 3., 4., 5., 6.]),
                        legacy_blob([1, 1, 1, 3], vec![7., 8., 9.]),
                    ],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let imported = import(&write(dir.path(), &net)).unwrap();
        assert_eq!(imported.layouts, vec![NetLayout::V1Layers]);
        assert_eq!(
            (imported.layers_with_blobs, imported.layers_without_blobs),
            (2, 1)
        );
        let set = imported.set;
        assert_eq!(
            set.get("conv1_7x7_s2.weight").unwrap().shape,
            vec![2, 1, 1, 1]
        );
        assert_eq!(set.get("conv1_7x7_s2.bias").unwrap().data, vec![0.5, -0.5]);
        let w = set.get("loss3_classifier.weight").unwrap();
        assert_eq!((w.shape.clone(), w.data[5]), (vec![3, 2], 6.0));
        assert_eq!(set.get("loss3_classifier.bias").unwrap().shape, vec![3]);
    }

    #[test]
    fn v0_layers_and_double_data_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetParameter {
            layers: vec![V1LayerParameter {
                layer: Some(V0LayerParameter {
                    name: Some("fc".into()),
                    r#type: Some("innerproduct".into()),
                    blobs: vec![BlobProto {
                        shape: Some(BlobShape { dim: vec![1, 2] }),
                        double_data: vec![0.25, -1.0],
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let imported = import(&write(dir.path(), &net)).unwrap();
        assert_eq!(imported.layouts, vec![NetLayout::V0Layers]);
        assert_eq!(
            imported.set.get("fc.weight").unwrap().data,
            vec![0.25, -1.0]
        );
    }

    #[test]
    fn inconsistent_blobs_and_empty_nets_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetParameter {
            layer: vec![LayerParameter {
                name: Some("inception_3a/1x1".into()),
                r#type: Some("Convolution".into()),
                blobs: vec![BlobProto {
                    shape: Some(BlobShape {
                        dim: vec![64, 192, 1, 1],
                    }),
                    data: vec![0.0; 100],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let err = read_caffemodel(&write(dir.path(), &net))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("net.caffemodel")
                && err.contains("inception_3a/1x1")
                && err.contains("12288 values, the blob has 100"),
            "{err}"
        );

        let net = NetParameter {
            layer: vec![LayerParameter {
                name: Some("relu".into()),
                r#type: Some("ReLU".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let err = read_caffemodel(&write(dir.path(), &net))
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds parameters"), "{err}");

        let path = dir.path().join("empty.caffemodel");
        std::fs::write(&path, b"").unwrap();
        let err = read_caffemodel(&path).unwrap_err().to_string();
        assert!(
            err.contains("empty.caffemodel") && err.contains("no layers"),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetParameter {
            layer: vec![LayerParameter {
                name: Some("conv".into()),
                blobs: vec![BlobProto {
                    shape: Some(BlobShape { dim: vec![4] }),
                    data: vec![1.0; 4],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let path = write(dir.path(), &net);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        let err = read_caffemodel(&path).unwrap_err().to_string();
        assert!(
            err.contains("net.caffemodel") && err.contains("truncated or corrupt"),
            "{err}"
        );

        std::fs::write(&path, b"PK\x03\x04 a zip, not protobuf").unwrap();
        let err = read_caffemodel(&path).unwrap_err().to_string();
        assert!(
            err.contains("zip archive") && err.contains("not a Caffe model"),
            "{err}"
        );
    }
}
