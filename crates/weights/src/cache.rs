//! The native weight cache: a source file converted once into safetensors, keyed by the
//! source's SHA-256, so that later loads skip parsing pickles or zlib-compressed MATLAB
//! files and take a few milliseconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};

use crate::{NamedTensor, Result, Source, TensorSet, WeightsError, read_source, sha256_source};

/// Bumped whenever the conversion of a source changes, so stale caches are not reused.
const CACHE_FORMAT_VERSION: &str = "1";
const FORMAT: &str = "safetensors";

/// Read a safetensors file of `f32` tensors.
pub fn read_safetensors(path: &Path) -> Result<TensorSet> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| WeightsError::format(path, FORMAT, e))?;
    let mut set = TensorSet::new(Source {
        path: path.to_path_buf(),
        format: "safetensors",
    });
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(WeightsError::DType {
                path: path.to_path_buf(),
                name,
                dtype: format!("{:?}", view.dtype()),
            });
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        set.insert(name, NamedTensor::new(view.shape().to_vec(), data));
    }
    Ok(set)
}

/// Write a tensor set as safetensors (little-endian `f32`), with string metadata.
pub fn write_safetensors(
    path: &Path,
    set: &TensorSet,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = set
        .iter()
        .map(|(name, t)| {
            let mut b = Vec::with_capacity(t.data.len() * 4);
            for v in &t.data {
                b.extend_from_slice(&v.to_le_bytes());
            }
            (name.to_string(), b, t.shape.clone())
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = bytes
        .iter()
        .map(|(name, b, shape)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), b)
                .expect("shape and byte length agree by construction");
            (name.clone(), view)
        })
        .collect();
    let serialized = safetensors::serialize(views, Some(metadata))
        .map_err(|e| WeightsError::format(path, FORMAT, e))?;
    std::fs::write(path, serialized).map_err(|e| WeightsError::io(path, e))
}

/// A folder of converted weight sources.
#[derive(Clone, Debug)]
pub struct WeightCache {
    dir: PathBuf,
}

/// What [`WeightCache::load`] did, for logs and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The converted file was already in the cache.
    Hit,
    /// The source was parsed and the conversion written to the cache.
    Converted,
    /// A cached conversion did not match the checksum recorded beside it (altered, or
    /// written by a version that recorded none): the source was converted again.
    Rebuilt,
}

impl WeightCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        WeightCache { dir: dir.into() }
    }

    /// The cache folder: `$AANN_CACHE`, else `$XDG_CACHE_HOME/aann`, else `~/.cache/aann`,
    /// else `.aann-cache` in the working directory.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("AANN_CACHE") {
            return PathBuf::from(dir);
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(dir).join("aann");
        }
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(".cache").join("aann");
        }
        PathBuf::from(".aann-cache")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path the converted form of a source with this checksum has in the cache.
    pub fn entry_path(&self, source_sha256: &str) -> PathBuf {
        self.dir.join(format!(
            "weights-v{CACHE_FORMAT_VERSION}-{}.safetensors",
            &source_sha256[..32]
        ))
    }

    /// The checksum file kept beside a cached conversion: the SHA-256 of its bytes.
    pub fn checksum_path(&self, source_sha256: &str) -> PathBuf {
        let entry = self.entry_path(source_sha256);
        entry.with_extension("safetensors.sha256")
    }

    /// Load a weight source through the cache. The returned set names the original source
    /// (so errors point at the user's file), with "(cached)" added to its format.
    ///
    /// A cached conversion is used only when its bytes match the SHA-256 recorded beside it
    /// at conversion time; otherwise (an altered or truncated file, or no checksum) the
    /// source is converted again and a warning says so.
    pub fn load(&self, source: &Path) -> Result<(TensorSet, CacheOutcome)> {
        let sha = sha256_source(source)?;
        let entry = self.entry_path(&sha);
        let mut rebuilt = false;
        if entry.is_file() {
            match self.read_verified(&sha) {
                Ok(mut set) => {
                    let format = SourceFormatName::of(source);
                    set.source = Source {
                        path: source.to_path_buf(),
                        format,
                    };
                    return Ok((set, CacheOutcome::Hit));
                }
                Err(reason) => {
                    eprintln!(
                        "warning: the cached conversion {} of {} is not trusted ({reason}); converting the source again",
                        entry.display(),
                        source.display()
                    );
                    rebuilt = true;
                }
            }
        }
        let set = read_source(source)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| WeightsError::io(&self.dir, e))?;
        let metadata = HashMap::from([
            ("source".to_string(), source.display().to_string()),
            ("source_format".to_string(), set.source.format.to_string()),
            ("source_sha256".to_string(), sha.clone()),
            (
                "aann_cache_version".to_string(),
                CACHE_FORMAT_VERSION.to_string(),
            ),
        ]);
        // Write to a temporary name unique to this writer and rename: a crash never leaves
        // a half-written entry under the final name, and concurrent writers race harmlessly.
        let tmp = unique_temporary(&entry);
        write_safetensors(&tmp, &set, metadata)?;
        let bytes = std::fs::read(&tmp).map_err(|e| WeightsError::io(&tmp, e))?;
        let checksum = crate::sha256_hex(&bytes);
        let sum_path = self.checksum_path(&sha);
        let sum_tmp = unique_temporary(&sum_path);
        std::fs::write(&sum_tmp, &checksum).map_err(|e| WeightsError::io(&sum_tmp, e))?;
        std::fs::rename(&sum_tmp, &sum_path).map_err(|e| WeightsError::io(&sum_path, e))?;
        std::fs::rename(&tmp, &entry).map_err(|e| WeightsError::io(&entry, e))?;
        Ok((
            set,
            if rebuilt {
                CacheOutcome::Rebuilt
            } else {
                CacheOutcome::Converted
            },
        ))
    }

    /// Read a cached conversion if its bytes match the checksum recorded beside it.
    fn read_verified(&self, source_sha256: &str) -> std::result::Result<TensorSet, String> {
        let entry = self.entry_path(source_sha256);
        let sum_path = self.checksum_path(source_sha256);
        let expected = std::fs::read_to_string(&sum_path)
            .map_err(|_| format!("no checksum at {}", sum_path.display()))?;
        let bytes = std::fs::read(&entry).map_err(|e| e.to_string())?;
        let actual = crate::sha256_hex(&bytes);
        if actual != expected.trim() {
            return Err(format!(
                "its SHA-256 is {actual}, the checksum recorded at conversion is {}",
                expected.trim()
            ));
        }
        read_safetensors(&entry).map_err(|e| e.to_string())
    }

    /// Remove the cached conversion of a source (e.g. one that failed validation as a
    /// model's weights), so that it is never used again.
    pub fn evict(&self, source: &Path) -> Result<()> {
        let sha = sha256_source(source)?;
        for path in [self.entry_path(&sha), self.checksum_path(&sha)] {
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| WeightsError::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// A temporary name beside `path` that no other writer (process or thread) uses.
pub fn unique_temporary(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.tmp-{}-{n}-{nanos:08x}",
        std::process::id()
    ))
}

struct SourceFormatName;

impl SourceFormatName {
    fn of(source: &Path) -> &'static str {
        match crate::SourceFormat::detect(source) {
            Ok(crate::SourceFormat::Pth) => "PyTorch .pth (cached)",
            Ok(crate::SourceFormat::MatDirectory) => "BVLC per-layer .mat directory (cached)",
            Ok(crate::SourceFormat::TfGraphDef) => "TensorFlow GraphDef (cached)",
            Ok(crate::SourceFormat::CaffeModel) => "Caffe .caffemodel (cached)",
            _ => "safetensors (cached)",
        }
    }
}
