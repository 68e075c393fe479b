//! The lab: everything an experiment, a claim check or an error analysis needs to run the
//! model on image sets, in one place.
//!
//! - [`Session`]: the model (variant, weights, checksum), the device, the data root and the
//!   cache, built once and handed to everything that runs the model;
//! - [`Arm`]: one condition of an experiment, typed (baseline, an ablation, a replacement,
//!   a null set), with the model edits that realise it;
//! - [`replace`]: building a circuit, mapping its units onto the natural neurons and
//!   calibrating it on the tune split, once;
//! - [`lineage`]: the family one level down replaced too, alone and under the circuits;
//! - [`patch`]: activation patching from a clean image into a corrupted one, tap by tap;
//! - [`provenance`]: what makes a number what it is (commit, spec, weights, image lists,
//!   seeds), and the fingerprint a results folder must match to be resumed.

pub mod arm;
pub mod controls;
pub mod faithfulness;
pub mod feed;
pub mod ladder;
pub mod lineage;
pub mod neurons;
pub mod patch;
pub mod provenance;
pub mod readout;
pub mod replace;
pub mod session;

pub use arm::{Ablation, Arm, ArmInfo, ArmKind, BASELINE, Removal};
pub use controls::{Control, ControlFit};
pub use feed::{Feed, Flow};
pub use provenance::{Provenance, RESULTS_VERSION};
pub use replace::{FitSets, build_replacement, build_replacement_with_data, remapped};
pub use session::{DeviceChoice, Session, SessionConfig, WeightsChoice};

/// A tensor's values on the host, as `f32` (what every probe of the lab reads back).
pub(crate) fn host_values<const D: usize>(
    t: burn::tensor::Tensor<D>,
) -> Result<Vec<f32>, crate::EvalError> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| crate::EvalError::Results(format!("{e:?}")))
}

/// The channels `channels` of a tap as an index tensor for `select(1, …)`.
pub(crate) fn channel_index(
    channels: &[usize],
    device: &burn::tensor::Device,
) -> burn::tensor::Tensor<1, burn::tensor::Int> {
    let index: Vec<i64> = channels.iter().map(|c| *c as i64).collect();
    burn::tensor::Tensor::from_data(
        burn::tensor::TensorData::new(index, [channels.len()]),
        device,
    )
}
