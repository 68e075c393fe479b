//! Tuning maps: how units of a tap respond to synthetic stimuli swept over orientation and a
//! second parameter (a curve's radius, an angle's opening, a line's length), as in the
//! Curve Detectors article's heatmaps.
//!
//! Every stimulus is centred on one unit's receptive field (the unit nearest the image
//! centre, see [`aann_model::geometry`]), and that unit's activation is read for each
//! channel. With activation statistics from natural images, responses are also expressed
//! in standard deviations above the dataset mean (σ), the papers' unit.

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use aann_model::geometry::tap_geometry;
use aann_model::{Condition, ConditionHooks, Halt, InceptionV1, Recorder, Tap, Then};
use aann_stimuli::{Angle, Curve, Edge, ImageSize, Line, Offset, Stimulus, Style, Sweep};

use crate::EvalError;
use crate::means::ActivationStats;

/// Which stimulus family is swept, and what its second parameter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StimulusKind {
    /// Circular arcs (radial orientation convention); second parameter: radius in pixels.
    Curve,
    /// Straight lines through the unit's centre; second parameter: length (0 = crossing
    /// the frame).
    Line,
    /// Corners; second parameter: opening angle in degrees.
    Angle,
    /// Luminance edges; second parameter: unused (one row).
    Edge,
}

impl StimulusKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "curve" | "curves" => Ok(StimulusKind::Curve),
            "line" | "lines" => Ok(StimulusKind::Line),
            "angle" | "angles" => Ok(StimulusKind::Angle),
            "edge" | "edges" => Ok(StimulusKind::Edge),
            other => Err(format!(
                "unknown stimulus `{other}`: expected curve, line, angle or edge"
            )),
        }
    }

    pub fn value_name(self) -> &'static str {
        match self {
            StimulusKind::Curve => "radius",
            StimulusKind::Line => "length",
            StimulusKind::Angle => "opening_deg",
            StimulusKind::Edge => "none",
        }
    }
}

/// What to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuningSpec {
    pub stimulus: StimulusKind,
    /// Orientations in degrees (radial convention for curves and angles).
    pub orientations: Vec<f64>,
    /// Values of the second parameter (one row each).
    pub values: Vec<f64>,
    /// Stroke width in pixels.
    pub line_width: f64,
    /// Square image size in pixels.
    pub image_size: usize,
    /// Colours (black on white, as published, by default).
    pub style: Style,
    pub batch_size: usize,
}

impl TuningSpec {
    /// The default curve sweep: 36 orientations × 9 radii from tight (12 px) to nearly
    /// straight (400 px), 3 px strokes, black on white, 224 px images.
    pub fn curves() -> Self {
        TuningSpec {
            stimulus: StimulusKind::Curve,
            orientations: (0..36).map(|i| f64::from(i) * 10.0).collect(),
            values: vec![12.0, 18.0, 27.0, 40.0, 60.0, 90.0, 135.0, 200.0, 400.0],
            line_width: 3.0,
            image_size: 224,
            style: Style::black_on_white(),
            batch_size: 16,
        }
    }

    /// The default line sweep: 36 orientations over 180°, lines crossing the frame.
    pub fn lines() -> Self {
        TuningSpec {
            stimulus: StimulusKind::Line,
            orientations: (0..36).map(|i| f64::from(i) * 5.0).collect(),
            values: vec![0.0],
            ..TuningSpec::curves()
        }
    }

    fn sweep(&self, centre: Offset) -> Result<Sweep, EvalError> {
        let w = self.line_width;
        let err = |e: aann_stimuli::StimulusError| EvalError::Spec(e.to_string());
        let sweep = match self.stimulus {
            StimulusKind::Curve => Sweep::curves(
                Curve::new(centre, 1.0, 0.0).with_line_width(w),
                self.orientations.clone(),
                self.values.clone(),
            ),
            StimulusKind::Angle => {
                let mut template = Angle::new(centre, 0.0, 90.0);
                template.line_width = w;
                Sweep::angles(template, self.orientations.clone(), self.values.clone())
            }
            StimulusKind::Line => Sweep::new(
                self.orientations.clone(),
                "length",
                self.values.clone(),
                move |o, len| {
                    let mut line = Line::new(centre, o);
                    line.line_width = w;
                    line.length = (len > 0.0).then_some(len);
                    Stimulus::Line(line)
                },
            ),
            StimulusKind::Edge => {
                Sweep::new(self.orientations.clone(), "none", vec![0.0], move |o, _| {
                    Stimulus::Edge(Edge::new(centre, o))
                })
            }
        };
        sweep.map_err(err)
    }
}

/// Responses of channels of one unit to a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuningGrid {
    pub model: String,
    pub tap: String,
    /// "natural", or the name of the condition whose edited tap was read.
    pub source: String,
    /// The unit read, `[row, column]`, and its receptive-field centre in the image.
    pub unit: [usize; 2],
    pub unit_centre: [f64; 2],
    pub spec: TuningSpec,
    pub channels: Vec<usize>,
    /// Raw activations, `[channel][value][orientation]`.
    pub responses: Vec<f32>,
    /// The same in σ above the dataset mean, when statistics were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_source: Option<String>,
}

impl TuningGrid {
    pub fn rows(&self) -> usize {
        self.spec.values.len()
    }

    pub fn columns(&self) -> usize {
        self.spec.orientations.len()
    }

    /// Index of a channel in the grid.
    pub fn channel_index(&self, channel: usize) -> Option<usize> {
        self.channels.iter().position(|c| *c == channel)
    }

    /// The map of the `k`-th channel, `[value][orientation]`, in σ if available.
    pub fn map(&self, k: usize) -> &[f32] {
        let n = self.rows() * self.columns();
        let data = self.sigma.as_ref().unwrap_or(&self.responses);
        &data[k * n..(k + 1) * n]
    }

    /// The radial tuning curve of the `k`-th channel: the positive part of its responses
    /// averaged over the second parameter, one value per orientation (the article's
    /// "average over curvature to get activations by angle").
    pub fn radial_curve(&self, k: usize) -> Vec<f64> {
        let (rows, cols) = (self.rows(), self.columns());
        let map = self.map(k);
        (0..cols)
            .map(|o| {
                (0..rows)
                    .map(|r| f64::from(map[r * cols + o].max(0.0)))
                    .sum::<f64>()
                    / rows as f64
            })
            .collect()
    }
}

/// Sweep the stimuli of `spec` over the unit nearest the image centre and read `channels`
/// of `tap`: natural responses, or with `condition` applied (e.g. a circuit replacing
/// the channels, to compare artificial and natural tuning).
pub fn tune(
    model: &InceptionV1,
    tap: Tap,
    channels: &[usize],
    spec: &TuningSpec,
    stats: Option<&ActivationStats>,
    condition: Option<&Condition>,
) -> Result<TuningGrid, EvalError> {
    let variant = model.variant();
    let size = spec.image_size;
    let [rows, cols] = tap_geometry(variant, tap, size, size);
    let centre = size as f64 / 2.0;
    let unit = [rows.nearest_unit(centre), cols.nearest_unit(centre)];
    let unit_centre = [rows.centre(unit[0]), cols.centre(unit[1])];
    // Offsets are relative to the image centre (size/2, size/2); x right, y down.
    let offset = Offset::new(unit_centre[1] - centre, unit_centre[0] - centre);
    let sweep = spec.sweep(offset)?;
    let encoding = variant.preprocess().input;
    let image_size = ImageSize::square(size as u32);
    let mut per_cell: Vec<Vec<f32>> = Vec::with_capacity(sweep.len());
    let batch = spec.batch_size.max(1);
    let mut start = 0;
    while start < sweep.len() {
        let end = (start + batch).min(sweep.len());
        let rendered = sweep
            .render_range(start..end, image_size, &spec.style)
            .map_err(|e| EvalError::Spec(e.to_string()))?;
        let n = rendered.len();
        let mut pixels = Vec::with_capacity(n * 3 * size * size);
        for cell in &rendered {
            pixels.extend(encoding.encode_unit_rgb_planes(&cell.image.to_chw()));
        }
        let input =
            Tensor::<4>::from_data(TensorData::new(pixels, [n, 3, size, size]), model.device());
        let x = read_tap(model, input, tap, condition)?;
        let [_, c, _, _] = x.dims();
        let at_unit = x
            .slice([0..n, 0..c, unit[0]..unit[0] + 1, unit[1]..unit[1] + 1])
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| EvalError::Results(format!("{e:?}")))?;
        for i in 0..n {
            per_cell.push(channels.iter().map(|&ch| at_unit[i * c + ch]).collect());
        }
        start = end;
    }
    let cells = sweep.len();
    let mut responses = vec![0f32; channels.len() * cells];
    for (cell, values) in per_cell.iter().enumerate() {
        for (k, v) in values.iter().enumerate() {
            responses[k * cells + cell] = *v;
        }
    }
    let sigma = stats.map(|s| {
        responses
            .iter()
            .enumerate()
            .map(|(i, v)| s.sigma(channels[i / cells], f64::from(*v)) as f32)
            .collect()
    });
    Ok(TuningGrid {
        model: variant.name().into(),
        tap: tap.name(variant),
        source: condition.map_or("natural".into(), |c| c.name.clone()),
        unit,
        unit_centre,
        spec: spec.clone(),
        channels: channels.to_vec(),
        responses,
        sigma,
        stats_source: stats.map(|s| format!("{} ({} images)", s.image_set, s.images)),
    })
}

/// The value of `tap` for a batch, natural or under a condition.
fn read_tap(
    model: &InceptionV1,
    input: Tensor<4>,
    tap: Tap,
    condition: Option<&Condition>,
) -> Result<Tensor<4>, EvalError> {
    let recorder = Recorder::stopping_at(&[], tap);
    let keys: Vec<String> = (0..input.dims()[0])
        .map(|i| format!("stimulus-{i}"))
        .collect();
    let result = match condition {
        None => {
            let mut hooks = recorder;
            model.run(Tap::INPUT, input, &mut hooks)
        }
        Some(c) => {
            let mut hooks = Then(
                ConditionHooks::new(
                    c,
                    model.variant(),
                    model.device(),
                    &keys,
                    Default::default(),
                ),
                recorder,
            );
            model.run(Tap::INPUT, input, &mut hooks)
        }
    };
    match result {
        Err(Halt::Stopped(_, x)) => Ok(*x),
        Err(Halt::Invalid(msg)) => Err(EvalError::Results(msg)),
        Ok(_) => unreachable!("the recorder stops at the tap"),
    }
}

/// Statistics of a channel's tuning: where it points and how sharply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuningSummary {
    pub channel: usize,
    /// Preferred orientation (degrees): the centroid of the radial tuning curve within
    /// ±60° of its peak.
    pub preferred_deg: f64,
    /// Circular variance of the radial tuning curve, `1 − |Σ T(θ)e^{iθ}| / Σ T(θ)`: 0 for a
    /// single orientation, 1 for none. For 180°-periodic stimuli (lines) angles are doubled.
    pub circular_variance: f64,
    /// Largest response in the grid (σ when statistics were given).
    pub peak: f64,
    /// Second parameter's value at the peak.
    pub peak_value: f64,
    /// Radial-curve value 180° from the preferred orientation relative to the peak (curves'
    /// "echo"); `None` for 180°-periodic sweeps.
    pub echo_ratio: Option<f64>,
}

/// Summarise the `k`-th channel of a grid. `period` is 360 for curves and angles, 180 for
/// lines and edges whose orientation is axial.
pub fn summarize_channel(grid: &TuningGrid, k: usize, period: f64) -> TuningSummary {
    let curve = grid.radial_curve(k);
    let thetas = &grid.spec.orientations;
    let scale = 360.0 / period;
    let (mut sx, mut sy, mut total) = (0.0, 0.0, 0.0);
    for (t, v) in thetas.iter().zip(&curve) {
        let a = (t * scale).to_radians();
        sx += v * a.cos();
        sy += v * a.sin();
        total += v;
    }
    let circular_variance = if total > 0.0 {
        1.0 - (sx * sx + sy * sy).sqrt() / total
    } else {
        1.0
    };
    let peak_index = curve
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    let peak_theta = thetas[peak_index];
    let (mut cx, mut cy) = (0.0, 0.0);
    for (t, v) in thetas.iter().zip(&curve) {
        let d = angular_distance(*t, peak_theta, period);
        if d <= 60.0 / scale {
            let a = (t * scale).to_radians();
            cx += v * a.cos();
            cy += v * a.sin();
        }
    }
    let preferred_deg = if cx == 0.0 && cy == 0.0 {
        peak_theta
    } else {
        (cy.atan2(cx).to_degrees() / scale).rem_euclid(period)
    };
    let map = grid.map(k);
    let (peak_cell, peak) = map
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or((0, 0.0), |(i, v)| (i, f64::from(*v)));
    let peak_value = grid.spec.values[peak_cell / grid.columns()];
    let echo_ratio = (period == 360.0).then(|| {
        let opposite = (peak_theta + 180.0).rem_euclid(360.0);
        let j = thetas
            .iter()
            .enumerate()
            .min_by(|a, b| {
                angular_distance(*a.1, opposite, 360.0)
                    .total_cmp(&angular_distance(*b.1, opposite, 360.0))
            })
            .map_or(0, |(i, _)| i);
        if curve[peak_index] > 0.0 {
            curve[j] / curve[peak_index]
        } else {
            0.0
        }
    });
    TuningSummary {
        channel: grid.channels[k],
        preferred_deg,
        circular_variance,
        peak,
        peak_value,
        echo_ratio,
    }
}

/// Distance between two angles on a circle of `period` degrees.
pub fn angular_distance(a: f64, b: f64, period: f64) -> f64 {
    let d = (a - b).rem_euclid(period);
    d.min(period - d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(curve: Vec<f32>, orientations: Vec<f64>) -> TuningGrid {
        TuningGrid {
            model: "bvlc".into(),
            tap: "t".into(),
            source: "natural".into(),
            unit: [0, 0],
            unit_centre: [0.0, 0.0],
            spec: TuningSpec {
                orientations,
                values: vec![1.0],
                ..TuningSpec::curves()
            },
            channels: vec![7],
            responses: curve,
            sigma: None,
            stats_source: None,
        }
    }

    #[test]
    fn a_single_bump_has_its_centre_and_low_variance() {
        let thetas: Vec<f64> = (0..36).map(|i| f64::from(i) * 10.0).collect();
        let curve: Vec<f32> = thetas
            .iter()
            .map(|t| (-(angular_distance(*t, 250.0, 360.0) / 20.0).powi(2)).exp() as f32)
            .collect();
        let s = summarize_channel(&grid(curve, thetas), 0, 360.0);
        assert!(
            angular_distance(s.preferred_deg, 250.0, 360.0) < 1.0,
            "{s:?}"
        );
        assert!(s.circular_variance < 0.2, "{s:?}");
        assert!(s.echo_ratio.unwrap() < 0.01);
    }

    #[test]
    fn a_flat_curve_is_unselective_and_wraps_correctly() {
        let thetas: Vec<f64> = (0..36).map(|i| f64::from(i) * 10.0).collect();
        let s = summarize_channel(&grid(vec![1.0; 36], thetas.clone()), 0, 360.0);
        assert!(s.circular_variance > 0.99);
        // A bump across 0°/360° wraps.
        let curve: Vec<f32> = thetas
            .iter()
            .map(|t| (-(angular_distance(*t, 355.0, 360.0) / 15.0).powi(2)).exp() as f32)
            .collect();
        let s = summarize_channel(&grid(curve, thetas), 0, 360.0);
        assert!(
            angular_distance(s.preferred_deg, 355.0, 360.0) < 1.0,
            "{s:?}"
        );
    }

    #[test]
    fn axial_sweeps_double_the_angles() {
        let thetas: Vec<f64> = (0..36).map(|i| f64::from(i) * 5.0).collect();
        let curve: Vec<f32> = thetas
            .iter()
            .map(|t| (-(angular_distance(*t, 175.0, 180.0) / 10.0).powi(2)).exp() as f32)
            .collect();
        let s = summarize_channel(&grid(curve, thetas), 0, 180.0);
        assert!(
            angular_distance(s.preferred_deg, 175.0, 180.0) < 1.0,
            "{s:?}"
        );
        assert!(s.circular_variance < 0.2);
        assert_eq!(s.echo_ratio, None);
    }
}
