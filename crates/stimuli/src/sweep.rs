//! Parameter sweeps for tuning experiments: orientation × a second parameter.
//!
//! The synthetic-curve heatmaps of the Circuits articles put orientation on the x-axis and
//! radius on the y-axis. A [`Sweep`] enumerates that grid row by row: row `r` uses
//! `values[r]` (a radius, an opening angle, a width…), column `c` uses `orientations_deg[c]`;
//! cell index `r · columns + c`. Cells are rendered in parallel with rayon, either all at
//! once, in index ranges (to feed a network in batches without holding thousands of images),
//! or mapped straight to a smaller result.

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StimulusError};
use crate::geometry::ImageSize;
use crate::raster::StimulusImage;
use crate::render::Style;
use crate::shapes::{Angle, Curve, Stimulus};

type Maker = dyn Fn(f64, f64) -> Stimulus + Send + Sync;

/// A grid of stimuli: every orientation × every value of a second parameter.
pub struct Sweep {
    orientations_deg: Vec<f64>,
    values: Vec<f64>,
    value_name: String,
    make: Box<Maker>,
}

/// One cell of a sweep: where it sits in the grid and the stimulus it holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepCell {
    /// Position in row-major order: `row · columns + column`.
    pub index: usize,
    /// Row: index into the values of the second parameter.
    pub row: usize,
    /// Column: index into the orientations.
    pub column: usize,
    /// The orientation of this cell, degrees.
    pub orientation_deg: f64,
    /// The value of the second parameter in this cell.
    pub value: f64,
    /// The stimulus drawn in this cell.
    pub stimulus: Stimulus,
}

/// A rendered cell.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedCell {
    /// The cell's grid position and parameters.
    pub cell: SweepCell,
    /// Its image.
    pub image: StimulusImage,
}

impl std::fmt::Debug for Sweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweep")
            .field("orientations_deg", &self.orientations_deg)
            .field("value_name", &self.value_name)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

impl Sweep {
    /// A sweep over `orientations_deg` × `values`, where `make(orientation, value)` builds the
    /// stimulus of each cell. `value_name` names the second parameter (e.g. `"radius"`).
    pub fn new(
        orientations_deg: Vec<f64>,
        value_name: impl Into<String>,
        values: Vec<f64>,
        make: impl Fn(f64, f64) -> Stimulus + Send + Sync + 'static,
    ) -> Result<Self> {
        if orientations_deg.is_empty() {
            return Err(StimulusError::InvalidParameter {
                parameter: "sweep.orientations_deg",
                value: 0.0,
                requirement: "a sweep needs at least one orientation",
            });
        }
        if values.is_empty() {
            return Err(StimulusError::InvalidParameter {
                parameter: "sweep.values",
                value: 0.0,
                requirement: "a sweep needs at least one value of its second parameter",
            });
        }
        Ok(Sweep {
            orientations_deg,
            values,
            value_name: value_name.into(),
            make: Box::new(make),
        })
    }

    /// Curves of `template`'s apex, width, span and fill at every orientation × radius.
    pub fn curves(template: Curve, orientations_deg: Vec<f64>, radii: Vec<f64>) -> Result<Self> {
        Sweep::new(
            orientations_deg,
            "radius",
            radii,
            move |orientation_deg, radius| {
                Stimulus::Curve(Curve {
                    orientation_deg,
                    radius,
                    ..template
                })
            },
        )
    }

    /// Angles of `template`'s apex, arms and fill at every orientation × opening angle.
    pub fn angles(
        template: Angle,
        orientations_deg: Vec<f64>,
        openings_deg: Vec<f64>,
    ) -> Result<Self> {
        Sweep::new(
            orientations_deg,
            "opening_deg",
            openings_deg,
            move |orientation_deg, opening_deg| {
                Stimulus::Angle(Angle {
                    orientation_deg,
                    opening_deg,
                    ..template
                })
            },
        )
    }

    /// The orientations, one per column.
    pub fn orientations_deg(&self) -> &[f64] {
        &self.orientations_deg
    }

    /// The second parameter's values, one per row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The second parameter's name.
    pub fn value_name(&self) -> &str {
        &self.value_name
    }

    /// Number of columns (orientations).
    pub fn columns(&self) -> usize {
        self.orientations_deg.len()
    }

    /// Number of rows (values).
    pub fn rows(&self) -> usize {
        self.values.len()
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.rows() * self.columns()
    }

    /// Always false: a sweep has at least one cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index` (row-major), or `None` past the end.
    pub fn cell(&self, index: usize) -> Option<SweepCell> {
        (index < self.len()).then(|| {
            let (row, column) = (index / self.columns(), index % self.columns());
            let orientation_deg = self.orientations_deg[column];
            let value = self.values[row];
            SweepCell {
                index,
                row,
                column,
                orientation_deg,
                value,
                stimulus: (self.make)(orientation_deg, value),
            }
        })
    }

    /// All cells in row-major order.
    pub fn cells(&self) -> impl Iterator<Item = SweepCell> + '_ {
        (0..self.len()).filter_map(|index| self.cell(index))
    }

    /// Renders the cells with indices in `range` (clipped to the sweep) in parallel, in order.
    pub fn render_range(
        &self,
        range: Range<usize>,
        size: ImageSize,
        style: &Style,
    ) -> Result<Vec<RenderedCell>> {
        let range = range.start.min(self.len())..range.end.min(self.len());
        range
            .into_par_iter()
            .map(|index| {
                let cell = self.cell(index).expect("index within the sweep");
                let image = cell.stimulus.render(size, style)?;
                Ok(RenderedCell { cell, image })
            })
            .collect()
    }

    /// Renders every cell in parallel. Mind the memory: 72 orientations × 80 radii at
    /// 224 × 224 is 3.5 GB; use [`Sweep::render_range`] or [`Sweep::map_rendered`] for big sweeps.
    pub fn render_all(&self, size: ImageSize, style: &Style) -> Result<Vec<RenderedCell>> {
        self.render_range(0..self.len(), size, style)
    }

    /// Renders every cell in parallel and maps it straight through `f` (e.g. to an
    /// activation), keeping only the results, in cell order.
    pub fn map_rendered<T: Send>(
        &self,
        size: ImageSize,
        style: &Style,
        f: impl Fn(&SweepCell, &StimulusImage) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
        (0..self.len())
            .into_par_iter()
            .map(|index| {
                let cell = self.cell(index).expect("index within the sweep");
                let image = cell.stimulus.render(size, style)?;
                Ok(f(&cell, &image))
            })
            .collect()
    }
}
