//! Activation faithfulness: how well each replaced unit matches its natural neuron on
//! natural images, position by position (Pearson r, and R² = 1 − SSE/SST of the natural
//! activation). A calibration can win back loss while fitting the units worse, so the card
//! shows both.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use aann_circuits::CircuitReplacement;
use aann_data::ImageSet;
use aann_model::Tap;

use super::{channel_index, host_values};
use crate::EvalError;
use crate::circuits::median;
use crate::lab::Feed;
use crate::means::describe_set;
use crate::spec::Split;

/// One replaced unit against its natural neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitFit {
    pub channel: usize,
    pub r: f64,
    pub r2: f64,
}

/// Every unit of one arm on one image set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Faithfulness {
    pub arm: String,
    /// The split the images come from (`dev`, `test`).
    pub split: Split,
    /// The images (source and count).
    pub images: String,
    pub units: Vec<UnitFit>,
    pub median_r: f64,
    pub median_r2: f64,
}

#[derive(Clone, Default)]
struct Sums {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
    sse: f64,
}

impl Sums {
    /// One (artificial, natural) pair.
    fn add(&mut self, a: f64, b: f64) {
        self.n += 1.0;
        self.x += a;
        self.y += b;
        self.xx += a * a;
        self.yy += b * b;
        self.xy += a * b;
        self.sse += (a - b) * (a - b);
    }

    fn fit(&self, channel: usize) -> UnitFit {
        let vx = self.xx - self.x * self.x / self.n;
        let vy = self.yy - self.y * self.y / self.n;
        let cov = self.xy - self.x * self.y / self.n;
        UnitFit {
            channel,
            r: if vx > 0.0 && vy > 0.0 {
                cov / (vx * vy).sqrt()
            } else {
                0.0
            },
            r2: if vy > 0.0 { 1.0 - self.sse / vy } else { 0.0 },
        }
    }
}

/// r and R² of every unit of every replacement against the natural neurons at `target`,
/// over `set` (one pass of the model: the replacements read what it recorded).
pub fn measure(
    feed: &Feed<'_>,
    split: Split,
    replacements: &[(String, Arc<CircuitReplacement>)],
    target: Tap,
    set: &ImageSet,
) -> Result<Vec<Faithfulness>, EvalError> {
    let session = feed.session;
    if replacements.is_empty() || set.is_empty() {
        return Ok(Vec::new());
    }
    let mut reads: Vec<Tap> = replacements
        .iter()
        .flat_map(|(_, r)| r.circuit.reads())
        .filter(|t| *t != Tap::INPUT)
        .collect();
    reads.push(target);
    reads.sort_by_key(|t| t.order());
    reads.dedup();
    let device = session.model().device().clone();
    let mut sums: HashMap<String, Vec<Sums>> = replacements
        .iter()
        .map(|(n, r)| (n.clone(), vec![Sums::default(); r.mapping.channels.len()]))
        .collect();
    feed.recorded(set, &reads, |_, taps| {
        for (name, replacement) in replacements {
            let channels = &replacement.mapping.channels;
            let k = channels.len();
            let index = channel_index(channels, &device);
            let natural = taps[&target].clone().select(1, index);
            let artificial = replacement.outputs(taps);
            let [n, _, h, w] = natural.dims();
            let y = host_values(natural)?;
            let x = host_values(artificial)?;
            let unit_sums = sums.get_mut(name).expect("one entry per arm");
            for img in 0..n {
                for (j, s) in unit_sums.iter_mut().enumerate() {
                    let at = (img * k + j) * h * w;
                    for p in at..at + h * w {
                        s.add(f64::from(x[p]), f64::from(y[p]));
                    }
                }
            }
        }
        Ok(())
    })?;
    let images = describe_set(set);
    Ok(replacements
        .iter()
        .map(|(name, replacement)| {
            let units: Vec<UnitFit> = sums[name]
                .iter()
                .zip(&replacement.mapping.channels)
                .map(|(s, c)| s.fit(*c))
                .collect();
            let rs: Vec<f64> = units.iter().map(|u| u.r).collect();
            let r2s: Vec<f64> = units.iter().map(|u| u.r2).collect();
            Faithfulness {
                arm: name.clone(),
                split,
                images: images.clone(),
                median_r: median(&rs),
                median_r2: median(&r2s),
                units,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_and_r2_of_a_perfect_and_a_scaled_unit() {
        let mut perfect = Sums::default();
        let mut half = Sums::default();
        for i in 0..10 {
            let y = f64::from(i);
            perfect.add(y, y);
            half.add(y / 2.0, y);
        }
        let p = perfect.fit(3);
        assert!((p.r - 1.0).abs() < 1e-12 && (p.r2 - 1.0).abs() < 1e-12);
        let h = half.fit(3);
        // Perfectly correlated, but half the scale: R² pays for the miscalibration.
        assert!((h.r - 1.0).abs() < 1e-12);
        assert!(h.r2 < 0.6, "{}", h.r2);
    }
}
