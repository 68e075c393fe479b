//! Between numpy, burn tensors and JSON.

use burn::tensor::Tensor;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use serde::Serialize;

use crate::error;

/// A tensor's values on the host, in row-major order.
pub fn values(t: Tensor<4>) -> Result<Vec<f32>, String> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| format!("cannot read a tensor back: {e:?}"))
}

/// Values with their shape as a numpy float32 array.
pub fn to_numpy<'py>(
    py: Python<'py>,
    shape: &[usize],
    data: Vec<f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let array = ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| error(format!("cannot shape values as {shape:?}: {e}")))?;
    Ok(PyArrayDyn::from_owned_array(py, array))
}

/// A numpy float32 array's shape and values (row-major, whatever its strides); `what`
/// names it in the error when it is not one.
pub fn from_numpy(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<usize>, Vec<f32>)> {
    let py = obj.py();
    let untyped = obj.cast::<PyUntypedArray>().map_err(|_| {
        error(format!(
            "{what} must be a numpy array of float32, not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "an unknown type".into())
        ))
    })?;
    if !untyped.dtype().is_equiv_to(&numpy::dtype::<f32>(py)) {
        return Err(error(format!(
            "{what} has dtype {} with shape {:?}, expected float32 (use .astype(numpy.float32))",
            untyped.dtype(),
            untyped.shape()
        )));
    }
    let typed: PyReadonlyArrayDyn<'_, f32> = obj.extract()?;
    let view = typed.as_array();
    Ok((view.shape().to_vec(), view.iter().copied().collect()))
}

/// A serialisable value as Python objects (dicts, lists, numbers, strings), through JSON.
pub fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| error(format!("cannot serialise a result: {e}")))?;
    py.import("json")?.call_method1("loads", (text,))
}
