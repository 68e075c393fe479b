//! Write your own circuit: curve detectors for BVLC GoogLeNet's inception_3b, built from
//! scratch out of the shipped building blocks (inception_3a's natural early curves and
//! lines, tiled along an arc with arc weights of our own), registered under a new kind,
//! `my-curves`, and run as a full replacement experiment (controls, nulls, intervals, the
//! report) on a small image set by the same runner as `aann experiment`:
//!
//!     cargo run --release -p aann --example my_circuit            # examples/my-circuit.toml
//!     cargo run --release -p aann --example my_circuit -- SPEC    # a spec naming `my-curves`
//!
//! Images and weights come from `$AANN_DATA`; results go to the spec's `run.out`.

use std::path::Path;
use std::sync::Arc;

use aann::circuits::motif::{TangentTiling, TargetShape};
use aann::circuits::{Circuit, UpstreamCircuitSpec};
use aann::eval::EvalError;
use aann::eval::circuits::{
    CircuitEntry, CircuitInputs, CircuitRegistry, UpstreamKeys, upstream_circuit,
};
use aann::eval::experiment::{
    ExperimentOptions, ExperimentOutcome, run_experiment, session_config,
};
use aann::eval::lab::{Session, SessionConfig};
use aann::eval::spec::ExperimentSpec;
use aann::model::{Block, Tap};
use aann::stats::{FractionStatus, Metric};
use serde::{Deserialize, Serialize};

/// The keys of a `[[circuits]]` table of kind `my-curves`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyCurves {
    /// Arc radius (pixels) along which aligned early curves and lines excite.
    pub radius: f64,
    /// How strongly early curves facing the other way inhibit (the echo).
    pub echo: f64,
}

/// Every hand-set number of the circuit: an arc of early curves, flanked by its mirror,
/// and lines along the same arc, weaker.
pub fn my_numbers(keys: &MyCurves) -> UpstreamCircuitSpec {
    let arc = TargetShape::Arc {
        radius: keys.radius,
        half_span_deg: 45.0,
    };
    let tile = |excitation, opposite_inhibition, mirror_inhibition| TangentTiling {
        shape: arc,
        spread: 5.0,
        tolerance_deg: 20.0,
        excitation,
        perpendicular_inhibition: 0.2,
        opposite_inhibition,
        mirror_inhibition,
    };
    UpstreamCircuitSpec {
        orientations: 24,
        scales: Vec::new(),
        kernel: 5,
        from_early: tile(1.0, keys.echo, 0.5),
        from_lines: tile(0.3, 0.0, 0.0),
        bottleneck: None,
    }
}

/// The kind `my-curves`: built from the model's shipped 3a families, normalised by their
/// natural standard deviations on the tune split (the registry measures them at the tap
/// `upstream` names), standing in for inception_3b.
pub fn my_curves() -> CircuitEntry<MyCurves> {
    CircuitEntry::new(
        "my-curves",
        &["radius", "echo"],
        |keys: &MyCurves, inputs: &CircuitInputs<'_>| {
            let families = UpstreamKeys::shipped(inputs.variant);
            let spec = inputs.numbers_or(|| my_numbers(keys))?;
            Ok(Arc::new(upstream_circuit(&families, spec, inputs)?) as Arc<dyn Circuit>)
        },
    )
    .upstream(|_, _| Ok(Some(Tap::mixed(Block::B3a))))
    .stands_in_for(|_| Tap::mixed(Block::B3b))
    .preset("my-curves", |_| MyCurves {
        radius: 24.0,
        echo: 1.0,
    })
    .numbers(|keys| toml::to_string_pretty(&my_numbers(keys)).expect("numbers serialise"))
}

fn main() -> Result<(), EvalError> {
    let spec_path = std::env::args()
        .nth(1)
        .unwrap_or("examples/my-circuit.toml".into());
    let spec_path = Path::new(&spec_path);
    // The shipped circuits and ours: every spec, control and null below can name either.
    let registry = CircuitRegistry::shipped().register(my_curves());
    let spec = ExperimentSpec::load_with(spec_path, &[], &registry)?;
    let config = session_config(&spec, SessionConfig::new(spec.model));
    let session = Session::open(&config)?.with_circuits(registry);
    let options = ExperimentOptions {
        fresh: true,
        ..Default::default()
    };
    let ExperimentOutcome::Complete(result) = run_experiment(&session, spec_path, &spec, &options)?
    else {
        unreachable!("not a shard");
    };
    aann::eval::report::write_reports(&result, Path::new(&spec.run.out), |t| session.portable(t))?;
    println!("{}\n", result.headline);
    // The fraction of the zero-ablation's damage each arm recovers, with its interval: our
    // circuit, then its controls. On 16 images the cross-entropy's gap is within noise
    // (undefined, with the reason); the KL from the natural network's output is not.
    let metrics = [Metric::KlFromBaseline, Metric::CrossEntropy];
    for f in result
        .fractions
        .iter()
        .filter(|f| f.relative_to == "zero-ablate")
    {
        let fraction = match (&f.result.fraction, &f.result.status) {
            (Some(e), _) => format!(
                "{:5.1}% [{:.1}%, {:.1}%]",
                100.0 * e.point,
                100.0 * e.ci.lo,
                100.0 * e.ci.hi
            ),
            (None, FractionStatus::Undefined { reason }) => {
                format!("undefined: {}", reason.split(':').next().unwrap_or(""))
            }
            (None, _) => "undefined".into(),
        };
        if metrics.contains(&f.metric) {
            println!(
                "{:<34} {:<17} recovered {fraction}",
                f.condition,
                f.metric.name()
            );
        }
    }
    println!("\nreport: {}/report.html", spec.run.out);
    Ok(())
}
