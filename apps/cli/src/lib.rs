//! The `aann` command-line interface.

mod ablate;
mod check;
mod circuits;
mod common;
mod experiment;
mod inspect;
mod patch;
mod slurm;
mod tuning;
mod weights;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use check::EXIT_NOTHING_CHECKED;
pub use common::{DeviceChoice, ModelArgs};

/// aann: replace InceptionV1 neurons with hand-written circuits, and measure what they recover.
#[derive(Parser, Debug)]
#[command(name = "aann", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the top-5 classes of images.
    Classify(inspect::ClassifyArgs),
    /// Write the activations of one tap as an NCHW float32 .npy file.
    Activations(inspect::ActivationsArgs),
    /// List a model's taps with their channel counts.
    Taps(inspect::TapsArgs),
    /// Ablate channels at a tap over an image set; print accuracy and loss per condition.
    Ablate(ablate::AblateArgs),
    /// Activation patching: a corrupted image run with one tap at a time taken from a
    /// clean image; how much of the clean answer's logit difference each tap restores.
    Patch(patch::PatchArgs),
    /// Fetch or describe weight files.
    Weights(weights::WeightsArgs),
    /// Tuning maps of channels to synthetic stimuli (heatmaps, radial tuning curves).
    Tune(tuning::TuneArgs),
    /// Find a neuron family (curves, lines) at a tap and write its family file.
    Discover(tuning::DiscoverArgs),
    /// Fit analytic Gabors to every filter of the first convolution and write the Gabor
    /// family (the filters one brightness Gabor explains).
    DiscoverGabors(tuning::DiscoverGaborsArgs),
    /// Hand-written circuits: their parameter accounting, and tuning compared with nature.
    Circuits(circuits::CircuitsArgs),
    /// Run a replacement experiment from a spec and write its report.
    Experiment(experiment::ExperimentArgs),
    /// Re-check the claims of hypothesis files: measured value, threshold, pass/fail/skip;
    /// exits non-zero when a claim fails.
    Check(check::CheckArgs),
    /// Where a finished experiment's replacement disagrees most with the natural network,
    /// with every replaced neuron's natural and artificial activity on those images.
    Errors(experiment::ErrorsArgs),
    /// Print the Markdown tables of a finished experiment's summary.json (docs/card.md's tables
    /// are these, for the committed results).
    Tables(experiment::TablesArgs),
    /// Time the forward pass, hooks, a K-condition experiment and decoding (images/s).
    Bench(aann_bench::BenchArgs),
}

/// Run the CLI on the given arguments (the first is the program name).
pub fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Classify(a) => inspect::classify(a),
        Command::Activations(a) => inspect::activations(a),
        Command::Taps(a) => inspect::taps(a),
        Command::Ablate(a) => ablate::ablate(a),
        Command::Patch(a) => patch::patch(a),
        Command::Bench(a) => aann_bench::bench(a),
        Command::Weights(a) => weights::weights(a),
        Command::Tune(a) => tuning::tune_command(a),
        Command::Discover(a) => tuning::discover_command(a),
        Command::DiscoverGabors(a) => tuning::discover_gabors_command(a),
        Command::Circuits(a) => circuits::circuits(a),
        Command::Experiment(a) => experiment::experiment(a),
        Command::Check(a) => check::check(a),
        Command::Errors(a) => experiment::errors(a),
        Command::Tables(a) => experiment::tables(a),
    }
}

/// Entry point of the `aann` binary: errors are printed with their causes, exit code 1.
pub fn main() -> ExitCode {
    match run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            match err.downcast_ref::<common::ExitWith>() {
                Some(e) => ExitCode::from(e.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}
