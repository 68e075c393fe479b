//! Circuits by name. A `[[circuits]]` table, a claim file's `circuit = "…"` and the command
//! line's `--circuit` all name a circuit that a [`CircuitRegistry`] knows how to build: a
//! kind (`pixels`, `upstream`, or one a user registered), the keys of its table, and what
//! the experiment needs to know before building it (where its upstream normalisers are
//! read, which layer its units stand in for, which files it reads). The shipped circuits
//! register themselves through the same [`CircuitEntry`] as any user's
//! ([`CircuitRegistry::shipped`]); a user binary adds its own and hands the registry to the
//! session ([`crate::lab::Session::with_circuits`]) or to a check
//! ([`crate::hypotheses::CheckOptions::circuits`]), and every run, control, null and report
//! then treats its circuit like a shipped one.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use aann_circuits::Circuit;
use aann_model::{Family, Tap, Variant};

use crate::EvalError;
use crate::means::ActivationStats;

/// A circuit as a spec names it: its registered kind and its own keys (normalised by the
/// registry: every key the kind writes, defaults filled in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CircuitChoice {
    pub kind: String,
    #[serde(flatten)]
    pub keys: toml::Table,
}

impl CircuitChoice {
    /// A kind with the keys of its table.
    pub fn new(kind: impl Into<String>, keys: toml::Table) -> Self {
        CircuitChoice {
            kind: kind.into(),
            keys,
        }
    }
}

/// What a circuit is built from: the model's variant and device, the repository its files
/// are relative to, the natural statistics of its upstream tap (when its entry names one), and
/// hand-set numbers overriding its own (a TOML text, from a spec's `spec = "…"`).
pub struct CircuitInputs<'a> {
    pub variant: Variant,
    pub device: &'a burn::tensor::Device,
    pub repo: &'a Path,
    pub upstream: Option<&'a ActivationStats>,
    pub numbers: Option<&'a str>,
}

impl CircuitInputs<'_> {
    /// A family file relative to the repository.
    pub fn family(&self, relative: &str) -> Result<Family, EvalError> {
        Ok(Family::load(&self.repo.join(relative))?)
    }

    /// The upstream statistics, which must be of `tap`.
    pub fn upstream_at(&self, tap: Tap) -> Result<&ActivationStats, EvalError> {
        let stats = self.upstream.ok_or_else(|| {
            EvalError::Spec("this circuit needs natural statistics of its upstream tap".into())
        })?;
        let name = tap.name(self.variant);
        if stats.tap != name {
            return Err(EvalError::Spec(format!(
                "upstream statistics are for {}, the circuit reads {name}",
                stats.tap
            )));
        }
        Ok(stats)
    }

    /// The hand-set numbers: the override when there is one, else `standard`.
    pub fn numbers_or<T: DeserializeOwned>(
        &self,
        standard: impl FnOnce() -> T,
    ) -> Result<T, EvalError> {
        match self.numbers {
            Some(text) => {
                toml::from_str(text).map_err(|e| EvalError::Spec(format!("circuit spec: {e}")))
            }
            None => Ok(standard()),
        }
    }
}

type BuildFn<K> =
    dyn Fn(&K, &CircuitInputs<'_>) -> Result<Arc<dyn Circuit>, EvalError> + Send + Sync;
type UpstreamFn<K> = dyn Fn(&K, &Path) -> Result<Option<Tap>, EvalError> + Send + Sync;
type KeyFn<K, T> = dyn Fn(&K) -> T + Send + Sync;
type PresetFn<K> = dyn Fn(Variant) -> K + Send + Sync;

/// One kind of circuit: its name, the keys of its table (`K`, a serde type), and how it is
/// built. Only the name, keys and builder are required.
pub struct CircuitEntry<K> {
    kind: String,
    keys: Vec<String>,
    build: Box<BuildFn<K>>,
    label: Option<Box<KeyFn<K, String>>>,
    upstream: Option<Box<UpstreamFn<K>>>,
    stands_in_for: Option<Box<KeyFn<K, Tap>>>,
    files: Option<Box<KeyFn<K, Vec<String>>>>,
    numbers: Option<Box<KeyFn<K, String>>>,
    presets: Vec<(String, Box<PresetFn<K>>)>,
}

impl<K: Serialize + DeserializeOwned + Send + Sync + 'static> CircuitEntry<K> {
    /// A kind named `kind`, whose table may have `keys` (besides the shared `name`,
    /// `calibration`, `fit` and `spec`), built by `build` from the parsed keys.
    pub fn new(
        kind: &str,
        keys: &[&str],
        build: impl Fn(&K, &CircuitInputs<'_>) -> Result<Arc<dyn Circuit>, EvalError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        CircuitEntry {
            kind: kind.to_string(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            build: Box::new(build),
            label: None,
            upstream: None,
            stands_in_for: None,
            files: None,
            numbers: None,
            presets: Vec::new(),
        }
    }

    /// The circuit's name in arm names (`replace-<label>`); default: the kind.
    pub fn label(mut self, f: impl Fn(&K) -> String + Send + Sync + 'static) -> Self {
        self.label = Some(Box::new(f));
        self
    }

    /// The tap whose natural statistics (on the tune split) the circuit's normalisers come
    /// from, given the keys and the repository; they reach the builder as
    /// [`CircuitInputs::upstream`].
    pub fn upstream(
        mut self,
        f: impl Fn(&K, &Path) -> Result<Option<Tap>, EvalError> + Send + Sync + 'static,
    ) -> Self {
        self.upstream = Some(Box::new(f));
        self
    }

    /// The layer whose neurons the circuit's units stand in for, when fixed: a family
    /// elsewhere is refused before anything is built.
    pub fn stands_in_for(mut self, f: impl Fn(&K) -> Tap + Send + Sync + 'static) -> Self {
        self.stands_in_for = Some(Box::new(f));
        self
    }

    /// Files (relative to the repository) the circuit reads: hashed into the provenance.
    pub fn files(mut self, f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static) -> Self {
        self.files = Some(Box::new(f));
        self
    }

    /// Its shipped hand-set numbers as TOML (`aann circuits spec`; edit and pass back with
    /// `spec = "…"`).
    pub fn numbers(mut self, f: impl Fn(&K) -> String + Send + Sync + 'static) -> Self {
        self.numbers = Some(Box::new(f));
        self
    }

    /// A name (`--circuit`, a claim's `circuit`) for this kind with keys made for a model.
    pub fn preset(mut self, name: &str, f: impl Fn(Variant) -> K + Send + Sync + 'static) -> Self {
        self.presets.push((name.to_string(), Box::new(f)));
        self
    }

    fn parse(&self, keys: &toml::Table) -> Result<K, String> {
        keys.clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("circuit kind `{}`: {}", self.kind, e.message()))
    }
}

/// A registered kind, its key type erased.
trait Entry: Send + Sync {
    fn kind(&self) -> &str;
    fn keys(&self) -> &[String];
    fn normalise(&self, keys: &toml::Table) -> Result<toml::Table, String>;
    fn label(&self, keys: &toml::Table) -> Result<String, String>;
    fn build(
        &self,
        keys: &toml::Table,
        inputs: &CircuitInputs<'_>,
    ) -> Result<Arc<dyn Circuit>, EvalError>;
    fn upstream(&self, keys: &toml::Table, repo: &Path) -> Result<Option<Tap>, EvalError>;
    fn stands_in_for(&self, keys: &toml::Table) -> Result<Option<Tap>, String>;
    fn files(&self, keys: &toml::Table) -> Result<Vec<String>, String>;
    fn numbers(&self, keys: &toml::Table) -> Result<Option<String>, String>;
    fn presets(&self) -> Vec<&str>;
    fn preset(&self, name: &str, variant: Variant) -> Option<Result<toml::Table, String>>;
}

fn to_table<K: Serialize>(k: &K) -> Result<toml::Table, String> {
    toml::Table::try_from(k).map_err(|e| e.to_string())
}

impl<K: Serialize + DeserializeOwned + Send + Sync + 'static> Entry for CircuitEntry<K> {
    fn kind(&self) -> &str {
        &self.kind
    }
    fn keys(&self) -> &[String] {
        &self.keys
    }
    fn normalise(&self, keys: &toml::Table) -> Result<toml::Table, String> {
        to_table(&self.parse(keys)?)
    }
    fn label(&self, keys: &toml::Table) -> Result<String, String> {
        let k = self.parse(keys)?;
        Ok(self.label.as_ref().map_or(self.kind.clone(), |f| f(&k)))
    }
    fn build(
        &self,
        keys: &toml::Table,
        inputs: &CircuitInputs<'_>,
    ) -> Result<Arc<dyn Circuit>, EvalError> {
        (self.build)(&self.parse(keys).map_err(EvalError::Spec)?, inputs)
    }
    fn upstream(&self, keys: &toml::Table, repo: &Path) -> Result<Option<Tap>, EvalError> {
        match &self.upstream {
            Some(f) => f(&self.parse(keys).map_err(EvalError::Spec)?, repo),
            None => Ok(None),
        }
    }
    fn stands_in_for(&self, keys: &toml::Table) -> Result<Option<Tap>, String> {
        let k = self.parse(keys)?;
        Ok(self.stands_in_for.as_ref().map(|f| f(&k)))
    }
    fn files(&self, keys: &toml::Table) -> Result<Vec<String>, String> {
        let k = self.parse(keys)?;
        Ok(self.files.as_ref().map_or(Vec::new(), |f| f(&k)))
    }
    fn numbers(&self, keys: &toml::Table) -> Result<Option<String>, String> {
        let k = self.parse(keys)?;
        Ok(self.numbers.as_ref().map(|f| f(&k)))
    }
    fn presets(&self) -> Vec<&str> {
        self.presets.iter().map(|(n, _)| n.as_str()).collect()
    }
    fn preset(&self, name: &str, variant: Variant) -> Option<Result<toml::Table, String>> {
        self.presets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| to_table(&f(variant)))
    }
}

/// The keys every `[[circuits]]` table may have, whatever its kind.
pub const CIRCUIT_COMMON_KEYS: [&str; 5] = ["kind", "name", "calibration", "fit", "spec"];

/// The circuits a run can build, by kind.
#[derive(Clone)]
pub struct CircuitRegistry {
    entries: Vec<Arc<dyn Entry>>,
}

impl Default for CircuitRegistry {
    /// The shipped circuits.
    fn default() -> Self {
        CircuitRegistry::shipped()
    }
}

impl fmt::Debug for CircuitRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CircuitRegistry")
            .field(&self.kinds())
            .finish()
    }
}

impl CircuitRegistry {
    /// No circuits at all.
    pub fn empty() -> Self {
        CircuitRegistry {
            entries: Vec::new(),
        }
    }

    /// The shipped circuits: `pixels` (presets `pixels`, `pixels-colour`,
    /// `pixels-early-curves`) and `upstream` (preset `upstream`).
    pub fn shipped() -> Self {
        super::shipped::register(CircuitRegistry::empty())
    }

    /// Add a kind. Panics if the kind or one of its presets is already registered (a
    /// name means one circuit).
    pub fn register<K: Serialize + DeserializeOwned + Send + Sync + 'static>(
        mut self,
        entry: CircuitEntry<K>,
    ) -> Self {
        let taken = self.names();
        for name in std::iter::once(entry.kind.as_str()).chain(entry.presets()) {
            assert!(
                !taken.iter().any(|t| t == name),
                "circuit name `{name}` is already registered"
            );
        }
        self.entries.push(Arc::new(entry));
        self
    }

    /// The registered kinds, in order of registration.
    pub fn kinds(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.kind()).collect()
    }

    /// Every name `--circuit` and claim files accept: the presets, then kinds without one.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .entries
            .iter()
            .flat_map(|e| e.presets())
            .map(str::to_string)
            .collect();
        for k in self.kinds() {
            if !names.iter().any(|n| n == k) {
                names.push(k.to_string());
            }
        }
        names
    }

    fn find(&self, kind: &str) -> Option<&dyn Entry> {
        self.entries
            .iter()
            .find(|e| e.kind() == kind)
            .map(|e| e.as_ref())
    }

    fn entry(&self, kind: &str) -> Result<&dyn Entry, EvalError> {
        self.find(kind).ok_or_else(|| {
            EvalError::Spec(format!(
                "unknown circuit kind `{kind}` in [[circuits]]: the registered kinds are {}",
                self.kinds().join(", ")
            ))
        })
    }

    /// Every key a `[[circuits]]` table of `kind` may have.
    pub fn valid_keys(&self, kind: &str) -> Result<Vec<String>, EvalError> {
        let entry = self.entry(kind)?;
        Ok(CIRCUIT_COMMON_KEYS
            .iter()
            .map(|k| k.to_string())
            .chain(entry.keys().iter().cloned())
            .collect())
    }

    /// `choice` checked against its kind (a kind not registered, a key it does not
    /// accept or a value that does not parse is an error naming the valid ones) and
    /// normalised: every key the kind writes, defaults filled in.
    pub fn check(&self, choice: &CircuitChoice) -> Result<CircuitChoice, EvalError> {
        let valid = self.valid_keys(&choice.kind)?;
        if let Some(bad) = choice.keys.keys().find(|k| !valid.contains(k)) {
            return Err(EvalError::Spec(format!(
                "unknown key `{bad}` in a [[circuits]] table of kind `{}`; valid keys: {}",
                choice.kind,
                valid.join(", ")
            )));
        }
        let keys = self
            .entry(&choice.kind)?
            .normalise(&choice.keys)
            .map_err(EvalError::Spec)?;
        Ok(CircuitChoice::new(choice.kind.clone(), keys))
    }

    /// The circuit a name stands for (`pixels-colour`, `upstream`, a user's kind), with
    /// the model's keys; `extra` keys (a claim's `early_curves`) replace the preset's.
    pub fn named(
        &self,
        name: &str,
        variant: Variant,
        extra: toml::Table,
    ) -> Result<CircuitChoice, EvalError> {
        let found = self
            .entries
            .iter()
            .find_map(|e| e.preset(name, variant).map(|t| (e.kind(), t)));
        let (kind, mut keys) = match found {
            Some((kind, keys)) => (kind, keys.map_err(EvalError::Spec)?),
            None if self.find(name).is_some() => (name, toml::Table::new()),
            None => {
                return Err(EvalError::Spec(format!(
                    "unknown circuit `{name}`: expected one of {}",
                    self.names().join(", ")
                )));
            }
        };
        keys.extend(extra);
        self.check(&CircuitChoice::new(kind, keys))
    }

    /// The circuit's name in arm names: its entry's label, or its kind.
    pub fn label(&self, choice: &CircuitChoice) -> String {
        self.find(&choice.kind)
            .and_then(|e| e.label(&choice.keys).ok())
            .unwrap_or_else(|| choice.kind.clone())
    }

    /// Build the circuit.
    pub fn build(
        &self,
        choice: &CircuitChoice,
        inputs: &CircuitInputs<'_>,
    ) -> Result<Arc<dyn Circuit>, EvalError> {
        self.entry(&choice.kind)?.build(&choice.keys, inputs)
    }

    /// The tap the circuit's upstream normalisers are read at, if any.
    pub fn upstream_tap(
        &self,
        choice: &CircuitChoice,
        repo: &Path,
    ) -> Result<Option<Tap>, EvalError> {
        self.entry(&choice.kind)?.upstream(&choice.keys, repo)
    }

    /// The layer the circuit's units stand in for, when fixed.
    pub fn stands_in_for(&self, choice: &CircuitChoice) -> Result<Option<Tap>, EvalError> {
        self.entry(&choice.kind)?
            .stands_in_for(&choice.keys)
            .map_err(EvalError::Spec)
    }

    /// The files (relative to the repository) the circuit reads.
    pub fn files(&self, choice: &CircuitChoice) -> Result<Vec<String>, EvalError> {
        self.entry(&choice.kind)?
            .files(&choice.keys)
            .map_err(EvalError::Spec)
    }

    /// The circuit's shipped hand-set numbers as TOML.
    pub fn numbers(&self, choice: &CircuitChoice) -> Result<String, EvalError> {
        self.entry(&choice.kind)?
            .numbers(&choice.keys)
            .map_err(EvalError::Spec)?
            .ok_or_else(|| {
                EvalError::Spec(format!(
                    "circuit kind `{}` publishes no hand-set numbers",
                    choice.kind
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CircuitSpec, ExperimentSpec};

    /// A user's kind: the shipped upstream circuit under another name, with one key of
    /// its own.
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EchoKeys {
        #[serde(default = "half")]
        echo: f64,
    }

    fn half() -> f64 {
        0.5
    }

    fn with_test_kind() -> CircuitRegistry {
        CircuitRegistry::shipped().register(
            CircuitEntry::new("test-curves", &["echo"], |_: &EchoKeys, _| {
                Err(EvalError::Spec("not built in these tests".into()))
            })
            .stands_in_for(|_| Tap::mixed(aann_model::Block::B3b)),
        )
    }

    const SPEC: &str = r#"
name = "t"
model = "bvlc"
[tune]
images = "imagenet-val/images"
[test]
images = "imagenet-sample"
[target]
family = "circuits/families/bvlc/curves-3b.toml"
[[circuits]]
kind = "test-curves"
echo = 0.25
[run]
out = "results/t"
"#;

    fn load(text: &str, registry: &CircuitRegistry) -> Result<ExperimentSpec, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        ExperimentSpec::load_with(&path, &[], registry).map_err(|e| e.to_string())
    }

    #[test]
    fn an_unknown_kind_is_refused_naming_every_registered_kind() {
        let err = load(SPEC, &CircuitRegistry::shipped()).unwrap_err();
        assert!(
            err.contains("unknown circuit kind `test-curves`")
                && err.contains("the registered kinds are pixels, upstream, gabors"),
            "{err}"
        );
        let err = load(&SPEC.replace("test-curves", "curvez"), &with_test_kind()).unwrap_err();
        assert!(
            err.contains("the registered kinds are pixels, upstream, gabors, test-curves"),
            "{err}"
        );
        let err = with_test_kind()
            .named("pixel", aann_model::Variant::Bvlc, toml::Table::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "expected one of pixels, pixels-colour, pixels-early-curves, pixels-pooled-lines, pixels-lines, upstream, gabors, test-curves"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_registered_kind_parses_its_own_keys_and_refuses_others() {
        let registry = with_test_kind();
        let spec = load(SPEC, &registry).unwrap();
        let c = &spec.circuits[0];
        assert_eq!(c.choice.kind, "test-curves");
        assert_eq!(c.choice.keys["echo"].as_float(), Some(0.25));
        assert_eq!(c.condition_name(&registry), "replace-test-curves");
        // Defaults filled in by the kind's own type.
        let spec = load(&SPEC.replace("echo = 0.25\n", ""), &registry).unwrap();
        assert_eq!(spec.circuits[0].choice.keys["echo"].as_float(), Some(0.5));
        let err = load(&SPEC.replace("echo =", "colour ="), &registry).unwrap_err();
        assert!(
            err.contains("unknown key `colour` in a [[circuits]] table of kind `test-curves`")
                && err.contains("valid keys: kind, name, calibration, fit, spec, echo"),
            "{err}"
        );
        let err = load(&SPEC.replace("0.25", "\"loud\""), &registry).unwrap_err();
        assert!(
            err.contains("circuit kind `test-curves`: invalid type: string \"loud\""),
            "{err}"
        );
        assert_eq!(
            registry.stands_in_for(&spec.circuits[0].choice).unwrap(),
            Some(Tap::mixed(aann_model::Block::B3b))
        );
        assert!(
            std::panic::catch_unwind(|| with_test_kind().register(CircuitEntry::new(
                "pixels-colour",
                &[],
                |_: &EchoKeys, _| Err(EvalError::Spec("never".into()))
            )))
            .is_err(),
            "a name registered twice"
        );
    }

    /// Whitespace outside strings removed: JSON as `serde_json::to_string` writes it.
    fn compact(json: &str) -> String {
        let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
        for ch in json.chars() {
            if in_string {
                in_string = escaped || ch != '"';
                escaped = !escaped && ch == '\\';
            } else if ch.is_whitespace() {
                continue;
            } else {
                in_string = ch == '"';
            }
            out.push(ch);
        }
        out
    }

    /// The committed results still parse, and their spec's circuits (pixels with and
    /// without colour, upstream with and without numbers of their own) serialise to the
    /// very bytes they were written with, before and after the shipped registry checks them.
    #[test]
    fn shipped_specs_echo_the_same_bytes_as_before() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/curves-bvlc.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let result: crate::experiment::ExperimentResult = serde_json::from_str(&text).unwrap();
        let at = text.rfind("\"spec\": {").expect("the spec echo");
        let from = at + text[at..].find("\"circuits\": [").unwrap() + "\"circuits\": ".len();
        let to = from + text[from..].find("\n    ]").unwrap() + "\n    ]".len();
        let written = compact(&text[from..to]);
        assert_eq!(
            serde_json::to_string(&result.spec.circuits).unwrap(),
            written
        );
        let checked = result.spec.checked(&CircuitRegistry::shipped()).unwrap();
        assert_eq!(serde_json::to_string(&checked.circuits).unwrap(), written);
        assert_eq!(checked, result.spec);
    }

    /// Each shipped name parses to the keys its enum variant had, and a spec that leaves
    /// keys out gets them written (`colour = false`), as the enum wrote them.
    #[test]
    fn shipped_names_and_tables_parse_to_the_same_values_as_before() {
        let registry = CircuitRegistry::shipped();
        let bvlc = aann_model::Variant::Bvlc;
        let named = |n: &str| {
            let c = registry.named(n, bvlc, toml::Table::new()).unwrap();
            (serde_json::to_string(&c).unwrap(), registry.label(&c))
        };
        for (name, json, label) in [
            (
                "pixels",
                r#"{"kind":"pixels","colour":false}"#,
                "curves-from-pixels",
            ),
            (
                "pixels-colour",
                r#"{"kind":"pixels","colour":true}"#,
                "curves-from-pixels-colour",
            ),
            (
                "pixels-early-curves",
                r#"{"kind":"pixels","colour":false,"stage":"early-curves"}"#,
                "early-curves-from-pixels",
            ),
            (
                "upstream",
                r#"{"kind":"upstream","early_curves":"circuits/families/bvlc/early-curves-3a.toml","lines":"circuits/families/bvlc/lines-3a.toml"}"#,
                "curves-from-upstream",
            ),
        ] {
            assert_eq!(named(name), (json.to_string(), label.to_string()), "{name}");
        }
        let table: CircuitSpec =
            toml::from_str("kind = \"pixels\"\nstage = \"early-curves\"").unwrap();
        let checked = table.checked(&registry).unwrap();
        assert_eq!(
            serde_json::to_string(&checked).unwrap(),
            r#"{"kind":"pixels","colour":false,"stage":"early-curves","calibration":"family","fit":"least-squares"}"#
        );
        assert_eq!(
            registry.stands_in_for(&checked.choice).unwrap(),
            Some(aann_circuits::PixelStage::EarlyCurves.models())
        );
        assert!(
            registry
                .numbers(&checked.choice)
                .unwrap()
                .contains("orientations")
        );
    }
}
