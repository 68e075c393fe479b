//! Checking a file: every selected claim evaluated in one context, judged against its
//! threshold, skipped with the reason when its inputs are absent.

use std::path::Path;
use std::time::Instant;

use super::ablation_claims::{ablation_effect, fraction_recovered};
use super::circuit_claims::circuit_correlation;
pub use super::context::CheckOptions;
use super::context::{Context, Measured, Unavailable};
use super::motif_claims::weight_motif;
use super::report::{ClaimReport, FileReport, Outcome};
use super::text::threshold_text;
use super::tuning_claims::{equivariance, preferred_orientation, tiling};
use super::{Claim, ClaimKind, HypothesisFile};
use crate::EvalError;

/// Read a claim file (its circuits looked up in `options.circuits`) and check every
/// selected claim: `check_path(path, &options)?.assert_holds()` makes a file of claims a
/// regression test. A selection of no claim is an error ([`CheckOptions::selected`]).
pub fn check_path(path: &Path, options: &CheckOptions) -> Result<FileReport, EvalError> {
    let file = HypothesisFile::load_with(path, &options.circuits)?;
    options.selected(std::slice::from_ref(&file))?;
    Ok(check_file(&file, options))
}

/// Check every selected claim of a file. Claims whose weights or data are absent are
/// skipped with the reason; a claim that cannot be evaluated for another reason fails.
pub fn check_file(file: &HypothesisFile, options: &CheckOptions) -> FileReport {
    let mut ctx = Context::new(file, options);
    let mut claims = Vec::new();
    for claim in file.claims.iter().filter(|c| options.selects(c)) {
        if options.progress {
            eprintln!("checking `{}` ({})", claim.name, claim.kind.name());
        }
        let start = Instant::now();
        let threshold = threshold_text(claim);
        let outcome = match evaluate(&mut ctx, claim, &threshold) {
            Ok(o) => o,
            Err(Unavailable::Skip(reason)) => Outcome::skipped(reason, threshold),
            Err(Unavailable::Error(e)) => Outcome::error(e, threshold),
        };
        claims.push(ClaimReport {
            name: claim.name.clone(),
            kind: claim.kind.name().to_string(),
            tags: claim.tags.clone(),
            outcome,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    let weights_sha256 = match &ctx.model {
        Some(Ok(m)) => Some(m.weights_sha256().to_string()),
        _ => None,
    };
    FileReport {
        path: file.path.display().to_string(),
        model: file.model.to_string(),
        weights: ctx.weights.as_ref().map(|p| p.display().to_string()),
        weights_sha256,
        claims,
    }
}

fn evaluate(ctx: &mut Context<'_>, claim: &Claim, threshold: &str) -> Measured {
    match &claim.kind {
        ClaimKind::PreferredOrientation(c) => preferred_orientation(ctx, c, threshold),
        ClaimKind::Tiling(c) => tiling(ctx, c, threshold),
        ClaimKind::Equivariance(c) => equivariance(ctx, c, threshold),
        ClaimKind::CircuitCorrelation(c) => circuit_correlation(ctx, c, threshold),
        ClaimKind::AblationEffect(c) => ablation_effect(ctx, c, threshold),
        ClaimKind::FractionRecovered(c) => fraction_recovered(ctx, c, threshold),
        ClaimKind::WeightMotif(c) => weight_motif(ctx, c, threshold),
    }
}
