//! Provenance: what makes a number what it is. `summary.json` records it; a results folder
//! is resumed only when its fingerprint (everything that shapes a record) matches.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use aann_data::ContentDigest;

use crate::EvalError;

/// Bumped whenever a change to aann moves the numbers a run produces (records written by
/// an older version are then not resumed).
pub const RESULTS_VERSION: &str = "2";

/// An image list as a run used it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageListInfo {
    /// Where it came from (folder or list file) and how many images it has.
    pub description: String,
    pub images: usize,
    /// SHA-256 over every image's key, label and content hash (see
    /// [`aann_data::content_digest`]).
    pub sha256: String,
}

impl ImageListInfo {
    pub fn new(description: String, digest: &ContentDigest) -> Self {
        ImageListInfo {
            description,
            images: digest.images.len(),
            sha256: digest.list_sha256.clone(),
        }
    }
}

/// Everything a reader needs to know where a result came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `aann` crate version.
    pub aann_version: String,
    /// [`RESULTS_VERSION`].
    pub results_version: String,
    /// `git rev-parse HEAD` of the repository the run was started in (`-dirty` when it had
    /// uncommitted changes; `unknown` outside a checkout).
    pub git_commit: String,
    /// SHA-256 of the resolved spec (TOML, overrides applied).
    pub spec_sha256: String,
    pub model: String,
    pub weights: String,
    pub weights_sha256: String,
    /// The image lists by role (`tune`, `calibration`, `test`, …).
    pub image_lists: BTreeMap<String, ImageListInfo>,
    /// SHA-256 of every file the spec reads besides images and weights (family files,
    /// circuit specs), by path.
    pub files: BTreeMap<String, String>,
    /// Seeds by what they seed (`bootstrap`, `null`, `resample`).
    pub seeds: BTreeMap<String, u64>,
    pub device: String,
    pub threads: usize,
}

/// The process's peak resident memory so far, in MiB (`VmHWM` of `/proc/self/status`);
/// `None` where the kernel does not say (not Linux).
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The commit of the checkout at `repo`, with `-dirty` for uncommitted changes to tracked
/// files; `unknown` when git or the checkout is absent.
pub fn git_commit(repo: &Path) -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(head) if !head.is_empty() => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{head}-dirty") } else { head }
        }
        _ => "unknown".into(),
    }
}

/// SHA-256 of a file, as lower-case hex.
pub fn file_sha256(path: &Path) -> Result<String, EvalError> {
    let bytes = std::fs::read(path).map_err(|e| EvalError::io(path, e))?;
    Ok(aann_weights::sha256_hex(&bytes))
}

/// The paths (`a.b[2].c`) at which two JSON values differ, with both values, for messages
/// that say exactly what changed.
pub fn json_differences(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    fn walk(path: String, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Object(x), Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => walk(p, u, v, out),
                        (Some(u), None) => out.push(format!("{p}: {u} → (absent)")),
                        (None, Some(v)) => out.push(format!("{p}: (absent) → {v}")),
                        (None, None) => {}
                    }
                }
            }
            (Array(x), Array(y)) if x.len() == y.len() => {
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    walk(format!("{path}[{i}]"), u, v, out);
                }
            }
            _ if a != b => out.push(format!("{path}: {a} → {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(String::new(), old, new, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_setting_and_both_values() {
        let a =
            serde_json::json!({"circuits": [{"fit": "moments", "kind": "upstream"}], "batch": 16});
        let b = serde_json::json!({"circuits": [{"fit": "least-squares", "kind": "upstream"}], "batch": 16, "x": 1});
        let d = json_differences(&a, &b);
        assert_eq!(
            d,
            [
                "circuits[0].fit: \"moments\" → \"least-squares\"",
                "x: (absent) → 1"
            ]
        );
        assert!(json_differences(&a, &a).is_empty());
    }
}
