//! Turning a results folder into statistics: per-condition accuracies and losses with
//! intervals, and paired comparisons with the baseline.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use aann_stats::{
    ConditionComparison, ConditionOutcomes, ConditionSummary, compare_conditions,
    summarize_condition,
};

use crate::EvalError;
use crate::metrics::ImageRecord;
use crate::records::for_each_record;

/// Statistics of the conditions of one run, on the images every condition has.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    pub level: f64,
    /// Images with a record under every condition (and a label).
    pub images: usize,
    pub conditions: Vec<ConditionSummary>,
    /// Each condition against the baseline (difference = condition − baseline).
    pub versus_baseline: Vec<ConditionComparison>,
}

/// What the statistics need of one record: 27 bytes where an [`ImageRecord`] holds two
/// strings and two vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub correct1: Option<bool>,
    pub correct5: Option<bool>,
    /// Cross-entropy of the true class; `None` for an unlabelled image.
    pub loss: Option<f64>,
    pub kl: f64,
}

impl From<&ImageRecord> for Outcome {
    fn from(r: &ImageRecord) -> Self {
        Outcome {
            correct1: r.correct1,
            correct5: r.correct5,
            loss: r.loss,
            kl: r.kl,
        }
    }
}

/// The outcomes of a run's conditions, image by image: what summaries, fractions, paired
/// comparisons and nulls are computed from. Built by streaming `records.jsonl`
/// ([`RecordTable::read`]), so a summary holds a few dozen bytes per image and arm instead
/// of the records themselves: 50,000 images × 26 arms come to about 45 MB (the records
/// file is about 460 MB). The first record of an (image, arm) pair counts; records of arms
/// not asked for are skipped.
#[derive(Clone, Debug, Default)]
pub struct RecordTable {
    conditions: Vec<String>,
    condition_index: HashMap<String, usize>,
    images: Vec<Box<str>>,
    image_index: HashMap<Box<str>, usize>,
    /// `cells[condition][image]`.
    cells: Vec<Vec<Option<Outcome>>>,
}

impl RecordTable {
    pub fn new(conditions: &[String]) -> Self {
        RecordTable {
            conditions: conditions.to_vec(),
            condition_index: conditions
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i))
                .collect(),
            cells: vec![Vec::new(); conditions.len()],
            ..Default::default()
        }
    }

    /// Stream a results folder's records into a table of `conditions`.
    pub fn read(dir: &Path, conditions: &[String]) -> Result<Self, EvalError> {
        let mut table = RecordTable::new(conditions);
        for_each_record(dir, |r| {
            table.insert(&r);
            Ok(())
        })?;
        Ok(table)
    }

    /// A table of records already in memory.
    pub fn from_records(records: &[ImageRecord], conditions: &[String]) -> Self {
        let mut table = RecordTable::new(conditions);
        for r in records {
            table.insert(r);
        }
        table
    }

    /// Add a record; false if its arm is not in the table or its pair is there already.
    pub fn insert(&mut self, r: &ImageRecord) -> bool {
        let Some(&c) = self.condition_index.get(&r.condition) else {
            return false;
        };
        let i = match self.image_index.get(r.image.as_str()) {
            Some(&i) => i,
            None => {
                let i = self.images.len();
                let key: Box<str> = r.image.as_str().into();
                self.images.push(key.clone());
                self.image_index.insert(key, i);
                for column in &mut self.cells {
                    column.push(None);
                }
                i
            }
        };
        let cell = &mut self.cells[c][i];
        if cell.is_some() {
            return false;
        }
        *cell = Some(r.into());
        true
    }

    pub fn conditions(&self) -> &[String] {
        &self.conditions
    }

    /// The outcome of `image` under `condition`, if recorded.
    pub fn get(&self, image: &str, condition: &str) -> Option<&Outcome> {
        let c = *self.condition_index.get(condition)?;
        let i = *self.image_index.get(image)?;
        self.cells[c][i].as_ref()
    }

    /// Every recorded outcome of `condition`, in image-key order (a fixed order, whatever
    /// order the records file or its shards were written in).
    pub fn column(&self, condition: &str) -> Vec<(&str, &Outcome)> {
        let Some(&c) = self.condition_index.get(condition) else {
            return Vec::new();
        };
        self.sorted_images()
            .into_iter()
            .filter_map(|i| Some((&*self.images[i], self.cells[c][i].as_ref()?)))
            .collect()
    }

    fn sorted_images(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.images.len()).collect();
        order.sort_by(|&a, &b| self.images[a].cmp(&self.images[b]));
        order
    }

    /// Per-condition outcome vectors aligned by image, in image-key order: the labelled
    /// images that have a record under every condition, ready for paired statistics.
    pub fn outcomes(&self) -> Result<(Vec<String>, Vec<ConditionOutcomes>), EvalError> {
        let rows: Vec<usize> = self
            .sorted_images()
            .into_iter()
            .filter(|&i| {
                self.cells
                    .iter()
                    .all(|column| column[i].is_some_and(|o| o.loss.is_some()))
            })
            .collect();
        let images = rows.iter().map(|&i| self.images[i].to_string()).collect();
        let mut out = Vec::new();
        for (name, column) in self.conditions.iter().zip(&self.cells) {
            let cell = |i: usize| column[i].expect("filtered to complete rows");
            out.push(ConditionOutcomes::new(
                name,
                rows.iter()
                    .map(|&i| cell(i).correct1.unwrap_or(false))
                    .collect(),
                rows.iter()
                    .map(|&i| cell(i).correct5.unwrap_or(false))
                    .collect(),
                rows.iter()
                    .map(|&i| cell(i).loss.unwrap_or(f64::NAN))
                    .collect(),
                Some(rows.iter().map(|&i| cell(i).kl).collect()),
            )?);
        }
        Ok((images, out))
    }
}

/// Per-condition outcome vectors aligned by image (labelled images only) of records in
/// memory.
pub fn outcomes_by_condition(
    records: &[ImageRecord],
    conditions: &[String],
) -> Result<(Vec<String>, Vec<ConditionOutcomes>), EvalError> {
    RecordTable::from_records(records, conditions).outcomes()
}

/// Summarise a run (`conditions[0]` must be the baseline).
pub fn summarize(table: &RecordTable, level: f64) -> Result<RunSummary, EvalError> {
    let (images, outcomes) = table.outcomes()?;
    summarize_outcomes(images.len(), &outcomes, level)
}

/// [`summarize`] of outcome vectors already aligned over `images` images.
pub fn summarize_outcomes(
    images: usize,
    outcomes: &[ConditionOutcomes],
    level: f64,
) -> Result<RunSummary, EvalError> {
    if images < 2 {
        return Err(EvalError::Results(format!(
            "only {images} labelled image(s) have records under every condition; statistics need at least 2"
        )));
    }
    let summaries = outcomes
        .iter()
        .map(|o| summarize_condition(o, level))
        .collect::<Result<Vec<_>, _>>()?;
    let versus_baseline = outcomes[1..]
        .iter()
        .map(|o| compare_conditions(&outcomes[0], o, level))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RunSummary {
        level,
        images,
        conditions: summaries,
        versus_baseline,
    })
}

/// A p-value with three significant digits, in scientific notation below 0.001.
pub fn format_p(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.2e}")
    } else {
        format!("{p:.3}")
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

impl RunSummary {
    /// A plain-text table for the terminal.
    pub fn table(&self) -> String {
        let level = (self.level * 100.0).round();
        let mut s = String::new();
        let _ = writeln!(s, "{} images; {level}% intervals", self.images);
        let _ = writeln!(
            s,
            "{:<24} {:>26} {:>26} {:>26} {:>10}",
            "condition", "top-1", "top-5", "cross-entropy (nats)", "KL"
        );
        for c in &self.conditions {
            let acc = |e: &aann_stats::Estimate| {
                format!("{} [{}, {}]", pct(e.point), pct(e.ci.lo), pct(e.ci.hi))
            };
            let _ = writeln!(
                s,
                "{:<24} {:>26} {:>26} {:>26} {:>10}",
                c.condition,
                acc(&c.top1_accuracy),
                acc(&c.top5_accuracy),
                format!(
                    "{:.4} [{:.4}, {:.4}]",
                    c.cross_entropy.point, c.cross_entropy.ci.lo, c.cross_entropy.ci.hi
                ),
                c.kl_from_baseline
                    .map_or("-".into(), |k| format!("{:.4}", k.point)),
            );
        }
        if !self.versus_baseline.is_empty() {
            let _ = writeln!(s, "\nversus baseline (condition − baseline):");
            for v in &self.versus_baseline {
                let t1 = &v.top1_accuracy;
                let t5 = &v.top5_accuracy;
                let ce = &v.cross_entropy.difference;
                let _ = writeln!(
                    s,
                    "{:<24} top-1 {:+.2} pts [{:+.2}, {:+.2}] (McNemar p={})  top-5 {:+.2} pts [{:+.2}, {:+.2}] (p={})  loss {:+.4} [{:+.4}, {:+.4}] (p={})",
                    v.b,
                    100.0 * t1.difference.point,
                    100.0 * t1.difference.ci.lo,
                    100.0 * t1.difference.ci.hi,
                    format_p(t1.mcnemar.p_value),
                    100.0 * t5.difference.point,
                    100.0 * t5.difference.ci.lo,
                    100.0 * t5.difference.ci.hi,
                    format_p(t5.mcnemar.p_value),
                    ce.point,
                    ce.ci.lo,
                    ce.ci.hi,
                    v.cross_entropy.p_value.map_or("n/a".into(), format_p),
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::ArmInfo;
    use crate::records::RecordStore;

    fn record(image: &str, condition: &str, loss: Option<f64>, kl: f64) -> ImageRecord {
        ImageRecord {
            image: image.into(),
            condition: condition.into(),
            label: loss.map(|_| 3),
            correct1: loss.map(|l| l < 1.0),
            correct5: loss.map(|l| l < 2.0),
            loss,
            kl,
            top5: vec![3, 1, 2, 4, 5],
            top5_prob: vec![0.5, 0.2, 0.1, 0.1, 0.1],
            true_logit: None,
        }
    }

    fn names() -> Vec<String> {
        vec!["baseline".into(), "ablate-zero".into(), "circuit".into()]
    }

    #[test]
    fn the_table_aligns_by_image_key_whatever_the_file_order() {
        let mut records = Vec::new();
        for (image, base) in [("c", 0.5), ("a", 1.5), ("b", 2.5), ("d", 0.1)] {
            records.push(record(image, "baseline", Some(base), 0.0));
            records.push(record(image, "ablate-zero", Some(base + 1.0), 0.3));
            // `d` has no circuit record: not a complete row.
            if image != "d" {
                records.push(record(image, "circuit", Some(base + 0.25), 0.1));
            }
        }
        // A second record of a pair does not count, nor does an arm not asked for.
        records.push(record("a", "circuit", Some(99.0), 9.0));
        records.push(record("a", "other-arm", Some(99.0), 9.0));
        // An unlabelled image is left out of the statistics.
        for c in names() {
            records.push(record("e", &c, None, 0.0));
        }
        let table = RecordTable::from_records(&records, &names());
        let (images, outcomes) = table.outcomes().unwrap();
        assert_eq!(images, ["a", "b", "c"]);
        assert_eq!(outcomes[2].cross_entropy(), &[1.75, 2.75, 0.75]);
        assert_eq!(outcomes[1].kl_from_baseline().unwrap(), &[0.3, 0.3, 0.3]);
        assert_eq!(outcomes[0].correct_top1(), &[false, false, true]);
        // The same records in reverse order: the same table.
        let mut reversed: Vec<ImageRecord> = records.clone();
        reversed.retain(|r| !(r.image == "a" && r.condition == "circuit" && r.kl == 9.0));
        reversed.reverse();
        let (images2, outcomes2) = RecordTable::from_records(&reversed, &names())
            .outcomes()
            .unwrap();
        assert_eq!(images2, images);
        assert_eq!(outcomes2[2].cross_entropy(), outcomes[2].cross_entropy());
        // Lookups and columns.
        assert_eq!(table.get("a", "circuit").unwrap().loss, Some(1.75));
        assert!(table.get("d", "circuit").is_none());
        let column: Vec<&str> = table
            .column("ablate-zero")
            .iter()
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(column, ["a", "b", "c", "d", "e"]);
        assert!(table.column("other-arm").is_empty());
    }

    #[test]
    fn a_table_streamed_from_a_folder_equals_one_built_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        // 70 arms: more than one word of the store's per-image bitset.
        let mut conditions = vec![ArmInfo::baseline()];
        for i in 0..69 {
            let mut arm = ArmInfo::baseline();
            arm.name = format!("arm-{i}");
            conditions.push(arm);
        }
        let names: Vec<String> = conditions.iter().map(|a| a.name.clone()).collect();
        let manifest = crate::records::test_manifest(conditions);
        let mut store = RecordStore::open(dir.path(), &manifest).unwrap();
        let mut records = Vec::new();
        for image in ["x", "y", "z", "w"] {
            for (k, c) in names.iter().enumerate() {
                records.push(record(image, c, Some(k as f64 / 10.0), k as f64));
            }
        }
        assert_eq!(store.append(&records).unwrap(), 4 * 70);
        assert!(store.is_complete("z", &names));
        assert!(store.has("w", "arm-68"));
        // Written once only, across the bitset's second word too.
        assert_eq!(store.append(&records[60..70]).unwrap(), 0);
        // A record of an arm the run does not have is refused, naming it.
        let err = store
            .append(&[record("x", "arm-99", Some(0.0), 0.0)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"arm-99\"") && err.contains("not one of this run's"),
            "{err}"
        );
        drop(store);
        let streamed = RecordTable::read(dir.path(), &names).unwrap();
        let (i1, o1) = streamed.outcomes().unwrap();
        let (i2, o2) = RecordTable::from_records(&records, &names)
            .outcomes()
            .unwrap();
        assert_eq!(i1, i2);
        assert_eq!(i1, ["w", "x", "y", "z"]);
        for (a, b) in o1.iter().zip(&o2) {
            assert_eq!(a.cross_entropy(), b.cross_entropy());
        }
        // Reopened, the store knows every pair is there.
        let store = RecordStore::open(dir.path(), &manifest).unwrap();
        assert!(names.iter().all(|c| store.has("y", c)));
    }
}
