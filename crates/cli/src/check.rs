//! `aann check FILE...`: re-check the claims of hypothesis files (regression tests on
//! circuit hypotheses).

use std::path::PathBuf;

use clap::Args;

use aann_eval::hypotheses::{CheckOptions, CheckReport, HypothesisFile, check_file};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Hypothesis files (e.g. eval/hypotheses/bvlc.toml).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Check only the claim with this name (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Check only the claims with this tag (repeatable), e.g. `--tag cheap`.
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Weights to check every file's claims on (default: the file's `weights`, else the
    /// model's usual location under the data root).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Data root holding imagenet-val/, labels/, googlenet-bvlc/ (default: $AANN_DATA).
    #[arg(long, env = "AANN_DATA", hide_env_values = true)]
    pub data_root: Option<PathBuf>,
    /// Folder for converted weights and cached statistics.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Print how every claim was measured, passes included.
    #[arg(long)]
    pub details: bool,
    /// Hide progress messages.
    #[arg(long)]
    pub quiet: bool,
}

pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    // Every file is read and checked before anything is measured.
    let files = args
        .files
        .iter()
        .map(|p| HypothesisFile::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let options = CheckOptions {
        data_root: args.data_root.clone(),
        weights: args.weights.clone(),
        cache_dir: args.cache_dir.clone(),
        only: args.only.clone(),
        tags: args.tag.clone(),
        progress: !args.quiet,
    };
    for name in &args.only {
        anyhow::ensure!(
            files
                .iter()
                .any(|f| f.claims.iter().any(|c| &c.name == name)),
            "no claim is named `{name}` in {}",
            args.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let selected: usize = files
        .iter()
        .map(|f| f.claims.iter().filter(|c| options.selects(c)).count())
        .sum();
    anyhow::ensure!(
        selected > 0,
        "no claim is selected (check --only and --tag)"
    );
    let report = CheckReport::new(files.iter().map(|f| check_file(f, &options)).collect());
    print!("{}", report.table(args.details));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        println!("report: {}", path.display());
    }
    let failures = report.failures();
    anyhow::ensure!(
        failures.is_empty(),
        "{} of {} claims failed: {}",
        failures.len(),
        selected,
        failures.join("; ")
    );
    Ok(())
}
