//! Hook points: how a caller reads or changes a tap while the network runs.
//!
//! The forward pass hands every tap it produces to a [`Hooks`] value, which returns the
//! tensor to continue with — unchanged, edited, or replaced — or halts the run there. The
//! plain forward pass uses [`NoHooks`], whose methods are empty and inlined, so the
//! machinery costs nothing when unused: the same monomorphised code as a hook-free model.

use std::collections::HashMap;

use burn::tensor::Tensor;

use crate::arch::Tap;

/// Why a run ended before the classifier.
#[derive(Debug)]
pub enum Halt {
    /// A hook asked to stop at this tap and handed back its value.
    Stopped(Tap, Box<Tensor<4>>),
    /// The run cannot continue: e.g. the input size does not reach a 1×1 map before the
    /// classifier. The message says what was expected.
    Invalid(String),
}

impl Halt {
    /// The tensor a stopped run handed back.
    pub fn into_stopped(self) -> Result<(Tap, Tensor<4>), String> {
        match self {
            Halt::Stopped(tap, x) => Ok((tap, *x)),
            Halt::Invalid(msg) => Err(msg),
        }
    }
}

/// Something that watches the taps of a forward pass.
pub trait Hooks {
    /// Whether this hook wants `tap` to be materialised. The network only builds optional
    /// tensors (the pre-ReLU concatenation of a block) when some hook wants them.
    fn wants(&self, tap: Tap) -> bool;

    /// Called with each tap's value in network order; returns the value to continue with,
    /// or [`Halt::Stopped`] to end the run here.
    fn at(&mut self, tap: Tap, x: Tensor<4>) -> Result<Tensor<4>, Halt>;
}

/// No hooks: the plain forward pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {
    #[inline(always)]
    fn wants(&self, _tap: Tap) -> bool {
        false
    }

    #[inline(always)]
    fn at(&mut self, _tap: Tap, x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        Ok(x)
    }
}

/// Records the values of chosen taps, and optionally stops once the last of them (or a
/// given stop tap) has been produced, so that reading early layers costs only the prefix.
#[derive(Debug, Default)]
pub struct Recorder {
    wanted: Vec<Tap>,
    stop_at: Option<Tap>,
    pub recorded: HashMap<Tap, Tensor<4>>,
}

impl Recorder {
    /// Record `taps` and stop after the last of them in network order.
    pub fn until_last(taps: &[Tap]) -> Self {
        let stop_at = taps.iter().copied().max_by_key(|t| t.order());
        Recorder {
            wanted: taps.to_vec(),
            stop_at,
            recorded: HashMap::new(),
        }
    }

    /// Record `taps` and let the run go on to the classifier.
    pub fn through(taps: &[Tap]) -> Self {
        Recorder {
            wanted: taps.to_vec(),
            stop_at: None,
            recorded: HashMap::new(),
        }
    }

    /// Record `taps` and stop at `stop` (which need not be recorded).
    pub fn stopping_at(taps: &[Tap], stop: Tap) -> Self {
        Recorder {
            wanted: taps.to_vec(),
            stop_at: Some(stop),
            recorded: HashMap::new(),
        }
    }

    pub fn take(&mut self, tap: Tap) -> Option<Tensor<4>> {
        self.recorded.remove(&tap)
    }
}

impl Hooks for Recorder {
    fn wants(&self, tap: Tap) -> bool {
        self.wanted.contains(&tap)
    }

    fn at(&mut self, tap: Tap, x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        if self.wanted.contains(&tap) {
            self.recorded.insert(tap, x.clone());
        }
        if self.stop_at == Some(tap) {
            return Err(Halt::Stopped(tap, Box::new(x)));
        }
        Ok(x)
    }
}

/// Two hooks in sequence: every tap goes through the first, then the second (e.g. a
/// condition's edits, then a recorder reading the edited values).
#[derive(Debug)]
pub struct Then<A, B>(pub A, pub B);

impl<A: Hooks, B: Hooks> Hooks for Then<A, B> {
    fn wants(&self, tap: Tap) -> bool {
        self.0.wants(tap) || self.1.wants(tap)
    }

    fn at(&mut self, tap: Tap, x: Tensor<4>) -> Result<Tensor<4>, Halt> {
        let x = self.0.at(tap, x)?;
        self.1.at(tap, x)
    }
}
