//! `aann check FILE...`: re-check the claims of hypothesis files (regression tests on
//! circuit hypotheses).

use std::path::PathBuf;

use clap::Args;

use aann_eval::hypotheses::{CheckOptions, CheckReport, HypothesisFile, check_file};

use crate::common::{ExitWith, SessionArgs, cli_path};

/// `aann check`'s exit code when every selected claim was skipped (nothing was checked):
/// a gate that ran nothing must not show green.
pub const EXIT_NOTHING_CHECKED: u8 = 3;

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
    #[command(flatten)]
    pub session: SessionArgs,
    /// Exit 0 even when every selected claim was skipped (by default that exits with code 3:
    /// nothing was checked).
    #[arg(long)]
    pub allow_skips: bool,
    /// Print how every claim was measured, passes included.
    #[arg(long)]
    pub details: bool,
}

pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    // Every file is read and checked before anything is measured.
    let files = args
        .files
        .iter()
        .map(|p| HypothesisFile::load(&cli_path(p)))
        .collect::<Result<Vec<_>, _>>()?;
    let options = CheckOptions {
        data_root: args.session.data_root.as_deref().map(cli_path),
        weights: args.weights.as_deref().map(cli_path),
        cache_dir: args.session.cache_dir.as_deref().map(cli_path),
        only: args.only.clone(),
        tags: args.tag.clone(),
        device: args.session.device,
        progress: !args.session.quiet,
        circuits: Default::default(),
    };
    let selected = options.selected(&files)?;
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
    if report.passed == 0 && !args.allow_skips {
        return Err(ExitWith {
            code: EXIT_NOTHING_CHECKED,
            message: format!(
                "nothing was checked: all {} selected claim(s) were skipped (see the reasons above); pass --allow-skips to accept that",
                report.skipped
            ),
        }
        .into());
    }
    Ok(())
}
