//! TensorFlow GraphDefs: the `tensorflow_inception_graph.pb` of Google's `inception5h.zip`,
//! read directly or from inside the zip, with no TensorFlow or Python.
//!
//! A frozen GraphDef stores every weight as a `Const` node whose `value` attribute is a
//! `TensorProto`. inception5h names them `<layer>_w` (kernel, TensorFlow's HWIO layout)
//! and `<layer>_b` (bias), and its classifier `softmax2_w` is `[1024, 1008]`, used as
//! `features · W`. [`import_inception5h`] maps them onto the key names of the PyTorch port
//! `inception5h.pth` (`conv2d0_pre_relu_conv.weight`, OIHW; `softmax2_pre_activation_matmul.
//! weight`, `[1008, 1024]`), so the model loads a `.pb` exactly like the `.pth`.
//!
//! The node names were checked against public listings of the real graph: the op list
//! printed by a deepdream script adapted from TensorFlow's deepdream tutorial
//! (`'import/conv2d0_w' type=Const`, …, `'import/mixed5b_pool_reduce_b'`,
//! `'import/head0_bottleneck_w'`, `'import/nn0_w'`, `'import/softmax0_w'`, …,
//! `'import/softmax2_w'`, `'import/softmax2_b'`, then `conv2d0_pre_relu/conv` (Conv2D),
//! `conv2d0_pre_relu` (BiasAdd)); TensorFlow benchmark logs that list the same `Const`
//! nodes (`mixed3a_1x1_w`, `mixed3a_3x3_bottleneck_w`, …); a TCAV model wrapper that reads
//! `softmax2_w:0` / `softmax2_b:0` as the logit weights; and lucent's `InceptionV1.py`
//! (greentfrapp/lucent), whose module names `<layer>_pre_relu_conv` and
//! `softmax2_pre_activation_matmul` are these nodes renamed by MMdnn.

use std::io::Read;
use std::path::Path;

use crate::proto::Message;
use crate::proto::tf::{self, GraphDef, TensorProto};
use crate::{NamedTensor, Result, Source, TensorSet, WeightsError};

pub const FORMAT: &str = "TensorFlow GraphDef";

/// The graph's file name inside `inception5h.zip`.
pub const INCEPTION5H_GRAPH: &str = "tensorflow_inception_graph.pb";
/// The label strings inside `inception5h.zip` (1001 lines, index 0 `dummy`).
pub const INCEPTION5H_LABELS: &str = "imagenet_comp_graph_label_strings.txt";

/// The inception blocks and, within each, the branch convolutions, in graph order.
const BLOCKS: [&str; 9] = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"];
const BRANCHES: [&str; 6] = [
    "1x1",
    "3x3_bottleneck",
    "3x3",
    "5x5_bottleneck",
    "5x5",
    "pool_reduce",
];
/// Prefixes of the auxiliary classifier heads (training only; not in `inception5h.pth`).
const AUX_PREFIXES: [&str; 6] = ["head0_", "nn0_", "softmax0_", "head1_", "nn1_", "softmax1_"];

/// The classifier's layer name in the graph.
pub const CLASSIFIER: &str = "softmax2";

/// The 58 layers of the main path whose `<layer>_w` / `<layer>_b` constants the model
/// needs: `conv2d0..2`, six convolutions in each of the nine `mixed` blocks, `softmax2`.
pub fn inception5h_layers() -> Vec<String> {
    let mut layers: Vec<String> = (0..3).map(|i| format!("conv2d{i}")).collect();
    for block in BLOCKS {
        for branch in BRANCHES {
            layers.push(format!("mixed{block}_{branch}"));
        }
    }
    layers.push(CLASSIFIER.to_string());
    layers
}

/// Whether a constant belongs to an auxiliary head (`head0_*`, `nn0_*`, `softmax0_*`, and
/// the same for head 1).
pub fn is_auxiliary(node: &str) -> bool {
    AUX_PREFIXES.iter().any(|p| node.starts_with(p))
}

/// The `inception5h.pth` key of a main-path constant (`mixed3a_1x1_w` →
/// `mixed3a_1x1_pre_relu_conv.weight`, `softmax2_b` → `softmax2_pre_activation_matmul.bias`),
/// or `None` for any other node name.
pub fn pth_name(node: &str) -> Option<String> {
    let (layer, kind) = if let Some(layer) = node.strip_suffix("_w") {
        (layer, "weight")
    } else if let Some(layer) = node.strip_suffix("_b") {
        (layer, "bias")
    } else {
        return None;
    };
    if layer == CLASSIFIER {
        return Some(format!("{CLASSIFIER}_pre_activation_matmul.{kind}"));
    }
    inception5h_layers()
        .iter()
        .any(|l| l == layer)
        .then(|| format!("{layer}_pre_relu_conv.{kind}"))
}

/// The bytes of a GraphDef: the file itself, or the single `.pb` inside a zip archive
/// (`inception5h.zip` holds `tensorflow_inception_graph.pb`).
pub fn graph_bytes(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::io(path, e))?;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(bytes);
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| WeightsError::format(path, "zip archive", e))?;
    let names = entry_names(path, &archive)?;
    let graphs: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with(".pb") && !n.starts_with("__MACOSX/"))
        .collect();
    let chosen = match graphs.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(WeightsError::format(
                path,
                FORMAT,
                format!(
                    "the zip archive holds no .pb GraphDef (expected {INCEPTION5H_GRAPH}; entries: {})",
                    names.join(", ")
                ),
            ));
        }
        many => match many.iter().find(|n| n.ends_with(INCEPTION5H_GRAPH)) {
            Some(n) => (*n).clone(),
            None => {
                return Err(WeightsError::format(
                    path,
                    FORMAT,
                    format!(
                        "the zip archive holds several .pb files ({}) and none is {INCEPTION5H_GRAPH}",
                        many.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        },
    };
    let mut entry = archive
        .by_name(&chosen)
        .map_err(|e| WeightsError::format(path, "zip archive", format!("{chosen}: {e}")))?;
    let mut out = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut out).map_err(|e| {
        WeightsError::format(path, "zip archive", format!("cannot extract {chosen}: {e}"))
    })?;
    Ok(out)
}

/// The entry names of a zip archive.
pub(crate) fn entry_names<R: std::io::Read + std::io::Seek>(
    path: &Path,
    archive: &zip::ZipArchive<R>,
) -> Result<Vec<String>> {
    archive
        .file_names()
        .map(|n| {
            n.map(|n| n.into_owned())
                .map_err(|e| WeightsError::format(path, "zip archive", e))
        })
        .collect()
}

/// The label strings shipped in `inception5h.zip` (one per output, index 0 `dummy`), or
/// `None` if the archive has no label file.
pub fn read_zip_labels(path: &Path) -> Result<Option<Vec<String>>> {
    let file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| WeightsError::format(path, "zip archive", e))?;
    let Some(name) = entry_names(path, &archive)?
        .into_iter()
        .find(|n| n.ends_with(INCEPTION5H_LABELS))
    else {
        return Ok(None);
    };
    let mut text = String::new();
    archive
        .by_name(&name)
        .map_err(|e| WeightsError::format(path, "zip archive", format!("{name}: {e}")))?
        .read_to_string(&mut text)
        .map_err(|e| WeightsError::format(path, "zip archive", format!("{name}: {e}")))?;
    Ok(Some(text.lines().map(str::to_string).collect()))
}

/// Decode a GraphDef, refusing files that are clearly something else.
pub fn read_graph(path: &Path) -> Result<GraphDef> {
    let bytes = graph_bytes(path)?;
    if let Some(other) = crate::sniff_other_format(&bytes) {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!("this is {other}, not a TensorFlow GraphDef"),
        ));
    }
    let graph = GraphDef::decode(bytes.as_slice()).map_err(|e| {
        WeightsError::format(path, FORMAT, format!("truncated or corrupt protobuf ({e})"))
    })?;
    if graph.node.is_empty() {
        return Err(WeightsError::format(
            path,
            FORMAT,
            "the graph has no nodes (is this a TensorFlow GraphDef?)",
        ));
    }
    Ok(graph)
}

/// A `Const` node's value as `f32`, in the graph's own layout; `Ok(None)` for constants
/// that are not floating point (shapes, concat axes).
///
/// Follows `Tensor::FromProto` (tensorflow/core/framework/tensor.cc): `tensor_content`
/// holds the raw little-endian values; otherwise the typed `*_val` field holds them, and
/// when it holds fewer values than the shape needs, the last one is repeated (a single
/// value broadcasts), and none at all means zeros.
pub fn const_value(path: &Path, node: &str, t: &TensorProto) -> Result<Option<NamedTensor>> {
    let shape = tensor_shape(path, node, t)?;
    let n: usize = shape.iter().product();
    let bad =
        |reason: String| WeightsError::format(path, FORMAT, format!("node `{node}`: {reason}"));
    let from_content = |width: usize, decode: &dyn Fn(&[u8]) -> f32| -> Result<Vec<f32>> {
        if t.tensor_content.len() != n * width {
            return Err(bad(format!(
                "tensor_content has {} bytes, expected {} ({} values of {} bytes for shape {:?})",
                t.tensor_content.len(),
                n * width,
                n,
                width,
                shape
            )));
        }
        Ok(t.tensor_content.chunks_exact(width).map(decode).collect())
    };
    let data = match t.dtype {
        tf::DT_FLOAT if !t.tensor_content.is_empty() => {
            from_content(4, &|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))?
        }
        tf::DT_FLOAT => fill(&t.float_val, n).map_err(bad)?,
        tf::DT_DOUBLE if !t.tensor_content.is_empty() => from_content(8, &|b| {
            f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        })?,
        tf::DT_DOUBLE => fill(&t.double_val, n)
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        tf::DT_HALF | tf::DT_BFLOAT16 => {
            let to_f32 = |bits: u16| {
                if t.dtype == tf::DT_HALF {
                    half::f16::from_bits(bits).to_f32()
                } else {
                    half::bf16::from_bits(bits).to_f32()
                }
            };
            if !t.tensor_content.is_empty() {
                from_content(2, &|b| to_f32(u16::from_le_bytes([b[0], b[1]])))?
            } else {
                fill(&t.half_val, n)
                    .map_err(bad)?
                    .into_iter()
                    .map(|v| to_f32(v as u16))
                    .collect()
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(NamedTensor::new(shape, data)))
}

fn tensor_shape(path: &Path, node: &str, t: &TensorProto) -> Result<Vec<usize>> {
    let Some(shape) = &t.tensor_shape else {
        return Ok(Vec::new()); // a scalar
    };
    if shape.unknown_rank {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!("node `{node}`: constant of unknown rank"),
        ));
    }
    shape
        .dim
        .iter()
        .map(|d| {
            usize::try_from(d.size).map_err(|_| {
                WeightsError::format(
                    path,
                    FORMAT,
                    format!("node `{node}`: dimension of size {}", d.size),
                )
            })
        })
        .collect()
}

/// TensorFlow's filling of a typed value field to `n` elements.
fn fill<T: Copy + Default>(values: &[T], n: usize) -> std::result::Result<Vec<T>, String> {
    if values.len() > n {
        return Err(format!(
            "{} values for a tensor of {n} elements",
            values.len()
        ));
    }
    let last = values.last().copied().unwrap_or_default();
    let mut out = values.to_vec();
    out.resize(n, last);
    Ok(out)
}

/// Every floating-point `Const` of a graph, by node name, in the graph's own layouts.
pub fn float_constants(path: &Path, graph: &GraphDef) -> Result<Vec<(String, NamedTensor)>> {
    let mut out = Vec::new();
    for node in graph.node.iter().filter(|n| n.op == "Const") {
        let Some(value) = node.attr.get("value").and_then(|a| a.tensor.as_ref()) else {
            return Err(WeightsError::format(
                path,
                FORMAT,
                format!("Const node `{}` has no `value` tensor", node.name),
            ));
        };
        if let Some(t) = const_value(path, &node.name, value)? {
            out.push((node.name.clone(), t));
        }
    }
    Ok(out)
}

/// The result of importing inception5h: the tensors in `inception5h.pth` naming and
/// layout, and the names of the float constants that were not needed (auxiliary heads).
#[derive(Clone, Debug)]
pub struct Import {
    pub set: TensorSet,
    pub ignored: Vec<String>,
}

/// Read an inception5h GraphDef (`.pb`, or `inception5h.zip`) into `inception5h.pth`
/// naming: kernels HWIO → OIHW, the classifier `[1024, 1008]` → `[1008, 1024]`.
pub fn read_inception5h(path: &Path) -> Result<TensorSet> {
    import_inception5h(path).map(|i| i.set)
}

/// [`read_inception5h`], also reporting the constants it ignored.
pub fn import_inception5h(path: &Path) -> Result<Import> {
    let graph = read_graph(path)?;
    let mut consts: std::collections::HashMap<String, NamedTensor> =
        float_constants(path, &graph)?.into_iter().collect();
    if consts.is_empty() {
        return Err(WeightsError::format(
            path,
            FORMAT,
            format!(
                "the graph ({} nodes) has no floating-point Const nodes: it holds no weights",
                graph.node.len()
            ),
        ));
    }
    let mut set = TensorSet::new(Source {
        path: path.to_path_buf(),
        format: FORMAT,
    });
    for layer in inception5h_layers() {
        let wname = format!("{layer}_w");
        let bname = format!("{layer}_b");
        let w = take_const(path, &graph, &mut consts, &wname)?;
        let b = take_const(path, &graph, &mut consts, &bname)?;
        let (weight, out_channels) = if layer == CLASSIFIER {
            let [inputs, outputs] = w.shape[..] else {
                return Err(rank_error(path, &wname, "[inputs, outputs]", &w.shape));
            };
            (transpose_2d(&w, inputs, outputs), outputs)
        } else {
            let [h, wd, i, o] = w.shape[..] else {
                return Err(rank_error(path, &wname, "HWIO [kh, kw, in, out]", &w.shape));
            };
            (hwio_to_oihw(&w, [h, wd, i, o]), o)
        };
        if b.shape != [out_channels] {
            return Err(WeightsError::Shape {
                path: path.to_path_buf(),
                name: bname,
                expected: vec![out_channels],
                found: b.shape.clone(),
            });
        }
        set.insert(pth_name(&wname).expect("a main-path layer"), weight);
        set.insert(pth_name(&bname).expect("a main-path layer"), b);
    }
    let mut ignored: Vec<String> = consts.into_keys().collect();
    ignored.sort();
    Ok(Import { set, ignored })
}

fn take_const(
    path: &Path,
    graph: &GraphDef,
    consts: &mut std::collections::HashMap<String, NamedTensor>,
    name: &str,
) -> Result<NamedTensor> {
    if let Some(t) = consts.remove(name) {
        return Ok(t);
    }
    // Present but not a float constant: say what it is.
    if let Some(node) = graph.node.iter().find(|n| n.name == name) {
        let dtype = node
            .attr
            .get("value")
            .and_then(|a| a.tensor.as_ref())
            .map(|t| tf::dtype_name(t.dtype));
        return Err(match (node.op.as_str(), dtype) {
            ("Const", Some(dtype)) => WeightsError::DType {
                path: path.to_path_buf(),
                name: name.to_string(),
                dtype,
            },
            (op, _) => WeightsError::format(
                path,
                FORMAT,
                format!("node `{name}` is a {op} node, expected a Const holding weights"),
            ),
        });
    }
    let mut near: Vec<&str> = consts
        .keys()
        .map(String::as_str)
        .filter(|n| !is_auxiliary(n))
        .collect();
    near.sort();
    near.truncate(6);
    Err(WeightsError::Missing {
        path: path.to_path_buf(),
        name: name.to_string(),
        hint: format!(
            " (an inception5h GraphDef has Const nodes <layer>_w and <layer>_b for 58 layers; \
             this graph has {} float constants left{}{})",
            consts.len(),
            if near.is_empty() { "" } else { ", e.g. " },
            near.join(", ")
        ),
    })
}

fn rank_error(path: &Path, name: &str, expected: &str, found: &[usize]) -> WeightsError {
    WeightsError::format(
        path,
        FORMAT,
        format!("node `{name}` has shape {found:?}, expected {expected}"),
    )
}

/// `[h, w, i, o]` row-major → `[o, i, h, w]` row-major.
fn hwio_to_oihw(t: &NamedTensor, [h, w, i, o]: [usize; 4]) -> NamedTensor {
    let mut out = vec![0.0f32; t.data.len()];
    for hh in 0..h {
        for ww in 0..w {
            for ii in 0..i {
                let src = ((hh * w + ww) * i + ii) * o;
                for oo in 0..o {
                    out[((oo * i + ii) * h + hh) * w + ww] = t.data[src + oo];
                }
            }
        }
    }
    NamedTensor::new(vec![o, i, h, w], out)
}

/// `[r, c]` → `[c, r]`.
fn transpose_2d(t: &NamedTensor, r: usize, c: usize) -> NamedTensor {
    let mut out = vec![0.0f32; t.data.len()];
    for rr in 0..r {
        for cc in 0..c {
            out[cc * r + rr] = t.data[rr * c + cc];
        }
    }
    NamedTensor::new(vec![c, r], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tf::{AttrValue, Dim, NodeDef, TensorShapeProto};

    fn shape(dims: &[i64]) -> Option<TensorShapeProto> {
        Some(TensorShapeProto {
            dim: dims
                .iter()
                .map(|&size| Dim {
                    size,
                    name: String::new(),
                })
                .collect(),
            unknown_rank: false,
        })
    }

    fn float_const(dims: &[i64], float_val: Vec<f32>) -> TensorProto {
        TensorProto {
            dtype: tf::DT_FLOAT,
            tensor_shape: shape(dims),
            float_val,
            ..Default::default()
        }
    }

    #[test]
    fn node_names_map_to_the_pth_keys_of_the_port() {
        // Names as they appear in public listings of the real graph.
        for (node, key) in [
            ("conv2d0_w", "conv2d0_pre_relu_conv.weight"),
            ("conv2d2_b", "conv2d2_pre_relu_conv.bias"),
            (
                "mixed3a_3x3_bottleneck_w",
                "mixed3a_3x3_bottleneck_pre_relu_conv.weight",
            ),
            (
                "mixed5b_pool_reduce_b",
                "mixed5b_pool_reduce_pre_relu_conv.bias",
            ),
            ("softmax2_w", "softmax2_pre_activation_matmul.weight"),
            ("softmax2_b", "softmax2_pre_activation_matmul.bias"),
        ] {
            assert_eq!(pth_name(node).as_deref(), Some(key), "{node}");
        }
        for aux in ["head0_bottleneck_w", "nn1_b", "softmax0_w", "softmax1_b"] {
            assert!(is_auxiliary(aux) && pth_name(aux).is_none(), "{aux}");
        }
        assert_eq!(pth_name("mixed3a/concat_dim"), None);
        assert_eq!(inception5h_layers().len(), 58);
    }

    #[test]
    fn float_val_broadcasts_and_fills_like_tensorflow() {
        let p = Path::new("g.pb");
        let one = const_value(p, "c", &float_const(&[2, 3], vec![1.5])).unwrap();
        assert_eq!(one.unwrap().data, vec![1.5; 6]);
        let some = const_value(p, "c", &float_const(&[4], vec![1.0, 2.0])).unwrap();
        assert_eq!(some.unwrap().data, vec![1.0, 2.0, 2.0, 2.0]);
        let none = const_value(p, "c", &float_const(&[3], vec![])).unwrap();
        assert_eq!(none.unwrap().data, vec![0.0; 3]);
        let err = const_value(p, "c", &float_const(&[2], vec![1.0, 2.0, 3.0]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("g.pb") && err.contains("`c`") && err.contains("3 values"),
            "{err}"
        );
    }

    #[test]
    fn tensor_content_is_little_endian_and_length_checked() {
        let p = Path::new("g.pb");
        let mut t = float_const(&[2], vec![]);
        t.tensor_content = [1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat();
        assert_eq!(
            const_value(p, "c", &t).unwrap().unwrap().data,
            vec![1.0, -2.5]
        );
        t.tensor_content.pop();
        let err = const_value(p, "c", &t).unwrap_err().to_string();
        assert!(err.contains("7 bytes, expected 8"), "{err}");
        // Doubles and halves are converted.
        let d = TensorProto {
            dtype: tf::DT_DOUBLE,
            tensor_shape: shape(&[1]),
            tensor_content: 0.25f64.to_le_bytes().to_vec(),
            ..Default::default()
        };
        assert_eq!(const_value(p, "d", &d).unwrap().unwrap().data, vec![0.25]);
        let h = TensorProto {
            dtype: tf::DT_HALF,
            tensor_shape: shape(&[2]),
            half_val: vec![half::f16::from_f32(-3.0).to_bits() as i32],
            ..Default::default()
        };
        assert_eq!(
            const_value(p, "h", &h).unwrap().unwrap().data,
            vec![-3.0, -3.0]
        );
        // Integer constants are not weights.
        let i = TensorProto {
            dtype: tf::DT_INT32,
            tensor_shape: shape(&[]),
            int_val: vec![3],
            ..Default::default()
        };
        assert!(const_value(p, "i", &i).unwrap().is_none());
    }

    #[test]
    fn layouts_are_transposed_exactly() {
        // HWIO [1, 2, 2, 3]: value = 1000h + 100w + 10i + o.
        let (h, w, i, o) = (1, 2, 2, 3);
        let mut data = Vec::new();
        for hh in 0..h {
            for ww in 0..w {
                for ii in 0..i {
                    for oo in 0..o {
                        data.push((1000 * hh + 100 * ww + 10 * ii + oo) as f32);
                    }
                }
            }
        }
        let t = hwio_to_oihw(&NamedTensor::new(vec![h, w, i, o], data), [h, w, i, o]);
        assert_eq!(t.shape, vec![3, 2, 1, 2]);
        // OIHW [o=2][i=1][h=0][w=1] is 100 + 10 + 2.
        // Flat index ((o·I + i)·H + h)·W + w = ((2·2 + 1)·1 + 0)·2 + 1 = 11.
        assert_eq!(t.data[11], 112.0);
        let m = transpose_2d(
            &NamedTensor::new(vec![2, 3], vec![0., 1., 2., 3., 4., 5.]),
            2,
            3,
        );
        assert_eq!(
            (m.shape.clone(), m.data),
            (vec![3, 2], vec![0., 3., 1., 4., 2., 5.])
        );
    }

    fn write_graph(dir: &Path, nodes: Vec<NodeDef>) -> std::path::PathBuf {
        let path = dir.join("graph.pb");
        let g = GraphDef {
            node: nodes,
            version: 0,
        };
        std::fs::write(&path, g.encode_to_vec()).unwrap();
        path
    }

    fn const_node(name: &str, t: TensorProto) -> NodeDef {
        NodeDef {
            name: name.to_string(),
            op: "Const".to_string(),
            attr: [(
                "value".to_string(),
                AttrValue {
                    tensor: Some(t),
                    ..Default::default()
                },
            )]
            .into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_node_is_named_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_graph(
            dir.path(),
            vec![
                const_node("conv2d0_w", float_const(&[7, 7, 3, 64], vec![0.5])),
                const_node("conv2d0_b", float_const(&[64], vec![0.0])),
            ],
        );
        let err = read_inception5h(&path).unwrap_err().to_string();
        assert!(
            err.contains("graph.pb") && err.contains("`conv2d1_w` is missing"),
            "{err}"
        );
    }

    #[test]
    fn an_integer_weight_and_a_wrong_rank_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let int = TensorProto {
            dtype: tf::DT_INT32,
            tensor_shape: shape(&[7, 7, 3, 64]),
            int_val: vec![1],
            ..Default::default()
        };
        let path = write_graph(
            dir.path(),
            vec![
                const_node("conv2d0_w", int),
                const_node("conv2d0_b", float_const(&[64], vec![0.0])),
            ],
        );
        let err = read_inception5h(&path).unwrap_err().to_string();
        assert!(
            err.contains("conv2d0_w") && err.contains("DT_INT32"),
            "{err}"
        );

        let path = write_graph(
            dir.path(),
            vec![
                const_node("conv2d0_w", float_const(&[64, 147], vec![0.5])),
                const_node("conv2d0_b", float_const(&[64], vec![0.0])),
            ],
        );
        let err = read_inception5h(&path).unwrap_err().to_string();
        assert!(err.contains("conv2d0_w") && err.contains("HWIO"), "{err}");
    }

    #[test]
    fn truncated_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_graph(
            dir.path(),
            vec![const_node(
                "conv2d0_w",
                float_const(&[7, 7, 3, 64], vec![0.5]),
            )],
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = read_inception5h(&path).unwrap_err().to_string();
        assert!(
            err.contains("graph.pb") && err.contains("truncated or corrupt"),
            "{err}"
        );

        std::fs::write(&path, b"\x93NUMPY\x01\x00 not a graph").unwrap();
        let err = read_inception5h(&path).unwrap_err().to_string();
        assert!(
            err.contains("NumPy") && err.contains("not a TensorFlow GraphDef"),
            "{err}"
        );
    }
}
