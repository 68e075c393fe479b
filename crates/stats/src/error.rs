//! The one error type of this crate: every bad input is reported, never a panic.

use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Why a statistic could not be computed from the given input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A confidence level outside the open interval (0, 1), or not finite.
    #[error("confidence level must lie strictly between 0 and 1, got {0}")]
    InvalidLevel(f64),

    /// An input that needs at least one element was empty.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: String,
    },

    /// Paired inputs (one value per image) of different lengths.
    #[error("{what}: lengths differ ({left} vs {right}); paired data must be aligned by image")]
    LengthMismatch {
        /// Which pair of inputs.
        what: String,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },

    /// Too few observations for the requested statistic (e.g. a standard
    /// deviation needs two).
    #[error("{what} needs at least {needed} observations, got {got}")]
    TooFewObservations {
        /// Which statistic or input.
        what: String,
        /// Minimum number required.
        needed: usize,
        /// Number supplied.
        got: usize,
    },

    /// A parameter outside its range (named in the message).
    #[error("{0}")]
    InvalidParameter(String),

    /// A NaN or infinite value where a finite number is required.
    #[error("{what}[{index}] is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: String,
        /// Position of the first offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },

    /// A success count larger than the number of trials.
    #[error("successes ({successes}) exceed trials ({trials})")]
    SuccessesExceedTrials {
        /// Successes supplied.
        successes: u64,
        /// Trials supplied.
        trials: u64,
    },

    /// An image counted correct at top-1 but not at top-5, which is impossible
    /// for a correct evaluator (the top-1 class is among the top-5).
    #[error("condition {condition:?}: image {index} is correct at top-1 but not at top-5")]
    Top1NotInTop5 {
        /// Condition whose outcomes are inconsistent.
        condition: String,
        /// First inconsistent image.
        index: usize,
    },

    /// Two conditions with the same name given to one analysis.
    #[error("condition {0:?} given twice")]
    DuplicateCondition(String),

    /// A condition name that the analysis does not know.
    #[error("unknown condition {0:?}")]
    UnknownCondition(String),

    /// A (condition, metric) pair without data, e.g. KL for a condition
    /// evaluated without it.
    #[error("condition {condition:?} has no {metric} values")]
    MissingMetric {
        /// Condition asked for.
        condition: String,
        /// Metric asked for (its snake_case name).
        metric: String,
    },

    /// Fewer bootstrap resamples than the crate's minimum.
    #[error("at least {minimum} bootstrap resamples are required, got {got}")]
    TooFewResamples {
        /// The crate's minimum ([`crate::MIN_RESAMPLES`]).
        minimum: usize,
        /// Number requested.
        got: usize,
    },

    /// More images than the bootstrap's 32-bit index sampler supports.
    #[error("at most {maximum} images are supported by the bootstrap, got {got}")]
    TooManyImages {
        /// Largest supported number of images.
        maximum: usize,
        /// Number supplied.
        got: usize,
    },

    /// A request for random channel sets that cannot be satisfied.
    #[error("invalid random channel set request: {0}")]
    InvalidChannelSets(String),

    /// An observed statistic that is NaN or infinite.
    #[error("observed statistic is not finite ({0})")]
    NonFiniteObserved(f64),
}
