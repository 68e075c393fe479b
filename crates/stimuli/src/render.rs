//! Rendering: from a stimulus to per-pixel coverage, and from coverage to colour.
//!
//! # Sampling
//!
//! Each pixel is sampled on a regular `n × n` grid (`n` = [`Style::supersampling`]): sample
//! `(a, b)` of pixel `(i, j)` sits at `(i + (a + ½)/n, j + (b + ½)/n)`. A regular grid is
//! symmetric under quarter-turns and mirror images of the pixel, which random offsets are
//! not. Every sample stands for a square of side `1/n` (the squares tile the pixel) and
//! contributes the fraction of that square covered by the shape, computed from the distance
//! to each straight boundary and the boundary's angle to the pixel grid. That fraction is
//! exact for half-planes and strips of any width, so edges are anti-aliased even at `n = 1`,
//! a straight boundary's pixel coverage is exact, and the total coverage of a shape equals its
//! area up to small errors at corners and from curvature within a sample, independent of
//! where the shape sits relative to the pixel grid.
//!
//! # Exact quarter-turns
//!
//! Rendering [`Stimulus::rotated_90_cw`] into the transposed size gives bit for bit the
//! original rendering turned by [`StimulusImage::rotate90_cw`]. Three things make that so:
//! sample positions are computed from integers (`(2n·i + 2a + 1 − n·W) / 2n`, relative to the
//! image centre), so a turned sample position is an exact swap-and-negate of the original;
//! orientations are split into whole quarter-turns, undone exactly, and a residual angle in
//! `[0°, 90°)` that is the same for both; and the samples of a pixel are summed in fixed point
//! (multiples of 2⁻⁴⁰), so their order does not matter.
//!
//! Pixels whose centre is far from every boundary of a binary shape are filled without
//! sampling; that shortcut gives exactly what sampling would.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};
use crate::field::Field;
use crate::geometry::ImageSize;
pub use crate::raster::Rgb;
use crate::raster::StimulusImage;
use crate::shapes::Stimulus;

/// Largest accepted supersampling factor.
pub const MAX_SUPERSAMPLING: u32 = 32;

/// Colours and anti-aliasing of a rendering.
///
/// The foreground is the ink (stroke, filled side, Gabor bars at positive weight) and the
/// background everything else; a pixel of coverage `t` gets `(1 − t)·background + t·foreground`.
/// The published curve stimuli are black on white ([`Style::black_on_white`]); swapping the
/// two colours ([`Style::inverted`]) flips the polarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Style {
    /// Colour of the ink, RGB in `[0, 1]`.
    pub foreground: Rgb,
    /// Colour of the rest of the image, RGB in `[0, 1]`.
    pub background: Rgb,
    /// Samples per pixel along each axis (`n × n` per pixel), 1 to 32.
    #[serde(default = "default_supersampling")]
    pub supersampling: u32,
}

fn default_supersampling() -> u32 {
    Style::DEFAULT_SUPERSAMPLING
}

impl Default for Style {
    fn default() -> Self {
        Style::black_on_white()
    }
}

impl Style {
    /// The default supersampling factor: 4 × 4 samples per pixel.
    pub const DEFAULT_SUPERSAMPLING: u32 = 4;

    /// Black ink on a white background, like the published curve stimuli.
    pub fn black_on_white() -> Self {
        Style::coloured([0.0; 3], [1.0; 3])
    }

    /// White ink on a black background (the opposite polarity).
    pub fn white_on_black() -> Self {
        Style::coloured([1.0; 3], [0.0; 3])
    }

    /// Grey levels in `[0, 1]` for ink and background.
    pub fn grey(foreground: f32, background: f32) -> Self {
        Style::coloured([foreground; 3], [background; 3])
    }

    /// Arbitrary ink and background colours.
    pub fn coloured(foreground: Rgb, background: Rgb) -> Self {
        Style {
            foreground,
            background,
            supersampling: Style::DEFAULT_SUPERSAMPLING,
        }
    }

    /// The same colours with `n × n` samples per pixel.
    pub fn with_supersampling(self, supersampling: u32) -> Self {
        Style {
            supersampling,
            ..self
        }
    }

    /// The opposite polarity: foreground and background swapped.
    pub fn inverted(self) -> Self {
        Style {
            foreground: self.background,
            background: self.foreground,
            ..self
        }
    }

    /// Checks the colours and the supersampling factor.
    pub fn validate(&self) -> Result<()> {
        const NAMES: [[&str; 3]; 2] = [
            [
                "style.foreground[0]",
                "style.foreground[1]",
                "style.foreground[2]",
            ],
            [
                "style.background[0]",
                "style.background[1]",
                "style.background[2]",
            ],
        ];
        for (colour, names) in [self.foreground, self.background].iter().zip(NAMES) {
            for (&channel, name) in colour.iter().zip(names) {
                if !(0.0..=1.0).contains(&channel) {
                    return Err(invalid(
                        name,
                        f64::from(channel),
                        "colour channels must be in [0, 1]",
                    ));
                }
            }
        }
        check_supersampling(self.supersampling)
    }
}

fn check_supersampling(supersampling: u32) -> Result<()> {
    if (1..=MAX_SUPERSAMPLING).contains(&supersampling) {
        Ok(())
    } else {
        Err(invalid(
            "style.supersampling",
            f64::from(supersampling),
            "must be between 1 and 32 samples per pixel side",
        ))
    }
}

/// Per-pixel foreground weight in `[0, 1]`: the fraction of the pixel covered by the ink (for
/// a Gabor patch, the local weight `½ + ½·contrast·g`). Row-major, `y` down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Number of columns.
    pub width: u32,
    /// Number of rows.
    pub height: u32,
    /// `width × height` weights, row by row from the top.
    pub values: Vec<f32>,
}

impl Coverage {
    /// The size of the map.
    pub fn size(&self) -> ImageSize {
        ImageSize::new(self.width, self.height)
    }

    /// The weight of pixel `(x, y)` (column, row).
    ///
    /// # Panics
    /// If the pixel is outside the map.
    pub fn get(&self, x: u32, y: u32) -> f32 {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside {}x{}",
            self.width,
            self.height
        );
        self.values[y as usize * self.width as usize + x as usize]
    }

    /// Total ink: the sum of all weights, in pixels of area.
    pub fn total(&self) -> f64 {
        self.values.iter().map(|&v| f64::from(v)).sum()
    }

    /// The weight-weighted mean position in continuous image coordinates (pixel `(i, j)`
    /// counts at its centre `(i + ½, j + ½)`), or `None` if the map is empty of ink.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        let (mut sum, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
        for (index, &value) in self.values.iter().enumerate() {
            let value = f64::from(value);
            let x = (index % self.width as usize) as f64 + 0.5;
            let y = (index / self.width as usize) as f64 + 0.5;
            sum += value;
            sx += value * x;
            sy += value * y;
        }
        (sum > 0.0).then(|| (sx / sum, sy / sum))
    }

    /// The map turned a quarter-turn clockwise (a `W × H` map becomes `H × W`).
    pub fn rotate90_cw(&self) -> Coverage {
        Coverage {
            width: self.height,
            height: self.width,
            values: crate::raster::rotate_plane_90_cw(&self.values, self.size(), 1),
        }
    }

    /// The map mirrored left–right.
    pub fn flip_horizontal(&self) -> Coverage {
        Coverage {
            width: self.width,
            height: self.height,
            values: crate::raster::flip_plane_horizontal(&self.values, self.size(), 1),
        }
    }

    /// Colours the map: each pixel becomes `(1 − t)·background + t·foreground`.
    pub fn colourise(&self, foreground: Rgb, background: Rgb) -> StimulusImage {
        let mut rgb = Vec::with_capacity(self.values.len() * 3);
        for &t in &self.values {
            for channel in 0..3 {
                rgb.push((1.0 - t) * background[channel] + t * foreground[channel]);
            }
        }
        StimulusImage {
            width: self.width,
            height: self.height,
            rgb,
        }
    }
}

/// Fixed-point scale for summing a pixel's samples independently of their order.
const FIXED_POINT_ONE: f64 = (1u64 << 40) as f64;

impl Stimulus {
    /// Per-pixel coverage of this stimulus in an image of `size`, sampled on an
    /// `supersampling × supersampling` grid per pixel.
    pub fn coverage(&self, size: ImageSize, supersampling: u32) -> Result<Coverage> {
        size.validate()?;
        check_supersampling(supersampling)?;
        let field = Field::new(self)?;
        Ok(Coverage {
            width: size.width,
            height: size.height,
            values: sample_coverage(&field, size, supersampling),
        })
    }

    /// Renders this stimulus in an image of `size` with `style`'s colours and supersampling.
    pub fn render(&self, size: ImageSize, style: &Style) -> Result<StimulusImage> {
        style.validate()?;
        let coverage = self.coverage(size, style.supersampling)?;
        Ok(coverage.colourise(style.foreground, style.background))
    }
}

/// Samples `field` over the image; see the module documentation.
fn sample_coverage(field: &Field, size: ImageSize, n: u32) -> Vec<f32> {
    let width = size.width as usize;
    let (w, hgt, n64) = (i64::from(size.width), i64::from(size.height), i64::from(n));
    let sample_side = 1.0 / f64::from(n);
    // Positions relative to the image centre, from integer numerators: exact.
    let sample_denominator = 2.0 * f64::from(n);
    // Samples lie within (√2/2)(1 − 1/n) of the pixel centre and a sample's weight is exactly
    // 0 or 1 once it is (√2/2)/n from every boundary; with the 1-Lipschitz distance, a pixel
    // centre farther than √2/2 (plus slack for rounding) from every boundary is uniform.
    let shortcut = std::f64::consts::FRAC_1_SQRT_2 + 1e-3;
    let samples_per_pixel = f64::from(n * n) * FIXED_POINT_ONE;
    let binary = field.is_binary();

    let mut values = vec![0.0f32; size.pixel_count()];
    values
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(row, out)| {
            let j = row as i64;
            let centre_y = (2 * j + 1 - hgt) as f64 / 2.0;
            for (column, value) in out.iter_mut().enumerate() {
                let i = column as i64;
                if binary {
                    let centre_x = (2 * i + 1 - w) as f64 / 2.0;
                    if let Some(distance) = field.signed_distance(centre_x, centre_y) {
                        if distance >= shortcut {
                            *value = 0.0;
                            continue;
                        }
                        if distance <= -shortcut {
                            *value = 1.0;
                            continue;
                        }
                    }
                }
                let mut total: i64 = 0;
                for b in 0..n64 {
                    let y = (2 * n64 * j + 2 * b + 1 - n64 * hgt) as f64 / sample_denominator;
                    for a in 0..n64 {
                        let x = (2 * n64 * i + 2 * a + 1 - n64 * w) as f64 / sample_denominator;
                        let weight = field.weight(x, y, sample_side);
                        total += (weight * FIXED_POINT_ONE).round() as i64;
                    }
                }
                *value = (total as f64 / samples_per_pixel) as f32;
            }
        });
    values
}

/// Renders every stimulus in `stimuli` in parallel, in order.
pub fn render_many(
    stimuli: &[Stimulus],
    size: ImageSize,
    style: &Style,
) -> Result<Vec<StimulusImage>> {
    style.validate()?;
    size.validate()?;
    stimuli
        .par_iter()
        .map(|stimulus| stimulus.render(size, style))
        .collect()
}
