//! Test-only writers of the original formats, for round-trip tests: they write weights the
//! way the published files store them, so that importing them back must undo exactly what
//! the publishers' layouts do.
//!
//! They are written independently of the importers (no importer function is called): node
//! and layer names are rebuilt here from the published naming, and layouts are transposed
//! here, so a wrong mapping on either side makes the round trip fail.
//!
//! Shared by aann-weights' `tests/import_formats.rs` and aann-model's
//! `tests/import_roundtrip.rs` (through `#[path]`).
#![allow(dead_code)]

use aann_weights::proto::Message;
use aann_weights::proto::caffe::{
    BlobProto, BlobShape, LayerParameter, NetParameter, V1LayerParameter,
};
use aann_weights::proto::tf::{
    self, AttrValue, Dim, GraphDef, NodeDef, TensorProto, TensorShapeProto,
};
use aann_weights::{NamedTensor, TensorSet};

fn tf_shape(shape: &[usize]) -> TensorShapeProto {
    TensorShapeProto {
        dim: shape
            .iter()
            .map(|&d| Dim {
                size: d as i64,
                name: String::new(),
            })
            .collect(),
        unknown_rank: false,
    }
}

fn attr_tensor(t: TensorProto) -> AttrValue {
    AttrValue {
        tensor: Some(t),
        ..Default::default()
    }
}

fn attr_type(dtype: i32) -> AttrValue {
    AttrValue {
        r#type: Some(dtype),
        ..Default::default()
    }
}

/// A `Const` node as TensorFlow freezes it: `dtype` and `value` attributes.
fn const_node(name: &str, t: TensorProto) -> NodeDef {
    let dtype = t.dtype;
    NodeDef {
        name: name.to_string(),
        op: "Const".to_string(),
        attr: [
            ("dtype".to_string(), attr_type(dtype)),
            ("value".to_string(), attr_tensor(t)),
        ]
        .into(),
        ..Default::default()
    }
}

fn op_node(name: &str, op: &str, inputs: &[&str]) -> NodeDef {
    NodeDef {
        name: name.to_string(),
        op: op.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        attr: [("T".to_string(), attr_type(tf::DT_FLOAT))].into(),
        ..Default::default()
    }
}

/// Large tensors as raw little-endian bytes (`tensor_content`), as TensorFlow freezes them.
fn content_tensor(shape: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        dtype: tf::DT_FLOAT,
        tensor_shape: Some(tf_shape(shape)),
        tensor_content: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// Small tensors in the typed `float_val` field.
fn float_val_tensor(shape: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        dtype: tf::DT_FLOAT,
        tensor_shape: Some(tf_shape(shape)),
        float_val: data.to_vec(),
        ..Default::default()
    }
}

/// OIHW → HWIO (TensorFlow's Conv2D filter layout).
fn oihw_to_hwio(t: &NamedTensor) -> (Vec<usize>, Vec<f32>) {
    let [o, i, h, w] = t.shape[..] else {
        panic!("expected OIHW, got {:?}", t.shape)
    };
    let mut out = vec![0.0; t.data.len()];
    for oo in 0..o {
        for ii in 0..i {
            for hh in 0..h {
                for ww in 0..w {
                    out[((hh * w + ww) * i + ii) * o + oo] =
                        t.data[((oo * i + ii) * h + hh) * w + ww];
                }
            }
        }
    }
    (vec![h, w, i, o], out)
}

fn transpose(t: &NamedTensor) -> (Vec<usize>, Vec<f32>) {
    let [r, c] = t.shape[..] else {
        panic!("expected a matrix, got {:?}", t.shape)
    };
    let mut out = vec![0.0; t.data.len()];
    for rr in 0..r {
        for cc in 0..c {
            out[cc * r + rr] = t.data[rr * c + cc];
        }
    }
    (vec![c, r], out)
}

/// A GraphDef laid out like inception5h's `tensorflow_inception_graph.pb`, from tensors in
/// the `inception5h.pth` naming: `<layer>_pre_relu_conv.weight` (OIHW) becomes the Const
/// `<layer>_w` (HWIO), `.bias` becomes `<layer>_b`, and the classifier
/// `softmax2_pre_activation_matmul.weight` `[1008, 1024]` becomes `softmax2_w`
/// `[1024, 1008]`. Kernels are stored as `tensor_content`, biases as `float_val`.
///
/// Around them, as in the real graph: the `input` placeholder, the auxiliary heads'
/// constants (`head0_bottleneck_w`, `nn0_w`, `softmax0_w`, … — small stand-ins here, since
/// they are ignored), an integer constant (`mixed3a/concat_dim`), and op nodes.
pub fn inception5h_graphdef(set: &TensorSet) -> Vec<u8> {
    let mut nodes = vec![NodeDef {
        name: "input".into(),
        op: "Placeholder".into(),
        attr: [("dtype".to_string(), attr_type(tf::DT_FLOAT))].into(),
        ..Default::default()
    }];
    for (name, t) in set.iter() {
        let node = if let Some(layer) = name.strip_suffix("_pre_relu_conv.weight") {
            let (shape, data) = oihw_to_hwio(t);
            const_node(&format!("{layer}_w"), content_tensor(&shape, &data))
        } else if let Some(layer) = name.strip_suffix("_pre_relu_conv.bias") {
            const_node(&format!("{layer}_b"), float_val_tensor(&t.shape, &t.data))
        } else if name == "softmax2_pre_activation_matmul.weight" {
            let (shape, data) = transpose(t);
            const_node("softmax2_w", content_tensor(&shape, &data))
        } else if name == "softmax2_pre_activation_matmul.bias" {
            const_node("softmax2_b", float_val_tensor(&t.shape, &t.data))
        } else {
            panic!("not an inception5h.pth key: {name}");
        };
        nodes.push(node);
    }
    for aux in [
        "head0_bottleneck",
        "nn0",
        "softmax0",
        "head1_bottleneck",
        "nn1",
        "softmax1",
    ] {
        nodes.push(const_node(
            &format!("{aux}_w"),
            content_tensor(&[1, 1, 2, 2], &[0.5, -0.5, 0.25, 1.0]),
        ));
        nodes.push(const_node(
            &format!("{aux}_b"),
            float_val_tensor(&[2], &[0.0]),
        ));
    }
    nodes.push(const_node(
        "mixed3a/concat_dim",
        TensorProto {
            dtype: tf::DT_INT32,
            tensor_shape: Some(tf_shape(&[])),
            int_val: vec![3],
            ..Default::default()
        },
    ));
    nodes.push(op_node(
        "conv2d0_pre_relu/conv",
        "Conv2D",
        &["input", "conv2d0_w"],
    ));
    nodes.push(op_node(
        "conv2d0_pre_relu",
        "BiasAdd",
        &["conv2d0_pre_relu/conv", "conv2d0_b"],
    ));
    nodes.push(op_node("conv2d0", "Relu", &["conv2d0_pre_relu"]));
    nodes.push(op_node(
        "softmax2_pre_activation/matmul",
        "MatMul",
        &["avgpool0/reshape", "softmax2_w"],
    ));
    GraphDef {
        node: nodes,
        version: 0,
    }
    .encode_to_vec()
}

/// Caffe's two layer layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaffeLayout {
    /// `NetParameter.layer`: string types, blobs with a `shape`.
    Layer,
    /// `NetParameter.layers` (V1): enum types, blobs with legacy num/channels/height/width.
    V1Layers,
}

/// The Caffe layer name of a `<stem>.weight` stem: BVLC names use a slash after the stage
/// (`conv1/7x7_s2`, `inception_3a/1x1`, `loss3/classifier`).
fn caffe_layer_name(stem: &str) -> String {
    let cut = if stem.starts_with("inception_") {
        stem.match_indices('_').nth(1).map(|(i, _)| i)
    } else {
        stem.find('_')
    };
    let i = cut.unwrap_or_else(|| panic!("not a BVLC layer stem: {stem}"));
    format!("{}/{}", &stem[..i], &stem[i + 1..])
}

fn new_blob(shape: &[usize], data: &[f32], as_double: bool) -> BlobProto {
    BlobProto {
        shape: Some(BlobShape {
            dim: shape.iter().map(|&d| d as i64).collect(),
        }),
        data: if as_double { Vec::new() } else { data.to_vec() },
        double_data: if as_double {
            data.iter().map(|&v| v as f64).collect()
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

fn legacy_blob(dims: [usize; 4], data: &[f32]) -> BlobProto {
    BlobProto {
        num: Some(dims[0] as i64),
        channels: Some(dims[1] as i64),
        height: Some(dims[2] as i64),
        width: Some(dims[3] as i64),
        data: data.to_vec(),
        ..Default::default()
    }
}

const V1_DATA: i32 = 5;
const V1_RELU: i32 = 18;
const V1_SOFTMAX: i32 = 20;

/// A `.caffemodel` of BVLC GoogLeNet from `<layer>.weight` (conv OIHW, classifier
/// `[out, in]`) / `<layer>.bias` tensors, in the given layout. In the `layer` layout,
/// biases are stored as `double_data`; in the V1 layout every blob uses the legacy 4-D
/// dimensions Caffe wrote in 2014 (bias `(1, 1, 1, N)`, inner product `(1, 1, out, in)`).
/// Parameterless layers (data, ReLU, softmax) and an auxiliary head (`loss1/conv`,
/// `loss1/classifier`, small stand-ins) are added around them, as in the released file.
pub fn bvlc_caffemodel(set: &TensorSet, layout: CaffeLayout) -> Vec<u8> {
    let mut stems: Vec<&str> = set
        .names()
        .filter_map(|n| n.strip_suffix(".weight"))
        .collect();
    stems.sort();
    let mut layers: Vec<(String, bool, Vec<BlobProto>)> = vec![("data".into(), false, vec![])];
    let aux = [
        (
            "loss1_conv",
            NamedTensor::new(vec![2, 3, 1, 1], vec![1., 2., 3., 4., 5., 6.]),
            NamedTensor::new(vec![2], vec![0.5, -0.5]),
        ),
        (
            "loss1_classifier",
            NamedTensor::new(vec![3, 2], vec![1., 0., 0., 1., 1., 1.]),
            NamedTensor::new(vec![3], vec![0.0, 0.1, 0.2]),
        ),
    ];
    let main = stems.iter().map(|&s| {
        (
            s,
            set.get(&format!("{s}.weight")).unwrap().clone(),
            set.get(&format!("{s}.bias")).unwrap().clone(),
        )
    });
    for (stem, w, b) in main.chain(aux) {
        let inner_product = w.shape.len() == 2;
        let blobs = match layout {
            CaffeLayout::Layer => vec![
                new_blob(&w.shape, &w.data, false),
                new_blob(&b.shape, &b.data, true),
            ],
            CaffeLayout::V1Layers => {
                let wdims = match w.shape[..] {
                    [o, i, h, k] => [o, i, h, k],
                    [o, i] => [1, 1, o, i],
                    _ => panic!("{stem}: shape {:?}", w.shape),
                };
                vec![
                    legacy_blob(wdims, &w.data),
                    legacy_blob([1, 1, 1, b.data.len()], &b.data),
                ]
            }
        };
        layers.push((caffe_layer_name(stem), inner_product, blobs));
        if stem == "conv1_7x7_s2" {
            layers.push(("conv1/relu_7x7".into(), false, vec![]));
        }
    }
    layers.push(("prob".into(), false, vec![]));
    let mut net = NetParameter {
        name: Some("GoogleNet".into()),
        ..Default::default()
    };
    for (name, inner_product, blobs) in layers {
        let has_blobs = !blobs.is_empty();
        match layout {
            CaffeLayout::Layer => net.layer.push(LayerParameter {
                r#type: Some(
                    match (name.as_str(), has_blobs, inner_product) {
                        ("data", ..) => "Data",
                        ("prob", ..) => "Softmax",
                        (_, false, _) => "ReLU",
                        (_, true, true) => "InnerProduct",
                        (_, true, false) => "Convolution",
                    }
                    .into(),
                ),
                name: Some(name),
                blobs,
                ..Default::default()
            }),
            CaffeLayout::V1Layers => net.layers.push(V1LayerParameter {
                r#type: Some(match (name.as_str(), has_blobs, inner_product) {
                    ("data", ..) => V1_DATA,
                    ("prob", ..) => V1_SOFTMAX,
                    (_, false, _) => V1_RELU,
                    (_, true, true) => aann_weights::proto::caffe::V1_INNER_PRODUCT,
                    (_, true, false) => aann_weights::proto::caffe::V1_CONVOLUTION,
                }),
                name: Some(name),
                blobs,
                ..Default::default()
            }),
        }
    }
    net.encode_to_vec()
}

/// Bit-for-bit equality of two tensors (`-0.0` ≠ `0.0`, NaNs compared by payload).
pub fn assert_bit_identical(name: &str, got: &NamedTensor, want: &NamedTensor) {
    assert_eq!(got.shape, want.shape, "{name}: shape");
    let differing = got
        .data
        .iter()
        .zip(&want.data)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(differing, 0, "{name}: {differing} values differ");
}
