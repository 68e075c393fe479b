//! The Gabor family of the first layer, found from the weights: a first-layer filter is
//! its own receptive field, so instead of sweeping stimuli every filter of the first
//! convolution is fitted with analytic Gabors ([`gabor_kernel`]) on a fine grid of
//! directions, phases, wavelengths and envelope widths. A filter is a member when it is
//! mostly brightness (its colour part, what is left after projecting every tap on the
//! direction of mean R, G and B in the input planes, is at most `max_colour_fraction` of its
//! energy) and one Gabor explains at least `min_r2` of its whole energy. The rest —
//! colour-contrast filters, blobs, filters no Gabor fits — stay natural, and are listed.

use serde::{Deserialize, Serialize};

use aann_circuits::colour::mean_rgb;
use aann_circuits::gabor_layer::{GaborScale, fold_phase, gabor_kernel};
use aann_model::arch::Conv;
use aann_model::{Family, FamilyNeuron, InceptionV1, Layer, Tap, Variant};

use crate::EvalError;

/// What makes a first-layer filter a Gabor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaborCriteria {
    /// Smallest share of the filter's energy one brightness Gabor must explain.
    pub min_r2: f64,
    /// Largest share of the filter's energy outside brightness (mean R, G, B).
    pub max_colour_fraction: f64,
}

impl Default for GaborCriteria {
    fn default() -> Self {
        GaborCriteria {
            min_r2: 0.7,
            max_colour_fraction: 0.15,
        }
    }
}

/// The grid every filter is fitted on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaborGrid {
    pub directions: usize,
    pub phase_step_deg: f64,
    pub wavelengths: Vec<f64>,
    pub sigmas: Vec<f64>,
}

impl Default for GaborGrid {
    fn default() -> Self {
        GaborGrid {
            directions: 48,
            phase_step_deg: 15.0,
            wavelengths: vec![2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0, 14.0],
            sigmas: vec![1.0, 1.5, 2.0, 2.5, 3.0],
        }
    }
}

/// One filter's best Gabor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaborFit {
    pub channel: usize,
    /// Direction the stripes run along, radial (0–360°), with the phase folded into
    /// `[0°, 180°]`.
    pub direction_deg: f64,
    pub phase_deg: f64,
    pub wavelength_px: f64,
    pub sigma_px: f64,
    /// Share of the whole filter's energy the Gabor explains (least-squares scale).
    pub r2: f64,
    /// Share of the filter's energy outside brightness (mean R, G, B).
    pub colour_fraction: f64,
    pub member: bool,
}

/// Every filter's fit and the members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaborDiscovery {
    pub tap: String,
    pub criteria: GaborCriteria,
    pub grid: GaborGrid,
    /// Every channel, best fits first.
    pub fits: Vec<GaborFit>,
}

impl GaborDiscovery {
    pub fn members(&self) -> impl Iterator<Item = &GaborFit> {
        self.fits.iter().filter(|f| f.member)
    }

    /// The family file: members with direction, phase and wavelength.
    pub fn family(&self, variant: Variant, source: &str) -> Family {
        let mut neurons: Vec<FamilyNeuron> = self
            .members()
            .map(|f| FamilyNeuron {
                channel: f.channel,
                orientation_deg: Some(round(f.direction_deg, 1)),
                label: Some(format!("{}:{}", self.tap, f.channel)),
                doubtful: false,
                note: String::new(),
                metrics: [
                    ("phase_deg", round(f.phase_deg, 1)),
                    ("wavelength_px", f.wavelength_px),
                    ("sigma_px", f.sigma_px),
                    ("fit_r2", round(f.r2, 3)),
                    ("colour_fraction", round(f.colour_fraction, 3)),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            })
            .collect();
        neurons.sort_by_key(|n| n.channel);
        let total = self.fits.len();
        Family {
            name: "gabors".into(),
            model: variant,
            tap: self.tap.clone(),
            description: format!(
                "Gabor-like filters of the first convolution: {} of {total} channels whose \
                 brightness part one Gabor fits with R² ≥ {} and whose colour part is at most \
                 {} of their energy",
                neurons.len(),
                self.criteria.min_r2,
                self.criteria.max_colour_fraction
            ),
            source: source.to_string(),
            neurons,
        }
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// The first convolution's tap.
pub fn first_layer() -> Tap {
    Tap::output(Layer::Conv0)
}

/// The first layer's filters as the Gabor fits see them.
struct FirstFilters {
    /// Each filter's brightness part, `[channel][tap]` (each tap's plane vector projected
    /// on the mean-RGB direction).
    brightness: Vec<Vec<f64>>,
    /// Each filter's whole energy.
    energy: Vec<f64>,
    /// Kernel size.
    size: usize,
}

fn brightness_parts(model: &InceptionV1) -> Result<FirstFilters, EvalError> {
    let (weights, _) = model.conv_weights(Conv::Stem(Layer::Conv0));
    let [out, planes, k, k2] = weights.dims();
    assert_eq!(k, k2, "square first filters");
    let values = crate::lab::host_values(weights)?;
    let brightness = mean_rgb(model.variant());
    let norm = brightness.iter().map(|v| v * v).sum::<f64>().sqrt();
    let dir: Vec<f64> = brightness.iter().map(|v| v / norm).collect();
    if planes != dir.len() {
        return Err(EvalError::Spec(format!(
            "the first convolution reads {planes} planes, not 3"
        )));
    }
    let mut parts = Vec::with_capacity(out);
    let mut energies = Vec::with_capacity(out);
    for channel in 0..out {
        let filter = &values[channel * planes * k * k..(channel + 1) * planes * k * k];
        energies.push(filter.iter().map(|v| f64::from(*v).powi(2)).sum());
        parts.push(
            (0..k * k)
                .map(|i| {
                    (0..planes)
                        .map(|p| f64::from(filter[p * k * k + i]) * dir[p])
                        .sum()
                })
                .collect(),
        );
    }
    Ok(FirstFilters {
        brightness: parts,
        energy: energies,
        size: k,
    })
}

/// How much of a family member's brightness part the hand-written layer's unit for it
/// explains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatedFit {
    pub channel: usize,
    /// The circuit's unit for the neuron (nearest direction, phase and wavelength).
    pub unit: usize,
    /// R² of the zero-mean brightness part explained by that unit (0 if it has the wrong
    /// sign).
    pub mapped_r2: f64,
    /// R² explained by the best unit of the set, whichever it is.
    pub best_r2: f64,
}

/// Each member of a Gabor family against the stated set of a hand-written first layer.
pub fn stated_set_fit(
    model: &InceptionV1,
    family: &Family,
    spec: &aann_circuits::GaborLayerSpec,
) -> Result<Vec<StatedFit>, EvalError> {
    let FirstFilters {
        brightness: parts,
        size: k,
        ..
    } = brightness_parts(model)?;
    if k != spec.size {
        return Err(EvalError::Spec(format!(
            "the first filters are {k}×{k}, the stated set's kernels {}×{}",
            spec.size, spec.size
        )));
    }
    let units: Vec<Vec<f64>> = (0..spec.unit_count())
        .map(|u| {
            let v: Vec<f64> = spec
                .kernel(u)
                .values
                .iter()
                .map(|x| f64::from(*x))
                .collect();
            let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            v.iter().map(|x| x / n).collect()
        })
        .collect();
    family
        .neurons
        .iter()
        .map(|n| {
            let part = parts.get(n.channel).ok_or_else(|| {
                EvalError::Spec(format!(
                    "family `{}`: channel {} is not a first-layer filter",
                    family.name, n.channel
                ))
            })?;
            let mean = part.iter().sum::<f64>() / part.len() as f64;
            let centred: Vec<f64> = part.iter().map(|v| v - mean).collect();
            let energy: f64 = centred.iter().map(|v| v * v).sum::<f64>().max(1e-12);
            let r2 = |u: &Vec<f64>| {
                let p: f64 = u.iter().zip(&centred).map(|(a, b)| a * b).sum();
                p.max(0.0).powi(2) / energy
            };
            let metric = |key: &str| {
                n.metrics.get(key).copied().ok_or_else(|| {
                    EvalError::Spec(format!(
                        "family `{}`, channel {}: no `{key}`",
                        family.name, n.channel
                    ))
                })
            };
            let direction = n.orientation_deg.ok_or_else(|| {
                EvalError::Spec(format!(
                    "family `{}`, channel {}: no orientation",
                    family.name, n.channel
                ))
            })?;
            let unit = spec.nearest(direction, metric("phase_deg")?, metric("wavelength_px")?);
            Ok(StatedFit {
                channel: n.channel,
                unit,
                mapped_r2: r2(&units[unit]),
                best_r2: units.iter().map(r2).fold(0.0, f64::max),
            })
        })
        .collect()
}

/// Fit every filter of the first convolution of `model`.
pub fn discover_gabors(
    model: &InceptionV1,
    criteria: &GaborCriteria,
    grid: &GaborGrid,
) -> Result<GaborDiscovery, EvalError> {
    let variant = model.variant();
    let FirstFilters {
        brightness: parts,
        energy: energies,
        size: k,
    } = brightness_parts(model)?;
    let templates = templates(grid, k);
    let mut fits = Vec::with_capacity(parts.len());
    for (channel, (lum, &energy)) in parts.iter().zip(&energies).enumerate() {
        let lum_energy: f64 = lum.iter().map(|v| v * v).sum();
        let colour_fraction = if energy > 0.0 {
            (1.0 - lum_energy / energy).max(0.0)
        } else {
            1.0
        };
        // Best zero-mean Gabor: templates are unit-norm and zero-mean, so the explained
        // energy is the squared projection.
        let (best, projection) = templates
            .iter()
            .map(|t| (t, t.values.iter().zip(lum).map(|(a, b)| a * b).sum::<f64>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("a grid of templates");
        let r2 = if energy > 0.0 {
            projection * projection / energy
        } else {
            0.0
        };
        fits.push(GaborFit {
            channel,
            direction_deg: best.direction,
            phase_deg: best.phase,
            wavelength_px: best.scale.wavelength,
            sigma_px: best.scale.sigma,
            r2,
            colour_fraction,
            member: r2 >= criteria.min_r2 && colour_fraction <= criteria.max_colour_fraction,
        });
    }
    fits.sort_by(|a, b| b.r2.total_cmp(&a.r2));
    Ok(GaborDiscovery {
        tap: first_layer().name(variant),
        criteria: criteria.clone(),
        grid: grid.clone(),
        fits,
    })
}

struct Template {
    direction: f64,
    phase: f64,
    scale: GaborScale,
    /// Zero-mean, unit norm.
    values: Vec<f64>,
}

fn templates(grid: &GaborGrid, size: usize) -> Vec<Template> {
    let mut out = Vec::new();
    let phases = (180.0 / grid.phase_step_deg).round() as usize;
    for &wavelength in &grid.wavelengths {
        for &sigma in &grid.sigmas {
            let scale = GaborScale { wavelength, sigma };
            for p in 0..=phases {
                for d in 0..grid.directions {
                    let direction = d as f64 * 360.0 / grid.directions as f64;
                    let phase = p as f64 * grid.phase_step_deg;
                    let kernel = gabor_kernel(direction, scale, phase, size);
                    let values: Vec<f64> = kernel.values.iter().map(|v| f64::from(*v)).collect();
                    let n = values.iter().map(|v| v * v).sum::<f64>().sqrt();
                    if n < 1e-6 {
                        continue;
                    }
                    let (direction, phase) = fold_phase(direction, phase);
                    out.push(Template {
                        direction,
                        phase,
                        scale,
                        values: values.iter().map(|v| v / n).collect(),
                    });
                }
            }
        }
    }
    out
}
