//! Reading a hypothesis file: the TOML tables into typed claims, every claim checked
//! against the file (taps, channels, families) and its own fields, each error naming the
//! file, the claim and what was expected.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use aann_model::{Family, Tap, Variant};
use aann_stats::Metric;

use super::{
    AblationEffect, AblationKind, CIRCUIT_KEYS, CircuitCorrelation, CircuitFields, Claim,
    ClaimKind, Defaults, Equivariance, EquivarianceMode, FractionRecoveredClaim, HypothesisFile,
    KINDS, MotifMeasure, PreferredOrientation, Requirements, SWEEP_KEYS, Sweep, Tiling,
    WeightMotif,
};
use crate::EvalError;
use crate::circuits::{CircuitChoice, CircuitRegistry};
use crate::expanded::expansion_block;
use crate::spec::repository_root;
use crate::tuning::StimulusKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    model: Variant,
    #[serde(default)]
    description: String,
    #[serde(default)]
    weights: Option<String>,
    #[serde(default)]
    requires: Requirements,
    #[serde(default)]
    defaults: Defaults,
}

fn take_string(table: &mut toml::Table, key: &str) -> Result<Option<String>, String> {
    match table.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "`{key}` must be a string, not {}",
            other.type_str()
        )),
    }
}

/// Move `keys` of `table` into a table of their own.
fn split_keys(table: &mut toml::Table, keys: &[&str]) -> toml::Table {
    let mut out = toml::Table::new();
    for k in keys {
        if let Some(v) = table.remove(*k) {
            out.insert(k.to_string(), v);
        }
    }
    out
}

fn from_table<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_string())
}

fn parse_claim(
    mut table: toml::Table,
    defaults: &Defaults,
) -> Result<(String, Result<Claim, String>), String> {
    let name = take_string(&mut table, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or("has no `name`")?;
    let inner = || -> Result<Claim, String> {
        let kind = take_string(&mut table, "kind")?
            .ok_or(format!("has no `kind` (one of {})", KINDS.join(", ")))?;
        let description = take_string(&mut table, "description")?.unwrap_or_default();
        let tags: Vec<String> = match table.remove("tags") {
            None => Vec::new(),
            Some(v) => v
                .try_into()
                .map_err(|_| "`tags` must be a list of strings".to_string())?,
        };
        let sweep = |table: &mut toml::Table| -> Result<Sweep, String> {
            let mut t = split_keys(table, &SWEEP_KEYS);
            t.entry("orientation_step_deg")
                .or_insert(toml::Value::Float(defaults.orientation_step_deg));
            let mut sweep: Sweep = from_table(t)?;
            if sweep.values.is_none() && sweep.stimulus == StimulusKind::Curve {
                sweep.values = defaults.curve_radii.clone();
            }
            Ok(sweep)
        };
        let circuit = |table: &mut toml::Table| -> Result<CircuitFields, String> {
            from_table(split_keys(table, &CIRCUIT_KEYS))
        };
        let kind = match kind.as_str() {
            "preferred_orientation" => {
                let s = sweep(&mut table)?;
                let mut c: PreferredOrientation = from_table(table)?;
                c.sweep = s;
                ClaimKind::PreferredOrientation(c)
            }
            "tiling" => {
                let s = sweep(&mut table)?;
                let mut c: Tiling = from_table(table)?;
                c.sweep = s;
                ClaimKind::Tiling(c)
            }
            "equivariance" => {
                let s = sweep(&mut table)?;
                let mut c: Equivariance = from_table(table)?;
                c.sweep = s;
                ClaimKind::Equivariance(c)
            }
            "circuit_correlation" => {
                let s = sweep(&mut table)?;
                let f = circuit(&mut table)?;
                let mut c: CircuitCorrelation = from_table(table)?;
                c.sweep = s;
                c.circuit = Some(f);
                ClaimKind::CircuitCorrelation(c)
            }
            "ablation_effect" => ClaimKind::AblationEffect(from_table(table)?),
            "fraction_recovered" => {
                let f = circuit(&mut table)?;
                let mut c: FractionRecoveredClaim = from_table(table)?;
                c.circuit = Some(f);
                ClaimKind::FractionRecovered(c)
            }
            "weight_motif" => ClaimKind::WeightMotif(from_table(table)?),
            other => {
                return Err(format!(
                    "unknown kind `{other}`; expected one of {}",
                    KINDS.join(", ")
                ));
            }
        };
        Ok(Claim {
            name: String::new(),
            description,
            tags,
            kind,
        })
    };
    let claim = inner().map(|mut c| {
        c.name = name.clone();
        c
    });
    Ok((name, claim))
}

impl HypothesisFile {
    /// Read and check a hypothesis file: every error names the file and the claim. Its
    /// circuits are the shipped ones ([`HypothesisFile::load_with`] for one's own).
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        Self::load_with(path, &CircuitRegistry::shipped())
    }

    /// [`HypothesisFile::load`], a claim's `circuit` looked up in `circuits`.
    pub fn load_with(path: &Path, circuits: &CircuitRegistry) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        let err = |msg: String| EvalError::Spec(format!("{}: {msg}", path.display()));
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        let claims = match table.remove("claim") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => return Err(err("`claim` must be an array of tables ([[claim]])".into())),
        };
        let header: Header = from_table(table).map_err(err)?;
        let repository = repository_root(path);
        let mut file = HypothesisFile {
            path: path.to_path_buf(),
            model: header.model,
            description: header.description,
            weights: header.weights,
            requires: header.requires,
            defaults: header.defaults,
            claims: Vec::new(),
            repository,
        };
        if claims.is_empty() {
            return Err(err("the file has no [[claim]]".into()));
        }
        let mut names = BTreeSet::new();
        for (i, item) in claims.into_iter().enumerate() {
            let toml::Value::Table(t) = item else {
                return Err(err(format!("claim #{} is not a table", i + 1)));
            };
            let (name, claim) =
                parse_claim(t, &file.defaults).map_err(|m| err(format!("claim #{} {m}", i + 1)))?;
            let claim = claim
                .and_then(|c| file.validate(&c, circuits).map(|_| c))
                .map_err(|m| err(format!("claim `{name}`: {m}")))?;
            if !names.insert(name.clone()) {
                return Err(err(format!("two claims are named `{name}`")));
            }
            file.claims.push(claim);
        }
        Ok(file)
    }

    /// A family file, resolved against the repository and checked against the model.
    pub fn family(&self, relative: &str) -> Result<(PathBuf, Family), String> {
        let path = self.repository.join(relative);
        let family = Family::load(&path).map_err(|e| e.to_string())?;
        if family.model != self.model {
            return Err(format!(
                "{} is a {} family, but the file's model is {}",
                path.display(),
                family.model,
                self.model
            ));
        }
        Ok((path, family))
    }

    fn tap(&self, name: &str) -> Result<Tap, String> {
        Tap::parse(name, self.model).map_err(|e| {
            // The full list of taps is long; name the vocabulary instead.
            format!(
                "unknown tap `{}` for the {} model (see `aann taps --model {}`)",
                e.name, self.model, self.model
            )
        })
    }

    fn check_channel(&self, tap: Tap, channel: usize) -> Result<(), String> {
        let width = tap.channels(self.model);
        if channel >= width {
            return Err(format!(
                "channel {channel} is out of range for {} ({width} channels)",
                tap.name(self.model)
            ));
        }
        Ok(())
    }

    /// Check a parsed claim against the file (taps, channels, families) and its own
    /// fields; the message names the field and what was expected.
    fn validate(&self, claim: &Claim, circuits: &CircuitRegistry) -> Result<(), String> {
        match &claim.kind {
            ClaimKind::PreferredOrientation(c) => self.validate_orientation(c),
            ClaimKind::Tiling(c) => self.validate_tiling(c),
            ClaimKind::Equivariance(c) => self.validate_equivariance(c),
            ClaimKind::CircuitCorrelation(c) => self.validate_correlation(c, circuits),
            ClaimKind::AblationEffect(c) => self.validate_ablation(c),
            ClaimKind::FractionRecovered(c) => self.validate_fraction(c, circuits),
            ClaimKind::WeightMotif(c) => self.validate_motif(c),
        }
    }

    fn validate_orientation(&self, c: &PreferredOrientation) -> Result<(), String> {
        c.sweep.validate()?;
        check_positive("tolerance_deg", c.tolerance_deg)?;
        check_fraction("min_fraction", c.min_fraction)?;
        match (&c.family, c.channel, c.expected_deg) {
            (Some(f), None, None) => {
                let (_, family) = self.family(f)?;
                let ftap = family.tap().map_err(|e| e.to_string())?;
                if let Some(t) = &c.tap
                    && self.tap(t)? != ftap
                {
                    return Err(format!("tap `{t}` is not the family's tap {}", family.tap));
                }
                if family.neurons.iter().all(|n| n.orientation_deg.is_none()) {
                    return Err(format!("family {f} gives no orientations"));
                }
            }
            (None, Some(ch), Some(_)) => {
                let tap = c.tap.as_deref().ok_or("a single channel needs `tap`")?;
                self.check_channel(self.tap(tap)?, ch)?;
                if c.min_fraction.is_some() {
                    return Err("min_fraction applies to a family".into());
                }
            }
            _ => {
                return Err("give either `family`, or `tap`, `channel` and `expected_deg`".into());
            }
        }
        Ok(())
    }

    fn validate_tiling(&self, c: &Tiling) -> Result<(), String> {
        c.sweep.validate()?;
        check_positive("max_gap_deg", c.max_gap_deg)?;
        let (_, family) = self.family(&c.family)?;
        if family.neurons.len() < 2 {
            return Err("tiling needs a family of at least 2 neurons".into());
        }
        Ok(())
    }

    fn validate_equivariance(&self, c: &Equivariance) -> Result<(), String> {
        c.sweep.validate()?;
        let (_, family) = self.family(&c.family)?;
        if family.neurons.iter().any(|n| n.orientation_deg.is_none()) {
            return Err(format!(
                "family {} must give every neuron an orientation",
                c.family
            ));
        }
        match c.mode {
            EquivarianceMode::PeakShift => {
                let m = c
                    .max_error_deg
                    .ok_or("mode `peak_shift` needs `max_error_deg`")?;
                check_positive("max_error_deg", m)?;
                if c.min_r.is_some() || c.partner_tolerance_deg.is_some() {
                    return Err(
                        "min_r and partner_tolerance_deg belong to mode `rot90_permutation`".into(),
                    );
                }
            }
            EquivarianceMode::Rot90Permutation => {
                let r = c.min_r.ok_or("mode `rot90_permutation` needs `min_r`")?;
                check_correlation("min_r", r)?;
                let k = 90.0 / c.sweep.orientation_step_deg;
                if (k - k.round()).abs() > 1e-9 {
                    return Err(format!(
                        "orientation_step_deg = {} must divide 90° for a 90° rotation",
                        c.sweep.orientation_step_deg
                    ));
                }
                if c.max_error_deg.is_some() {
                    return Err("max_error_deg belongs to mode `peak_shift`".into());
                }
            }
        }
        Ok(())
    }

    fn validate_correlation(
        &self,
        c: &CircuitCorrelation,
        circuits: &CircuitRegistry,
    ) -> Result<(), String> {
        c.sweep.validate()?;
        check_correlation("min_r", c.min_r)?;
        let family = self.validate_circuit(c.circuit.as_ref().expect("parsed"), circuits)?;
        if let Some(ch) = c.channel
            && !family.channels().contains(&ch)
        {
            return Err(format!("channel {ch} is not in the family"));
        }
        if c.calibration_images == 0 {
            return Err("calibration_images must be positive".into());
        }
        Ok(())
    }

    fn validate_ablation(&self, c: &AblationEffect) -> Result<(), String> {
        match (&c.family, &c.tap, &c.channels) {
            (Some(f), None, None) => {
                self.family(f)?;
            }
            (None, Some(t), Some(chs)) => {
                let tap = self.tap(t)?;
                if chs.is_empty() {
                    return Err("`channels` is empty".into());
                }
                for ch in chs {
                    self.check_channel(tap, *ch)?;
                }
            }
            _ => return Err("give either `family`, or `tap` and `channels`".into()),
        }
        if c.min_change.is_none() && c.max_change.is_none() {
            return Err("give `min_change` and/or `max_change`".into());
        }
        check_metric(c.metric)?;
        check_level(c.level)?;
        if c.means.is_some() && c.ablation != AblationKind::Mean {
            return Err("`means` applies to a mean-ablation".into());
        }
        Ok(())
    }

    fn validate_fraction(
        &self,
        c: &FractionRecoveredClaim,
        circuits: &CircuitRegistry,
    ) -> Result<(), String> {
        self.validate_circuit(c.circuit.as_ref().expect("parsed"), circuits)?;
        check_metric(c.metric)?;
        check_level(c.level)?;
        if c.resamples < aann_stats::MIN_RESAMPLES {
            return Err(format!(
                "resamples must be at least {}",
                aann_stats::MIN_RESAMPLES
            ));
        }
        Ok(())
    }

    fn validate_motif(&self, c: &WeightMotif) -> Result<(), String> {
        let (_, from) = self.family(&c.from)?;
        let (_, to) = self.family(&c.to)?;
        let (from_tap, to_tap) = (
            from.tap().map_err(|e| e.to_string())?,
            to.tap().map_err(|e| e.to_string())?,
        );
        expansion_block(from_tap, to_tap, self.model)?;
        for (name, v) in [
            ("aligned_within_deg", c.aligned_within_deg),
            ("opposite_within_deg", c.opposite_within_deg),
        ] {
            if let Some(v) = v
                && !(v > 0.0 && v < 90.0)
            {
                return Err(format!("{name} = {v} must be between 0 and 90"));
            }
        }
        check_fraction("min_fraction", c.min_fraction)?;
        motif_threshold(c)?;
        if c.measure == MotifMeasure::PairSigns {
            if c.excite.is_empty() && c.inhibit.is_empty() {
                return Err("measure `pair_signs` needs `excite` and/or `inhibit` pairs".into());
            }
            for [u, t] in c.excite.iter().chain(&c.inhibit) {
                self.check_channel(from_tap, *u)?;
                self.check_channel(to_tap, *t)?;
            }
        } else if !c.excite.is_empty() || !c.inhibit.is_empty() {
            return Err("`excite` and `inhibit` belong to measure `pair_signs`".into());
        }
        if c.measure != MotifMeasure::PairSigns
            && (from.neurons.iter().any(|n| n.orientation_deg.is_none())
                || to.neurons.iter().any(|n| n.orientation_deg.is_none()))
        {
            return Err("both families must give every neuron an orientation".into());
        }
        Ok(())
    }

    fn validate_circuit(
        &self,
        c: &CircuitFields,
        circuits: &CircuitRegistry,
    ) -> Result<Family, String> {
        let (_, family) = self.family(&c.family)?;
        if family.neurons.iter().any(|n| n.orientation_deg.is_none()) {
            return Err(format!(
                "family {} must give every neuron an orientation (circuit units are mapped by orientation)",
                c.family
            ));
        }
        let bare = circuits
            .named(&c.circuit, self.model, toml::Table::new())
            .map_err(|e| e.to_string())?;
        let takes = circuits.valid_keys(&bare.kind).map_err(|e| e.to_string())?;
        if (c.early_curves.is_some() || c.lines.is_some())
            && !takes.iter().any(|k| k == "early_curves" || k == "lines")
        {
            return Err("`early_curves` and `lines` belong to the `upstream` circuit".into());
        }
        let choice = self.circuit_choice(c, circuits)?;
        for file in circuits.files(&choice).map_err(|e| e.to_string())? {
            self.family(&file)?;
        }
        if let Some(spec) = &c.spec {
            let path = self.repository.join(spec);
            if !path.is_file() {
                return Err(format!("circuit spec {} not found", path.display()));
            }
        }
        Ok(family)
    }

    /// The circuit a claim names, with its `early_curves` and `lines` when given (else
    /// the name's own, e.g. the model's shipped families for `upstream`).
    pub fn circuit_choice(
        &self,
        c: &CircuitFields,
        circuits: &CircuitRegistry,
    ) -> Result<CircuitChoice, String> {
        let mut extra = toml::Table::new();
        for (key, value) in [("early_curves", &c.early_curves), ("lines", &c.lines)] {
            if let Some(v) = value {
                extra.insert(key.into(), toml::Value::String(v.clone()));
            }
        }
        circuits
            .named(&c.circuit, self.model, extra)
            .map_err(|e| e.to_string())
    }
}

fn check_metric(metric: Metric) -> Result<(), String> {
    if metric == Metric::KlFromBaseline {
        return Err("metric must be cross_entropy, top1_accuracy or top5_accuracy".into());
    }
    Ok(())
}

fn check_level(level: f64) -> Result<(), String> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(format!("level = {level} must be between 0 and 1"))
    }
}

/// An optional fraction must lie in [0, 1].
fn check_fraction(name: &str, v: Option<f64>) -> Result<(), String> {
    match v {
        Some(f) if !(0.0..=1.0).contains(&f) => {
            Err(format!("{name} = {f} must be between 0 and 1"))
        }
        _ => Ok(()),
    }
}

fn check_positive(name: &str, v: f64) -> Result<(), String> {
    if v > 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be positive"))
    }
}

/// A correlation threshold must lie in [-1, 1].
fn check_correlation(name: &str, r: f64) -> Result<(), String> {
    if (-1.0..=1.0).contains(&r) {
        Ok(())
    } else {
        Err(format!("{name} = {r} must be between -1 and 1"))
    }
}

/// A motif claim must give the threshold its measure is judged by.
fn motif_threshold(c: &WeightMotif) -> Result<(), String> {
    let (field, present) = match c.measure {
        MotifMeasure::AlignedVsOpposite
        | MotifMeasure::OppositeInhibits
        | MotifMeasure::PairSigns => ("min_fraction", c.min_fraction.is_some()),
        MotifMeasure::Tangent => ("max_deg", c.max_deg.is_some()),
        MotifMeasure::Falloff => ("min_r", c.min_r.is_some()),
    };
    if present {
        return Ok(());
    }
    let measure = serde_json::to_value(c.measure)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    Err(format!("measure `{measure}` needs `{field}`"))
}

impl Sweep {
    /// The sweep renders: whole steps around the period, some values, a visible stroke.
    pub(super) fn validate(&self) -> Result<(), String> {
        let step = self.orientation_step_deg;
        let steps = self.period() / step;
        if step.is_nan() || step <= 0.0 || (steps - steps.round()).abs() > 1e-9 || steps < 4.0 {
            return Err(format!(
                "orientation_step_deg = {step} must divide {}° into at least 4 steps",
                self.period()
            ));
        }
        if self.values.as_ref().is_some_and(Vec::is_empty) {
            return Err("`values` is empty".into());
        }
        if self.line_width.is_nan() || self.line_width <= 0.0 {
            return Err("line_width must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<HypothesisFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.toml");
        std::fs::write(&path, text).unwrap();
        HypothesisFile::load(&path).map_err(|e| e.to_string())
    }

    const CLAIM: &str = r#"
[[claim]]
name = "a"
kind = "preferred_orientation"
tags = ["cheap"]
tap = "mixed3b"
channel = 379
expected_deg = 243
tolerance_deg = 15
"#;

    #[test]
    fn sweeps_take_the_file_defaults_unless_they_set_their_own() {
        let file = load(&format!(
            "model = \"lucid\"\n[defaults]\norientation_step_deg = 15\ncurve_radii = [20, 40]\n{CLAIM}{}",
            CLAIM
                .replace("name = \"a\"", "name = \"b\"")
                .replace("tolerance_deg = 15", "tolerance_deg = 15\norientation_step_deg = 5\nvalues = [30]")
        ))
        .unwrap();
        let sweep = |i: usize| match &file.claims[i].kind {
            ClaimKind::PreferredOrientation(c) => c.sweep.spec(),
            _ => unreachable!(),
        };
        assert_eq!(sweep(0).orientations.len(), 24);
        assert_eq!(sweep(0).values, vec![20.0, 40.0]);
        assert_eq!(sweep(1).orientations.len(), 72);
        assert_eq!(sweep(1).values, vec![30.0]);
        assert_eq!(file.claims[0].tags, vec!["cheap".to_string()]);
        assert!(!file.requires.trained_weights);
    }

    #[test]
    fn sweep_steps_must_divide_the_circle() {
        let err = load(&format!(
            "model = \"lucid\"\n{}",
            CLAIM.replace(
                "tolerance_deg = 15",
                "tolerance_deg = 15\norientation_step_deg = 7"
            )
        ))
        .unwrap_err();
        assert!(
            err.contains("claim `a`") && err.contains("orientation_step_deg = 7"),
            "{err}"
        );
        let err = load(&format!(
            "model = \"lucid\"\n{}",
            CLAIM.replace("tags = [\"cheap\"]", "tags = \"cheap\"")
        ))
        .unwrap_err();
        assert!(err.contains("`tags` must be a list of strings"), "{err}");
    }

    /// An image claim on channels of a tap (no family file needed), with `extra` lines.
    fn ablation(extra: &str) -> String {
        format!(
            "model = \"bvlc\"\n[[claim]]\nname = \"abl\"\nkind = \"ablation_effect\"\ntap = \"inception_3b_output\"\nchannels = [358, 9]\nablation = \"zero\"\ntest = {{ images = \"imagenet-sample\", limit = 8 }}\n{extra}\n"
        )
    }

    #[test]
    fn defaults_and_image_claims_take_their_documented_defaults() {
        let file = load(&ablation("metric = \"cross_entropy\"\nmin_change = 0.05")).unwrap();
        assert_eq!(file.defaults, Defaults::default());
        assert_eq!(file.defaults.sigma_set, "imagenet-val/images");
        assert_eq!(file.defaults.sigma_images, 200);
        assert_eq!(file.defaults.batch_size, 16);
        assert_eq!(file.defaults.orientation_step_deg, 10.0);
        let ClaimKind::AblationEffect(c) = &file.claims[0].kind else {
            unreachable!()
        };
        assert_eq!(c.level, 0.95);
        assert_eq!(c.channels, Some(vec![358, 9]));
        assert_eq!(c.metric, Metric::CrossEntropy);
        assert_eq!(c.ablation.ablation(), crate::lab::Ablation::Zero);
        assert_eq!(AblationKind::Mean.ablation().arm_name(), "mean-ablate");
        // A partial [defaults] keeps the rest.
        let file = load(
            &ablation("metric = \"top1_accuracy\"\nmax_change = 0").replacen(
                "model = \"bvlc\"\n",
                "model = \"bvlc\"\n[defaults]\nbatch_size = 4\n",
                1,
            ),
        )
        .unwrap();
        assert_eq!(file.defaults.batch_size, 4);
        assert_eq!(file.defaults.sigma_images, 200);
    }

    #[test]
    fn image_claim_errors_name_the_claim_the_field_and_what_was_expected() {
        for (extra, expected) in [
            (
                "metric = \"cross_entropy\"\nmin_change = 0.05\nlevel = 1.5",
                "claim `abl`: level = 1.5 must be between 0 and 1",
            ),
            (
                "metric = \"accuracy\"\nmin_change = 0.05",
                "unknown variant `accuracy`, expected one of",
            ),
            (
                "metric = \"kl_from_baseline\"\nmin_change = 0.05",
                "metric must be cross_entropy, top1_accuracy or top5_accuracy",
            ),
            ("min_change = 0.05", "missing field `metric`"),
            (
                "metric = \"cross_entropy\"",
                "give `min_change` and/or `max_change`",
            ),
            (
                "metric = \"cross_entropy\"\nmin_change = 0\nmeans = { images = \"imagenet-val/images\" }",
                "`means` applies to a mean-ablation",
            ),
            (
                "metric = \"cross_entropy\"\nmin_chnage = 0",
                "unknown field `min_chnage`, expected one of",
            ),
        ] {
            let err = load(&ablation(extra)).unwrap_err();
            assert!(err.contains("h.toml"), "{err}");
            assert!(err.contains("claim `abl`"), "{err}");
            assert!(err.contains(expected), "`{expected}` missing from: {err}");
        }
        let err = load(
            &ablation("metric = \"cross_entropy\"\nmin_change = 0")
                .replace("[358, 9]", "[358, 480]"),
        )
        .unwrap_err();
        assert!(
            err.contains("channel 480 is out of range for inception_3b_output (480 channels)"),
            "{err}"
        );
        let err =
            load(&ablation("metric = \"cross_entropy\"\nmin_change = 0").replace("[358, 9]", "[]"))
                .unwrap_err();
        assert!(err.contains("`channels` is empty"), "{err}");
        let err = load(
            &ablation("metric = \"cross_entropy\"\nmin_change = 0")
                .replace("channels = [358, 9]\n", ""),
        )
        .unwrap_err();
        assert!(
            err.contains("give either `family`, or `tap` and `channels`"),
            "{err}"
        );
    }

    #[test]
    fn circuit_and_equivariance_claims_check_their_own_fields() {
        let curves = "circuits/families/bvlc/curves-3b.toml";
        let fraction = |extra: &str| {
            format!(
                "model = \"bvlc\"\n[[claim]]\nname = \"f\"\nkind = \"fraction_recovered\"\ncircuit = \"pixels\"\nfamily = \"{curves}\"\nrelative_to = \"zero\"\nmetric = \"cross_entropy\"\ntune = {{ images = \"imagenet-val/images\", limit = 4 }}\ntest = {{ images = \"imagenet-sample\", limit = 4 }}\nmin_lower_bound = 0.3\n{extra}\n"
            )
        };
        let file = load(&fraction("")).unwrap();
        let ClaimKind::FractionRecovered(c) = &file.claims[0].kind else {
            unreachable!()
        };
        assert_eq!((c.resamples, c.seed, c.level), (2000, 0, 0.95));
        assert_eq!(c.circuit.as_ref().unwrap().circuit, "pixels");
        for (extra, expected) in [
            ("resamples = 100", "resamples must be at least 2000"),
            (
                "lines = \"circuits/families/bvlc/lines-3a.toml\"",
                "`early_curves` and `lines` belong to the `upstream` circuit",
            ),
            ("level = 0", "level = 0 must be between 0 and 1"),
        ] {
            let err = load(&fraction(extra)).unwrap_err();
            assert!(err.contains("claim `f`") && err.contains(expected), "{err}");
        }
        let rot90 = |extra: &str| {
            format!(
                "model = \"bvlc\"\n[[claim]]\nname = \"e\"\nkind = \"equivariance\"\nfamily = \"{curves}\"\nmode = \"rot90_permutation\"\n{extra}\n"
            )
        };
        for (extra, expected) in [
            ("min_r = 0.5\norientation_step_deg = 40", "must divide 90°"),
            ("min_r = 1.5", "min_r = 1.5 must be between -1 and 1"),
            (
                "min_r = 0.5\nmax_error_deg = 5",
                "max_error_deg belongs to mode `peak_shift`",
            ),
            ("", "mode `rot90_permutation` needs `min_r`"),
            ("min_r = 0.5\nline_width = 0", "line_width must be positive"),
        ] {
            let err = load(&rot90(extra)).unwrap_err();
            assert!(err.contains("claim `e`") && err.contains(expected), "{err}");
        }
    }

    #[test]
    fn threshold_checks_say_the_bound_broken() {
        assert_eq!(check_level(0.9), Ok(()));
        assert_eq!(
            check_level(1.0),
            Err("level = 1 must be between 0 and 1".to_string())
        );
        assert_eq!(check_fraction("min_fraction", None), Ok(()));
        assert_eq!(check_fraction("min_fraction", Some(1.0)), Ok(()));
        assert_eq!(
            check_fraction("min_fraction", Some(1.2)),
            Err("min_fraction = 1.2 must be between 0 and 1".to_string())
        );
        assert_eq!(
            check_positive("tolerance_deg", 0.0),
            Err("tolerance_deg must be positive".to_string())
        );
        assert_eq!(check_correlation("min_r", -1.0), Ok(()));
        assert_eq!(
            check_metric(Metric::Top5Accuracy),
            Ok(()),
            "claims measure cross-entropy and accuracies"
        );
        let motif = |measure, min_r| WeightMotif {
            min_r,
            ..WeightMotif::bare(measure)
        };
        assert_eq!(
            motif_threshold(&motif(MotifMeasure::Falloff, Some(0.3))),
            Ok(())
        );
        assert_eq!(
            motif_threshold(&motif(MotifMeasure::Tangent, Some(0.3))),
            Err("measure `tangent` needs `max_deg`".to_string())
        );
        assert_eq!(
            motif_threshold(&motif(MotifMeasure::AlignedVsOpposite, None)),
            Err("measure `aligned_vs_opposite` needs `min_fraction`".to_string())
        );
    }
}
