//! Weight files for InceptionV1, read into one neutral form: named, row-major `f32` tensors.
//!
//! Users arrive with files in several formats: Google's original TensorFlow graph of Lucid's
//! InceptionV1 (`inception5h.zip` / `tensorflow_inception_graph.pb`, see [`tf_graphdef`]),
//! its PyTorch port (`inception5h.pth`), BVLC's original `bvlc_googlenet.caffemodel` (see
//! [`caffemodel`]), the same weights exported per layer to MATLAB (`.mat`), activations saved
//! by NumPy (`.npy`). Each reader here produces a [`TensorSet`]: a map
//! from the file's own tensor names to [`NamedTensor`]s, remembering which file they came
//! from so that every error can name it. The model crate maps those names onto its layer
//! table; this crate knows nothing of the architecture.
//!
//! Converting a source file is done once: [`cache::WeightCache`] stores the converted set
//! as safetensors, keyed by the source's SHA-256, so later loads are a memory copy.
//!
//! [`fetch`] downloads the published files (with checksums pinned to their publishers'
//! values) and [`info`] describes any weight file.

pub mod cache;
pub mod caffemodel;
pub mod fetch;
pub mod info;
pub mod mat;
pub mod npy;
pub mod proto;
pub mod pth;
pub mod tf_graphdef;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use cache::WeightCache;

/// Errors reading, checking or converting weight files. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid {format} file: {reason}")]
    Format {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{path}: tensor `{name}` is missing{hint}")]
    Missing {
        path: PathBuf,
        name: String,
        hint: String,
    },
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{path}: tensor `{name}` has element type {dtype}, expected a floating-point type")]
    DType {
        path: PathBuf,
        name: String,
        dtype: String,
    },
}

impl WeightsError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        WeightsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn format(path: &Path, format: &'static str, reason: impl fmt::Display) -> Self {
        WeightsError::Format {
            path: path.to_path_buf(),
            format,
            reason: reason.to_string(),
        }
    }
}

pub type Result<T, E = WeightsError> = std::result::Result<T, E>;

/// A dense tensor of `f32` in row-major (C) order.
#[derive(Clone, PartialEq)]
pub struct NamedTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl NamedTensor {
    /// A tensor from its shape and row-major data. Panics if they disagree: that is a bug in
    /// the caller, never a property of an input file (readers check files before building).
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data length does not match shape {shape:?}"
        );
        NamedTensor { shape, data }
    }

    pub fn num_elements(&self) -> usize {
        self.data.len()
    }

    /// The largest absolute value (0 for an empty tensor).
    pub fn max_abs(&self) -> f32 {
        self.data.iter().fold(0.0f32, |m, v| m.max(v.abs()))
    }
}

impl fmt::Debug for NamedTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedTensor{:?}", self.shape)
    }
}

/// Where a [`TensorSet`] came from: the path users gave, and the format it was read as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub format: &'static str,
}

/// A set of named tensors read from one weight source.
#[derive(Clone, Debug)]
pub struct TensorSet {
    pub source: Source,
    tensors: BTreeMap<String, NamedTensor>,
}

impl TensorSet {
    pub fn new(source: Source) -> Self {
        TensorSet {
            source,
            tensors: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, name: impl Into<String>, tensor: NamedTensor) {
        self.tensors.insert(name.into(), tensor);
    }

    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &NamedTensor)> {
        self.tensors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Total number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.tensors.values().map(NamedTensor::num_elements).sum()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor called `name`, or an error naming the file and suggesting near names.
    pub fn get(&self, name: &str) -> Result<&NamedTensor> {
        self.tensors.get(name).ok_or_else(|| self.missing(name))
    }

    /// Remove and return the tensor called `name`.
    pub fn take(&mut self, name: &str) -> Result<NamedTensor> {
        match self.tensors.remove(name) {
            Some(t) => Ok(t),
            None => Err(self.missing(name)),
        }
    }

    /// The tensor called `name`, checked to have exactly `expected` shape.
    pub fn get_shaped(&self, name: &str, expected: &[usize]) -> Result<&NamedTensor> {
        let t = self.get(name)?;
        if t.shape != expected {
            return Err(WeightsError::Shape {
                path: self.source.path.clone(),
                name: name.to_string(),
                expected: expected.to_vec(),
                found: t.shape.clone(),
            });
        }
        Ok(t)
    }

    fn missing(&self, name: &str) -> WeightsError {
        // Suggest names sharing the longest prefix: typos and renamed layers are the usual cause.
        let prefix: String = name.chars().take_while(|c| *c != '.').collect();
        let near: Vec<&str> = self
            .names()
            .filter(|n| {
                n.starts_with(&prefix) || name.starts_with(n.split('.').next().unwrap_or(""))
            })
            .take(6)
            .collect();
        let hint = if near.is_empty() {
            format!(
                " (the file has {} tensors, e.g. {})",
                self.len(),
                self.names().take(4).collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(" (similar names in the file: {})", near.join(", "))
        };
        WeightsError::Missing {
            path: self.source.path.clone(),
            name: name.to_string(),
            hint,
        }
    }
}

/// SHA-256 of bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| WeightsError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 identifying a weight source: the file's own hash, or for a directory (the BVLC
/// per-layer `.mat` export) the hash of its sorted file names and their contents' hashes.
pub fn sha256_source(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    if !path.is_dir() {
        return sha256_file(path);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| WeightsError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut hasher = Sha256::new();
    for p in &names {
        hasher.update(p.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(sha256_file(p)?.as_bytes());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The formats a weight source can be in, recognised from its path and first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// A PyTorch checkpoint (`torch.save` of a state dict).
    Pth,
    /// A directory of per-layer MATLAB files `<layer>_w.mat` / `<layer>_b.mat`.
    MatDirectory,
    /// A safetensors file (aann's own cache format, also accepted as input).
    Safetensors,
    /// A TensorFlow GraphDef (`.pb`, such as inception5h's `tensorflow_inception_graph.pb`),
    /// or a zip archive holding one (`inception5h.zip`).
    TfGraphDef,
    /// A Caffe model (`.caffemodel`, a binary `NetParameter`).
    CaffeModel,
}

impl SourceFormat {
    /// A short human name of the format.
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Pth => "PyTorch .pth",
            SourceFormat::MatDirectory => "BVLC per-layer .mat directory",
            SourceFormat::Safetensors => "safetensors",
            SourceFormat::TfGraphDef => tf_graphdef::FORMAT,
            SourceFormat::CaffeModel => caffemodel::FORMAT,
        }
    }

    /// Recognise a weight source, or explain what was expected.
    pub fn detect(path: &Path) -> Result<Self> {
        if path.is_dir() {
            let has_mat = std::fs::read_dir(path)
                .map_err(|e| WeightsError::io(path, e))?
                .filter_map(|e| e.ok())
                .any(|e| e.path().extension().is_some_and(|x| x == "mat"));
            return if has_mat {
                Ok(SourceFormat::MatDirectory)
            } else {
                Err(WeightsError::format(
                    path,
                    "weights directory",
                    "a weights directory must hold per-layer MATLAB files (<layer>_w.mat, <layer>_b.mat)",
                ))
            };
        }
        let mut head = [0u8; 8];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
            let n = f.read(&mut head).map_err(|e| WeightsError::io(path, e))?;
            if n < 8 {
                return Err(WeightsError::format(path, "weights", "file is too short"));
            }
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if head.starts_with(b"PK\x03\x04") {
            // PyTorch checkpoints are zip archives too: a zip is a GraphDef source only if it
            // holds a `.pb` (inception5h.zip), or is named `.zip` (then the reader explains).
            return Ok(if ext == "zip" || zip_holds_graph(path)? {
                SourceFormat::TfGraphDef
            } else {
                SourceFormat::Pth
            });
        }
        match ext.as_str() {
            "pth" | "pt" => Ok(SourceFormat::Pth),
            "safetensors" => Ok(SourceFormat::Safetensors),
            "pb" => Ok(SourceFormat::TfGraphDef),
            "caffemodel" => Ok(SourceFormat::CaffeModel),
            _ => Err(WeightsError::format(
                path,
                "weights",
                "unrecognised weights format: expected a TensorFlow GraphDef (.pb, or inception5h.zip), \
                 a Caffe .caffemodel, a PyTorch .pth, a safetensors file, or a directory of BVLC \
                 per-layer .mat files",
            )),
        }
    }
}

/// Read any supported weight source into a [`TensorSet`] (no caching; see [`WeightCache`]).
pub fn read_source(path: &Path) -> Result<TensorSet> {
    match SourceFormat::detect(path)? {
        SourceFormat::Pth => pth::read_pth(path),
        SourceFormat::MatDirectory => mat::read_layer_directory(path),
        SourceFormat::Safetensors => cache::read_safetensors(path),
        SourceFormat::TfGraphDef => tf_graphdef::read_inception5h(path),
        SourceFormat::CaffeModel => caffemodel::read_caffemodel(path),
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a zip archive has a `.pb` entry (a TensorFlow graph rather than a checkpoint).
fn zip_holds_graph(path: &Path) -> Result<bool> {
    let file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(archive) => Ok(tf_graphdef::entry_names(path, &archive)
            .is_ok_and(|names| names.iter().any(|n| n.ends_with(".pb")))),
        // Not a readable zip: let the PyTorch reader explain.
        Err(_) => Ok(false),
    }
}

/// Name well-known file formats by their first bytes, so that a reader of protobuf files
/// (which have no magic number of their own) can say what it was given instead.
pub(crate) fn sniff_other_format(bytes: &[u8]) -> Option<&'static str> {
    let magics: [(&[u8], &str); 7] = [
        (
            b"PK\x03\x04",
            "a zip archive (a PyTorch .pth, or an unextracted download?)",
        ),
        (b"\x93NUMPY", "a NumPy .npy array"),
        (b"\x89HDF", "an HDF5 file (Keras weights?)"),
        (b"MATLAB", "a MATLAB .mat file"),
        (b"\x1f\x8b", "a gzip-compressed file (extract it first)"),
        (b"<!DOCTYPE", "an HTML page (a failed download?)"),
        (b"<html", "an HTML page (a failed download?)"),
    ];
    if let Some((_, name)) = magics.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Some(name);
    }
    // Python pickles (old-style torch.save) start with the PROTO opcode 0x80 and a version.
    if bytes.len() > 2 && bytes[0] == 0x80 && (2..=5).contains(&bytes[1]) {
        return Some("a Python pickle (an old-style PyTorch checkpoint?)");
    }
    None
}
