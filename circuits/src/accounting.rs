//! Honesty accounting: how much of a circuit a human wrote, and how much came from data.
//!
//! A hand-written circuit is only an explanation if the numbers in it were set by a person
//! reasoning about the mechanism. Every circuit reports the numbers a human set (after
//! equivariance: a rotation family is one motif), how many weights those expand to, and —
//! separately — every number measured or fitted on data, with the split it came from.

use serde::{Deserialize, Serialize};

/// One number a human chose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandSetNumber {
    /// The stage it belongs to (e.g. "Gabors", "lines", "curves from early curves").
    pub stage: String,
    pub name: String,
    pub value: f64,
}

/// Numbers taken from data: statistics measured on a split (normalisers) or parameters
/// fitted to it (gain and bias).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataDerived {
    pub name: String,
    /// How many scalars.
    pub count: usize,
    /// `measured` (a statistic such as a standard deviation) or `fitted` (chosen to match).
    pub kind: String,
    /// The image set they came from.
    pub split: String,
    /// The values, when few enough to list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
}

/// The full accounting of a circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accounting {
    pub circuit: String,
    pub hand_set: Vec<HandSetNumber>,
    /// Weights and biases the hand-set numbers expand to (every kernel entry of every
    /// neuron of every family).
    pub expanded_weights: usize,
    pub data_derived: Vec<DataDerived>,
}

impl Accounting {
    pub fn new(circuit: impl Into<String>) -> Self {
        Accounting {
            circuit: circuit.into(),
            hand_set: Vec::new(),
            expanded_weights: 0,
            data_derived: Vec::new(),
        }
    }

    pub fn hand_set(&mut self, stage: &str, numbers: Vec<(&str, f64)>) {
        for (name, value) in numbers {
            self.hand_set.push(HandSetNumber {
                stage: stage.into(),
                name: name.into(),
                value,
            });
        }
    }

    pub fn hand_set_count(&self) -> usize {
        self.hand_set.len()
    }

    pub fn data_derived_count(&self) -> usize {
        self.data_derived.iter().map(|d| d.count).sum()
    }

    /// A readable table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{}\n  {} numbers set by hand, expanding to {} weights; {} numbers from data\n",
            self.circuit,
            self.hand_set_count(),
            self.expanded_weights,
            self.data_derived_count()
        );
        let mut stage = "";
        for h in &self.hand_set {
            if h.stage != stage {
                stage = &h.stage;
                s.push_str(&format!("  {stage}:\n"));
            }
            s.push_str(&format!("    {:<40} {}\n", h.name, h.value));
        }
        for d in &self.data_derived {
            s.push_str(&format!(
                "  from data: {} × {} ({}, on {})\n",
                d.count, d.name, d.kind, d.split
            ));
        }
        s
    }
}
