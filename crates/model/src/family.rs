//! Neuron families and channel sets.
//!
//! A family is a named group of channels at one tap that implement one idea (curve
//! detectors, line detectors…), usually with a preferred orientation each. Family files
//! are TOML, written by `aann discover` or by hand from a paper, and read by interventions
//! and circuits:
//!
//! ```toml
//! name = "curves"
//! model = "lucid"
//! tap = "mixed3b"
//! source = "Cammarata et al., Curve Detectors (Distill 2020), curves-mixed3b.json"
//!
//! [[neurons]]
//! channel = 379
//! orientation_deg = 243.0
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::arch::{Tap, Variant};
use crate::{ModelError, Result};

/// One neuron of a family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyNeuron {
    /// Channel index at the family's tap.
    pub channel: usize,
    /// Preferred orientation in degrees, in the radial convention of the Curve Detectors
    /// article (clockwise from +x with y down, towards the side the shape bulges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation_deg: Option<f64>,
    /// A human label, e.g. "3b:379".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Set when the evidence for membership is weak.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub doubtful: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Measured numbers (selectivity, peak σ, …), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

/// A family file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Family {
    pub name: String,
    pub model: Variant,
    /// Tap name in the model's vocabulary.
    pub tap: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where the membership comes from: a paper, or the command that produced the file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    pub neurons: Vec<FamilyNeuron>,
}

impl Family {
    /// Read and check a family file: known tap, channels in range, no duplicates.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Family {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let family: Family = toml::from_str(&text).map_err(|e| ModelError::Family {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        family.validate().map_err(|reason| ModelError::Family {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(family)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).expect("a family always serialises");
        std::fs::write(path, text).map_err(|e| ModelError::Family {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    pub fn tap(&self) -> Result<Tap> {
        Ok(Tap::parse(&self.tap, self.model)?)
    }

    pub fn channels(&self) -> Vec<usize> {
        self.neurons.iter().map(|n| n.channel).collect()
    }

    fn validate(&self) -> Result<(), String> {
        let tap = Tap::parse(&self.tap, self.model).map_err(|e| e.to_string())?;
        let width = tap.channels(self.model);
        let mut seen = std::collections::BTreeSet::new();
        for n in &self.neurons {
            if n.channel >= width {
                return Err(format!(
                    "channel {} is out of range for {} ({} channels: 0..={})",
                    n.channel,
                    self.tap,
                    width,
                    width - 1
                ));
            }
            if !seen.insert(n.channel) {
                return Err(format!("channel {} is listed twice", n.channel));
            }
        }
        if self.neurons.is_empty() {
            return Err("the family has no neurons".into());
        }
        Ok(())
    }
}

/// A sorted set of distinct channels at a tap.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelSet(Vec<usize>);

impl ChannelSet {
    /// Channels from a list; sorted and de-duplicated.
    pub fn new(mut channels: Vec<usize>) -> Self {
        channels.sort_unstable();
        channels.dedup();
        ChannelSet(channels)
    }

    pub fn as_slice(&self) -> &[usize] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, c: usize) -> bool {
        self.0.binary_search(&c).is_ok()
    }

    /// Check every channel against the width of `tap`.
    pub fn check_range(&self, tap: Tap, variant: Variant) -> Result<()> {
        let width = tap.channels(variant);
        if let Some(bad) = self.0.iter().find(|&&c| c >= width) {
            return Err(ModelError::Channels(format!(
                "channel {bad} is out of range for {} ({width} channels: 0..={})",
                tap.name(variant),
                width - 1
            )));
        }
        Ok(())
    }

    /// Parse a channel specification: comma-separated channels (`379,406`), half-open
    /// ranges (`320..416`), inclusive ranges (`320-415`), or a family file (`family:F.toml`
    /// or any path ending in `.toml`). Relative family paths resolve against `base`.
    pub fn parse(spec: &str, base: &Path) -> Result<ChannelSpec> {
        let spec = spec.trim();
        let family_path = spec
            .strip_prefix("family:")
            .map(str::to_string)
            .or_else(|| spec.ends_with(".toml").then(|| spec.to_string()));
        if let Some(path) = family_path {
            let path = resolve(base, &path);
            let family = Family::load(&path)?;
            return Ok(ChannelSpec {
                channels: ChannelSet::new(family.channels()),
                family: Some((path, family)),
            });
        }
        let mut channels = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                ModelError::Channels(format!(
                    "cannot read `{part}` in channel list `{spec}`: expected N, A..B (half-open), A-B (inclusive) or family:FILE.toml"
                ))
            };
            let num = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
            let reversed = |a: usize, b: usize, form: &str| {
                ModelError::Channels(format!(
                    "channel range `{part}` is {} ({a} to {b}): a range `{form}` needs start {} end",
                    if a == b { "empty" } else { "reversed" },
                    if form == "a..b" { "<" } else { "<=" }
                ))
            };
            if let Some((a, b)) = part.split_once("..") {
                let (a, b) = (num(a)?, num(b)?);
                if a >= b {
                    return Err(reversed(a, b, "a..b"));
                }
                channels.extend(a..b);
            } else if let Some((a, b)) = part.split_once('-') {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(reversed(a, b, "a-b"));
                }
                channels.extend(a..=b);
            } else {
                channels.push(num(part)?);
            }
        }
        if channels.is_empty() {
            return Err(ModelError::Channels(format!(
                "channel list `{spec}` names no channel"
            )));
        }
        Ok(ChannelSpec {
            channels: ChannelSet::new(channels),
            family: None,
        })
    }
}

impl fmt::Display for ChannelSet {
    /// Compact form with runs as inclusive ranges: `1,5-9,12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut j = i;
            while j + 1 < self.0.len() && self.0[j + 1] == self.0[j] + 1 {
                j += 1;
            }
            if j > i + 1 {
                parts.push(format!("{start}-{}", self.0[j]));
                i = j + 1;
            } else {
                parts.push(start.to_string());
                i += 1;
            }
        }
        f.write_str(&parts.join(","))
    }
}

/// A parsed channel specification, remembering the family file it came from.
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    pub channels: ChannelSet,
    pub family: Option<(PathBuf, Family)>,
}

fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() || p.exists() {
        p
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_and_empty_ranges_have_their_own_message() {
        let err = ChannelSet::parse("416..320", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`416..320` is reversed"), "{err}");
        let err = ChannelSet::parse("5..5", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`5..5` is empty"), "{err}");
        let err = ChannelSet::parse("9-3", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`9-3` is reversed"), "{err}");
    }

    #[test]
    fn an_unknown_tap_maps_the_other_models_name_or_suggests_near_ones() {
        let err = crate::Tap::parse("mixed3b", crate::Variant::Bvlc)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("on the bvlc model that tap is `inception_3b_output`"),
            "{err}"
        );
        let err = crate::Tap::parse("inception_3b_outptu", crate::Variant::Bvlc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `inception_3b_output`"), "{err}");
        let err = crate::Tap::parse("inception_3b_output", crate::Variant::Lucid)
            .unwrap_err()
            .to_string();
        assert!(err.contains("that tap is `mixed3b`"), "{err}");
    }

    #[test]
    fn lists_and_ranges_parse_to_sorted_sets() {
        let s = ChannelSet::parse("406, 379,320..323,10-12", Path::new(".")).unwrap();
        assert_eq!(
            s.channels.as_slice(),
            &[10, 11, 12, 320, 321, 322, 379, 406]
        );
        assert_eq!(s.channels.to_string(), "10-12,320-322,379,406");
    }

    #[test]
    fn bad_specs_are_explained() {
        for spec in ["", "a,b", "5..3", "1,,x"] {
            let err = ChannelSet::parse(spec, Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(err.contains("channel"), "{spec}: {err}");
        }
    }

    #[test]
    fn out_of_range_channels_name_the_tap_and_width() {
        let s = ChannelSet::new(vec![3, 480]);
        let err = s
            .check_range(Tap::mixed(crate::Block::B3b), Variant::Lucid)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("480") && err.contains("mixed3b") && err.contains("0..=479"),
            "{err}"
        );
    }

    #[test]
    fn family_files_round_trip_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.toml");
        let family = Family {
            name: "curves".into(),
            model: Variant::Lucid,
            tap: "mixed3b".into(),
            description: String::new(),
            source: "test".into(),
            neurons: vec![
                FamilyNeuron {
                    channel: 379,
                    orientation_deg: Some(243.0),
                    label: Some("3b:379".into()),
                    doubtful: false,
                    note: String::new(),
                    metrics: BTreeMap::new(),
                },
                FamilyNeuron {
                    channel: 406,
                    orientation_deg: Some(268.5),
                    label: None,
                    doubtful: true,
                    note: "weak".into(),
                    metrics: BTreeMap::from([("selectivity".into(), 0.5)]),
                },
            ],
        };
        family.save(&path).unwrap();
        assert_eq!(Family::load(&path).unwrap(), family);
        let spec =
            ChannelSet::parse(&format!("family:{}", path.display()), Path::new("/")).unwrap();
        assert_eq!(spec.channels.as_slice(), &[379, 406]);

        let mut bad = family.clone();
        bad.neurons[1].channel = 999;
        bad.save(&path).unwrap();
        let err = Family::load(&path).unwrap_err().to_string();
        assert!(err.contains("curves.toml") && err.contains("999"), "{err}");
    }
}
