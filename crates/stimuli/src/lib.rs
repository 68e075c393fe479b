//! Anti-aliased synthetic stimuli: curves, lines, edges, Gabor patches, angles.
//!
//! Researchers find neuron families — curve detectors, line detectors — by showing a network
//! simple synthetic images and sweeping their parameters. The "Curve Detectors" article drew
//! circular arcs whose apex sits at the centre of the image, swept over orientation (0–360°)
//! and radius, black on white, with filled and coloured variants; this crate renders those
//! stimuli and their relatives, in grey or colour, at any size.
//!
//! ```
//! use aann_stimuli::{Curve, ImageSize, Offset, Stimulus, Style};
//!
//! // A curve bulging to the right (")"), apex at the image centre, radius 40 px.
//! let curve = Stimulus::from(Curve::new(Offset::ZERO, 40.0, 0.0).with_line_width(3.0));
//! let image = curve.render(ImageSize::square(224), &Style::black_on_white())?;
//! assert_eq!(image.rgb.len(), 224 * 224 * 3);
//! # Ok::<(), aann_stimuli::StimulusError>(())
//! ```
//!
//! # Conventions
//!
//! * **Coordinates** (see [`geometry`]): `x` right, `y` down, in pixels; pixel `(i, j)` covers
//!   `[i, i+1) × [j, j+1)`. Stimuli are placed by an [`Offset`] from the image centre
//!   `(width/2, height/2)`.
//! * **Angles**: degrees clockwise from +x (y down). Curves and angles use the **radial**
//!   convention of the Circuits data files: the orientation points the way the shape bulges
//!   (radial 0° = ")", 90° = "‿", 180° = "(", 270° = "∩"). The synthetic heatmaps and
//!   Lucid's `rounded_corner` use the **x-angle** = radial − 180°; convert with
//!   [`radial_to_x_angle`] / [`x_angle_to_radial`]. Lines and Gabor stripes run along their
//!   orientation; an edge's orientation points from its foreground to its background.
//! * **Polarity and colour**: the shape is drawn in [`Style::foreground`] over
//!   [`Style::background`]; [`Style::inverted`] swaps them. Fill is a property of the shapes
//!   that have an inside ([`Curve::fill`], [`Angle::fill`]).
//! * **Anti-aliasing**: a regular `n × n` grid of samples per pixel (default 4 × 4), each
//!   taking the exact fraction of its own small square cut off by the shape's straight
//!   boundaries (see [`render`]). The total ink of a shape is its area, wherever it sits on the
//!   pixel grid: exactly along straight sides, and to within a small part of one sample's
//!   area at each corner (0.1 % or so for curvature).
//! * **Sweeps** ([`Sweep`]): orientation × a second parameter (radius, opening…), rendered in
//!   parallel; the synthetic heatmaps' x-axis is the x-angle, so build orientations with
//!   [`x_angle_to_radial`] to reproduce them column for column.
//! * **Exact symmetry**: rendering [`Stimulus::rotated_90_cw`] equals, bit for bit, turning the
//!   rendered image with [`StimulusImage::rotate90_cw`].

pub mod error;
mod field;
pub mod geometry;
pub mod raster;
pub mod render;
pub mod shapes;
pub mod sweep;

pub use error::{Result, StimulusError};
pub use geometry::{
    ImageSize, Offset, degrees_range, normalize_degrees, radial_to_x_angle, x_angle_to_radial,
};
pub use raster::StimulusImage;
pub use render::{Coverage, Rgb, Style, render_many};
pub use shapes::{Angle, Curve, Edge, GaborPatch, Line, Stimulus};
pub use sweep::{RenderedCell, Sweep, SweepCell};
