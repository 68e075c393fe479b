//! The library in a few lines: load BVLC GoogLeNet, read a tap, and zero-ablate the curve
//! family at `inception_3b_output` on one image.
//!
//!     cargo run --release -p aann --example surgery -- ../shared/data/googlenet-bvlc/sample_input.jpg

use std::path::{Path, PathBuf};

use aann::model::{
    ChannelSet, Condition, ConditionHooks, Edit, Family, Intervention, Recorder, Tap, Variant,
};
use burn::tensor::{Tensor, TensorData, activation::softmax};

fn main() -> anyhow::Result<()> {
    let image = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| "../shared/data/googlenet-bvlc/sample_input.jpg".into());
    let data = aann::eval::setup::DataRoot::resolve(None);
    let variant = Variant::Bvlc;
    let device = burn::tensor::Device::default();
    let weights = data.default_weights(variant)?;
    let model = aann::eval::setup::load_model(variant, &weights, None, &device)?.model;

    // One image, preprocessed as the model expects (BGR, mean-subtracted, 224×224).
    let (pixels, h, w) = variant.preprocess().load(&image)?;
    let input = Tensor::<4>::from_data(
        TensorData::new(pixels, [1, 3, h as usize, w as usize]),
        &device,
    );

    // Read a tap by its name in the model's own vocabulary.
    let tap = Tap::parse("inception_3b_output", variant)?;
    let mut recorder = Recorder::through(&[tap]);
    let natural = model
        .run(Tap::INPUT, input.clone(), &mut recorder)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "{} is {:?}",
        tap.name(variant),
        recorder.recorded[&tap].dims()
    );

    // Zero-ablate the curve detectors found by `aann discover`.
    let family = Family::load(Path::new("circuits/families/bvlc/curves-3b.toml"))?;
    let condition = Condition::new(
        "zero-ablate curves",
        vec![Edit {
            tap,
            channels: ChannelSet::new(family.channels()),
            intervention: Intervention::ZeroAblate,
        }],
    );
    let keys = vec![image.display().to_string()];
    let mut hooks = ConditionHooks::new(&condition, variant, &device, &keys, Default::default());
    let ablated = model
        .run(Tap::INPUT, input, &mut hooks)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let top = |logits: Tensor<2>| -> anyhow::Result<(usize, f32)> {
        let p = softmax(logits, 1)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (k, v) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("1000 classes");
        Ok((k, *v))
    };
    let synsets = data.synsets()?;
    for (name, logits) in [("natural", natural), ("curves ablated", ablated)] {
        let (k, p) = top(logits)?;
        println!(
            "{name:>15}: {} ({:.1}%)",
            synsets.short_name(k).unwrap_or("?"),
            100.0 * p
        );
    }
    Ok(())
}
