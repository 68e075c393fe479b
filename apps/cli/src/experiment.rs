//! `aann experiment SPEC.toml`: the replacement experiment end to end.

use std::path::PathBuf;

use clap::Args;

use aann_eval::errors::{ErrorOptions, Ranking, analyse_errors, errors_markdown, write_errors};
use aann_eval::experiment::{ExperimentOptions, ExperimentOutcome, run_experiment, session_config};
use aann_eval::lab::{Session, WeightsChoice};
use aann_eval::run::Shard;
use aann_eval::spec::{ExperimentSpec, Split};

use crate::common::{SessionArgs, cli_path};

#[derive(Args, Debug)]
pub struct ExperimentArgs {
    /// The experiment spec (e.g. eval/experiments/curves-bvlc.toml).
    pub spec: PathBuf,
    /// Override any value of the spec: `--set test.images=/data/val --set test.limit=1000`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// The test image set (shorthand for `--set test.images=...`).
    #[arg(long)]
    pub test: Option<String>,
    /// Ground truth for a flat test folder (`--set test.labels=...`).
    #[arg(long)]
    pub test_labels: Option<String>,
    /// Evaluate only the first N test images (`--set test.limit=N`).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Results folder (`--set run.out=...`); re-running resumes there.
    #[arg(long)]
    pub out: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
    /// Discard the records of an earlier run in the results folder and start over (without
    /// it, a folder holding a run with any other setting is refused).
    #[arg(long)]
    pub fresh: bool,
    /// The split the arms are evaluated on: `test` (the headline, read once by a frozen
    /// spec) or `dev` (where settings are compared; results go to `<run.out>-dev`).
    #[arg(long, default_value = "test")]
    pub on: Split,
    /// Run one part of the test set (and of the nulls' images), INDEX/COUNT, 0-based, and
    /// write its records only; `auto` takes them from a SLURM job array
    /// (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT) or, as `auto/COUNT`, from a
    /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX): `--shard auto --out
    /// results/shard-$SLURM_ARRAY_TASK_ID`.
    #[arg(long, conflicts_with = "merge")]
    pub shard: Option<Shard>,
    /// The results folders of a sharded run's jobs: their records are united in --out, then
    /// the run completes there (the summary equals an unsharded run's).
    #[arg(long, num_args = 1.., value_name = "SHARD_DIR")]
    pub merge: Vec<PathBuf>,
    /// Write a SLURM job array of N shards and a merge job that waits for it (into
    /// `<run.out>-slurm/`), sized from the measured peak memory and time; nothing runs here.
    /// The jobs get this command line without --fresh (a requeued shard must resume).
    #[arg(long, value_name = "N", conflicts_with_all = ["shard", "merge"])]
    pub slurm: Option<usize>,
    /// With --slurm: submit the array and the merge (`sbatch`) and print their job ids.
    #[arg(long, requires = "slurm")]
    pub submit: bool,
    /// With --slurm: CPU cores per shard.
    #[arg(long, default_value_t = 2, requires = "slurm")]
    pub slurm_cpus: usize,
    /// With --slurm: the partition to submit to (default: the cluster's).
    #[arg(long, requires = "slurm")]
    pub slurm_partition: Option<String>,
}

pub fn experiment(args: ExperimentArgs) -> anyhow::Result<()> {
    let mut overrides = args.overrides.clone();
    // Paths typed on the command line are relative to the working directory (those in a
    // spec stay relative to the data root).
    let typed = |p: &str| cli_path(std::path::Path::new(p)).display().to_string();
    if let Some(t) = &args.test {
        overrides.push(format!("test.images={}", toml_string(&typed(t))));
    }
    if let Some(l) = &args.test_labels {
        overrides.push(format!("test.labels={}", toml_string(&typed(l))));
    }
    if let Some(n) = args.limit {
        overrides.push(format!("test.limit={n}"));
    }
    if let Some(o) = &args.out {
        overrides.push(format!("run.out={}", toml_string(o)));
    }
    let spec = ExperimentSpec::load(&args.spec, &overrides)?;
    let spec = match args.on {
        Split::Test => spec,
        Split::Dev => spec.on_dev()?,
        Split::Tune => anyhow::bail!(
            "--on tune: the tune split is what circuits are calibrated on; evaluate on `dev` or `test`"
        ),
    };
    if let Some(jobs) = args.slurm {
        return slurm_scripts(&args, &spec, jobs);
    }
    let command: Vec<String> = std::env::args().collect();
    let options = ExperimentOptions {
        command: format!("aann {}", command[1..].join(" ")),
        fresh: args.fresh,
        evaluated_on: args.on,
        shard: args.shard,
        merge: args.merge.iter().map(|p| cli_path(p)).collect(),
    };
    let session = Session::open(&session_config(
        &spec,
        args.session.config(spec.model, WeightsChoice::Default),
    ))?;
    let result = match run_experiment(&session, &args.spec, &spec, &options)? {
        ExperimentOutcome::Complete(result) => result,
        ExperimentOutcome::Shard(s) => {
            println!(
                "shard {}: {} of its {} test images evaluated now ({} already recorded) in {:.0} s; records in {}",
                s.shard,
                s.images_evaluated,
                s.images,
                s.images_resumed,
                s.seconds,
                s.out.display()
            );
            println!(
                "when every shard is done: aann experiment {} --merge <the shards' folders> --out <results folder>",
                args.spec.display()
            );
            return Ok(());
        }
    };
    // The reports, from the result alone.
    aann_eval::report::write_reports(&result, std::path::Path::new(&spec.run.out), |t| {
        session.portable(t)
    })?;
    if result.images_resumed > 0 {
        println!(
            "resumed {}: {} test image(s) reused from the earlier run, {} evaluated now",
            spec.run.out, result.images_resumed, result.images_evaluated
        );
    }
    for f in &result.test_failures {
        println!("not counted (cannot be decoded): {f}");
    }
    println!("{}", result.headline);
    println!();
    print!("{}", result.summary.table());
    println!();
    for f in result
        .fractions
        .iter()
        .chain(&result.lineage)
        .filter(|f| f.metric == aann_stats::Metric::CrossEntropy)
    {
        println!(
            "{:<36} vs {:<12} CE fraction recovered: {}",
            f.condition,
            f.relative_to,
            match &f.result.fraction {
                Some(e) => format!(
                    "{:.1}% [{:.1}%, {:.1}%]",
                    100.0 * e.point,
                    100.0 * e.ci.lo,
                    100.0 * e.ci.hi
                ),
                None => "undefined".into(),
            }
        );
    }
    if let Some(n) = &result.null {
        println!(
            "random-channel null: family loss increase {:+.4} vs {} random sets (mean {:+.4}); p = {}",
            n.family_loss_increase,
            n.sets.len(),
            n.comparison.null_mean,
            aann_eval::summary::format_p(n.comparison.p_value)
        );
    }
    for c in &result.circuits {
        println!(
            "{} ({}): median tuning-map r = {:.3}",
            c.condition, c.circuit, c.median_tuning_r
        );
    }
    println!("\nreport: {}/report.html", spec.run.out);
    Ok(())
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Args, Debug)]
pub struct ErrorsArgs {
    /// A finished experiment's results folder (e.g. results/curves-bvlc).
    pub results: PathBuf,
    /// The replacement condition to analyse (default: the run's first circuit), e.g.
    /// `replace-curves-from-upstream`.
    #[arg(long)]
    pub condition: Option<String>,
    /// Rank images by `kl` (of the replaced prediction from the natural one) or by
    /// `correctness` (top-1 answers the replacement broke, then those it fixed).
    #[arg(long, default_value = "kl")]
    pub by: Ranking,
    /// How many images to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// How many images of the split give each neuron's typical error.
    #[arg(long, default_value_t = 64)]
    pub reference_images: usize,
    /// The split to analyse: `dev` (default; the replacement is evaluated now on its first
    /// --dev-images) or `test` (the run's own records: look, but choose nothing from them).
    #[arg(long, default_value = "dev")]
    pub split: Split,
    /// How many dev images to evaluate.
    #[arg(long, default_value_t = 200)]
    pub dev_images: usize,
    /// Also evaluate the replacement with each neuron in turn left natural (dev only): which
    /// neuron's circuit costs the most.
    #[arg(long)]
    pub leave_one_out: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

pub fn errors(args: ErrorsArgs) -> anyhow::Result<()> {
    let options = ErrorOptions {
        data_root: args.session.data_root.as_deref().map(cli_path),
        cache_dir: args.session.cache_dir.as_deref().map(cli_path),
        device: args.session.device,
        condition: args.condition,
        ranking: args.by,
        top: args.top,
        reference_images: args.reference_images,
        split: args.split,
        dev_images: args.dev_images,
        leave_one_out: args.leave_one_out,
        progress: !args.session.quiet,
        ..ErrorOptions::default()
    };
    let analysis = analyse_errors(&args.results, &options)?;
    print!("{}", errors_markdown(&analysis));
    for path in write_errors(&analysis, &args.results)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct TablesArgs {
    /// An experiment's `summary.json` (e.g. the committed eval/results/curves-bvlc.json).
    pub summary: PathBuf,
    /// Also write the card as one SVG figure (recovery with intervals, the nulls).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Only a short card of these arms, in this order (comma-separated names).
    #[arg(long, value_delimiter = ',', conflicts_with = "svg")]
    pub arms: Vec<String>,
    /// Only one part of the tables: the ladder's (each level alone, the stacks, the
    /// waterfall) or the single-neuron cards.
    #[arg(long, value_enum, conflicts_with_all = ["svg", "arms"])]
    pub part: Option<TablePart>,
}

/// A part of an experiment's tables that `aann tables --part` prints alone.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TablePart {
    Ladder,
    Neurons,
}

/// Print the tables docs/card.md shows for a result, regenerated from its summary.
pub fn tables(args: TablesArgs) -> anyhow::Result<()> {
    let path = cli_path(&args.summary);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let result: aann_eval::experiment::ExperimentResult =
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an experiment's summary.json: {e}",
                path.display()
            )
        })?;
    if let Some(part) = args.part {
        let (text, what) = match part {
            TablePart::Ladder => (aann_eval::report::ladder_tables(&result), "[ladder]"),
            TablePart::Neurons => (
                aann_eval::report::neuron_tables(&result),
                "[single_neurons]",
            ),
        };
        anyhow::ensure!(
            !text.is_empty(),
            "{}: the experiment has no {what} section, so no such tables",
            path.display()
        );
        print!("{text}");
        return Ok(());
    }
    if !args.arms.is_empty() {
        let table = aann_eval::report::headline_table(&result, &args.arms)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        print!("{table}");
        return Ok(());
    }
    print!("{}", aann_eval::report::readme_tables(&result));
    if let Some(svg) = &args.svg {
        let svg = cli_path(svg);
        std::fs::write(&svg, aann_eval::report::card_svg(&result))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", svg.display()))?;
    }
    Ok(())
}

/// `--slurm N`: the array and merge scripts, submitted with `--submit`.
fn slurm_scripts(args: &ExperimentArgs, spec: &ExperimentSpec, jobs: usize) -> anyhow::Result<()> {
    anyhow::ensure!(jobs >= 1, "--slurm needs at least 1 job");
    let root = args.session.data_root();
    let test = aann_eval::experiment::open_set(&root, &spec.test, &root.synsets()?, "test")?;
    anyhow::ensure!(
        jobs <= test.len(),
        "--slurm {jobs}: more jobs than the {} test images",
        test.len()
    );
    let typed: Vec<String> = std::env::args().skip(1).collect();
    let mut request = crate::slurm::SlurmRequest::sized(
        jobs,
        &spec.run.out,
        test.len(),
        args.slurm_cpus,
        crate::slurm::passed_on(&typed),
    );
    request.partition = args.slurm_partition.clone();
    let (array, merge) = crate::slurm::write(&request, Some(&root.dir))?;
    println!(
        "{jobs} shards of {} test images, each {} cores, {} MiB and {}:{:02} h (from {}):\n  {}\n  {}",
        test.len(),
        request.cpus,
        request.mem_mib,
        request.minutes / 60,
        request.minutes % 60,
        if std::path::Path::new(&spec.run.out)
            .join("summary.json")
            .exists()
        {
            format!("the run in {}", spec.run.out)
        } else {
            "the card's measured peak and pace".to_string()
        },
        array.display(),
        merge.display()
    );
    if args.submit {
        let (a, m) = crate::slurm::submit(&array, &merge)?;
        println!("submitted: array job {a}, merge job {m} (runs after every shard succeeds)");
    } else {
        println!(
            "submit: a=$(sbatch --parsable {}) && sbatch --dependency=afterok:$a {}",
            array.display(),
            merge.display()
        );
    }
    Ok(())
}
