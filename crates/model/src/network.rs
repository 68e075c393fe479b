//! The network: parameters loaded into burn tensors, and the forward pass over the stage
//! list, handing every tap to the caller's [`Hooks`].
//!
//! Every operation has two implementations with the same results: burn tensor ops, used on
//! every device (wgpu, CUDA), and on burn's CPU backend (flex) the hand-written kernels of
//! [`cpu`], which read and write the flex tensors' buffers in place (no copies in or out).
//! The hooks see the same taps, in the same order, either way.

mod cpu;

use std::collections::HashMap;
use std::path::Path;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::module::{avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};

use aann_weights::{TensorSet, WeightCache};

use crate::arch::{
    Block, Branch, Conv, Layer, PaddingScheme, Tap, Variant, classifier_weight_names,
    window_output, window_padding,
};
use crate::hooks::{Halt, Hooks, NoHooks, Recorder};
use crate::{ModelError, Result};

/// One step of the trunk: each maps the trunk tensor to the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Conv(Layer),
    MaxPool(Layer),
    Lrn(Layer),
    Inception(Block),
    AvgPool,
    Classifier,
}

/// The trunk of InceptionV1, in order. Both variants run exactly this list.
pub const STAGES: [Stage; 20] = [
    Stage::Conv(Layer::Conv0),
    Stage::MaxPool(Layer::Pool0),
    Stage::Lrn(Layer::Lrn0),
    Stage::Conv(Layer::Conv1),
    Stage::Conv(Layer::Conv2),
    Stage::Lrn(Layer::Lrn1),
    Stage::MaxPool(Layer::Pool1),
    Stage::Inception(Block::B3a),
    Stage::Inception(Block::B3b),
    Stage::MaxPool(Layer::Pool3),
    Stage::Inception(Block::B4a),
    Stage::Inception(Block::B4b),
    Stage::Inception(Block::B4c),
    Stage::Inception(Block::B4d),
    Stage::Inception(Block::B4e),
    Stage::MaxPool(Layer::Pool4),
    Stage::Inception(Block::B5a),
    Stage::Inception(Block::B5b),
    Stage::AvgPool,
    Stage::Classifier,
];

impl Stage {
    /// The tap this stage's output is known by.
    pub fn output(self) -> Tap {
        match self {
            Stage::Conv(l) | Stage::MaxPool(l) | Stage::Lrn(l) => Tap::output(l),
            Stage::Inception(b) => Tap::mixed(b),
            Stage::AvgPool => Tap::output(Layer::AvgPool),
            Stage::Classifier => Tap::LOGITS,
        }
    }

    /// Whether the stage produces `tap` (as its output or on the way to it).
    pub fn produces(self, tap: Tap) -> bool {
        match (self, tap.layer) {
            (Stage::Inception(b), Layer::Branch(tb, _))
            | (Stage::Inception(b), Layer::Mixed(tb)) => b == tb,
            (Stage::Classifier, Layer::Probabilities) => true,
            _ => self.output().layer == tap.layer,
        }
    }
}

/// Index of the stage that produces `tap` (`None` for the input).
pub fn stage_of(tap: Tap) -> Option<usize> {
    if tap.layer == Layer::Input {
        return None;
    }
    STAGES.iter().position(|s| s.produces(tap))
}

/// Whether a run can start from `tap`: the input, or the output of a stage.
pub fn is_checkpoint(tap: Tap) -> bool {
    tap == Tap::INPUT || STAGES.iter().any(|s| s.output() == tap)
}

/// The latest checkpoint from which a run still passes through `tap`'s hook: `tap` itself
/// when it is a stage output, else the output of the stage before the one producing it.
pub fn checkpoint_for(tap: Tap) -> Tap {
    if is_checkpoint(tap) {
        return tap;
    }
    match stage_of(tap) {
        Some(0) | None => Tap::INPUT,
        Some(s) => STAGES[s - 1].output(),
    }
}

struct ConvParams {
    weight: Tensor<4>,
    bias: Tensor<1>,
    out_channels: usize,
    stride: usize,
    kernel: usize,
    caffe_pad: usize,
}

/// Host copies of weights for the CPU kernels.
struct HostConv {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// CPU-side parameters: every convolution, and per block the three 1×1 convolutions that
/// read the block input (1x1, 3x3 reduce, 5x5 reduce) stacked into one.
struct HostParams {
    convs: HashMap<Conv, HostConv>,
    fused: HashMap<Block, HostConv>,
}

/// The three 1×1 branches that read an inception block's input, in stacking order.
const FUSED_BRANCHES: [Branch; 3] = [Branch::B1x1, Branch::B3x3Reduce, Branch::B5x5Reduce];

/// InceptionV1 with its weights on a device.
pub struct InceptionV1 {
    variant: Variant,
    device: Device,
    convs: HashMap<Conv, ConvParams>,
    /// Classifier weight as `[1024, outputs]`, ready for `features · W`.
    classifier_weight: Tensor<2>,
    classifier_bias: Tensor<1>,
    /// LRN as a 1×1 convolution of the squared input with a banded `[C, C]` kernel holding
    /// `alpha` within the window: the window sum and the scaling in one matrix product.
    lrn_band: HashMap<usize, Tensor<4>>,
    /// Present when the device is burn's CPU backend: the forward pass then runs the
    /// kernels of [`cpu`].
    host: Option<HostParams>,
    /// Whether the CPU kernels are used (they are by default on the CPU backend; off, the
    /// CPU runs the same burn ops as other devices, for comparisons).
    cpu_kernels: bool,
}

fn tensor4(data: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn tensor1(data: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = data.len();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

impl InceptionV1 {
    /// Build the network from a tensor set in the variant's naming. Every tensor is checked
    /// against the architecture table; a missing or mis-shaped one is an error naming it.
    pub fn from_tensors(variant: Variant, set: &TensorSet, device: &Device) -> Result<Self> {
        check_variant_of(variant, set)?;
        let mut convs = HashMap::new();
        let on_cpu = *device == Device::flex();
        let mut host_convs = HashMap::new();
        for conv in Conv::all() {
            let shape = conv.shape(variant);
            let (wname, bname) = conv.weight_names(variant);
            let w = set.get_shaped(
                &wname,
                &[
                    shape.out_channels,
                    shape.in_channels,
                    shape.kernel,
                    shape.kernel,
                ],
            )?;
            let b = set.get_shaped(&bname, &[shape.out_channels])?;
            if on_cpu {
                host_convs.insert(
                    conv,
                    HostConv {
                        weight: w.data.clone(),
                        bias: b.data.clone(),
                    },
                );
            }
            convs.insert(
                conv,
                ConvParams {
                    weight: tensor4(
                        w.data.clone(),
                        [
                            shape.out_channels,
                            shape.in_channels,
                            shape.kernel,
                            shape.kernel,
                        ],
                        device,
                    ),
                    bias: tensor1(b.data.clone(), device),
                    out_channels: shape.out_channels,
                    stride: shape.stride,
                    kernel: shape.kernel,
                    caffe_pad: shape.caffe_pad,
                },
            );
        }
        let (wname, bname) = classifier_weight_names(variant);
        let outputs = variant.num_outputs();
        let features = variant.widths(Block::B5b).output();
        let w = set.get_shaped(wname, &[outputs, features])?;
        let b = set.get_shaped(bname, &[outputs])?;
        let classifier_weight =
            Tensor::<2>::from_data(TensorData::new(w.data.clone(), [outputs, features]), device)
                .transpose();
        let lrn = variant.lrn();
        let mut lrn_band = HashMap::new();
        for channels in [64usize, 192] {
            let mut band = vec![0.0f32; channels * channels];
            for o in 0..channels {
                for i in o.saturating_sub(lrn.radius)..(o + lrn.radius + 1).min(channels) {
                    band[o * channels + i] = lrn.alpha;
                }
            }
            lrn_band.insert(channels, tensor4(band, [channels, channels, 1, 1], device));
        }
        let host = on_cpu.then(|| {
            let fused = Block::ALL
                .iter()
                .map(|&block| {
                    let mut weight = Vec::new();
                    let mut bias = Vec::new();
                    for branch in FUSED_BRANCHES {
                        let h = &host_convs[&Conv::Branch(block, branch)];
                        weight.extend_from_slice(&h.weight);
                        bias.extend_from_slice(&h.bias);
                    }
                    (block, HostConv { weight, bias })
                })
                .collect();
            HostParams {
                convs: host_convs,
                fused,
            }
        });
        Ok(InceptionV1 {
            variant,
            device: device.clone(),
            convs,
            classifier_weight,
            classifier_bias: tensor1(b.data.clone(), device),
            lrn_band,
            host,
            cpu_kernels: on_cpu,
        })
    }

    /// Load weights from a source file (`.pth`, a BVLC `.mat` directory, safetensors)
    /// through the native cache.
    pub fn load(
        variant: Variant,
        source: &Path,
        cache: &WeightCache,
        device: &Device,
    ) -> Result<Self> {
        let (set, _) = cache.load(source)?;
        // A conversion that is not a valid set of this model's weights never stays in the
        // cache (a later load would otherwise skip the source's own checks).
        Self::from_tensors(variant, &set, device).inspect_err(|_| {
            let _ = cache.evict(source);
        })
    }

    /// Turn the hand-written CPU kernels on or off (on by default on burn's CPU backend;
    /// without effect on other devices). Off, every operation is a burn op: the baseline
    /// for benchmarks and a cross-check of the kernels.
    pub fn set_cpu_kernels(&mut self, on: bool) {
        self.cpu_kernels = on && self.host.is_some();
    }

    /// Whether the forward pass runs the hand-written CPU kernels.
    pub fn cpu_kernels(&self) -> bool {
        self.cpu_kernels
    }

    fn host(&self) -> Option<&HostParams> {
        if self.cpu_kernels {
            self.host.as_ref()
        } else {
            None
        }
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The weight and bias of a convolution, `[out, in, k, k]` and `[out]`.
    pub fn conv_weights(&self, conv: Conv) -> (Tensor<4>, Tensor<1>) {
        let p = &self.convs[&conv];
        (p.weight.clone(), p.bias.clone())
    }

    /// Class logits for a batch of preprocessed images `[N, 3, H, W]`.
    pub fn forward(&self, input: Tensor<4>) -> Result<Tensor<2>> {
        self.check_classifier_input(input.dims())?;
        match self.run(Tap::INPUT, input, &mut NoHooks) {
            Ok(logits) => Ok(logits),
            Err(Halt::Invalid(msg)) => Err(ModelError::Input(msg)),
            Err(Halt::Stopped(..)) => unreachable!("NoHooks never stops"),
        }
    }

    /// The values of `taps` for a batch, running only as far as the last of them.
    pub fn activations(&self, input: Tensor<4>, taps: &[Tap]) -> Result<HashMap<Tap, Tensor<4>>> {
        if taps
            .iter()
            .any(|t| t.layer == Layer::Logits || t.layer == Layer::Probabilities)
        {
            self.check_classifier_input(input.dims())?;
        }
        let mut recorder = Recorder::until_last(taps);
        match self.run(Tap::INPUT, input, &mut recorder) {
            Ok(_) | Err(Halt::Stopped(..)) => Ok(recorder.recorded),
            Err(Halt::Invalid(msg)) => Err(ModelError::Input(msg)),
        }
    }

    /// Run from a checkpoint tap (the input or a stage output; see [`checkpoint_for`]) with
    /// its value `x`: the hooks see `from` first, then every later tap. Returns the logits.
    pub fn run<H: Hooks>(&self, from: Tap, x: Tensor<4>, hooks: &mut H) -> Result<Tensor<2>, Halt> {
        let start = if from == Tap::INPUT {
            0
        } else {
            STAGES
                .iter()
                .position(|s| s.output() == from)
                .map(|i| i + 1)
                .ok_or_else(|| {
                    Halt::Invalid(format!(
                        "{from:?} is not a stage output a run can start from"
                    ))
                })?
        };
        let mut x = hooks.at(from, x)?;
        for stage in &STAGES[start..] {
            x = self.stage(*stage, x, hooks)?;
        }
        let [n, c, _, _] = x.dims();
        Ok(x.reshape([n, c]))
    }

    fn stage<H: Hooks>(
        &self,
        stage: Stage,
        x: Tensor<4>,
        hooks: &mut H,
    ) -> Result<Tensor<4>, Halt> {
        match stage {
            Stage::Conv(layer) => self.conv_relu(Conv::Stem(layer), x, hooks),
            Stage::MaxPool(layer) => {
                let y = self.max_pool(x, 3, 2);
                hooks.at(Tap::output(layer), y)
            }
            Stage::Lrn(layer) => {
                let y = self.lrn(x);
                hooks.at(Tap::output(layer), y)
            }
            Stage::Inception(block) => self.inception(block, x, hooks),
            Stage::AvgPool => {
                let [_, _, h, w] = x.dims();
                if h < 7 || w < 7 {
                    return Err(Halt::Invalid(format!(
                        "the 7×7 average pool needs a feature map of at least 7×7, got {h}×{w}"
                    )));
                }
                let y = avg_pool2d(x, AvgPoolOptions::new([7, 7]).with_stride([1, 1]));
                hooks.at(Tap::output(Layer::AvgPool), y)
            }
            Stage::Classifier => {
                let [n, c, h, w] = x.dims();
                if h != 1 || w != 1 {
                    return Err(Halt::Invalid(format!(
                        "the classifier needs a 1×1 map after the average pool, got {h}×{w}; feed 224×224 (or, for BVLC, 224–231 pixel) images"
                    )));
                }
                let features = x.reshape([n, c]);
                let logits = features.matmul(self.classifier_weight.clone())
                    + self.classifier_bias.clone().unsqueeze::<2>();
                let outputs = logits.dims()[1];
                let logits4 = hooks.at(Tap::LOGITS, logits.reshape([n, outputs, 1, 1]))?;
                let probs_tap = Tap::output(Layer::Probabilities);
                if hooks.wants(probs_tap) {
                    let probs = softmax(logits4.clone().reshape([n, outputs]), 1);
                    hooks.at(probs_tap, probs.reshape([n, outputs, 1, 1]))?;
                }
                Ok(logits4)
            }
        }
    }

    /// Convolution, pre-ReLU tap, ReLU, tap.
    fn conv_relu<H: Hooks>(
        &self,
        conv: Conv,
        x: Tensor<4>,
        hooks: &mut H,
    ) -> Result<Tensor<4>, Halt> {
        let pre = self.conv(conv, x);
        let layer = conv.layer();
        let pre = hooks.at(Tap::pre_relu(layer), pre)?;
        hooks.at(Tap::output(layer), self.relu(pre))
    }

    /// Geometry of a convolution or pooling window over `x` (output size as the variant
    /// rounds it: TF "SAME", Caffe floor for convolutions and ceil for max-pools).
    fn window(
        &self,
        dims: [usize; 4],
        kernel: usize,
        stride: usize,
        caffe_pad: usize,
        ceil: bool,
    ) -> cpu::Window {
        let [n, c, h, w] = dims;
        let scheme = self.variant.padding();
        cpu::Window {
            n,
            c,
            h,
            w,
            k: kernel,
            stride,
            pad_top: window_padding(scheme, h, kernel, stride, caffe_pad).0,
            pad_left: window_padding(scheme, w, kernel, stride, caffe_pad).0,
            oh: window_output(scheme, h, kernel, stride, caffe_pad, ceil),
            ow: window_output(scheme, w, kernel, stride, caffe_pad, ceil),
        }
    }

    fn conv(&self, conv: Conv, x: Tensor<4>) -> Tensor<4> {
        let p = &self.convs[&conv];
        if let Some(host) = self.host() {
            let win = self.window(x.dims(), p.kernel, p.stride, p.caffe_pad, false);
            let h = &host.convs[&conv];
            if let Some(out) = with_host(&x, |xs| {
                cpu::conv2d(xs, &win, p.out_channels, &h.weight, &h.bias)
            }) {
                return self.host_tensor(out, [win.n, p.out_channels, win.oh, win.ow]);
            }
        }
        let [_, _, h, w] = x.dims();
        let scheme = self.variant.padding();
        let ph = window_padding(scheme, h, p.kernel, p.stride, p.caffe_pad);
        let pw = window_padding(scheme, w, p.kernel, p.stride, p.caffe_pad);
        let options = ConvOptions::new_with_padding([p.stride, p.stride], [ph, pw], [1, 1], 1);
        conv2d(x, p.weight.clone(), Some(p.bias.clone()), options)
    }

    /// ReLU, in place when the CPU tensor is not shared (a hook that kept the pre-ReLU
    /// value holds a reference, and then a new tensor is made).
    fn relu(&self, x: Tensor<4>) -> Tensor<4> {
        if self.host().is_none() {
            return relu(x);
        }
        let mut t = match x.try_into_primitive::<Flex>() {
            Ok(t) => t,
            Err(_) => unreachable!("a CPU model's tensors live on flex"),
        };
        let n = t.layout().num_elements();
        if t.is_contiguous()
            && t.layout().start_offset() == 0
            && t.dtype() == burn::tensor::DType::F32
            && let Some(values) = t.try_storage_mut::<f32>()
        {
            cpu::relu_in_place(&mut values[..n]);
            return Tensor::from_primitive::<Flex>(t);
        }
        relu(Tensor::from_primitive::<Flex>(t))
    }

    fn host_tensor(&self, values: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    /// Max-pool between stages (3×3, stride 2): TF "SAME" with −∞ padding, or Caffe's
    /// unpadded pooling with the output size rounded up.
    fn max_pool(&self, x: Tensor<4>, kernel: usize, stride: usize) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        if self.host().is_some() {
            let win = self.window(x.dims(), kernel, stride, 0, true);
            if let Some(out) = with_host(&x, |xs| cpu::max_pool(xs, &win)) {
                return self.host_tensor(out, [win.n, win.c, win.oh, win.ow]);
            }
        }
        let options = match self.variant.padding() {
            PaddingScheme::TfSame => MaxPoolOptions::new([kernel, kernel])
                .with_stride([stride, stride])
                .with_padding_pairs([
                    window_padding(PaddingScheme::TfSame, h, kernel, stride, 0),
                    window_padding(PaddingScheme::TfSame, w, kernel, stride, 0),
                ]),
            PaddingScheme::CaffeCeil => MaxPoolOptions::new([kernel, kernel])
                .with_stride([stride, stride])
                .with_ceil_mode(true),
        };
        let y = max_pool2d(x, options);
        debug_assert_eq!(
            y.dims()[2],
            window_output(self.variant.padding(), h, kernel, stride, 0, true)
        );
        y
    }

    /// The inception pool branch: 3×3, stride 1, one pixel of (−∞) padding.
    fn pool_branch(&self, x: Tensor<4>) -> Tensor<4> {
        if self.host().is_some() {
            let [n, c, h, w] = x.dims();
            let win = cpu::Window {
                n,
                c,
                h,
                w,
                k: 3,
                stride: 1,
                pad_top: 1,
                pad_left: 1,
                oh: h,
                ow: w,
            };
            if let Some(out) = with_host(&x, |xs| cpu::max_pool(xs, &win)) {
                return self.host_tensor(out, [n, c, h, w]);
            }
        }
        max_pool2d(
            x,
            MaxPoolOptions::new([3, 3])
                .with_stride([1, 1])
                .with_padding([1, 1]),
        )
    }

    /// Local response normalisation across channels.
    fn lrn(&self, x: Tensor<4>) -> Tensor<4> {
        let params = self.variant.lrn();
        let [n, channels, h, w] = x.dims();
        if self.host().is_some()
            && let Some(out) = with_host(&x, |xs| cpu::lrn(xs, n, channels, h * w, params))
        {
            return self.host_tensor(out, [n, channels, h, w]);
        }
        let band = self.lrn_band[&channels].clone();
        let energy = conv2d(
            x.clone() * x.clone(),
            band,
            None,
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        x * energy.add_scalar(params.bias).powf_scalar(-params.beta)
    }

    /// Pre-ReLU outputs of the three 1×1 convolutions that read the block input, computed
    /// as one stacked convolution on the CPU (one pass over the input instead of three).
    fn block_pointwise(&self, block: Block, x: &Tensor<4>) -> Option<[Tensor<4>; 3]> {
        let host = self.host()?;
        let fused = &host.fused[&block];
        let widths: [usize; 3] =
            FUSED_BRANCHES.map(|b| self.convs[&Conv::Branch(block, b)].out_channels);
        let total: usize = widths.iter().sum();
        let [n, c, h, w] = x.dims();
        let win = cpu::Window {
            n,
            c,
            h,
            w,
            k: 1,
            stride: 1,
            pad_top: 0,
            pad_left: 0,
            oh: h,
            ow: w,
        };
        let stacked = with_host(x, |xs| {
            cpu::conv2d(xs, &win, total, &fused.weight, &fused.bias)
        })?;
        let plane = h * w;
        let mut start = 0;
        Some(widths.map(|width| {
            let mut part = Vec::with_capacity(n * width * plane);
            for image in stacked.chunks_exact(total * plane) {
                part.extend_from_slice(&image[start * plane..(start + width) * plane]);
            }
            start += width;
            self.host_tensor(part, [n, width, h, w])
        }))
    }

    fn inception<H: Hooks>(
        &self,
        block: Block,
        x: Tensor<4>,
        hooks: &mut H,
    ) -> Result<Tensor<4>, Halt> {
        let mixed_pre = Tap::pre_relu(Layer::Mixed(block));
        let keep_pre = hooks.wants(mixed_pre);
        let mut outputs = Vec::with_capacity(4);
        let mut pre_outputs = Vec::with_capacity(4);
        let [mut pre1, mut pre3r, mut pre5r] = match self.block_pointwise(block, &x) {
            Some([a, b, c]) => [Some(a), Some(b), Some(c)],
            None => [None, None, None],
        };
        let mut branch = |b: Branch,
                          input: Tensor<4>,
                          pre: Option<Tensor<4>>,
                          hooks: &mut H,
                          concat: bool|
         -> Result<Tensor<4>, Halt> {
            let conv = Conv::Branch(block, b);
            let layer = Layer::Branch(block, b);
            let pre = pre.unwrap_or_else(|| self.conv(conv, input));
            let pre = hooks.at(Tap::pre_relu(layer), pre)?;
            if concat && keep_pre {
                pre_outputs.push(pre.clone());
            }
            let out = hooks.at(Tap::output(layer), self.relu(pre))?;
            if concat {
                outputs.push(out.clone());
            }
            Ok(out)
        };
        branch(Branch::B1x1, x.clone(), pre1.take(), hooks, true)?;
        let reduce3 = branch(Branch::B3x3Reduce, x.clone(), pre3r.take(), hooks, false)?;
        branch(Branch::B3x3, reduce3, None, hooks, true)?;
        let reduce5 = branch(Branch::B5x5Reduce, x.clone(), pre5r.take(), hooks, false)?;
        branch(Branch::B5x5, reduce5, None, hooks, true)?;
        let pooled = self.pool_branch(x);
        let pooled = hooks.at(Tap::branch(block, Branch::Pool), pooled)?;
        branch(Branch::PoolProj, pooled, None, hooks, true)?;
        let mixed = if keep_pre {
            let pre = hooks.at(mixed_pre, Tensor::cat(pre_outputs, 1))?;
            self.relu(pre)
        } else {
            Tensor::cat(outputs, 1)
        };
        hooks.at(Tap::mixed(block), mixed)
    }

    /// Spatial size of every stage output for an input of `h × w`, checking that the
    /// classifier can be reached; the error says which sizes work.
    pub fn check_classifier_input(&self, dims: [usize; 4]) -> Result<()> {
        let [_, c, h, w] = dims;
        if c != 3 {
            return Err(ModelError::Input(format!(
                "the input must have 3 colour channels (NCHW), got {c}"
            )));
        }
        let (fh, fw) = (self.final_size(h), self.final_size(w));
        if fh != Some(7) || fw != Some(7) {
            return Err(ModelError::Input(format!(
                "a {h}×{w} input gives a {}×{} map before the 7×7 average pool; the classifier needs 7×7 (use 224×224 input{})",
                fh.map_or("?".into(), |v| v.to_string()),
                fw.map_or("?".into(), |v| v.to_string()),
                if self.variant == Variant::Bvlc {
                    ", or 227×227 as Caffe's reference does"
                } else {
                    ""
                }
            )));
        }
        Ok(())
    }

    /// Size of the last feature map along one axis for an input of `n` pixels.
    pub fn final_size(&self, n: usize) -> Option<usize> {
        let scheme = self.variant.padding();
        let mut n = n;
        if n < 7 {
            return None;
        }
        n = window_output(scheme, n, 7, 2, 3, false);
        for _ in 0..4 {
            if n < 3 && scheme == PaddingScheme::CaffeCeil {
                return None;
            }
            n = window_output(scheme, n, 3, 2, 0, true);
        }
        Some(n)
    }
}

/// Run `f` on the values of a flex tensor without copying them (a strided view is made
/// contiguous first). `None` when the tensor is not an `f32` flex tensor.
fn with_host<R>(x: &Tensor<4>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let t: FlexTensor = x.clone().try_into_primitive::<Flex>().ok()?;
    if t.dtype() != burn::tensor::DType::F32 {
        return None;
    }
    let t = if t.is_contiguous() && t.layout().start_offset() == 0 {
        t
    } else {
        t.to_contiguous()
    };
    let values = t.as_slice::<f32>()?;
    Some(f(values))
}

/// A clear error when weights of the other model are given.
fn check_variant_of(variant: Variant, set: &TensorSet) -> Result<()> {
    let first = |v: Variant| Conv::Stem(Layer::Conv0).weight_names(v).0;
    if set.contains(&first(variant)) {
        return Ok(());
    }
    for other in Variant::ALL {
        if other != variant && set.contains(&first(other)) {
            return Err(ModelError::WrongVariant {
                path: set.source.path.clone(),
                expected: variant,
                found: other,
            });
        }
    }
    // Neither: let the missing-tensor error name what was expected.
    set.get(&first(variant))?;
    Ok(())
}
