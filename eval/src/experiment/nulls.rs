//! Stage 4, the nulls, through one runner: the random-channel null (channel sets of the
//! family's size, zero-ablated) and the replacement null (derangements of a circuit's unit
//! mapping, frozen and refitted). Each is a sub-run of its own in the results folder,
//! resumable like the main run; a shard writes its part of their records and no more.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use aann_circuits::CircuitReplacement;
use aann_data::ImageSet;
use aann_stats::{Alternative, empirical_p_value, matched_channel_sets, random_channel_sets};

use super::arms::Plan;
use super::controls::Named;
use super::evaluate::MainRun;
use super::inputs::Inputs;
use super::result::{MappingNullResult, NullDraws, NullResult};
use crate::EvalError;
use crate::lab::controls::derangements;
use crate::lab::{Ablation, Arm, BASELINE, ControlFit, Feed, remapped};
use crate::run::{DigestedSet, RunOptions, run_arms};
use crate::spec::{ExperimentSpec, MappingNullSpec, NullSpec};
use crate::summary::RecordTable;

/// Both nulls, run on the test images (their records only, for a shard: `main` none).
pub fn run_nulls(
    feed: &Feed<'_>,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    plan: &Plan,
    main: &MainRun,
    table: Option<&RecordTable>,
) -> Result<(Option<NullResult>, Option<MappingNullResult>), EvalError> {
    let runner = NullRunner {
        feed,
        test: &inputs.test.images,
        inputs,
        out: main.out.clone(),
        options: &main.options,
    };
    let null = match (&spec.null, spec.ablations.zero) {
        (Some(n), true) if n.sets > 0 => channel_null(&runner, n, table)?,
        _ => None,
    };
    let mapping_null = match &spec.mapping_null {
        Some(m) if m.shuffles > 0 => mapping_null(&runner, plan, m, table)?,
        _ => None,
    };
    Ok((null, mapping_null))
}

/// The one runner of the nulls: a null's arms over the first images of the test split,
/// into a sub-run folder of the results.
struct NullRunner<'a> {
    feed: &'a Feed<'a>,
    inputs: &'a Inputs,
    test: &'a ImageSet,
    out: PathBuf,
    options: &'a RunOptions,
}

/// Which null a sub-run draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Null {
    /// Channel sets of the family's size, zero-ablated.
    Channel,
    /// Derangements of a circuit's unit mapping.
    Mapping,
}

impl Null {
    /// Its sub-run's folder in the results.
    fn folder(self) -> &'static str {
        match self {
            Null::Channel => "null",
            Null::Mapping => "mapping-null",
        }
    }

    /// What its progress bar says.
    fn label(self) -> &'static str {
        match self {
            Null::Channel => "channel null",
            Null::Mapping => "replacement null",
        }
    }
}

/// A null's records: the arms' names (baseline first), the table, and its images.
struct Draws {
    names: Vec<String>,
    table: RecordTable,
    keys: HashSet<String>,
    images: usize,
}

impl Draws {
    /// The mean over the null's images of `value` (image, condition), where defined.
    fn mean(
        &self,
        table: &RecordTable,
        condition: &str,
        value: impl Fn(&str, f64) -> Option<f64>,
    ) -> f64 {
        let values: Vec<f64> = table
            .column(condition)
            .into_iter()
            .filter(|(image, _)| self.keys.contains(*image))
            .filter_map(|(image, o)| value(image, o.loss?))
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}

impl NullRunner<'_> {
    /// `arms` over the first `images` test images (all for 0) into `null`'s folder; `describe` says
    /// what runs, for the console.
    fn draws(
        &self,
        arms: Vec<Arm>,
        images: usize,
        null: Null,
        settings: serde_json::Value,
        describe: impl FnOnce(usize) -> String,
    ) -> Result<Draws, EvalError> {
        let set = if images > 0 {
            self.test.limit(images)
        } else {
            self.test.clone()
        };
        if self.options.progress {
            // A shard draws on its part of the images.
            let images = match self.options.shard {
                Some(shard) => shard.of(&set, self.feed.batch_size).len(),
                None => set.len(),
            };
            eprintln!("{}", describe(images));
        }
        let options = RunOptions {
            label: Some(null.label()),
            ..self.options.clone()
        };
        let dir = self.out.join(null.folder());
        let set = DigestedSet::new(set)?;
        let run = run_arms(
            self.feed,
            arms,
            &set,
            &self.inputs.order,
            &dir,
            settings,
            &options,
        )?;
        let names = run.names;
        Ok(Draws {
            table: RecordTable::read(&dir, &names)?,
            names,
            keys: set.images.iter().map(|e| e.key.clone()).collect(),
            images: set.images.len(),
        })
    }
}

/// The random-channel null: where the family's zero-ablation falls among channel sets of
/// its size (matched in mean activation, or drawn at random).
fn channel_null(
    runner: &NullRunner<'_>,
    spec: &NullSpec,
    main: Option<&RecordTable>,
) -> Result<Option<NullResult>, EvalError> {
    let start = Instant::now();
    let inputs = runner.inputs;
    let family = &inputs.family;
    let size = family.neurons.len();
    let sets = if spec.matched {
        matched_channel_sets(
            &inputs.stats.mean,
            &family.channels(),
            spec.sets,
            spec.pool,
            spec.seed,
        )?
    } else {
        random_channel_sets(
            inputs.tap.channels(runner.feed.session.variant()),
            size,
            spec.sets,
            spec.seed,
            &family.channels(),
        )?
    };
    let arms: Vec<Arm> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| Arm::null_set(i, inputs.tap, set.clone()))
        .collect();
    let settings = serde_json::json!({ "null": spec, "batch_size": runner.feed.batch_size });
    let draws = runner.draws(arms, spec.images, Null::Channel, settings, |images| {
        format!(
            "random-channel null: {} sets of {size} channels on {images} images",
            sets.len()
        )
    })?;
    // A shard writes records only.
    let Some(main) = main else {
        return Ok(None);
    };
    // The mean increase of the loss over the baseline, image by image.
    let increase = |table: &RecordTable, condition: &str| {
        draws.mean(table, condition, |image, loss| {
            Some(loss - table.get(image, BASELINE)?.loss?)
        })
    };
    let null_loss_increase: Vec<f64> = draws.names[1..]
        .iter()
        .map(|n| increase(&draws.table, n))
        .collect();
    let family_loss_increase = increase(main, Ablation::Zero.arm_name());
    let comparison = empirical_p_value(
        family_loss_increase,
        &null_loss_increase,
        Alternative::Greater,
    )?;
    Ok(Some(NullResult {
        seconds: start.elapsed().as_secs_f64(),
        matched: spec.matched,
        images: draws.images,
        sets,
        null_loss_increase,
        family_loss_increase,
        comparison,
    }))
}

/// The replacement null: where the circuit's real unit mapping falls among derangements of
/// it, the same draws under each calibration.
fn mapping_null(
    runner: &NullRunner<'_>,
    plan: &Plan,
    spec: &MappingNullSpec,
    main: Option<&RecordTable>,
) -> Result<Option<MappingNullResult>, EvalError> {
    let start = Instant::now();
    let (of, replacement) = mapping_null_of(spec, &plan.replacements)?;
    let data = &plan.calibration_data[&of];
    let fits: Vec<ControlFit> = if spec.refit {
        ControlFit::BOTH.to_vec()
    } else {
        vec![ControlFit::Frozen]
    };
    // The same derangements under each calibration, all different from one another.
    let mappings = derangements(&replacement.mapping, spec.seed, spec.shuffles)?;
    let mut arms = Vec::new();
    // Per calibration, each draw's arm name and its number of degenerate units.
    let mut by_fit: Vec<(ControlFit, Vec<(String, usize)>)> = Vec::new();
    for &fit in &fits {
        let mut names = Vec::new();
        for (i, mapping) in mappings.iter().enumerate() {
            let r = remapped(replacement, mapping.clone(), data, fit);
            let arm = Arm::mapping_null(&of, i, fit, runner.inputs.tap, r.clone());
            names.push((arm.name().to_string(), r.calibration.degenerate_count()));
            arms.push(arm);
        }
        by_fit.push((fit, names));
    }
    let settings = serde_json::json!({
        "mapping_null": spec,
        "of": of,
        "calibration": replacement.calibration,
        "batch_size": runner.feed.batch_size,
    });
    let fit_names = fits
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(" and ");
    let draws = runner.draws(arms, spec.images, Null::Mapping, settings, |images| {
        format!(
            "replacement null: {} derangements of {of}'s unit mapping ({fit_names}) on {images} images",
            spec.shuffles
        )
    })?;
    // A shard writes records only.
    let Some(main) = main else {
        return Ok(None);
    };
    let mean_loss =
        |table: &RecordTable, condition: &str| draws.mean(table, condition, |_, l| Some(l));
    let real_loss = mean_loss(main, &of);
    let mut per_fit = by_fit.into_iter().map(|(_, arms)| {
        let shuffled_loss: Vec<f64> = arms
            .iter()
            .map(|(n, _)| mean_loss(&draws.table, n))
            .collect();
        let mut distinct: Vec<u64> = shuffled_loss.iter().map(|l| l.to_bits()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let counts: Vec<usize> = arms.iter().map(|(_, c)| *c).collect();
        Ok::<_, EvalError>(NullDraws {
            comparison: empirical_p_value(real_loss, &shuffled_loss, Alternative::Less)?,
            distinct_losses: distinct.len(),
            degenerate_draws: counts.iter().filter(|c| **c > 0).count(),
            degenerate_units: counts.iter().sum(),
            shuffled_loss,
        })
    });
    let frozen = per_fit.next().expect("the frozen draws come first")?;
    let refit = per_fit.next().transpose()?;
    Ok(Some(MappingNullResult {
        of: of.to_string(),
        images: draws.images,
        real_loss,
        fit: Some(ControlFit::Frozen),
        draws: frozen,
        refit,
        seconds: start.elapsed().as_secs_f64(),
    }))
}

/// The circuit whose unit mapping the replacement null shuffles (`mapping_null.of`, else
/// the first circuit).
fn mapping_null_of<'r>(
    m: &MappingNullSpec,
    replacements: &'r [Named],
) -> Result<(String, &'r CircuitReplacement), EvalError> {
    let of =
        m.of.clone()
            .or_else(|| replacements.first().map(|r| r.0.clone()))
            .ok_or_else(|| EvalError::Spec("mapping_null needs a circuit to shuffle".into()))?;
    let (_, replacement) = replacements.iter().find(|r| r.0 == of).ok_or_else(|| {
        EvalError::Spec(format!(
            "mapping_null.of = `{of}` is not a circuit arm; the circuits are {}",
            replacements
                .iter()
                .map(|r| r.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok((of, replacement.as_ref()))
}
