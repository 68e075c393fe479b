//! `aann classify`, `aann activations`, `aann taps`: looking at a model.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::{Tensor, TensorData};
use clap::Args;

use aann_data::{Preprocess, Rescale, Resize};
use aann_eval::OutputClasses;
use aann_model::{InceptionV1, Tap, Variant};
use aann_weights::{NamedTensor, npy};

use crate::common::{ModelArgs, parse_variant};

/// Image geometry options.
#[derive(Args, Debug, Clone)]
pub struct GeometryArgs {
    /// Rescale so the shorter side has this many pixels (0: keep the decoded size).
    #[arg(long, default_value_t = 256)]
    pub shorter_side: u32,
    /// Centre crop to this square size (0: no crop).
    #[arg(long, default_value_t = 224)]
    pub crop: u32,
}

impl GeometryArgs {
    pub fn preprocess(&self, variant: Variant) -> anyhow::Result<Preprocess> {
        let mut p = variant.preprocess();
        p.resize = Resize {
            rescale: if self.shorter_side == 0 {
                Rescale::Keep
            } else {
                Rescale::ShorterSide(self.shorter_side)
            },
            centre_crop: (self.crop > 0).then_some((self.crop, self.crop)),
        };
        p.resize.validate()?;
        Ok(p)
    }
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// How many classes to print per image.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Image files (JPEG or PNG).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

pub fn classify(args: ClassifyArgs) -> anyhow::Result<()> {
    let root = args.model.data_root();
    let order = root.class_order(args.model.model)?;
    let synsets = root.synsets()?;
    let preprocess = args.geometry.preprocess(args.model.model)?;
    // Decode everything first: a bad file is reported before the model is loaded.
    let mut inputs = Vec::new();
    for path in &args.images {
        let (pixels, h, w) = preprocess.load(path)?;
        inputs.push((path, pixels, h as usize, w as usize));
    }
    let session = args.model.open()?;
    let classes = OutputClasses::new(&order);
    for (path, pixels, h, w) in inputs {
        let input = Tensor::<4>::from_data(
            TensorData::new(pixels, [1, 3, h, w]),
            session.model().device(),
        );
        let logits = session.model().forward(input)?;
        let logits = logits
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let ranked = classes.ranked(&logits);
        println!("{}", path.display());
        println!("  rank  output  synset     probability  name");
        for (rank, (class, prob)) in ranked.into_iter().take(args.top).enumerate() {
            let output = order.output_of_class(class)?;
            println!(
                "  {:>4}  {:>6}  {}  {:>11.4}  {}",
                rank + 1,
                output,
                synsets.wnid(class).unwrap_or("?"),
                prob,
                synsets.name(class).unwrap_or("?")
            );
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ActivationsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// The tap to write, in the model's vocabulary (`mixed3b`, `inception_3b_output`, …);
    /// `--layer` is the older spelling.
    #[arg(long, alias = "layer")]
    pub tap: String,
    /// An image file, or an already-preprocessed NCHW (or CHW) float32 .npy fed as it is.
    pub input: PathBuf,
    /// The .npy file to write (NCHW float32; [N, C] for logits and probabilities).
    #[arg(long)]
    pub out: PathBuf,
}

/// Read an input: a preprocessed .npy tensor, or an image file to preprocess.
pub fn read_input(
    path: &Path,
    preprocess: &Preprocess,
    model: &InceptionV1,
) -> anyhow::Result<Tensor<4>> {
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        let t = npy::read_npy(path)?;
        let shape: [usize; 4] = match t.shape.as_slice() {
            [c, h, w] => [1, *c, *h, *w],
            [n, c, h, w] => [*n, *c, *h, *w],
            other => bail!(
                "{}: expected an NCHW or CHW tensor, found shape {other:?}",
                path.display()
            ),
        };
        if shape[1] != 3 {
            bail!(
                "{}: expected 3 input channels (NCHW), found shape {:?}",
                path.display(),
                t.shape
            );
        }
        return Ok(Tensor::from_data(
            TensorData::new(t.data, shape),
            model.device(),
        ));
    }
    let (pixels, h, w) = preprocess.load(path)?;
    Ok(Tensor::from_data(
        TensorData::new(pixels, [1, 3, h as usize, w as usize]),
        model.device(),
    ))
}

pub fn activations(args: ActivationsArgs) -> anyhow::Result<()> {
    let variant = args.model.model;
    let tap = Tap::parse(&args.tap, variant)?;
    let preprocess = args.geometry.preprocess(variant)?;
    let session = args.model.open()?;
    let input = read_input(&args.input, &preprocess, session.model())?;
    let mut acts = session.model().activations(input, &[tap])?;
    let x = acts.remove(&tap).context("the tap was not produced")?;
    let dims = x.dims();
    let shape = if tap.layer.is_flat() {
        vec![dims[0], dims[1]]
    } else {
        dims.to_vec()
    };
    let data = x
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    npy::write_npy(&args.out, &NamedTensor::new(shape.clone(), data))?;
    eprintln!(
        "wrote {} {:?} to {}",
        tap.name(variant),
        shape,
        args.out.display()
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct TapsArgs {
    /// Which InceptionV1: `lucid` or `bvlc`.
    #[arg(long, value_parser = parse_variant)]
    pub model: Variant,
}

pub fn taps(args: TapsArgs) -> anyhow::Result<()> {
    for tap in Tap::all() {
        println!(
            "{:<40} {:>5} channels",
            tap.name(args.model),
            tap.channels(args.model)
        );
    }
    Ok(())
}
