//! Hand-written circuits that stand in for InceptionV1's curve detectors.
//!
//! The story, from the Curve Circuits article: *Gabor filters turn into proto-lines which
//! build lines and early curves. Finally, lines and early curves are composed into curves.*
//! Each family is one motif copied at many rotations ([`group::RotationGroup`]), and every
//! family after the Gabors is made the same way: by tiling a simpler family along the
//! tangent of its shape, with positive weight where the shapes align and negative weight
//! where they are perpendicular or face the other way ([`motif::TangentTiling`]).
//!
//! - [`gabor`]: the Gabor family and complex (phase-invariant) Gabors.
//! - [`gabor_layer`]: the first layer by hand — analytic Gabors at a stated set of
//!   directions, phases and scales, standing in for the network's first filters.
//! - [`motif`]: tangent tiling along segments (lines) and arcs (curves).
//! - [`pixels`]: curves from pixels — Gabors → complex Gabors → lines → early curves →
//!   curves, on the natural network's own grids, grayscale or in colour ([`colour`]);
//!   any of its families after the Gabors can be its output (the levels of the ladder).
//! - [`upstream`]: curves from natural upstream neurons (e.g. BVLC 3a early curves and lines).
//! - [`circuit`]: the [`circuit::Circuit`] trait, calibration of the output scale, and
//!   [`circuit::CircuitReplacement`], which plugs a circuit into the model's `Replace`
//!   intervention with natural channels mapped to units by preferred orientation.
//! - [`accounting`]: how many numbers a human set, how many weights they expand to, and
//!   which numbers came from data.

pub mod accounting;
pub mod circuit;
pub mod colour;
pub mod gabor;
pub mod gabor_layer;
pub mod group;
pub mod kernel;
pub mod motif;
pub mod pixels;
pub mod upstream;

pub use accounting::Accounting;
pub use circuit::{
    Calibration, CalibrationFit, Circuit, CircuitReplacement, Degeneracy, GAIN_BOUND,
    UnitCalibration, UnitMapping, diagnose, fit_relu_affine, fit_relu_moments,
    fit_relu_positive_moments,
};
pub use colour::ColourMode;
pub use gabor_layer::{GaborLayerCircuit, GaborLayerSpec, GaborScale};
pub use group::{Periodicity, RotationGroup};
pub use pixels::{PixelCircuitSpec, PixelCurveCircuit, PixelStage};
pub use upstream::{UpstreamCircuitSpec, UpstreamCurveCircuit};
