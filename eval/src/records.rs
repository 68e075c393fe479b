//! The results folder: per-image records written as they are computed, so that an
//! interrupted run resumes where it stopped without recomputing or double-counting.
//!
//! - `manifest.json`: what is being run (model, weights checksum, image set, conditions).
//!   A resumed run must match it, or it is refused.
//! - `records.jsonl`: one [`ImageRecord`] per line, keyed by (image, condition). Each batch
//!   is appended with one write and flushed to disk; a line cut short by a crash is
//!   dropped when the file is reopened, and a (image, condition) pair already present is
//!   never written again.
//! - `failures.jsonl`: images that could not be decoded, with the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::metrics::ImageRecord;

/// What a results folder holds, to refuse resuming a different run into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub model: String,
    /// SHA-256 of the weight source.
    pub weights_sha256: String,
    /// The image set (its path and layout) and how many images it lists.
    pub image_set: String,
    pub images: usize,
    /// Preprocessing, as a readable description.
    pub preprocess: String,
    /// Condition names and descriptions, baseline first.
    pub conditions: Vec<(String, String)>,
}

/// An image that failed to decode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub image: String,
    pub path: String,
    pub reason: String,
}

/// An open results folder.
pub struct RecordStore {
    dir: PathBuf,
    records: File,
    failures: File,
    done: HashMap<String, HashSet<String>>,
    failed: HashSet<String>,
}

impl RecordStore {
    /// Open (or create) a results folder for `manifest`. An existing folder must hold the
    /// same run; a torn last line of `records.jsonl` is cut off.
    pub fn open(dir: &Path, manifest: &RunManifest) -> Result<Self, EvalError> {
        std::fs::create_dir_all(dir).map_err(|e| EvalError::io(dir, e))?;
        let manifest_path = dir.join("manifest.json");
        if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| EvalError::io(&manifest_path, e))?;
            let existing: RunManifest = serde_json::from_str(&text)
                .map_err(|e| EvalError::Results(format!("{}: {e}", manifest_path.display())))?;
            if &existing != manifest {
                return Err(EvalError::Results(format!(
                    "{} holds a different run ({}); use another output folder, or delete it to start over.\n  existing: {}\n  this run: {}",
                    dir.display(),
                    describe_difference(&existing, manifest),
                    serde_json::to_string(&existing).unwrap_or_default(),
                    serde_json::to_string(manifest).unwrap_or_default(),
                )));
            }
        } else {
            let text = serde_json::to_string_pretty(manifest).expect("manifest serialises");
            std::fs::write(&manifest_path, text).map_err(|e| EvalError::io(&manifest_path, e))?;
        }

        let records_path = dir.join("records.jsonl");
        let mut done: HashMap<String, HashSet<String>> = HashMap::new();
        let records = open_appendable(&records_path, |line| {
            let r: ImageRecord = serde_json::from_str(line).ok()?;
            done.entry(r.image).or_default().insert(r.condition);
            Some(())
        })?;
        let failures_path = dir.join("failures.jsonl");
        let mut failed = HashSet::new();
        let failures = open_appendable(&failures_path, |line| {
            let f: FailureRecord = serde_json::from_str(line).ok()?;
            failed.insert(f.image);
            Some(())
        })?;
        Ok(RecordStore {
            dir: dir.to_path_buf(),
            records,
            failures,
            done,
            failed,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether every condition already has a record for `image`.
    pub fn is_complete(&self, image: &str, conditions: &[String]) -> bool {
        self.done
            .get(image)
            .is_some_and(|d| conditions.iter().all(|c| d.contains(c)))
    }

    pub fn has(&self, image: &str, condition: &str) -> bool {
        self.done.get(image).is_some_and(|d| d.contains(condition))
    }

    /// Append records not already present, in one write, and flush them to disk.
    pub fn append(&mut self, records: &[ImageRecord]) -> Result<usize, EvalError> {
        let mut buf = Vec::new();
        let mut written = 0;
        for r in records {
            if self.has(&r.image, &r.condition) {
                continue;
            }
            serde_json::to_writer(&mut buf, r).expect("records serialise");
            buf.push(b'\n');
            self.done
                .entry(r.image.clone())
                .or_default()
                .insert(r.condition.clone());
            written += 1;
        }
        if !buf.is_empty() {
            let path = self.dir.join("records.jsonl");
            self.records
                .write_all(&buf)
                .map_err(|e| EvalError::io(&path, e))?;
            self.records
                .sync_data()
                .map_err(|e| EvalError::io(&path, e))?;
        }
        Ok(written)
    }

    /// Record an image that failed to decode (once).
    pub fn append_failure(&mut self, failure: FailureRecord) -> Result<(), EvalError> {
        if !self.failed.insert(failure.image.clone()) {
            return Ok(());
        }
        let mut line = serde_json::to_vec(&failure).expect("failures serialise");
        line.push(b'\n');
        let path = self.dir.join("failures.jsonl");
        self.failures
            .write_all(&line)
            .map_err(|e| EvalError::io(&path, e))?;
        self.failures
            .sync_data()
            .map_err(|e| EvalError::io(&path, e))
    }
}

/// Open a JSON-lines file for appending after reading its complete lines; a final line
/// without its newline (a write cut short) is truncated away.
fn open_appendable(
    path: &Path,
    mut each: impl FnMut(&str) -> Option<()>,
) -> Result<File, EvalError> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| EvalError::io(path, e))?;
    let mut good_len = 0u64;
    {
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| EvalError::io(path, e))?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            if each(line.trim_end()).is_none() {
                // A complete line that does not parse: stop trusting the file from here.
                break;
            }
            good_len += n as u64;
        }
    }
    let len = file.metadata().map_err(|e| EvalError::io(path, e))?.len();
    if len != good_len {
        file.set_len(good_len).map_err(|e| EvalError::io(path, e))?;
        file.seek(SeekFrom::End(0))
            .map_err(|e| EvalError::io(path, e))?;
    }
    Ok(file)
}

fn describe_difference(a: &RunManifest, b: &RunManifest) -> String {
    let mut diffs = Vec::new();
    if a.model != b.model {
        diffs.push("model");
    }
    if a.weights_sha256 != b.weights_sha256 {
        diffs.push("weights");
    }
    if a.image_set != b.image_set || a.images != b.images {
        diffs.push("image set");
    }
    if a.preprocess != b.preprocess {
        diffs.push("preprocessing");
    }
    if a.conditions != b.conditions {
        diffs.push("conditions");
    }
    format!("different {}", diffs.join(", "))
}

/// Read every record of a results folder (first occurrence of each (image, condition)).
pub fn read_records(dir: &Path) -> Result<Vec<ImageRecord>, EvalError> {
    let path = dir.join("records.jsonl");
    let file = File::open(&path).map_err(|e| EvalError::io(&path, e))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| EvalError::io(&path, e))?;
        let Ok(r) = serde_json::from_str::<ImageRecord>(&line) else {
            continue;
        };
        if seen.insert((r.image.clone(), r.condition.clone())) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Read the failures of a results folder.
pub fn read_failures(dir: &Path) -> Result<Vec<FailureRecord>, EvalError> {
    let path = dir.join("failures.jsonl");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| EvalError::io(&path, e))?;
    let mut seen = HashSet::new();
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<FailureRecord>(l).ok())
        .filter(|f| seen.insert(f.image.clone()))
        .collect())
}

/// Records grouped by condition, each aligned to the same image order (images that have
/// a record under every condition), ready for paired statistics.
pub fn aligned_by_condition(
    records: &[ImageRecord],
    conditions: &[String],
) -> (Vec<String>, BTreeMap<String, Vec<ImageRecord>>) {
    let mut by_image: BTreeMap<&str, HashMap<&str, &ImageRecord>> = BTreeMap::new();
    for r in records {
        by_image
            .entry(&r.image)
            .or_default()
            .insert(&r.condition, r);
    }
    let images: Vec<String> = by_image
        .iter()
        .filter(|(_, m)| conditions.iter().all(|c| m.contains_key(c.as_str())))
        .map(|(k, _)| k.to_string())
        .collect();
    let mut out = BTreeMap::new();
    for c in conditions {
        let rows = images
            .iter()
            .map(|i| by_image[i.as_str()][c.as_str()].clone())
            .collect();
        out.insert(c.clone(), rows);
    }
    (images, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> RunManifest {
        RunManifest {
            model: "bvlc".into(),
            weights_sha256: "abc".into(),
            image_set: "set".into(),
            images: 3,
            preprocess: "p".into(),
            conditions: vec![("baseline".into(), "none".into())],
        }
    }

    fn record(image: &str, condition: &str) -> ImageRecord {
        ImageRecord {
            image: image.into(),
            condition: condition.into(),
            label: Some(1),
            correct1: Some(true),
            correct5: Some(true),
            loss: Some(0.5),
            kl: 0.0,
            top5: vec![1, 2, 3, 4, 5],
            top5_prob: vec![0.5, 0.1, 0.1, 0.1, 0.1],
            true_logit: Some(3.0),
        }
    }

    #[test]
    fn torn_lines_are_dropped_and_pairs_never_written_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open(dir.path(), &manifest()).unwrap();
        assert_eq!(
            store
                .append(&[record("a", "baseline"), record("b", "baseline")])
                .unwrap(),
            2
        );
        drop(store);
        // Simulate a crash in the middle of writing a third line.
        let path = dir.path().join("records.jsonl");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"image\":\"c\",\"condi");
        std::fs::write(&path, text).unwrap();

        let mut store = RecordStore::open(dir.path(), &manifest()).unwrap();
        assert!(store.is_complete("a", &["baseline".into()]));
        assert!(!store.is_complete("c", &["baseline".into()]));
        assert_eq!(
            store
                .append(&[record("a", "baseline"), record("c", "baseline")])
                .unwrap(),
            1
        );
        let all = read_records(dir.path()).unwrap();
        let keys: Vec<&str> = all.iter().map(|r| r.image.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with('\n'));
    }

    #[test]
    fn a_different_run_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        RecordStore::open(dir.path(), &manifest()).unwrap();
        let mut other = manifest();
        other.weights_sha256 = "def".into();
        let err = RecordStore::open(dir.path(), &other)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("different run") && err.contains("weights"),
            "{err}"
        );
    }
}
