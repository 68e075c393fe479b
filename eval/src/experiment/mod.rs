//! The replacement experiment end to end: ablate a neuron family, replace it with
//! hand-written circuits, and measure — with intervals — how much of the network's
//! performance each replacement recovers.
//!
//! It reads like a method section, one stage a file, each handing a typed value to the
//! next:
//!
//! 1. [`inputs`]: the splits (tune, dev, test; disjoint by content), the preprocessing, the
//!    family, the calibration images and their statistics;
//! 2. [`arms`] (with [`controls`]): the ablations, the circuits and their controls,
//!    calibrated on tune — a [`Plan`];
//! 3. [`evaluate`]: every arm on the test images into resumable records;
//! 4. [`nulls`]: the random-channel and replacement nulls, through one runner;
//! 5. [`analyse`]: fractions recovered, circuits against controls, activation
//!    faithfulness, verdicts; then [`tuning`] maps and [`divergent`] images;
//! 6. [`write`]: the result with its provenance, as `summary.json`.
//!
//! Everything fitted or measured (channel means, circuit calibration, upstream normalisers,
//! σ scales) comes from the **tune** split; the headline is measured on the **test** split,
//! which must not share an image with it. The reports are written from the result alone
//! ([`crate::report`]).

pub mod analyse;
pub mod arms;
pub mod clock;
pub mod controls;
pub mod divergent;
pub mod evaluate;
pub mod inputs;
pub mod nulls;
pub mod result;
pub mod tuning;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use arms::Plan;
pub use inputs::open_set;
pub use inputs::{Inputs, session_config};
pub(crate) use inputs::{calibration_set_of, check_disjoint, preprocess_of};
pub use result::{
    CircuitResult, DivergentImage, ExperimentResult, FamilyInfo, FractionRow, LadderLevel,
    LadderResult, LineageCircuit, MappingNullResult, NeuronsResult, NullDraws, NullResult, SetInfo,
};

use crate::EvalError;
use crate::lab::{Feed, Session};
use crate::run::Shard;
use crate::spec::{ExperimentSpec, Split};

/// Options of a run that are not part of the experiment.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOptions {
    /// The command line, recorded in the results.
    pub command: String,
    /// Discard the records of an earlier run in the results folder instead of refusing a
    /// different one.
    pub fresh: bool,
    /// The split the test's place is taken by: `Test` for the headline, `Dev` when settings
    /// are being compared (the spec given is then `ExperimentSpec::on_dev`'s).
    pub evaluated_on: Split,
    /// Evaluate one part of the test set (and of the nulls' images) and stop after writing
    /// the records: one job of a sharded run.
    pub shard: Option<Shard>,
    /// Results folders written by the jobs of a sharded run: their records are united in
    /// the results folder first (`merge_shards`), then the run completes there.
    pub merge: Vec<PathBuf>,
}

/// What a job of a sharded run did (it writes records only; no summary).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardReport {
    pub shard: Shard,
    pub out: PathBuf,
    /// Test images in this shard's part, those evaluated now and those already recorded.
    pub images: usize,
    pub images_evaluated: usize,
    pub images_resumed: usize,
    pub seconds: f64,
    /// Where the shard's time went, stage by stage.
    #[serde(default)]
    pub stages: Vec<clock::StageTime>,
}

/// A run either completes (the summary and reports are written) or, as one shard of a
/// sharded run, writes its part's records.
#[derive(Clone, Debug)]
pub enum ExperimentOutcome {
    Complete(Box<ExperimentResult>),
    Shard(ShardReport),
}

/// Run an experiment: the arms on the test set (resumable), the nulls, the analysis;
/// writes `summary.json` into the results folder and returns the result (the caller
/// writes the reports from it: [`crate::report::write_reports`]).
pub fn run_experiment(
    session: &Session,
    spec_path: &Path,
    spec: &ExperimentSpec,
    options: &ExperimentOptions,
) -> Result<ExperimentOutcome, EvalError> {
    let start = Instant::now();
    let mut clock = clock::Clock::new(session.progress);
    clock.start("inputs");
    let inputs = Inputs::gather(session, spec_path, spec)?;
    let base = Feed::new(session, inputs.preprocess, spec.run.batch_size);
    let feed = base.in_phase(clock.start("arms and controls"));
    let mut plan = Plan::build(&feed, &inputs, spec)?;
    let arms = std::mem::take(&mut plan.arms);
    let feed = base.in_phase(clock.start("main run"));
    let main = evaluate::main_run(&feed, &inputs, spec, arms, options)?;
    let feed = base.in_phase(clock.start("nulls"));
    if let Some(shard) = options.shard {
        // One job of a sharded run: the nulls' records of its part too, then stop.
        nulls::run_nulls(&feed, &inputs, spec, &plan, &main, None)?;
        clock.stop();
        return Ok(ExperimentOutcome::Shard(ShardReport {
            shard,
            out: main.out.clone(),
            images: shard.of(&inputs.test.images, feed.batch_size).len(),
            images_evaluated: main.stats.images_evaluated,
            images_resumed: main.stats.images_resumed,
            seconds: start.elapsed().as_secs_f64(),
            stages: clock.times,
        }));
    }
    let records = evaluate::Records::read(&main, &inputs, spec)?;
    let (null, mapping_null) =
        nulls::run_nulls(&feed, &inputs, spec, &plan, &main, Some(&records.table))?;
    let feed = base.in_phase(clock.start("analysis"));
    let analysis = analyse::analyse(&feed, &inputs, spec, &plan, &main, &records)?;
    let feed = base.in_phase(clock.start("tuning maps"));
    let circuits = tuning::tuning_maps(&feed, &inputs, spec, &plan, &main.out)?;
    let divergent = divergent::divergent_images(
        &main.out,
        &records.table,
        &inputs.test.images,
        &inputs.synsets,
        &plan.replacements,
        spec.run.divergent_images,
    )?;
    clock.stop();
    let out = main.out.clone();
    let findings = write::Findings {
        records,
        null,
        mapping_null,
        analysis,
        circuits,
        divergent,
        seconds: start.elapsed().as_secs_f64(),
        stages: clock.times,
    };
    let result = write::assemble(session, &inputs, spec, options, &plan, main, findings);
    write::write_summary(session, &result, &out)?;
    Ok(ExperimentOutcome::Complete(Box::new(result)))
}
