//! A circuit written in Python, behind the model crate's [`Replacement`] trait: the forward
//! pass (run with the GIL released) takes the GIL back to call it.

use std::sync::{Arc, Mutex};

use burn::tensor::{Tensor, TensorData};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use aann_model::{ChannelSet, Replacement, ReplacementInputs, Tap, Variant};

use crate::convert::{from_numpy, to_numpy, values};
use crate::error;

/// What `aann.replace` was given: the callable, the taps it reads (names in the model's
/// vocabulary) and the channels it produces, in the order its output holds them.
pub struct PythonCircuit {
    pub func: Py<PyAny>,
    pub name: String,
    pub reads: Vec<String>,
    pub channels: Vec<usize>,
}

/// The first error of a run's Python circuits: `Replacement::compute` cannot fail, so a
/// failing circuit records its error here and returns a tensor the hooks reject; the run
/// then raises this error instead of the hooks' message.
#[derive(Clone, Default)]
pub struct ErrorSlot(Arc<Mutex<Option<PyErr>>>);

impl ErrorSlot {
    fn put(&self, err: PyErr) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
    }

    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A Python circuit bound to one model's taps for one run.
pub struct BoundCircuit {
    circuit: Arc<PythonCircuit>,
    variant: Variant,
    target: Tap,
    reads: Vec<Tap>,
    /// For each channel of the (sorted) channel set, its index in the callable's output.
    order: Vec<usize>,
    errors: ErrorSlot,
}

impl BoundCircuit {
    pub fn new(
        circuit: Arc<PythonCircuit>,
        variant: Variant,
        target: Tap,
        errors: ErrorSlot,
    ) -> PyResult<Self> {
        let reads = circuit
            .reads
            .iter()
            .map(|name| {
                Tap::parse(name, variant)
                    .map_err(|e| crate::aann_error(aann_model::ModelError::from(e)))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let sorted = ChannelSet::new(circuit.channels.clone());
        let order = sorted
            .as_slice()
            .iter()
            .map(|c| {
                circuit
                    .channels
                    .iter()
                    .position(|x| x == c)
                    .expect("every channel of the set was given")
            })
            .collect();
        Ok(BoundCircuit {
            circuit,
            variant,
            target,
            reads,
            order,
            errors,
        })
    }

    fn describe(&self) -> String {
        format!(
            "replacement `{}` for {} channels {:?}",
            self.circuit.name,
            self.target.name(self.variant),
            self.circuit.channels
        )
    }

    fn try_compute(&self, inputs: &ReplacementInputs<'_>) -> PyResult<Tensor<4>> {
        let [n, _, h, w] = inputs.target_dims;
        let k = self.order.len();
        let expected = vec![n, k, h, w];
        let mut read = Vec::with_capacity(self.reads.len());
        for tap in &self.reads {
            let t = inputs.tap(*tap).clone();
            let dims = t.dims().to_vec();
            read.push((tap.name(self.variant), dims, values(t).map_err(error)?));
        }
        let out = Python::attach(|py| -> PyResult<Vec<f32>> {
            let taps = PyDict::new(py);
            for (name, dims, v) in read {
                taps.set_item(name, to_numpy(py, &dims, v)?)?;
            }
            let result = self.circuit.func.bind(py).call1((taps,))?;
            let what = format!("{} returned a value that", self.describe());
            let (shape, data) = from_numpy(&result, &what).map_err(|e| {
                error(format!(
                    "{} (expected a float32 array of shape [N, len(channels), H, W] = {expected:?})",
                    e.value(py)
                ))
            })?;
            if shape != expected {
                return Err(error(format!(
                    "{} returned an array of shape {shape:?}, expected [N, len(channels), H, W] = {expected:?}",
                    self.describe()
                )));
            }
            Ok(data)
        })?;
        // The callable's channel order → the channel set's (sorted) order.
        let plane = h * w;
        let mut sorted = vec![0f32; out.len()];
        for i in 0..n {
            for (slot, &src) in self.order.iter().enumerate() {
                let to = (i * k + slot) * plane;
                let from = (i * k + src) * plane;
                sorted[to..to + plane].copy_from_slice(&out[from..from + plane]);
            }
        }
        Ok(Tensor::from_data(
            TensorData::new(sorted, [n, k, h, w]),
            inputs.device,
        ))
    }
}

impl Replacement for BoundCircuit {
    fn name(&self) -> String {
        format!("python:{}", self.circuit.name)
    }

    fn reads(&self) -> Vec<Tap> {
        self.reads.clone()
    }

    fn compute(&self, inputs: &ReplacementInputs<'_>) -> Tensor<4> {
        match self.try_compute(inputs) {
            Ok(t) => t,
            Err(err) => {
                self.errors.put(err);
                // A shape the hooks refuse (one more image than the batch): the run stops
                // there, and the recorded error is raised.
                let n = inputs.target_dims[0];
                Tensor::zeros([n + 1, 1, 1, 1], inputs.device)
            }
        }
    }
}
