//! Stage 6, write: the result assembled with its provenance (commit, spec hash, weights
//! checksum, image lists, seeds) and written as `summary.json` and `spec.resolved.toml`.
//! The reports are written from the result alone, by the caller (`crate::report`).

use std::collections::BTreeMap;
use std::path::Path;

use aann_stats::Metric;

use super::ExperimentOptions;
use super::analyse::Analysis;
use super::arms::Plan;
use super::evaluate::{MainRun, Records};
use super::inputs::Inputs;
use super::result::{
    CircuitResult, DivergentImage, ExperimentResult, FamilyInfo, FractionRow, LadderLevel,
    LadderResult, LineageCircuit, MappingNullResult, NeuronsResult, NullResult, SetInfo,
};
use crate::EvalError;
use crate::lab::{Ablation, Provenance, Session};
use crate::means::describe_set;
use crate::spec::{ExperimentSpec, Split};
use crate::summary::RunSummary;

/// What the stages after the main run found.
pub struct Findings {
    pub records: Records,
    pub null: Option<NullResult>,
    pub mapping_null: Option<MappingNullResult>,
    pub analysis: Analysis,
    pub circuits: Vec<CircuitResult>,
    pub divergent: BTreeMap<String, Vec<DivergentImage>>,
    /// Wall time of the whole run, and of each stage.
    pub seconds: f64,
    pub stages: Vec<super::clock::StageTime>,
}

/// The result of the run, with its provenance.
pub fn assemble(
    session: &Session,
    inputs: &Inputs,
    spec: &ExperimentSpec,
    options: &ExperimentOptions,
    plan: &Plan,
    main: MainRun,
    found: Findings,
) -> ExperimentResult {
    let variant = spec.model;
    let family = FamilyInfo {
        path: spec.target.family.clone(),
        name: inputs.family.name.clone(),
        tap: inputs.tap.name(variant),
        channels: inputs.channels.as_slice().to_vec(),
        orientations: inputs
            .family
            .neurons
            .iter()
            .map(|n| n.orientation_deg)
            .collect(),
    };
    let mut headline = headline(
        &family,
        &found.records.summary,
        &found.analysis.fractions,
        &found.circuits,
    );
    if options.evaluated_on != Split::Test {
        headline = format!(
            "[{} split: for comparing settings, not a headline] {headline}",
            options.evaluated_on
        );
    }
    let set_info = |s: &aann_data::ImageSet| SetInfo {
        description: describe_set(s),
        images: s.len(),
    };
    let Findings {
        records, analysis, ..
    } = found;
    ExperimentResult {
        name: spec.name.clone(),
        description: spec.description.clone(),
        model: variant.name().into(),
        weights: session.weights().display().to_string(),
        weights_sha256: session.weights_sha256().into(),
        provenance: provenance(session, inputs, spec),
        family,
        tune: set_info(&inputs.tune.images),
        evaluated_on: options.evaluated_on,
        test: set_info(&inputs.test.images),
        test_failures: records
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect(),
        conditions: main.arms,
        summary: records.summary,
        fractions: analysis.fractions,
        lineage: analysis.lineage,
        lineage_circuit: lineage_circuit(spec, plan),
        ladder: ladder_result(plan, analysis.ladder, analysis.ladder_steps, variant),
        neurons: plan.neurons.as_ref().map(|n| NeuronsResult {
            neurons: n.neurons.clone(),
            fractions: analysis.neurons,
            comparisons: analysis.neuron_versus,
        }),
        null: found.null,
        versus_controls: analysis.versus_controls,
        mapping_null: found.mapping_null,
        calibrations: plan.calibrations.clone(),
        verdicts: analysis.verdicts,
        faithfulness: analysis.faithfulness,
        circuits: found.circuits,
        divergent: found.divergent,
        images_resumed: main.stats.images_resumed,
        images_evaluated: main.stats.images_evaluated,
        seconds: found.seconds,
        stages: found.stages,
        images_per_second: main.stats.images_per_second(),
        peak_memory_mib: crate::lab::provenance::peak_memory_mib(),
        headline,
        command: options.command.clone(),
        spec: spec.clone(),
    }
}

/// `summary.json` (inputs under the data root named `$AANN_DATA/…`) and the resolved spec.
pub fn write_summary(
    session: &Session,
    result: &ExperimentResult,
    out: &Path,
) -> Result<(), EvalError> {
    let summary_path = out.join("summary.json");
    let text =
        serde_json::to_string_pretty(result).map_err(|e| EvalError::Results(e.to_string()))?;
    std::fs::write(&summary_path, session.portable(&text))
        .map_err(|e| EvalError::write(&summary_path, e))?;
    let resolved = out.join("spec.resolved.toml");
    std::fs::write(&resolved, result.spec.to_toml()).map_err(|e| EvalError::write(&resolved, e))
}

/// Where every number came from.
fn provenance(session: &Session, inputs: &Inputs, spec: &ExperimentSpec) -> Provenance {
    let mut seeds = BTreeMap::from([("bootstrap".to_string(), spec.statistics.seed)]);
    if let Some(n) = &spec.null {
        seeds.insert("null".into(), n.seed);
    }
    if spec.ablations.resample {
        seeds.insert("resample".into(), spec.statistics.seed);
    }
    Provenance {
        aann_version: env!("CARGO_PKG_VERSION").into(),
        results_version: crate::lab::RESULTS_VERSION.into(),
        git_commit: inputs.commit.clone(),
        spec_sha256: aann_weights::sha256_hex(spec.to_toml().as_bytes()),
        model: spec.model.name().into(),
        weights: session.weights().display().to_string(),
        weights_sha256: session.weights_sha256().into(),
        image_lists: inputs.image_lists(),
        files: inputs.files.clone(),
        seeds,
        device: session.device.name().into(),
        threads: session.threads(),
    }
}

/// The lineage's lower circuit: its numbers, calibration and unit mapping.
fn lineage_circuit(spec: &ExperimentSpec, plan: &Plan) -> Option<LineageCircuit> {
    let l = plan.lineage.as_ref()?;
    Some(LineageCircuit {
        family: spec
            .lineage
            .as_ref()
            .map(|s| s.family.clone())
            .unwrap_or_default(),
        circuit: l.replacement.circuit.name(),
        accounting: l.replacement.accounting(),
        calibration: l.replacement.calibration.clone(),
        mapping: l.replacement.mapping.clone(),
    })
}

/// The ladder's levels, fractions and steps.
fn ladder_result(
    plan: &Plan,
    fractions: Vec<FractionRow>,
    steps: Vec<aann_stats::ConditionComparison>,
    variant: aann_model::Variant,
) -> Option<LadderResult> {
    let l = plan.ladder.as_ref()?;
    Some(LadderResult {
        levels: l
            .levels
            .iter()
            .map(|level| LadderLevel {
                name: level.name.clone(),
                family: level.family_file.clone(),
                tap: level.tap.name(variant),
                arm: level.arm.clone(),
                zero_arm: level.zero_arm.clone(),
                circuit: level.replacement.circuit.name(),
                accounting: level.replacement.accounting(),
                calibration: level.replacement.calibration.clone(),
                mapping: level.replacement.mapping.clone(),
            })
            .collect(),
        fractions,
        stack: l.stack.clone(),
        steps,
    })
}

/// One sentence with the experiment's main number.
fn headline(
    family: &FamilyInfo,
    summary: &RunSummary,
    fractions: &[FractionRow],
    circuits: &[CircuitResult],
) -> String {
    let mut parts = vec![format!(
        "{} images; ablating the {} {} channels at {}",
        summary.images,
        family.channels.len(),
        family.name,
        family.tap
    )];
    if let Some(z) = summary
        .versus_baseline
        .iter()
        .find(|v| v.b == Ablation::Zero.arm_name())
    {
        parts.push(format!(
            "(zero) raises the loss by {:+.4} nats [{:+.4}, {:+.4}] and changes top-1 by {:+.2} points",
            z.cross_entropy.difference.point,
            z.cross_entropy.difference.ci.lo,
            z.cross_entropy.difference.ci.hi,
            100.0 * z.top1_accuracy.difference.point
        ));
    }
    let mut s = parts.join(" ");
    for c in circuits {
        if let Some(f) = fractions.iter().find(|f| {
            f.condition == c.condition
                && f.relative_to == Ablation::Zero.arm_name()
                && f.metric == Metric::CrossEntropy
        }) {
            match &f.result.fraction {
                Some(e) => s.push_str(&format!(
                    "; {} recovers {:.0}% [{:.0}%, {:.0}%] of the zero-ablation cross-entropy gap",
                    c.condition,
                    100.0 * e.point,
                    100.0 * e.ci.lo,
                    100.0 * e.ci.hi
                )),
                None => s.push_str(&format!(
                    "; {}: fraction recovered undefined (the ablation's effect is not significant)",
                    c.condition
                )),
            }
        }
    }
    s.push('.');
    s
}
