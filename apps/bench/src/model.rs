//! The model cases of `aann bench`: the forward pass, hooks, the prefix and suffix of a
//! spliced experiment, K-condition experiments and stacked arms, for one model.

use std::collections::HashMap;

use burn::tensor::{Device, Distribution, Tensor};

use aann_eval::Evaluator;
use aann_model::network::checkpoint_for;
use aann_model::{
    ChannelSet, Condition, ConditionHooks, Edit, Halt, InceptionV1, Intervention, NoHooks,
    Recorder, Tap, Variant,
};

use crate::peak::Peak;
use crate::{BenchArgs, Row, median, of_peak, sync, time};

fn random_input(variant: Variant, batch: usize, device: &Device) -> Tensor<4> {
    // 224×224 for both; Caffe's reference geometry (227) costs 3% more in the stem.
    let _ = variant;
    Tensor::<4>::random(
        [batch, 3, 224, 224],
        Distribution::Normal(0.0, 50.0),
        device,
    )
}

/// `k` zero-ablation conditions at `tap`, each on its own block of 8 channels.
fn conditions(k: usize, tap: Tap, variant: Variant) -> Vec<Condition> {
    let width = tap.channels(variant);
    (0..k)
        .map(|i| {
            let start = (i * 8) % width.saturating_sub(8).max(1);
            Condition::new(
                format!("zero-{i}"),
                vec![Edit {
                    tap,
                    channels: ChannelSet::new((start..start + 8).collect()),
                    intervention: Intervention::ZeroAblate,
                }],
            )
        })
        .collect()
}

/// Where one model's rows go: printed as they come, and kept for the JSON.
struct Rows<'a> {
    args: &'a BenchArgs,
    /// The model's name, for every row.
    name: String,
    peaks: &'a [Peak],
    rows: &'a mut Vec<Row>,
    print: &'a mut dyn FnMut(&Row),
}

impl Rows<'_> {
    fn push(&mut self, row: Row) {
        (self.print)(&row);
        self.rows.push(row);
    }

    /// A case of this model: median seconds of `runs`, with `note`.
    fn push_case(&mut self, case: String, batch: usize, runs: Vec<f64>, note: String, flops: f64) {
        let row = Row {
            case,
            model: self.name.clone(),
            batch,
            seconds: median(&runs),
            runs,
            note,
            flops,
        };
        self.push(row);
    }

    /// A case that does `flops` per batch, noted as a share of the peak.
    fn push_counted(&mut self, case: String, batch: usize, runs: Vec<f64>, flops: f64) {
        let note = of_peak(flops, median(&runs), self.peaks);
        self.push_case(case, batch, runs, note, flops);
    }
}

/// Where the experiment cases splice their conditions in, and the work per image on
/// either side of it.
struct Splice {
    tap: Tap,
    prefix_flops: f64,
    suffix_flops: f64,
    /// Median seconds of the prefix and of one suffix, per batch.
    prefix: f64,
    suffix: f64,
}

impl Splice {
    /// Floating-point operations of a K-condition card (plus the baseline) on `batch`.
    fn card_flops(&self, k: usize, batch: usize) -> f64 {
        (self.prefix_flops + (k + 1) as f64 * self.suffix_flops) * batch as f64
    }
}

/// A batch of random inputs and their keys.
struct Batch {
    input: Tensor<4>,
    keys: Vec<String>,
}

impl Batch {
    fn random(variant: Variant, batch: usize, device: &Device) -> Batch {
        Batch {
            input: random_input(variant, batch, device),
            keys: (0..batch).map(|i| format!("bench-{i}")).collect(),
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Time `reps` evaluations of every arm of `evaluator` on `input`.
fn time_evaluate(reps: usize, evaluator: &Evaluator<'_>, batch: &Batch) -> Vec<f64> {
    time(reps, || {
        for l in evaluator
            .evaluate(batch.input.clone(), &batch.keys)
            .expect("evaluates")
        {
            sync(l);
        }
    })
}

pub(crate) fn bench_model(
    args: &BenchArgs,
    model: &mut InceptionV1,
    peaks: &[Peak],
    rows: &mut Vec<Row>,
    print: &mut dyn FnMut(&Row),
) -> anyhow::Result<()> {
    let variant = model.variant();
    let name = variant.name().to_string();
    let macs = aann_model::geometry::multiply_adds(variant, 224, 224);
    let image_flops = 2.0 * macs.iter().map(|m| m.1 as f64).sum::<f64>();
    println!(
        "{name}: {:.3} × 10⁹ multiply-adds per 224×224 image (convolutions and classifier)",
        image_flops / 2e9
    );
    let mut out = Rows {
        args,
        name,
        peaks,
        rows,
        print,
    };
    bench_forward(&mut out, model, image_flops);
    let batch = Batch::random(variant, args.experiment_batch, model.device());
    bench_hooks(&mut out, model, &batch);
    let splice = bench_splice(&mut out, model, &batch, &macs, image_flops)?;
    bench_conditions(&mut out, model, &batch, &splice)?;
    bench_stacked_arms(&mut out, model, &splice)
}

/// The forward pass at every batch size, with aann's kernels (and burn's ops too, with
/// `--burn-ops`); the model is left on the first of them.
fn bench_forward(out: &mut Rows<'_>, model: &mut InceptionV1, image_flops: f64) {
    let args = out.args;
    let variant = model.variant();
    let device = model.device().clone();
    let kernels: Vec<bool> = if args.burn_ops && model.cpu_kernels() {
        vec![true, false]
    } else {
        vec![model.cpu_kernels()]
    };
    let label = |on: bool| if on { "aann" } else { "aann (burn ops)" };
    for &on in &kernels {
        model.set_cpu_kernels(on);
        for &batch in &args.batches {
            let input = random_input(variant, batch, &device);
            let runs = time(args.reps, || {
                sync(model.forward(input.clone()).expect("forward"))
            });
            out.push_counted(
                format!("{} forward", label(on)),
                batch,
                runs,
                image_flops * batch as f64,
            );
        }
    }
    model.set_cpu_kernels(kernels[0]);
}

/// Hooks cost nothing when unused: NoHooks, an empty condition, a recorder of nothing.
fn bench_hooks(out: &mut Rows<'_>, model: &InceptionV1, batch: &Batch) {
    let variant = model.variant();
    let device = model.device().clone();
    let (input, keys) = (&batch.input, &batch.keys);
    let baseline = Condition::baseline();
    type Pass<'a> = Box<dyn Fn() -> Tensor<2> + 'a>;
    let hook_cases: [(&str, Pass<'_>); 3] = [
        (
            "hooks: NoHooks",
            Box::new(|| {
                model
                    .run(Tap::INPUT, input.clone(), &mut NoHooks)
                    .expect("runs")
            }),
        ),
        (
            "hooks: empty ConditionHooks",
            Box::new(|| {
                let mut hooks =
                    ConditionHooks::new(&baseline, variant, &device, keys, HashMap::new());
                model
                    .run(Tap::INPUT, input.clone(), &mut hooks)
                    .expect("runs")
            }),
        ),
        (
            "hooks: Recorder of nothing",
            Box::new(|| {
                let mut rec = Recorder::through(&[]);
                model
                    .run(Tap::INPUT, input.clone(), &mut rec)
                    .expect("runs")
            }),
        ),
    ];
    for (case, f) in &hook_cases {
        let runs = time(out.args.reps, || sync(f()));
        out.push_case((*case).into(), batch.len(), runs, String::new(), 0.0);
    }
}

/// A K-condition experiment spliced at the tap runs the prefix once, then K + 1 suffixes:
/// time the prefix and one suffix.
fn bench_splice(
    out: &mut Rows<'_>,
    model: &InceptionV1,
    batch: &Batch,
    macs: &[(Tap, u64)],
    image_flops: f64,
) -> anyhow::Result<Splice> {
    let args = out.args;
    let variant = model.variant();
    let device = model.device().clone();
    let (input, keys) = (&batch.input, &batch.keys);
    let tap = match &args.tap {
        Some(t) => Tap::parse(t, variant)?,
        None => Tap::mixed(aann_model::Block::B3b),
    };
    let checkpoint = checkpoint_for(tap);
    let prefix_runs = time(args.reps, || {
        let mut rec = Recorder::stopping_at(&[], checkpoint);
        match model.run(Tap::INPUT, input.clone(), &mut rec) {
            Err(Halt::Stopped(_, x)) => sync(*x),
            _ => unreachable!("stops at the checkpoint"),
        }
    });
    let shared = {
        let mut rec = Recorder::stopping_at(&[], checkpoint);
        match model.run(Tap::INPUT, input.clone(), &mut rec) {
            Err(Halt::Stopped(_, x)) => *x,
            _ => unreachable!("stops at the checkpoint"),
        }
    };
    let one = conditions(1, tap, variant);
    let suffix_runs = time(args.reps, || {
        let mut hooks = ConditionHooks::new(&one[0], variant, &device, keys, HashMap::new());
        sync(
            model
                .run(checkpoint, shared.clone(), &mut hooks)
                .expect("runs"),
        )
    });
    let prefix_flops = 2.0
        * macs
            .iter()
            .filter(|m| m.0.order() <= checkpoint.order())
            .map(|m| m.1 as f64)
            .sum::<f64>();
    let suffix_flops = image_flops - prefix_flops;
    let splice = Splice {
        tap,
        prefix_flops,
        suffix_flops,
        prefix: median(&prefix_runs),
        suffix: median(&suffix_runs),
    };
    let n = batch.len();
    out.push_counted(
        format!("prefix to {}", checkpoint.name(variant)),
        n,
        prefix_runs,
        prefix_flops * n as f64,
    );
    out.push_counted(
        format!("suffix from {} (1 condition)", checkpoint.name(variant)),
        n,
        suffix_runs,
        suffix_flops * n as f64,
    );
    Ok(splice)
}

/// K-condition experiments at the tap, with prefix reuse against the prediction from
/// the prefix and suffix times (and, with `--independent`, as K + 1 full passes).
fn bench_conditions(
    out: &mut Rows<'_>,
    model: &InceptionV1,
    inputs: &Batch,
    splice: &Splice,
) -> anyhow::Result<()> {
    let args = out.args;
    let variant = model.variant();
    let batch = inputs.len();
    let tap_name = splice.tap.name(variant);
    for &k in &args.conditions {
        let evaluator = Evaluator::new(model, conditions(k, splice.tap, variant))?;
        let runs = time_evaluate(args.reps, &evaluator, inputs);
        let predicted = splice.prefix + (k + 1) as f64 * splice.suffix;
        let measured = median(&runs);
        out.push_case(
            format!("experiment K={k} at {tap_name}, prefix reuse"),
            batch,
            runs,
            format!(
                "{} conditions incl. baseline; prefix + {}×suffix = {:.0} ms, measured {:.0} ms; {}",
                k + 1,
                k + 1,
                predicted * 1e3,
                measured * 1e3,
                of_peak(splice.card_flops(k, batch), measured, out.peaks)
            ),
            splice.card_flops(k, batch),
        );
        if args.independent {
            let runs = time(args.reps, || {
                for l in evaluator
                    .evaluate_independently(inputs.input.clone(), &inputs.keys)
                    .expect("evaluates")
                {
                    sync(l);
                }
            });
            out.push_case(
                format!("experiment K={k} at {tap_name}, no reuse"),
                batch,
                runs,
                format!("{} full passes", k + 1),
                0.0,
            );
        }
    }
    Ok(())
}

/// Arms batched through the suffix: K arms (plus the baseline) on a small batch, each
/// suffix its own pass, then up to `arms_per_pass` suffixes stacked in one pass.
fn bench_stacked_arms(
    out: &mut Rows<'_>,
    model: &InceptionV1,
    splice: &Splice,
) -> anyhow::Result<()> {
    let args = out.args;
    let variant = model.variant();
    let batch = args.stacked_batch.max(1);
    let inputs = Batch::random(variant, batch, model.device());
    let tap_name = splice.tap.name(variant);
    for &k in &args.stacked_arms {
        let mut per_pass: Vec<usize> = vec![1, args.arms_per_pass.min(k + 1)];
        per_pass.dedup();
        for p in per_pass {
            let evaluator =
                Evaluator::new(model, conditions(k, splice.tap, variant))?.with_arms_per_pass(p);
            let runs = time_evaluate(args.reps, &evaluator, &inputs);
            let measured = median(&runs);
            out.push_case(
                format!("{k} arms at {tap_name}, {p} per pass"),
                batch,
                runs,
                format!(
                    "{:.1} ms per arm per batch of {batch} ({} suffixes incl. the baseline, one prefix); {}",
                    measured * 1e3 / (k + 1) as f64,
                    k + 1,
                    of_peak(splice.card_flops(k, batch), measured, out.peaks)
                ),
                splice.card_flops(k, batch),
            );
        }
    }
    Ok(())
}
