//! What a weight file is: format, tensors and shapes, parameter count, checksum, and
//! whether it is one of the published files.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fetch::{self, Download};
use crate::{Result, SourceFormat, WeightsError, caffemodel, tf_graphdef};

/// One tensor as the model will see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
}

impl TensorInfo {
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A description of a weight source.
#[derive(Clone, Debug)]
pub struct WeightsInfo {
    pub path: PathBuf,
    pub format: SourceFormat,
    /// Size in bytes (of all files, for a directory).
    pub size: u64,
    /// SHA-256 of the file (of its files' names and hashes, for a directory), as used to key
    /// the weight cache.
    pub sha256: String,
    /// The published file it is, recognised by its pinned checksum.
    pub published: Option<Download>,
    /// Tensors in the names the model uses, sorted by name.
    pub tensors: Vec<TensorInfo>,
    pub num_parameters: usize,
    /// Format-specific remarks (layout, ignored tensors).
    pub notes: Vec<String>,
}

/// Describe any supported weight source.
pub fn describe(path: &Path) -> Result<WeightsInfo> {
    let format = SourceFormat::detect(path)?;
    let mut notes = Vec::new();
    let set = match format {
        SourceFormat::TfGraphDef => {
            let import = tf_graphdef::import_inception5h(path)?;
            notes.push(format!(
                "{} Const tensors mapped to inception5h.pth names (kernels HWIO → OIHW, \
                 softmax2_w [1024, 1008] → [1008, 1024])",
                import.set.len()
            ));
            if !import.ignored.is_empty() {
                notes.push(format!(
                    "{} other float constants ignored (auxiliary heads): {}",
                    import.ignored.len(),
                    import.ignored.join(", ")
                ));
            }
            if let Ok(Some(labels)) = tf_graphdef::read_zip_labels(path) {
                notes.push(format!(
                    "the archive holds {} label strings ({})",
                    labels.len(),
                    tf_graphdef::INCEPTION5H_LABELS
                ));
            }
            import.set
        }
        SourceFormat::CaffeModel => {
            let import = caffemodel::import(path)?;
            let layouts: Vec<&str> = import.layouts.iter().map(|l| l.describe()).collect();
            notes.push(format!(
                "{}; {} layers with parameters, {} without",
                layouts.join(" + "),
                import.layers_with_blobs,
                import.layers_without_blobs
            ));
            import.set
        }
        _ => crate::read_source(path)?,
    };
    let (size, sha256, published) = if path.is_dir() {
        (dir_size(path)?, crate::sha256_source(path)?, None)
    } else {
        let d = fetch::digests(path)?;
        let published = fetch::DOWNLOADS
            .into_iter()
            .find(|dl| dl.checksum.matches(&d));
        (d.size, d.sha256, published)
    };
    let tensors = set
        .iter()
        .map(|(name, t)| TensorInfo {
            name: name.to_string(),
            shape: t.shape.clone(),
        })
        .collect();
    Ok(WeightsInfo {
        path: path.to_path_buf(),
        format,
        size,
        sha256,
        published,
        tensors,
        num_parameters: set.num_parameters(),
        notes,
    })
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| WeightsError::io(dir, e))? {
        let entry = entry.map_err(|e| WeightsError::io(dir, e))?;
        let meta = entry
            .metadata()
            .map_err(|e| WeightsError::io(&entry.path(), e))?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for WeightsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "file        {}", self.path.display())?;
        writeln!(f, "format      {}", self.format)?;
        writeln!(f, "size        {} bytes", grouped(self.size))?;
        writeln!(f, "sha256      {}", self.sha256)?;
        match &self.published {
            Some(d) => writeln!(
                f,
                "published   yes: {} ({} {} matches)",
                d.file_name,
                d.checksum.algorithm(),
                d.checksum.expected()
            )?,
            None => writeln!(f, "published   not one of the published files aann knows")?,
        }
        writeln!(f, "tensors     {}", self.tensors.len())?;
        writeln!(f, "parameters  {}", grouped(self.num_parameters as u64))?;
        for note in &self.notes {
            writeln!(f, "note        {note}")?;
        }
        writeln!(f)?;
        let width = self
            .tensors
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "  {:<width$}  {:<20}  {:>12}",
            "name", "shape", "parameters"
        )?;
        for t in &self.tensors {
            let shape = format!("{:?}", t.shape);
            writeln!(
                f,
                "  {:<width$}  {:<20}  {:>12}",
                t.name,
                shape,
                grouped(t.num_elements() as u64)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(7_066_380), "7,066,380");
    }

    #[test]
    fn describes_a_safetensors_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let mut set = crate::TensorSet::new(crate::Source {
            path: path.clone(),
            format: "test",
        });
        set.insert(
            "a.weight",
            crate::NamedTensor::new(vec![2, 3], vec![0.0; 6]),
        );
        set.insert("a.bias", crate::NamedTensor::new(vec![2], vec![1.0; 2]));
        crate::cache::write_safetensors(&path, &set, Default::default()).unwrap();
        let info = describe(&path).unwrap();
        assert_eq!(info.format, SourceFormat::Safetensors);
        assert_eq!(info.num_parameters, 8);
        assert_eq!(info.sha256, crate::sha256_file(&path).unwrap());
        assert!(info.published.is_none());
        let text = info.to_string();
        assert!(
            text.contains("a.weight") && text.contains("[2, 3]"),
            "{text}"
        );
        assert!(text.contains("parameters  8"), "{text}");
    }
}
