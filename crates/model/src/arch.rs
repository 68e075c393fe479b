//! The one architecture description of InceptionV1, shared by both weight sets.
//!
//! GoogLeNet (Szegedy et al. 2014) is a stem of three convolutions, two max-pools and two
//! local response normalisations, then nine inception blocks (3a–3b, 4a–4e, 5a–5b) with
//! max-pools between the stages, a 7×7 average pool and a linear classifier. The two
//! trainings aann supports share this topology and differ only in the data of the table
//! below: a few branch widths, the number of classes, how padding is computed, the LRN
//! constants, the input preprocessing, and the names each gives its layers.
//!
//! Every layer output is a [`Tap`]: a [`Layer`] (where in the network) plus whether it is
//! read before the ReLU. Taps have a name in each model's own vocabulary (`mixed3b` in
//! Lucid, `inception_3b_output` in Caffe) and a position in network order, which is what
//! prefix reuse and early stopping work with.

use std::fmt;

use serde::{Deserialize, Serialize};

mod padding;

pub use padding::{conv_padding, stage_pool_padding, window_output, window_padding};

/// Which trained InceptionV1 a model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Lucid's InceptionV1 ("inception5h", TensorFlow): the model all published Circuits
    /// neuron indices refer to. TF "SAME" padding, LRN with an 11-channel window, RGB input
    /// `pixel − 117`, 1008 outputs in Google's label order.
    Lucid,
    /// BVLC GoogLeNet (Caffe): symmetric padding with ceil-rounded pooling, LRN over 5
    /// channels, BGR input minus the ImageNet mean, 1000 outputs in sorted-synset order.
    Bvlc,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Lucid, Variant::Bvlc];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Lucid => "lucid",
            Variant::Bvlc => "bvlc",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "lucid" | "inception5h" | "inceptionv1" => Ok(Variant::Lucid),
            "bvlc" | "caffe" | "googlenet" | "bvlc_googlenet" => Ok(Variant::Bvlc),
            other => Err(format!(
                "unknown model `{other}`: expected `lucid` (inception5h) or `bvlc` (BVLC GoogLeNet)"
            )),
        }
    }

    /// How an image file becomes this model's input (default geometry: shorter side 256,
    /// centre crop 224).
    pub fn preprocess(self) -> aann_data::Preprocess {
        match self {
            Variant::Lucid => aann_data::Preprocess::lucid(),
            Variant::Bvlc => aann_data::Preprocess::caffe(),
        }
    }

    /// Number of outputs of the classifier.
    pub fn num_outputs(self) -> usize {
        match self {
            Variant::Lucid => 1008,
            Variant::Bvlc => 1000,
        }
    }

    /// The padding convention of the framework the model was trained in.
    pub fn padding(self) -> PaddingScheme {
        match self {
            Variant::Lucid => PaddingScheme::TfSame,
            Variant::Bvlc => PaddingScheme::CaffeCeil,
        }
    }

    /// Local response normalisation constants, in one formula:
    /// `y_c = x_c / (bias + alpha · Σ_{|c'−c| ≤ radius} x_{c'}²)^beta`.
    pub fn lrn(self) -> LrnParams {
        match self {
            // TF: depth_radius=5, bias=2, alpha=1e-4 (not divided by the window), beta=0.5.
            Variant::Lucid => LrnParams {
                radius: 5,
                bias: 2.0,
                alpha: 1e-4, // TF stores 9.999999747378752e-05: exactly 1e-4 as f32
                beta: 0.5,
            },
            // Caffe: local_size=5, alpha=1e-4 divided by local_size, beta=0.75, k=1.
            Variant::Bvlc => LrnParams {
                radius: 2,
                bias: 1.0,
                alpha: 1e-4 / 5.0,
                beta: 0.75,
            },
        }
    }

    /// Branch widths of an inception block. The two trainings agree except in 4a's 3×3
    /// branch (Lucid 204, Caffe 208) and 5a's 5×5 bottleneck (Lucid 48, Caffe 32).
    pub fn widths(self, block: Block) -> BlockWidths {
        let w = |b1, b3r, b3, b5r, b5, pp| BlockWidths {
            b1x1: b1,
            b3x3_reduce: b3r,
            b3x3: b3,
            b5x5_reduce: b5r,
            b5x5: b5,
            pool_proj: pp,
        };
        match (block, self) {
            (Block::B3a, _) => w(64, 96, 128, 16, 32, 32),
            (Block::B3b, _) => w(128, 128, 192, 32, 96, 64),
            (Block::B4a, Variant::Lucid) => w(192, 96, 204, 16, 48, 64),
            (Block::B4a, Variant::Bvlc) => w(192, 96, 208, 16, 48, 64),
            (Block::B4b, _) => w(160, 112, 224, 24, 64, 64),
            (Block::B4c, _) => w(128, 128, 256, 24, 64, 64),
            (Block::B4d, _) => w(112, 144, 288, 32, 64, 64),
            (Block::B4e, _) => w(256, 160, 320, 32, 128, 128),
            (Block::B5a, Variant::Lucid) => w(256, 160, 320, 48, 128, 128),
            (Block::B5a, Variant::Bvlc) => w(256, 160, 320, 32, 128, 128),
            (Block::B5b, _) => w(384, 192, 384, 48, 128, 128),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How convolution and pooling padding is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingScheme {
    /// TensorFlow "SAME": output = ceil(input / stride); the total padding needed is split
    /// with the extra pixel at the bottom/right. Max-pools pad with −∞.
    TfSame,
    /// Caffe: each convolution has a fixed symmetric padding; max-pools have none and round
    /// their output size up (a last window may hang over the edge).
    CaffeCeil,
}

/// Local response normalisation constants (see [`Variant::lrn`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnParams {
    pub radius: usize,
    pub bias: f32,
    pub alpha: f32,
    pub beta: f32,
}

/// Channel widths of the six convolutions of an inception block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockWidths {
    pub b1x1: usize,
    pub b3x3_reduce: usize,
    pub b3x3: usize,
    pub b5x5_reduce: usize,
    pub b5x5: usize,
    pub pool_proj: usize,
}

impl BlockWidths {
    /// Width of the block output (the concatenation of 1×1, 3×3, 5×5 and pool branches).
    pub fn output(&self) -> usize {
        self.b1x1 + self.b3x3 + self.b5x5 + self.pool_proj
    }

    /// Where each concatenated branch starts in the block output, in branch order.
    pub fn offsets(&self) -> [(Branch, usize, usize); 4] {
        let a = self.b1x1;
        let b = a + self.b3x3;
        let c = b + self.b5x5;
        [
            (Branch::B1x1, 0, a),
            (Branch::B3x3, a, b),
            (Branch::B5x5, b, c),
            (Branch::PoolProj, c, c + self.pool_proj),
        ]
    }
}

/// The nine inception blocks, in network order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Block {
    B3a,
    B3b,
    B4a,
    B4b,
    B4c,
    B4d,
    B4e,
    B5a,
    B5b,
}

impl Block {
    pub const ALL: [Block; 9] = [
        Block::B3a,
        Block::B3b,
        Block::B4a,
        Block::B4b,
        Block::B4c,
        Block::B4d,
        Block::B4e,
        Block::B5a,
        Block::B5b,
    ];

    /// The short id both vocabularies build on: `3a`, `3b`, … `5b`.
    pub fn id(self) -> &'static str {
        match self {
            Block::B3a => "3a",
            Block::B3b => "3b",
            Block::B4a => "4a",
            Block::B4b => "4b",
            Block::B4c => "4c",
            Block::B4d => "4d",
            Block::B4e => "4e",
            Block::B5a => "5a",
            Block::B5b => "5b",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The parts of an inception block that have their own output, in computation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Branch {
    /// 1×1 convolution.
    B1x1,
    /// 1×1 bottleneck in front of the 3×3 convolution.
    B3x3Reduce,
    /// 3×3 convolution.
    B3x3,
    /// 1×1 bottleneck in front of the 5×5 convolution.
    B5x5Reduce,
    /// 5×5 convolution.
    B5x5,
    /// 3×3 stride-1 max-pool of the block input (no weights, no ReLU).
    Pool,
    /// 1×1 convolution after the max-pool.
    PoolProj,
}

impl Branch {
    pub const ALL: [Branch; 7] = [
        Branch::B1x1,
        Branch::B3x3Reduce,
        Branch::B3x3,
        Branch::B5x5Reduce,
        Branch::B5x5,
        Branch::Pool,
        Branch::PoolProj,
    ];

    fn lucid_suffix(self) -> &'static str {
        match self {
            Branch::B1x1 => "1x1",
            Branch::B3x3Reduce => "3x3_bottleneck",
            Branch::B3x3 => "3x3",
            Branch::B5x5Reduce => "5x5_bottleneck",
            Branch::B5x5 => "5x5",
            Branch::Pool => "pool",
            Branch::PoolProj => "pool_reduce",
        }
    }

    fn caffe_suffix(self) -> &'static str {
        match self {
            Branch::B1x1 => "1x1",
            Branch::B3x3Reduce => "3x3_reduce",
            Branch::B3x3 => "3x3",
            Branch::B5x5Reduce => "5x5_reduce",
            Branch::B5x5 => "5x5",
            Branch::Pool => "pool",
            Branch::PoolProj => "pool_proj",
        }
    }

    /// Whether this branch is a convolution followed by a ReLU (all but the max-pool).
    pub fn is_conv(self) -> bool {
        self != Branch::Pool
    }

    /// Output width within a block.
    pub fn width(self, w: &BlockWidths, block_input: usize) -> usize {
        match self {
            Branch::B1x1 => w.b1x1,
            Branch::B3x3Reduce => w.b3x3_reduce,
            Branch::B3x3 => w.b3x3,
            Branch::B5x5Reduce => w.b5x5_reduce,
            Branch::B5x5 => w.b5x5,
            Branch::Pool => block_input,
            Branch::PoolProj => w.pool_proj,
        }
    }

    /// Kernel size of the branch's operation.
    pub fn kernel(self) -> usize {
        match self {
            Branch::B3x3 | Branch::Pool => 3,
            Branch::B5x5 => 5,
            _ => 1,
        }
    }
}

/// Every place in the network with an output, in network order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layer {
    /// The preprocessed input image.
    Input,
    /// 7×7 stride-2 convolution (Lucid `conv2d0`, Caffe `conv1_7x7_s2`).
    Conv0,
    /// First 3×3 stride-2 max-pool (`maxpool0`, `pool1_3x3_s2`).
    Pool0,
    /// First local response normalisation (`localresponsenorm0`, `pool1_norm1`).
    Lrn0,
    /// 1×1 convolution (`conv2d1`, `conv2_3x3_reduce`).
    Conv1,
    /// 3×3 convolution (`conv2d2`, `conv2_3x3`).
    Conv2,
    /// Second local response normalisation (`localresponsenorm1`, `conv2_norm2`).
    Lrn1,
    /// Max-pool before stage 3 (`maxpool1`, `pool2_3x3_s2`).
    Pool1,
    /// A branch output inside an inception block (`mixed3b_5x5`, `inception_3b_5x5`).
    Branch(Block, Branch),
    /// An inception block's concatenated output (`mixed3b`, `inception_3b_output`).
    Mixed(Block),
    /// Max-pool before stage 4 (`maxpool4`, `pool3_3x3_s2`).
    Pool3,
    /// Max-pool before stage 5 (`maxpool10`, `pool4_3x3_s2`).
    Pool4,
    /// 7×7 average pool (`avgpool0`, `pool5_7x7_s1`).
    AvgPool,
    /// Classifier outputs before the softmax (`softmax2_pre_activation`, `loss3_classifier`).
    Logits,
    /// Class probabilities (`softmax2`, `prob`).
    Probabilities,
}

impl Layer {
    /// Whether this layer ends in a ReLU, so that a pre-ReLU tap exists.
    pub fn has_relu(self) -> bool {
        match self {
            Layer::Conv0 | Layer::Conv1 | Layer::Conv2 | Layer::Mixed(_) => true,
            Layer::Branch(_, b) => b.is_conv(),
            _ => false,
        }
    }

    /// Whether this output is a flat vector per image (`[N, C]`) rather than a feature map.
    pub fn is_flat(self) -> bool {
        matches!(self, Layer::Logits | Layer::Probabilities)
    }
}

/// A named layer output that can be read or intervened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tap {
    pub layer: Layer,
    /// Read before the layer's ReLU (Lucid's `*_pre_relu` tensors).
    pub pre_relu: bool,
}

impl Tap {
    /// The post-activation output of a layer.
    pub const fn output(layer: Layer) -> Self {
        Tap {
            layer,
            pre_relu: false,
        }
    }

    /// The pre-ReLU output of a layer that has a ReLU.
    pub const fn pre_relu(layer: Layer) -> Self {
        Tap {
            layer,
            pre_relu: true,
        }
    }

    pub const INPUT: Tap = Tap::output(Layer::Input);
    pub const LOGITS: Tap = Tap::output(Layer::Logits);

    /// An inception block's output (`mixed3b` / `inception_3b_output`).
    pub const fn mixed(block: Block) -> Self {
        Tap::output(Layer::Mixed(block))
    }

    /// A branch output inside a block (`mixed3b_5x5` / `inception_3b_5x5`).
    pub const fn branch(block: Block, branch: Branch) -> Self {
        Tap::output(Layer::Branch(block, branch))
    }

    /// Position in network order: a tap with a smaller index is computed earlier, and
    /// nothing it depends on comes after it.
    pub fn order(self) -> usize {
        let pre = usize::from(!self.pre_relu);
        let base = |i: usize| 2 * i + pre;
        match self.layer {
            Layer::Input => base(0),
            Layer::Conv0 => base(1),
            Layer::Pool0 => base(2),
            Layer::Lrn0 => base(3),
            Layer::Conv1 => base(4),
            Layer::Conv2 => base(5),
            Layer::Lrn1 => base(6),
            Layer::Pool1 => base(7),
            Layer::Branch(block, branch) => base(block_base(block) + branch as usize),
            Layer::Mixed(block) => base(block_base(block) + Branch::ALL.len()),
            Layer::Pool3 => base(block_base(Block::B4a) - 1),
            Layer::Pool4 => base(block_base(Block::B5a) - 1),
            Layer::AvgPool => base(block_base(Block::B5b) + Branch::ALL.len() + 1),
            Layer::Logits => base(block_base(Block::B5b) + Branch::ALL.len() + 2),
            Layer::Probabilities => base(block_base(Block::B5b) + Branch::ALL.len() + 3),
        }
    }

    /// The model-specific name of this tap.
    pub fn name(self, variant: Variant) -> String {
        let base = match variant {
            Variant::Lucid => lucid_name(self.layer),
            Variant::Bvlc => caffe_name(self.layer),
        };
        if self.pre_relu {
            format!("{base}_pre_relu")
        } else {
            base
        }
    }

    /// Every tap of a model, in network order.
    pub fn all() -> Vec<Tap> {
        let mut layers = vec![
            Layer::Input,
            Layer::Conv0,
            Layer::Pool0,
            Layer::Lrn0,
            Layer::Conv1,
            Layer::Conv2,
            Layer::Lrn1,
            Layer::Pool1,
        ];
        for block in Block::ALL {
            if block == Block::B4a {
                layers.push(Layer::Pool3);
            }
            if block == Block::B5a {
                layers.push(Layer::Pool4);
            }
            for branch in Branch::ALL {
                layers.push(Layer::Branch(block, branch));
            }
            layers.push(Layer::Mixed(block));
        }
        layers.extend([Layer::AvgPool, Layer::Logits, Layer::Probabilities]);
        let mut taps = Vec::new();
        for layer in layers {
            if layer.has_relu() {
                taps.push(Tap::pre_relu(layer));
            }
            taps.push(Tap::output(layer));
        }
        debug_assert!(taps.windows(2).all(|w| w[0].order() < w[1].order()));
        taps
    }

    /// Parse a tap name in a model's own vocabulary. Caffe block outputs may also be written
    /// without `_output` (`inception_3b`). An unknown name lists the valid ones.
    pub fn parse(name: &str, variant: Variant) -> Result<Tap, UnknownTap> {
        let all = Tap::all();
        if let Some(tap) = all.iter().find(|t| t.name(variant) == name) {
            return Ok(*tap);
        }
        if variant == Variant::Bvlc {
            let (stem, pre) = match name.strip_suffix("_pre_relu") {
                Some(s) => (s, true),
                None => (name, false),
            };
            for block in Block::ALL {
                if stem == format!("inception_{}", block.id()) {
                    let layer = Layer::Mixed(block);
                    return Ok(if pre {
                        Tap::pre_relu(layer)
                    } else {
                        Tap::output(layer)
                    });
                }
            }
        }
        let other = match variant {
            Variant::Bvlc => Variant::Lucid,
            Variant::Lucid => Variant::Bvlc,
        };
        let hint = match all.iter().find(|t| t.name(other) == name) {
            Some(t) => format!(
                "`{name}` is the {other} model's name; on the {variant} model that tap is `{}`",
                t.name(variant)
            ),
            None => {
                let mut near: Vec<(usize, String)> = all
                    .iter()
                    .map(|t| t.name(variant))
                    .map(|n| (edit_distance(name, &n), n))
                    .collect();
                near.sort();
                let near: Vec<String> = near
                    .into_iter()
                    .take(3)
                    .map(|(_, n)| format!("`{n}`"))
                    .collect();
                format!("did you mean {}?", near.join(", "))
            }
        };
        Err(UnknownTap {
            name: name.to_string(),
            variant,
            hint,
            valid: all.iter().map(|t| t.name(variant)).collect(),
        })
    }

    /// The number of channels of this tap.
    pub fn channels(self, variant: Variant) -> usize {
        match self.layer {
            Layer::Input => 3,
            Layer::Conv0 | Layer::Pool0 | Layer::Lrn0 | Layer::Conv1 => 64,
            Layer::Conv2 | Layer::Lrn1 | Layer::Pool1 => 192,
            Layer::Branch(block, branch) => {
                branch.width(&variant.widths(block), block_input_channels(block, variant))
            }
            Layer::Mixed(block) => variant.widths(block).output(),
            Layer::Pool3 => variant.widths(Block::B3b).output(),
            Layer::Pool4 => variant.widths(Block::B4e).output(),
            Layer::AvgPool => variant.widths(Block::B5b).output(),
            Layer::Logits | Layer::Probabilities => variant.num_outputs(),
        }
    }
}

fn block_base(block: Block) -> usize {
    // 8 stem taps, then each block has 7 branches + output, with one pool before 4a and 5a.
    let mut base = 8 + block.index() * (Branch::ALL.len() + 1);
    if block >= Block::B4a {
        base += 1;
    }
    if block >= Block::B5a {
        base += 1;
    }
    base
}

/// Channels entering an inception block.
pub fn block_input_channels(block: Block, variant: Variant) -> usize {
    match block {
        Block::B3a => 192,
        other => {
            let prev = Block::ALL[other.index() - 1];
            variant.widths(prev).output()
        }
    }
}

fn lucid_name(layer: Layer) -> String {
    match layer {
        Layer::Input => "input".into(),
        Layer::Conv0 => "conv2d0".into(),
        Layer::Pool0 => "maxpool0".into(),
        Layer::Lrn0 => "localresponsenorm0".into(),
        Layer::Conv1 => "conv2d1".into(),
        Layer::Conv2 => "conv2d2".into(),
        Layer::Lrn1 => "localresponsenorm1".into(),
        Layer::Pool1 => "maxpool1".into(),
        Layer::Branch(block, branch) => format!("mixed{}_{}", block.id(), branch.lucid_suffix()),
        Layer::Mixed(block) => format!("mixed{}", block.id()),
        Layer::Pool3 => "maxpool4".into(),
        Layer::Pool4 => "maxpool10".into(),
        Layer::AvgPool => "avgpool0".into(),
        Layer::Logits => "softmax2_pre_activation".into(),
        Layer::Probabilities => "softmax2".into(),
    }
}

fn caffe_name(layer: Layer) -> String {
    match layer {
        Layer::Input => "data".into(),
        Layer::Conv0 => "conv1_7x7_s2".into(),
        Layer::Pool0 => "pool1_3x3_s2".into(),
        Layer::Lrn0 => "pool1_norm1".into(),
        Layer::Conv1 => "conv2_3x3_reduce".into(),
        Layer::Conv2 => "conv2_3x3".into(),
        Layer::Lrn1 => "conv2_norm2".into(),
        Layer::Pool1 => "pool2_3x3_s2".into(),
        Layer::Branch(block, branch) => {
            format!("inception_{}_{}", block.id(), branch.caffe_suffix())
        }
        Layer::Mixed(block) => format!("inception_{}_output", block.id()),
        Layer::Pool3 => "pool3_3x3_s2".into(),
        Layer::Pool4 => "pool4_3x3_s2".into(),
        Layer::AvgPool => "pool5_7x7_s1".into(),
        Layer::Logits => "loss3_classifier".into(),
        Layer::Probabilities => "prob".into(),
    }
}

/// A tap name the model does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTap {
    pub name: String,
    pub variant: Variant,
    /// The same tap in this model's vocabulary (for the other model's name), or the
    /// nearest names.
    pub hint: String,
    pub valid: Vec<String>,
}

impl fmt::Display for UnknownTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown tap `{}` for the {} model: {}. Valid taps are: {}",
            self.name,
            self.variant,
            self.hint,
            self.valid.join(", ")
        )
    }
}

/// Levenshtein distance between two names (for suggestions).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

impl std::error::Error for UnknownTap {}

/// Every convolution of the network: the unit that owns weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conv {
    Stem(Layer),
    Branch(Block, Branch),
}

/// Shape and padding of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    /// Caffe's symmetric padding (TF "SAME" padding is computed from the input size).
    pub caffe_pad: usize,
}

impl Conv {
    /// All convolutions in network order.
    pub fn all() -> Vec<Conv> {
        let mut convs = vec![
            Conv::Stem(Layer::Conv0),
            Conv::Stem(Layer::Conv1),
            Conv::Stem(Layer::Conv2),
        ];
        for block in Block::ALL {
            for branch in Branch::ALL {
                if branch.is_conv() {
                    convs.push(Conv::Branch(block, branch));
                }
            }
        }
        convs
    }

    pub fn layer(self) -> Layer {
        match self {
            Conv::Stem(layer) => layer,
            Conv::Branch(block, branch) => Layer::Branch(block, branch),
        }
    }

    pub fn shape(self, variant: Variant) -> ConvShape {
        let conv = |in_channels, out_channels, kernel, stride| ConvShape {
            in_channels,
            out_channels,
            kernel,
            stride,
            caffe_pad: (kernel - 1) / 2,
        };
        match self {
            Conv::Stem(Layer::Conv0) => conv(3, 64, 7, 2),
            Conv::Stem(Layer::Conv1) => conv(64, 64, 1, 1),
            Conv::Stem(Layer::Conv2) => conv(64, 192, 3, 1),
            Conv::Stem(other) => unreachable!("{other:?} is not a stem convolution"),
            Conv::Branch(block, branch) => {
                let w = variant.widths(block);
                let input = block_input_channels(block, variant);
                let in_channels = match branch {
                    Branch::B3x3 => w.b3x3_reduce,
                    Branch::B5x5 => w.b5x5_reduce,
                    _ => input,
                };
                conv(in_channels, branch.width(&w, input), branch.kernel(), 1)
            }
        }
    }

    /// The name of this convolution's kernel and bias in the variant's weight files.
    pub fn weight_names(self, variant: Variant) -> (String, String) {
        let layer = Tap::output(self.layer()).name(variant);
        match variant {
            Variant::Lucid => (
                format!("{layer}_pre_relu_conv.weight"),
                format!("{layer}_pre_relu_conv.bias"),
            ),
            Variant::Bvlc => (format!("{layer}.weight"), format!("{layer}.bias")),
        }
    }
}

/// Names of the classifier's weight `[outputs, 1024]` and bias `[outputs]`.
pub fn classifier_weight_names(variant: Variant) -> (&'static str, &'static str) {
    match variant {
        Variant::Lucid => (
            "softmax2_pre_activation_matmul.weight",
            "softmax2_pre_activation_matmul.bias",
        ),
        Variant::Bvlc => ("loss3_classifier.weight", "loss3_classifier.bias"),
    }
}

#[cfg(test)]
mod tests;
