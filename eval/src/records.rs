//! The results folder: per-image records written as they are computed, so that an
//! interrupted run resumes where it stopped without recomputing or double-counting.
//!
//! - `manifest.json`: what is being run: the model and weights checksum, the content hash
//!   of the image list, the preprocessing, every arm with its full description, and the
//!   settings that shape a record (circuit settings, calibration images, family files).
//!   A resumed run must match all of it, or it is refused with what changed.
//! - `records.jsonl`: one [`ImageRecord`] per line, keyed by (image, condition). Each batch
//!   is appended with one write and flushed to disk; a line cut short by a crash is
//!   dropped when the file is reopened, and a (image, condition) pair already present is
//!   never written again. A complete line that is not a record (an edited or corrupted
//!   file) is an error, never silently dropped.
//! - `failures.jsonl`: images that could not be decoded, with the reason.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::lab::ArmInfo;
use crate::lab::provenance::{RESULTS_VERSION, json_differences};
use crate::metrics::ImageRecord;

/// What a results folder holds, to refuse resuming a different run into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`RESULTS_VERSION`] of the aann that wrote the records.
    pub results_version: String,
    pub model: String,
    /// SHA-256 of the weight source.
    pub weights_sha256: String,
    /// The image set (its path and layout) and how many images it lists; informative (the
    /// folder may move), the content hash below is what must match.
    pub image_set: String,
    pub images: usize,
    /// SHA-256 of the image list: keys, labels and file contents.
    pub images_sha256: String,
    /// Preprocessing, as a readable description.
    pub preprocess: String,
    /// The arms, baseline first.
    pub conditions: Vec<ArmInfo>,
    /// Everything else that shapes a record (circuit settings, calibration images, family
    /// and circuit-spec file hashes, seeds, batch size), as the run resolved it.
    pub settings: serde_json::Value,
}

impl RunManifest {
    /// What differs between two manifests, setting by setting (empty when the same run).
    pub fn differences(&self, other: &RunManifest) -> Vec<String> {
        let mut diffs = Vec::new();
        let mut field = |name: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            let (a, b) = (a.to_string(), b.to_string());
            if a != b {
                diffs.push(format!("{name}: {a} → {b}"));
            }
        };
        field(
            "aann results version",
            &self.results_version,
            &other.results_version,
        );
        field("model", &self.model, &other.model);
        field(
            "weights sha256",
            &self.weights_sha256,
            &other.weights_sha256,
        );
        field(
            "image list",
            &format!("{} [{}]", self.image_set, self.images_sha256),
            &format!("{} [{}]", other.image_set, other.images_sha256),
        );
        field("preprocessing", &self.preprocess, &other.preprocess);
        let a = serde_json::json!({"arms": self.conditions, "settings": self.settings});
        let b = serde_json::json!({"arms": other.conditions, "settings": other.settings});
        diffs.extend(json_differences(&a, &b));
        diffs
    }

    /// A manifest for this version of aann.
    pub fn new(
        model: &str,
        weights_sha256: &str,
        image_set: String,
        digest: &aann_data::ContentDigest,
        preprocess: &aann_data::Preprocess,
        conditions: Vec<ArmInfo>,
        settings: serde_json::Value,
    ) -> Self {
        RunManifest {
            results_version: RESULTS_VERSION.into(),
            model: model.into(),
            weights_sha256: weights_sha256.into(),
            image_set,
            images: digest.images.len(),
            images_sha256: digest.list_sha256.clone(),
            preprocess: format!("{preprocess:?}"),
            conditions,
            settings,
        }
    }
}

/// The files a results folder's run writes; `--fresh` removes them (and nothing else).
pub const RUN_FILES: [&str; 3] = ["manifest.json", "records.jsonl", "failures.jsonl"];

/// The sub-runs a results folder may hold, each a results folder of its own.
pub const SUB_RUNS: [&str; 2] = ["null", "mapping-null"];

/// Discard the records of a results folder (and of its sub-runs, [`SUB_RUNS`]), so that a
/// run starts afresh there. Other files are left alone.
pub fn discard_run(dir: &Path) -> Result<(), EvalError> {
    let subs = std::iter::once(dir.to_path_buf()).chain(SUB_RUNS.iter().map(|s| dir.join(s)));
    for sub in subs {
        for f in RUN_FILES {
            let p = sub.join(f);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| EvalError::write(&p, e))?;
            }
        }
    }
    Ok(())
}

/// Records a merge appends in one write.
const MERGE_CHUNK: usize = 4096;

/// What [`merge_shards`] brought together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Folders (the run and its sub-runs) that received records.
    pub folders: usize,
    /// (image, arm) records copied, and those already present.
    pub records: usize,
    pub duplicates: usize,
    pub failures: usize,
}

/// Unite the folders of a sharded run's jobs into `out`: for the run and each of its
/// sub-runs ([`SUB_RUNS`]), every shard's records are appended to `out`'s (a record
/// already there is not written twice). Every shard of a folder must hold the same run as
/// the others (and as `out`, if it has records already): their manifests are compared, and a
/// shard of another run is refused with what differs. A shard is itself an incomplete run
/// of the whole image set, so the experiment then resumes in `out` as after an
/// interruption: whatever no shard evaluated is evaluated then, and the summary is the
/// unsharded run's.
pub fn merge_shards(out: &Path, shards: &[PathBuf]) -> Result<MergeReport, EvalError> {
    let mut report = MergeReport::default();
    for shard in shards {
        if !shard.join("manifest.json").exists() {
            return Err(EvalError::Results(format!(
                "{} is not a results folder (no manifest.json): pass the folders the shards wrote (their --out)",
                shard.display()
            )));
        }
    }
    for sub in std::iter::once("").chain(SUB_RUNS) {
        let target = if sub.is_empty() {
            out.to_path_buf()
        } else {
            out.join(sub)
        };
        let mut store: Option<(RunManifest, RecordStore)> = None;
        for shard in shards {
            let dir = if sub.is_empty() {
                shard.clone()
            } else {
                shard.join(sub)
            };
            let manifest_path = dir.join("manifest.json");
            if !manifest_path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| EvalError::io(&manifest_path, e))?;
            let manifest: RunManifest = serde_json::from_str(&text).map_err(|e| {
                EvalError::StaleResults(format!(
                    "{}: not a manifest this version can read ({e})",
                    manifest_path.display()
                ))
            })?;
            // Every shard must hold the very run the first one (and `out`) holds.
            let store = match &mut store {
                Some((first, store)) => {
                    let diffs = RunManifest::differences(first, &manifest);
                    if !diffs.is_empty() {
                        return Err(EvalError::StaleResults(format!(
                            "{} holds another run than the shards before it; what differs:\n  {}",
                            dir.display(),
                            diffs.join("\n  ")
                        )));
                    }
                    store
                }
                None => {
                    let opened = RecordStore::open(&target, &manifest).map_err(|e| {
                        EvalError::StaleResults(format!("merging {}: {e}", dir.display()))
                    })?;
                    report.folders += 1;
                    &mut store.insert((manifest, opened)).1
                }
            };
            if dir.join("records.jsonl").exists() {
                // In chunks, so that merging a 50,000-image run holds a few thousand
                // records at a time.
                let mut chunk = Vec::with_capacity(MERGE_CHUNK);
                let mut flush = |chunk: &mut Vec<ImageRecord>| -> Result<(), EvalError> {
                    let written = store.append(chunk)?;
                    report.records += written;
                    report.duplicates += chunk.len() - written;
                    chunk.clear();
                    Ok(())
                };
                for_each_record(&dir, |r| {
                    chunk.push(r);
                    if chunk.len() == MERGE_CHUNK {
                        flush(&mut chunk)?;
                    }
                    Ok(())
                })?;
                flush(&mut chunk)?;
            }
            for f in read_failures(&dir)? {
                store.append_failure(f)?;
                report.failures += 1;
            }
        }
    }
    Ok(report)
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
    /// The run's conditions, by name: their index is the bit in `done`.
    conditions: HashMap<String, usize>,
    /// Per image, one bit per condition that has its record. A set of strings per image
    /// would cost a kilobyte per image at 26 arms; this costs a few words.
    done: HashMap<Box<str>, ConditionSet>,
    failed: HashSet<String>,
}

/// A set of condition indices, one bit each.
#[derive(Clone, Debug, Default)]
struct ConditionSet(Vec<u64>);

impl ConditionSet {
    fn insert(&mut self, i: usize) -> bool {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }

    fn contains(&self, i: usize) -> bool {
        self.0
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }
}

impl RecordStore {
    /// Open (or create) a results folder for `manifest`. An existing folder must hold the
    /// same run; a torn last line of `records.jsonl` is cut off.
    pub fn open(dir: &Path, manifest: &RunManifest) -> Result<Self, EvalError> {
        std::fs::create_dir_all(dir).map_err(|e| EvalError::write(dir, e))?;
        let manifest_path = dir.join("manifest.json");
        if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| EvalError::io(&manifest_path, e))?;
            let existing: RunManifest = serde_json::from_str(&text).map_err(|e| {
                EvalError::StaleResults(format!(
                    "{} holds records of an older or unknown format ({e}): they cannot be checked against this run; use --fresh to discard them, or another output folder",
                    manifest_path.display()
                ))
            })?;
            let diffs = existing.differences(manifest);
            if !diffs.is_empty() {
                return Err(EvalError::StaleResults(format!(
                    "{} holds a different run; its records would be reused under other settings. What changed:\n  {}\nUse --fresh to discard its records and start over, or another output folder.",
                    dir.display(),
                    diffs.join("\n  ")
                )));
            }
        } else {
            let text = serde_json::to_string_pretty(manifest).expect("manifest serialises");
            std::fs::write(&manifest_path, text)
                .map_err(|e| EvalError::write(&manifest_path, e))?;
        }

        let conditions: HashMap<String, usize> = manifest
            .conditions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        let records_path = dir.join("records.jsonl");
        let mut done: HashMap<Box<str>, ConditionSet> = HashMap::new();
        let records = open_appendable(&records_path, |line| {
            let r: ImageRecord = serde_json::from_str(line).map_err(|e| e.to_string())?;
            let Some(&i) = conditions.get(&r.condition) else {
                return Err(format!(
                    "arm {:?} is not one of this run's ({})",
                    r.condition,
                    manifest_names(manifest)
                ));
            };
            done.entry(r.image.into_boxed_str()).or_default().insert(i);
            Ok(())
        })?;
        let failures_path = dir.join("failures.jsonl");
        let mut failed = HashSet::new();
        let failures = open_appendable(&failures_path, |line| {
            let f: FailureRecord = serde_json::from_str(line).map_err(|e| e.to_string())?;
            failed.insert(f.image);
            Ok(())
        })?;
        Ok(RecordStore {
            dir: dir.to_path_buf(),
            records,
            failures,
            conditions,
            done,
            failed,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether every condition already has a record for `image`.
    pub fn is_complete(&self, image: &str, conditions: &[String]) -> bool {
        self.done.get(image).is_some_and(|d| {
            conditions
                .iter()
                .all(|c| self.conditions.get(c).is_some_and(|&i| d.contains(i)))
        })
    }

    pub fn has(&self, image: &str, condition: &str) -> bool {
        match (self.done.get(image), self.conditions.get(condition)) {
            (Some(d), Some(&i)) => d.contains(i),
            _ => false,
        }
    }

    /// Append records not already present, in one write, and flush them to disk. A record
    /// of an arm the run does not have is refused (nothing is written).
    pub fn append(&mut self, records: &[ImageRecord]) -> Result<usize, EvalError> {
        if let Some(r) = records
            .iter()
            .find(|r| !self.conditions.contains_key(&r.condition))
        {
            return Err(EvalError::Results(format!(
                "{}: a record of arm {:?}, which is not one of this run's",
                self.dir.display(),
                r.condition
            )));
        }
        let mut buf = Vec::new();
        let mut written = 0;
        for r in records {
            let i = self.conditions[&r.condition];
            if !self.done.contains_key(r.image.as_str()) {
                self.done
                    .insert(r.image.as_str().into(), ConditionSet::default());
            }
            let done = self.done.get_mut(r.image.as_str()).expect("inserted above");
            if !done.insert(i) {
                continue;
            }
            serde_json::to_writer(&mut buf, r).expect("records serialise");
            buf.push(b'\n');
            written += 1;
        }
        if !buf.is_empty() {
            let path = self.dir.join("records.jsonl");
            self.records
                .write_all(&buf)
                .map_err(|e| EvalError::write(&path, e))?;
            self.records
                .sync_data()
                .map_err(|e| EvalError::write(&path, e))?;
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
            .map_err(|e| EvalError::write(&path, e))?;
        self.failures
            .sync_data()
            .map_err(|e| EvalError::write(&path, e))
    }
}

fn manifest_names(manifest: &RunManifest) -> String {
    let names: Vec<&str> = manifest
        .conditions
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    if names.len() > 8 {
        format!("{}, … {} arms in all", names[..8].join(", "), names.len())
    } else {
        names.join(", ")
    }
}

/// Open a JSON-lines file for appending after reading its complete lines; a final line
/// without its newline (a write cut short) is truncated away. A complete line that does
/// not parse is an error naming the line: the file was edited or corrupted, and silently
/// dropping it (and what follows) would lose or double-count records.
fn open_appendable(
    path: &Path,
    mut each: impl FnMut(&str) -> Result<(), String>,
) -> Result<File, EvalError> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| EvalError::io(path, e))?;
    let good_len = complete_lines(BufReader::new(&file), path, |number, line| {
        each(line).map_err(|e| corrupt_line(path, number, &e))
    })?;
    let len = file.metadata().map_err(|e| EvalError::io(path, e))?.len();
    if len != good_len {
        file.set_len(good_len).map_err(|e| EvalError::io(path, e))?;
        file.seek(SeekFrom::End(0))
            .map_err(|e| EvalError::io(path, e))?;
    }
    Ok(file)
}

/// Visit the complete lines of a JSON-lines file (numbered from 1, without their newline),
/// stopping at a final line cut short by a crash; returns the bytes the complete lines
/// take.
fn complete_lines(
    mut reader: impl BufRead,
    path: &Path,
    mut each: impl FnMut(usize, &str) -> Result<(), EvalError>,
) -> Result<u64, EvalError> {
    let mut line = String::new();
    let (mut number, mut good_len) = (0usize, 0u64);
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| EvalError::io(path, e))?;
        if n == 0 || !line.ends_with('\n') {
            return Ok(good_len);
        }
        number += 1;
        each(number, line.trim_end())?;
        good_len += n as u64;
    }
}

fn corrupt_line(path: &Path, number: usize, error: &str) -> EvalError {
    EvalError::Results(format!(
        "{}:{number}: not a record ({error}); the file was edited or corrupted. Remove that line (its image is then evaluated again) or start over with --fresh",
        path.display()
    ))
}

/// Stream the records of a results folder, one line at a time, in file order: memory does
/// not grow with the file. A record may repeat (a merge or a hand-edited file); the first
/// occurrence is the one that counts, which is for `each` to keep (the summary's
/// [`RecordTable`](crate::summary::RecordTable) does). A final line cut short by a crash is
/// ignored; any other line that is not a record is an error naming it.
pub fn for_each_record(
    dir: &Path,
    mut each: impl FnMut(ImageRecord) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    let path = dir.join("records.jsonl");
    let file = File::open(&path).map_err(|e| EvalError::io(&path, e))?;
    let reader = BufReader::with_capacity(1 << 16, file);
    complete_lines(reader, &path, |number, line| {
        let r = serde_json::from_str::<ImageRecord>(line)
            .map_err(|e| corrupt_line(&path, number, &e.to_string()))?;
        each(r)
    })?;
    Ok(())
}

/// Every record of a results folder in memory (first occurrence of each (image,
/// condition)): for small folders and tests. Summaries stream through [`for_each_record`].
pub fn read_records(dir: &Path) -> Result<Vec<ImageRecord>, EvalError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for_each_record(dir, |r| {
        if seen.insert((r.image.clone(), r.condition.clone())) {
            out.push(r);
        }
        Ok(())
    })?;
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

/// A manifest of `conditions` for tests of results folders.
#[cfg(test)]
pub(crate) fn test_manifest(conditions: Vec<ArmInfo>) -> RunManifest {
    RunManifest {
        results_version: RESULTS_VERSION.into(),
        model: "bvlc".into(),
        weights_sha256: "abc".into(),
        image_set: "set".into(),
        images: 3,
        images_sha256: "123".into(),
        preprocess: "p".into(),
        conditions,
        settings: serde_json::json!({"circuits": [{"fit": "moments"}]}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> RunManifest {
        test_manifest(vec![ArmInfo::baseline()])
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
            err.contains("different run") && err.contains("weights sha256: abc → def"),
            "{err}"
        );
        // One setting of one arm changed: refused, naming it.
        let mut other = manifest();
        other.settings = serde_json::json!({"circuits": [{"fit": "least-squares"}]});
        let err = RecordStore::open(dir.path(), &other)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("circuits[0].fit: \"moments\" → \"least-squares\"")
                && err.contains("--fresh"),
            "{err}"
        );
        // Starting afresh discards the old run's files.
        discard_run(dir.path()).unwrap();
        RecordStore::open(dir.path(), &other).unwrap();
    }

    #[test]
    fn a_corrupt_line_in_the_middle_is_reported_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RecordStore::open(dir.path(), &manifest()).unwrap();
        store
            .append(&[record("a", "baseline"), record("b", "baseline")])
            .unwrap();
        drop(store);
        let path = dir.path().join("records.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "{\"image\": garbage}");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let err = RecordStore::open(dir.path(), &manifest())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("records.jsonl:2: not a record"), "{err}");
        let err = read_records(dir.path()).unwrap_err().to_string();
        assert!(err.contains("records.jsonl:2"), "{err}");
        // The file was not truncated behind the user's back.
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn a_records_file_with_an_arm_the_manifest_lacks_is_refused_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest();
        RecordStore::open(dir.path(), &manifest).unwrap();
        let line = serde_json::to_string(&record("x", "stray")).unwrap();
        std::fs::write(dir.path().join("records.jsonl"), line + "\n").unwrap();
        let err = RecordStore::open(dir.path(), &manifest)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("records.jsonl:1")
                && err.contains("\"stray\" is not one of this run's (baseline)"),
            "{err}"
        );
    }
}
