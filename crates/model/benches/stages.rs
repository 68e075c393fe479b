//! Where the forward pass spends its time: each stage of [`STAGES`] timed on its own, for
//! both models, on burn's CPU backend. Plain harness (no criterion), medians of several runs:
//!
//! ```text
//! cargo bench -p aann-model --bench stages                 # batch 16
//! AANN_BENCH_BATCH=1 cargo bench -p aann-model --bench stages
//! AANN_BURN_OPS=1 cargo bench -p aann-model --bench stages # burn ops instead of the kernels
//! ```
//!
//! Weights come from the shared data folder (`$AANN_DATA`, else `../shared/data`); a model
//! whose weights are absent is skipped with a message.

use std::path::PathBuf;
use std::time::Instant;

use aann_model::network::STAGES;
use aann_model::{InceptionV1, Recorder, Tap, Variant};
use aann_weights::WeightCache;
use burn::tensor::{Device, Distribution, Tensor};

fn data_root() -> PathBuf {
    match std::env::var_os("AANN_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn sync(x: &Tensor<4>) {
    // Reading one value waits for any asynchronous backend.
    let _ = x.clone().slice([0..1, 0..1, 0..1, 0..1]).into_data();
}

fn main() {
    let batch: usize = std::env::var("AANN_BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let reps: usize = std::env::var("AANN_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let device = Device::flex();
    let root = data_root();
    for (variant, rel) in [
        (Variant::Bvlc, "googlenet-bvlc/params"),
        (Variant::Lucid, "inception5h-fixture/inception5h-random.pth"),
    ] {
        let path = root.join(rel);
        if !path.exists() {
            eprintln!("skipping {variant}: no weights at {}", path.display());
            continue;
        }
        let cache = WeightCache::new(std::env::temp_dir().join("aann-bench-cache"));
        let mut model = InceptionV1::load(variant, &path, &cache, &device).expect("weights load");
        let burn_ops = std::env::var_os("AANN_BURN_OPS").is_some();
        model.set_cpu_kernels(!burn_ops);
        let size = if variant == Variant::Bvlc { 227 } else { 224 };
        let input = Tensor::<4>::random(
            [batch, 3, size, size],
            Distribution::Normal(0.0, 50.0),
            &device,
        );
        // Stage inputs: the natural value of every checkpoint.
        let mut checkpoints = vec![(Tap::INPUT, input.clone())];
        for stage in &STAGES[..STAGES.len() - 1] {
            let tap = stage.output();
            let mut rec = Recorder::stopping_at(&[], tap);
            let x = match model.run(Tap::INPUT, input.clone(), &mut rec) {
                Err(e) => e.into_stopped().expect("stops").1,
                Ok(_) => unreachable!(),
            };
            checkpoints.push((tap, x));
        }
        println!(
            "\n{variant}, batch {batch}, {}, median of {reps} (ms per batch)",
            if burn_ops { "burn ops" } else { "CPU kernels" }
        );
        let mut total = 0.0;
        for (i, stage) in STAGES.iter().enumerate() {
            let (from, x) = &checkpoints[i];
            let mut times = Vec::new();
            for _ in 0..reps {
                let t = Instant::now();
                if i + 1 < STAGES.len() {
                    let mut rec = Recorder::stopping_at(&[], stage.output());
                    let y = model.run(*from, x.clone(), &mut rec);
                    let Err(halt) = y else {
                        unreachable!("the recorder stops")
                    };
                    let y = halt.into_stopped().expect("stops").1;
                    sync(&y);
                } else {
                    let y = model.run(*from, x.clone(), &mut aann_model::NoHooks);
                    let _ = y.expect("runs").into_data();
                }
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let m = median(times);
            total += m;
            println!("  {:<28} {m:9.2}", format!("{stage:?}"));
        }
        println!(
            "  {:<28} {total:9.2}  ({:.1} images/s)",
            "sum",
            batch as f64 / total * 1e3
        );
    }
}
