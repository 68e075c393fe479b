//! Checking a file: every selected claim evaluated in one context, judged against its
//! threshold, skipped with the reason when its inputs are absent.

use std::path::PathBuf;
use std::time::Instant;

use super::ablation_claims::{ablation_effect, fraction_recovered};
use super::circuit_claims::circuit_correlation;
use super::context::{Context, Measured, Unavailable};
use super::motif_claims::weight_motif;
use super::report::{ClaimReport, FileReport, Outcome};
use super::text::threshold_text;
use super::tuning_claims::{equivariance, preferred_orientation, tiling};
use super::{Claim, ClaimKind, HypothesisFile};
use crate::lab::DeviceChoice;

/// How to run a check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Data root (default: `$AANN_DATA`, else `../shared/data`).
    pub data_root: Option<PathBuf>,
    /// Weights to check instead of the file's (or the model's default location).
    pub weights: Option<PathBuf>,
    /// Folder for converted weights and cached statistics (default: `$AANN_CACHE` or
    /// `~/.cache/aann`).
    pub cache_dir: Option<PathBuf>,
    /// Check only the claims with these names (all when empty).
    pub only: Vec<String>,
    /// Check only the claims with at least one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Where the model runs.
    pub device: DeviceChoice,
    pub progress: bool,
}

impl CheckOptions {
    /// Whether a claim is selected by `only` and `tags`.
    pub fn selects(&self, claim: &Claim) -> bool {
        (self.only.is_empty() || self.only.contains(&claim.name))
            && (self.tags.is_empty() || claim.tags.iter().any(|t| self.tags.contains(t)))
    }
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
