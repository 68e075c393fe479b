//! Errors: every one names the parameter or file it is about.

use std::path::PathBuf;

/// Why a stimulus could not be built, rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum StimulusError {
    /// A numeric parameter is out of its allowed range (or not finite).
    #[error("invalid parameter `{parameter}` = {value}: {requirement}")]
    InvalidParameter {
        /// Dotted name of the parameter, e.g. `curve.radius` or `style.supersampling`.
        parameter: &'static str,
        /// The offending value.
        value: f64,
        /// What the value must satisfy, in words.
        requirement: &'static str,
    },
    /// An image operation got images of different sizes, or none at all.
    #[error("invalid images: {0}")]
    InvalidImages(String),
    /// Writing a PNG failed.
    #[error("cannot write PNG {path}: {source}")]
    Png {
        /// The file that could not be written.
        path: PathBuf,
        /// The encoder's or the file system's error.
        #[source]
        source: image::ImageError,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = StimulusError> = std::result::Result<T, E>;

/// Largest magnitude accepted for positions, lengths and radii, in pixels.
///
/// Far beyond any image size; the bound keeps every coordinate computation exact enough
/// for the renderer's "far from the boundary" shortcut (see `render`).
pub const MAX_EXTENT_PX: f64 = 1.0e6;

/// An error for an empty image list or mismatched sizes.
pub(crate) fn images_error(message: impl Into<String>) -> StimulusError {
    StimulusError::InvalidImages(message.into())
}

pub(crate) fn invalid(
    parameter: &'static str,
    value: f64,
    requirement: &'static str,
) -> StimulusError {
    StimulusError::InvalidParameter {
        parameter,
        value,
        requirement,
    }
}

/// `value` is finite and `|value| <= MAX_EXTENT_PX`.
pub(crate) fn check_finite(parameter: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value.abs() <= MAX_EXTENT_PX {
        Ok(())
    } else {
        Err(invalid(
            parameter,
            value,
            "must be finite and at most 1e6 in magnitude",
        ))
    }
}

/// `0 < value <= MAX_EXTENT_PX`.
pub(crate) fn check_positive(parameter: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 && value <= MAX_EXTENT_PX {
        Ok(())
    } else {
        Err(invalid(
            parameter,
            value,
            "must be positive, finite and at most 1e6 pixels",
        ))
    }
}

/// `lo < value <= hi` (an interval open on the left).
pub(crate) fn check_in_half_open(
    parameter: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    requirement: &'static str,
) -> Result<()> {
    if value.is_finite() && value > lo && value <= hi {
        Ok(())
    } else {
        Err(invalid(parameter, value, requirement))
    }
}
