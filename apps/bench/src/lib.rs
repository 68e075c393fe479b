//! The benchmarks behind `aann bench` (their own crate: the CLI only parses and calls):
//! images/s of the forward pass, of hooks, of a K-condition experiment with
//! prefix reuse, and of decoding, with an optional PyTorch peer run in the same process
//! tree so that the numbers sit side by side.
//!
//! Every case is timed as the median of `--reps` runs after one warm-up run; a run ends
//! when its result has been read back to the host (so asynchronous GPU backends are
//! timed honestly). Random inputs (normal, σ = 50, roughly the range of preprocessed
//! pixels) are used for the model cases: the kernels do the same work on any values.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Tensor;
use clap::Args;
use serde_json::{Value, json};

use aann_data::{ImageSet, PrefetchConfig, Preprocess, prefetch};
use aann_eval::setup::{DataRoot, load_model};
use aann_model::Variant;

use aann_eval::lab::DeviceChoice;

mod model;
pub mod peak;
pub mod summary;
use model::bench_model;
use peak::Peak;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Models to time (`bvlc`, `lucid`).
    #[arg(long, value_delimiter = ',', default_value = "bvlc,lucid", value_parser = Variant::parse)]
    pub models: Vec<Variant>,
    /// Batch sizes for the forward pass.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub batches: Vec<usize>,
    /// Numbers of intervention conditions for the experiment case (the baseline is run as
    /// well, as `aann ablate` does).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub conditions: Vec<usize>,
    /// Numbers of arms for the stacked-arms case: K zero-ablation arms at the tap, their
    /// suffixes run one per pass and `--arms-per-pass` per pass (empty: skip the case).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64,256")]
    pub stacked_arms: Vec<usize>,
    /// Most arms stacked in one suffix pass in the stacked-arms case.
    #[arg(long, default_value_t = 16)]
    pub arms_per_pass: usize,
    /// Images per batch in the stacked-arms case (small, so 256 arms stay affordable).
    #[arg(long, default_value_t = 4)]
    pub stacked_batch: usize,
    /// Measure the machine's FMA peak on the compute threads first, and give every model
    /// case's GFLOP/s as a share of it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub peak: bool,
    /// Batch size of the experiment, hooks and decode cases.
    #[arg(long, default_value_t = 16)]
    pub experiment_batch: usize,
    /// Where the conditions are spliced in (default: `inception_3b_output` / `mixed3b`).
    #[arg(long)]
    pub tap: Option<String>,
    /// Timed runs per case (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Images decoded per decode case (0 skips decoding).
    #[arg(long, default_value_t = 256)]
    pub decode_images: usize,
    /// Compute threads (rayon's pool; the PyTorch peer gets the same number). Default: all
    /// cores.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also time every model case with burn's own ops instead of aann's CPU kernels (the
    /// plain burn port, for before/after).
    #[arg(long)]
    pub burn_ops: bool,
    /// Also run each condition as an independent full pass (no prefix reuse).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub independent: bool,
    /// Run the PyTorch peer (`bench/pytorch_googlenet.py`) with the same thread count.
    #[arg(long)]
    pub with_pytorch: bool,
    /// Python interpreter with torch and torchvision for `--with-pytorch`.
    #[arg(long, env = "AANN_PYTHON", default_value = "python3")]
    pub python: PathBuf,
    /// The PyTorch peer script.
    #[arg(long, default_value = "bench/pytorch_googlenet.py")]
    pub pytorch_script: PathBuf,
    /// Write every result, the machine and the load as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Data root holding googlenet-bvlc/, inception5h-fixture/, imagenet-val/ (default:
    /// $AANN_DATA).
    #[arg(long, env = "AANN_DATA", hide_env_values = true)]
    pub data_root: Option<PathBuf>,
    /// BVLC weights (default: under the data root).
    #[arg(long)]
    pub bvlc_weights: Option<PathBuf>,
    /// Lucid weights (default: inception5h under the data root, else the random-weight
    /// fixture of the same shapes: timing does not depend on the values).
    #[arg(long)]
    pub lucid_weights: Option<PathBuf>,
    /// Folder for converted weights (default: $AANN_CACHE or ~/.cache/aann).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Compute device: cpu, cuda or wgpu.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Time only the summary step, on a synthetic records file of this many images (e.g.
    /// 50000, the full validation set), and report its peak memory; nothing else runs, as
    /// peak memory is per process. 0: the model benchmarks.
    #[arg(long, default_value_t = 0)]
    pub summary_images: usize,
    /// Arms of the summary step's synthetic run (the headline card has 26).
    #[arg(long, default_value_t = 26)]
    pub summary_arms: usize,
    /// Bootstrap resamples of the summary step (the experiments' default).
    #[arg(long, default_value_t = 2000)]
    pub summary_resamples: usize,
    /// Read the summary step's records into memory whole first, as summaries did before
    /// they streamed (for comparison).
    #[arg(long)]
    pub summary_in_memory: bool,
    /// Write the summary step's synthetic records as this many shards' results folders
    /// and merge them first, as `aann experiment --merge` does (the merge's time and peak
    /// memory are reported on their own).
    #[arg(long, default_value_t = 1)]
    pub summary_shards: usize,
}

/// One measured case.
struct Row {
    case: String,
    model: String,
    batch: usize,
    /// Median seconds per batch.
    seconds: f64,
    runs: Vec<f64>,
    note: String,
    /// Floating-point operations per batch (multiply-adds × 2), when counted; 0 otherwise.
    flops: f64,
}

impl Row {
    fn images_per_second(&self) -> f64 {
        self.batch as f64 / self.seconds
    }

    fn to_json(&self) -> Value {
        json!({
            "case": self.case,
            "model": self.model,
            "batch": self.batch,
            "seconds_per_batch": self.seconds,
            "images_per_second": self.images_per_second(),
            "runs": self.runs,
            "note": self.note,
            "gflops_per_second": (self.flops > 0.0).then(|| self.flops / self.seconds / 1e9),
        })
    }
}

/// "N GFLOP/s, P% of peak" for `flops` done in `seconds`, against the widest peak (and the
/// AVX2 one when the widest is wider, since a kernel may only use AVX2).
fn of_peak(flops: f64, seconds: f64, peaks: &[Peak]) -> String {
    let rate = flops / seconds;
    let mut s = format!("{:.1} GFLOP/s", rate / 1e9);
    for p in peaks.iter().filter(|p| p.isa != "scalar mul+add").take(2) {
        s.push_str(&format!(
            ", {:.0}% of the {} peak",
            100.0 * rate / p.flops_per_second,
            p.isa
        ));
    }
    s
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Warm-up once, then time `reps` runs; seconds per run.
fn time<F: FnMut()>(reps: usize, mut f: F) -> Vec<f64> {
    f();
    (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect()
}

/// Read a tensor back to the host: the end of a timed run.
fn sync<const D: usize>(x: Tensor<D>) {
    let _ = x.into_data();
}

fn read_file(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpu_model() -> String {
    read_file("/proc/cpuinfo")
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn load_average() -> String {
    read_file("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// Peak resident memory of this process (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = read_file("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn weights_for(args: &BenchArgs, root: &DataRoot, variant: Variant) -> anyhow::Result<PathBuf> {
    let explicit = match variant {
        Variant::Bvlc => &args.bvlc_weights,
        Variant::Lucid => &args.lucid_weights,
    };
    if let Some(p) = explicit {
        return Ok(p.clone());
    }
    match root.default_weights(variant) {
        Ok(p) => Ok(p),
        Err(e) if variant == Variant::Lucid => {
            let fixture = root.dir.join("inception5h-fixture/inception5h-random.pth");
            if fixture.exists() {
                Ok(fixture)
            } else {
                Err(e.into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn bench_decode(
    args: &BenchArgs,
    root: &DataRoot,
    rows: &mut Vec<Row>,
    print: &mut dyn FnMut(&Row),
) -> anyhow::Result<()> {
    if args.decode_images == 0 {
        return Ok(());
    }
    let mut sets = Vec::new();
    let val = root.dir.join("imagenet-val/images");
    if val.is_dir() {
        let set = ImageSet::flat_folder(&val, None, aann_data::Unlabelled::Allow)?;
        sets.push(("imagenet-val, 227×227 JPEGs", set));
    }
    let sample = root.dir.join("imagenet-sample");
    if sample.is_dir()
        && let Ok(synsets) = root.synsets()
    {
        let set = ImageSet::synset_folders(&sample, &synsets)?;
        sets.push(("imagenet-sample, JPEGs of shorter side 256", set));
    }
    if sets.is_empty() {
        eprintln!(
            "no images under {}: decode cases skipped",
            root.dir.display()
        );
        return Ok(());
    }
    let threads = rayon::current_num_threads();
    let mut counts = vec![1];
    if threads > 1 {
        counts.push(threads);
    }
    let preprocess: Preprocess = Variant::Bvlc.preprocess();
    for (what, set) in sets {
        let set = set.limit(args.decode_images);
        let n = set.len();
        for &t in &counts {
            let runs = time(args.reps.min(3), || {
                let batches = prefetch(
                    &set,
                    preprocess,
                    PrefetchConfig {
                        batch_size: args.experiment_batch,
                        batches_ahead: 2,
                        start: 0,
                        threads: Some(t),
                    },
                )
                .expect("prefetch starts");
                let mut images = 0;
                for b in batches {
                    images += b.len();
                }
                assert_eq!(images, n, "every image decodes");
            });
            let row = Row {
                case: format!(
                    "decode+preprocess, {t} thread{}",
                    if t > 1 { "s" } else { "" }
                ),
                model: "-".into(),
                batch: n,
                seconds: median(&runs),
                runs,
                note: format!("{what}, to 224×224"),
                flops: 0.0,
            };
            print(&row);
            rows.push(row);
        }
    }
    Ok(())
}

fn run_pytorch(args: &BenchArgs, threads: usize) -> anyhow::Result<Value> {
    if !args.pytorch_script.exists() {
        bail!(
            "{} not found: run from the repository root or pass --pytorch-script",
            args.pytorch_script.display()
        );
    }
    let batches: Vec<String> = args.batches.iter().map(|b| b.to_string()).collect();
    let out = Command::new(&args.python)
        .arg(&args.pytorch_script)
        .args(["--threads", &threads.to_string()])
        .args(["--reps", &args.reps.to_string()])
        .args(["--batches", &batches.join(",")])
        .arg("--json")
        .output()
        .with_context(|| format!("running {}", args.python.display()))?;
    if !out.status.success() {
        bail!(
            "the PyTorch peer failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("reading the PyTorch peer's JSON")
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("setting the compute thread count")?;
    }
    let threads = rayon::current_num_threads();
    if args.summary_images > 0 {
        return bench_summary(&args, threads);
    }
    let root = DataRoot::resolve(args.data_root.as_deref());
    let device = args.device.device()?;
    let (mut machine, peaks) = describe_machine(&args, threads);
    println!(
        "{:<58} {:<6} {:>5} {:>10} {:>10}  note",
        "case", "model", "batch", "images/s", "ms/batch"
    );
    let mut print = print_row;
    machine["fma_peaks"] = peaks
        .iter()
        .map(|p| json!({"isa": p.isa, "threads": p.threads, "gflops_per_second": p.flops_per_second / 1e9}))
        .collect::<Vec<_>>()
        .into();
    let mut rows = Vec::new();
    for &variant in &args.models {
        let weights = weights_for(&args, &root, variant)?;
        let loaded = load_model(variant, &weights, args.cache_dir.as_deref(), &device)
            .with_context(|| format!("loading {variant} from {}", weights.display()))?;
        let mut model = loaded.model;
        bench_model(&args, &mut model, &peaks, &mut rows, &mut print)?;
    }
    bench_decode(&args, &root, &mut rows, &mut print)?;
    let pytorch = if args.with_pytorch {
        let value = run_pytorch(&args, threads)?;
        print_pytorch(&value);
        Some(value)
    } else {
        None
    };
    let peak = peak_rss_mib();
    let load_after = load_average();
    println!(
        "peak RSS of aann bench: {} MiB; load average after: {load_after}",
        peak.map_or("?".into(), |m| format!("{m:.0}"))
    );
    if let Some(path) = &args.json {
        let value = json!({
            "machine": machine,
            "load_average_after": load_after,
            "peak_rss_mib": peak,
            "aann": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "pytorch": pytorch,
        });
        write_json(path, &value)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `--summary-images`: the summary step alone (peak memory is per process).
fn bench_summary(args: &BenchArgs, threads: usize) -> anyhow::Result<()> {
    let row = summary::summary_case(
        args.summary_images,
        args.summary_arms,
        args.summary_resamples,
        args.summary_in_memory,
        args.summary_shards,
    )?;
    if let Some(path) = &args.json {
        let value = json!({
            "machine": {"cpu": cpu_model(), "compute_threads": threads},
            "results": [row],
        });
        std::fs::write(path, serde_json::to_string_pretty(&value)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The machine and its load, printed and as JSON, and its FMA peaks (measured on the CPU
/// with `--peak`).
fn describe_machine(args: &BenchArgs, threads: usize) -> (Value, Vec<Peak>) {
    let load_before = load_average();
    let machine = json!({
        "cpu": cpu_model(),
        "logical_cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "compute_threads": threads,
        "device": format!("{:?}", args.device),
        "load_average_before": load_before,
    });
    println!(
        "aann bench: {} × {} threads, device {:?}, load average {load_before}",
        cpu_model(),
        threads,
        args.device
    );
    let peaks = if args.peak && matches!(args.device, DeviceChoice::Cpu) {
        peak::measure_peaks(threads)
    } else {
        Vec::new()
    };
    for p in &peaks {
        println!(
            "peak: {:.1} GFLOP/s on {} threads ({}, measured by an FMA loop)",
            p.flops_per_second / 1e9,
            p.threads,
            p.isa
        );
    }
    (machine, peaks)
}

/// A row of the table `aann bench` prints.
fn print_row(r: &Row) {
    println!(
        "{:<58} {:<6} {:>5} {:>10.2} {:>10.1}  {}",
        r.case,
        r.model,
        r.batch,
        r.images_per_second(),
        r.seconds * 1e3,
        r.note
    );
}

/// The PyTorch peer's results as rows of the table.
fn print_pytorch(value: &Value) {
    let Some(results) = value["results"].as_array() else {
        return;
    };
    for r in results {
        let batch = r["batch"].as_u64().unwrap_or(0) as usize;
        let seconds = r["seconds_per_batch"].as_f64().unwrap_or(f64::NAN);
        print_row(&Row {
            case: r["case"].as_str().unwrap_or("pytorch").to_string(),
            model: if r["case"].as_str().unwrap_or("").contains("lucent") {
                "lucid".into()
            } else {
                "bvlc".into()
            },
            batch,
            seconds,
            runs: Vec::new(),
            note: format!(
                "torch {}, {} threads",
                value["torch"].as_str().unwrap_or("?"),
                value["threads"]
            ),
            flops: 0.0,
        });
    }
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}
