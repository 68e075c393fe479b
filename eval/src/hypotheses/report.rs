//! What checking a claim produced, and the report of a run: a table for people and JSON
//! for machines.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

/// Whether a claim held.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Not evaluated (weights or data absent, or weights the claims do not apply to).
    /// Never counted as a pass.
    Skipped {
        reason: String,
    },
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skipped { .. } => "SKIP",
        }
    }
}

/// The result of evaluating one claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub status: Status,
    /// The measured value (absent when skipped or when nothing could be measured).
    pub measured: Option<f64>,
    /// The unit of `measured` (`°`, `r`, `fraction`, `nats`…).
    pub unit: String,
    /// What the measured value had to satisfy, in words.
    pub threshold: String,
    /// How the value was measured and what else was seen.
    pub detail: String,
}

impl Outcome {
    /// A pass or a fail of a measured value.
    pub fn judged(
        pass: bool,
        measured: f64,
        unit: &str,
        threshold: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Outcome {
            status: if pass { Status::Pass } else { Status::Fail },
            measured: Some(measured),
            unit: unit.into(),
            threshold: threshold.into(),
            detail: detail.into(),
        }
    }

    pub fn skipped(reason: impl Into<String>, threshold: impl Into<String>) -> Self {
        Outcome {
            status: Status::Skipped {
                reason: reason.into(),
            },
            measured: None,
            unit: String::new(),
            threshold: threshold.into(),
            detail: String::new(),
        }
    }

    /// A claim that could not be evaluated although its inputs were present.
    pub fn error(message: impl Into<String>, threshold: impl Into<String>) -> Self {
        Outcome {
            status: Status::Fail,
            measured: None,
            unit: String::new(),
            threshold: threshold.into(),
            detail: format!("could not be evaluated: {}", message.into()),
        }
    }

    /// The measured value with its unit, for tables.
    pub fn measured_text(&self) -> String {
        match self.measured {
            None => "-".into(),
            Some(v) => match self.unit.as_str() {
                "°" => format!("{v:.1}°"),
                "" => format!("{v:.4}"),
                u => format!("{v:.3} {u}"),
            },
        }
    }
}

/// One claim's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimReport {
    pub name: String,
    pub kind: String,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub seconds: f64,
}

/// One file's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub path: String,
    pub model: String,
    /// The weights the claims were checked on, if they were found.
    pub weights: Option<String>,
    pub weights_sha256: Option<String>,
    pub claims: Vec<ClaimReport>,
}

impl FileReport {
    /// Every claim that did not pass (failed, or skipped: a claim not measured does not
    /// hold), each as `name (kind): measured against threshold — detail or reason`.
    pub fn not_holding(&self) -> Vec<String> {
        self.claims
            .iter()
            .filter(|c| c.outcome.status != Status::Pass)
            .map(|c| {
                let o = &c.outcome;
                let why = match &o.status {
                    Status::Skipped { reason } => format!("skipped: {reason}"),
                    _ => o.detail.clone(),
                };
                format!(
                    "{} `{}` ({}): measured {}, needed {} — {why}",
                    o.status.label(),
                    c.name,
                    c.kind,
                    o.measured_text(),
                    o.threshold
                )
            })
            .collect()
    }

    /// Panic, naming every claim that did not pass with its measurement and threshold,
    /// unless every checked claim passed (and at least one was checked): claims as
    /// regression tests.
    pub fn assert_holds(&self) {
        assert!(
            !self.claims.is_empty(),
            "{}: no claim was selected",
            self.path
        );
        let bad = self.not_holding();
        assert!(
            bad.is_empty(),
            "{}: {} of {} claims do not hold:\n{}",
            self.path,
            bad.len(),
            self.claims.len(),
            bad.join("\n")
        );
    }
}

/// Everything `aann check` did: the JSON report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub files: Vec<FileReport>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl CheckReport {
    pub fn new(files: Vec<FileReport>) -> Self {
        let count = |f: &dyn Fn(&Status) -> bool| {
            files
                .iter()
                .flat_map(|x| &x.claims)
                .filter(|c| f(&c.outcome.status))
                .count()
        };
        CheckReport {
            passed: count(&|s| *s == Status::Pass),
            failed: count(&|s| *s == Status::Fail),
            skipped: count(&|s| matches!(s, Status::Skipped { .. })),
            files,
        }
    }

    /// Names of the failed claims, as `file: claim`.
    pub fn failures(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| {
                f.claims
                    .iter()
                    .filter(|c| c.outcome.status == Status::Fail)
                    .map(move |c| format!("{}: {}", f.path, c.name))
            })
            .collect()
    }

    /// The table: one line per claim (status, name, measured value, threshold), with the
    /// detail under every failure and the reason under every skip (under passes too when
    /// `details`).
    pub fn table(&self, details: bool) -> String {
        let mut s = String::new();
        let width = self
            .files
            .iter()
            .flat_map(|f| &f.claims)
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, 80);
        for f in &self.files {
            let _ = writeln!(
                s,
                "{} ({} model; weights {})",
                f.path,
                f.model,
                f.weights.as_deref().unwrap_or("not found")
            );
            let _ = writeln!(
                s,
                "  {:<4}  {:<width$}  {:>14}  threshold",
                "", "claim", "measured"
            );
            for c in &f.claims {
                let o = &c.outcome;
                let _ = writeln!(
                    s,
                    "  {:<4}  {:<width$}  {:>14}  {}",
                    o.status.label(),
                    c.name,
                    o.measured_text(),
                    o.threshold
                );
                let note = match &o.status {
                    Status::Skipped { reason } => Some(format!("skipped: {reason}")),
                    Status::Fail => Some(o.detail.clone()),
                    Status::Pass if details => Some(o.detail.clone()),
                    Status::Pass => None,
                };
                if let Some(note) = note.filter(|n| !n.is_empty()) {
                    for line in note.lines() {
                        let _ = writeln!(s, "        {line}");
                    }
                }
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        s
    }
}
