//! The images each replacement changes most (largest KL from the natural network), with
//! the top-5 classes of the natural network, the zero-ablation and the replacement.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aann_data::{ImageSet, Synsets};

use super::controls::Named;
use super::result::DivergentImage;
use crate::EvalError;
use crate::lab::{Ablation, BASELINE};
use crate::metrics::ImageRecord;
use crate::records::for_each_record;
use crate::summary::RecordTable;

pub fn divergent_images(
    out: &Path,
    table: &RecordTable,
    test: &ImageSet,
    synsets: &Synsets,
    replacements: &[Named],
    count: usize,
) -> Result<BTreeMap<String, Vec<DivergentImage>>, EvalError> {
    // The images each replacement moves most, from the table; then one more pass over the
    // records for their top-5 lists (the table keeps no lists).
    let shown = [BASELINE, Ablation::Zero.arm_name()];
    let mut chosen: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    // image → arm → its record, once found.
    let mut wanted: HashMap<String, HashMap<String, Option<ImageRecord>>> = HashMap::new();
    for (condition, _) in replacements {
        let mut rows = table.column(condition);
        rows.sort_by(|a, b| b.1.kl.total_cmp(&a.1.kl));
        rows.truncate(count);
        for (image, _) in &rows {
            for c in shown
                .iter()
                .copied()
                .chain(std::iter::once(condition.as_str()))
            {
                wanted
                    .entry(image.to_string())
                    .or_default()
                    .insert(c.to_string(), None);
            }
        }
        chosen.insert(condition, rows.iter().map(|(i, o)| (*i, o.kl)).collect());
    }
    if !wanted.is_empty() {
        for_each_record(out, |r| {
            if let Some(slot) = wanted
                .get_mut(r.image.as_str())
                .and_then(|arms| arms.get_mut(r.condition.as_str()))
                && slot.is_none()
            {
                *slot = Some(r);
            }
            Ok(())
        })?;
    }
    let paths: HashMap<&str, String> = test
        .iter()
        .map(|e| (e.key.as_str(), e.path.display().to_string()))
        .collect();
    let name = |c: usize| synsets.short_name(c).unwrap_or("?").to_string();
    let mut result = BTreeMap::new();
    for (condition, rows) in chosen {
        let list = rows
            .into_iter()
            .map(|(image, kl)| {
                let mut top5 = BTreeMap::new();
                let mut label = None;
                for c in shown.iter().copied().chain(std::iter::once(condition)) {
                    if let Some(Some(rec)) = wanted.get(image).and_then(|arms| arms.get(c)) {
                        label = label.or(rec.label);
                        top5.insert(
                            c.to_string(),
                            rec.top5
                                .iter()
                                .zip(&rec.top5_prob)
                                .map(|(k, p)| (name(*k), *p))
                                .collect(),
                        );
                    }
                }
                DivergentImage {
                    image: image.to_string(),
                    path: paths.get(image).cloned().unwrap_or_default(),
                    label,
                    label_name: label.map(name),
                    kl,
                    top5,
                }
            })
            .collect();
        result.insert(condition.to_string(), list);
    }
    Ok(result)
}
