//! Downloading the published weight files, verified against checksums pinned from their
//! publishers.
//!
//! | model | file | from | verified by |
//! |---|---|---|---|
//! | `lucid` | `inception5h.zip` | Google (`download.tensorflow.org`) | SHA-256 pinned in TensorFlow's own build files |
//! | `lucid` | `inception5h.pth` | the PyTorch port (ProGamerGov) | git blob SHA-1 from the repository's tree |
//! | `bvlc` | `bvlc_googlenet.caffemodel` | BVLC (`dl.caffe.berkeleyvision.org`) | SHA-1 from the BVLC model zoo readme |
//!
//! Files go into a folder ([`default_dir`]: `downloads/` in the weight cache folder). A file
//! already there is verified and reused without touching the network, so users without
//! network access can place the files by hand: every failure says where, under which name,
//! and with which checksum. Downloads are written to a `.part` file, verified, and only then
//! renamed into place; a mismatch deletes the part file and reports expected and actual
//! checksums.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{WeightCache, WeightsError};

/// A checksum published for a file, in lower-case hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    Sha256(&'static str),
    /// Plain SHA-1 of the file (what the BVLC model zoo publishes). SHA-1 is weak against
    /// deliberate collisions but still detects corrupt and substituted downloads.
    Sha1(&'static str),
    /// Git's object id of the file: SHA-1 of `blob <size>\0` followed by the content. This
    /// is what a repository's tree records, so it can be read from the repository itself.
    GitBlobSha1(&'static str),
}

impl Checksum {
    pub fn algorithm(self) -> &'static str {
        match self {
            Checksum::Sha256(_) => "SHA-256",
            Checksum::Sha1(_) => "SHA-1",
            Checksum::GitBlobSha1(_) => "git blob SHA-1",
        }
    }

    pub fn expected(self) -> &'static str {
        match self {
            Checksum::Sha256(h) | Checksum::Sha1(h) | Checksum::GitBlobSha1(h) => h,
        }
    }

    /// The value of this kind of checksum among a file's digests.
    pub fn actual(self, d: &Digests) -> &str {
        match self {
            Checksum::Sha256(_) => &d.sha256,
            Checksum::Sha1(_) => &d.sha1,
            Checksum::GitBlobSha1(_) => &d.git_blob_sha1,
        }
    }

    pub fn matches(self, d: &Digests) -> bool {
        self.actual(d).eq_ignore_ascii_case(self.expected())
    }
}

/// A published weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Download {
    /// The model it provides weights for: `lucid` or `bvlc`.
    pub model: &'static str,
    pub description: &'static str,
    pub url: &'static str,
    pub file_name: &'static str,
    pub checksum: Checksum,
    /// Where the pinned checksum was published.
    pub checksum_source: &'static str,
}

/// Google's archive of the inception5h graph (Lucid's InceptionV1): holds
/// `tensorflow_inception_graph.pb` and the label strings.
pub const INCEPTION5H_ZIP: Download = Download {
    model: "lucid",
    description: "inception5h.zip, Google's TensorFlow graph of InceptionV1 (Lucid's model)",
    url: "https://storage.googleapis.com/download.tensorflow.org/models/inception5h.zip",
    file_name: "inception5h.zip",
    checksum: Checksum::Sha256("d13569f6a98159de37e92e9c8ec4dae8f674fbf475f69fe6199b514f756d4364"),
    checksum_source: "TensorFlow's own WORKSPACE (`new_http_archive(name = \"inception5h\", sha256 = …)` \
                      for the Android demo, 2017); projects that vendor the archive record the same value",
};

/// The PyTorch port of inception5h used by lucent.
pub const INCEPTION5H_PTH: Download = Download {
    model: "lucid",
    description: "inception5h.pth, the PyTorch port of the same graph (used by lucent)",
    url: "https://github.com/ProGamerGov/pytorch-old-tensorflow-models/raw/master/inception5h.pth",
    file_name: "inception5h.pth",
    checksum: Checksum::GitBlobSha1("119f77db85c8352960933e025312b507d9a96ed7"),
    checksum_source: "the git object id of inception5h.pth in the tree of \
                      ProGamerGov/pytorch-old-tensorflow-models at master (commit f8187b60fca8a3f5cfa541406dcbcefb80db5c78; \
                      the file last changed in 3903934634e85edb859a26bb1edeb0b8c3515f00); no SHA-256 is published",
};

/// BVLC's GoogLeNet, as released in the Caffe model zoo.
pub const BVLC_GOOGLENET: Download = Download {
    model: "bvlc",
    description: "bvlc_googlenet.caffemodel, BVLC's Caffe GoogLeNet",
    url: "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
    file_name: "bvlc_googlenet.caffemodel",
    checksum: Checksum::Sha1("405fc5acd08a3bb12de8ee5e23a96bec22f08204"),
    checksum_source: "the `sha1:` field of models/bvlc_googlenet/readme.md in BVLC/caffe \
                      (the model zoo publishes only a SHA-1)",
};

/// Every known download.
pub const DOWNLOADS: [Download; 3] = [INCEPTION5H_ZIP, INCEPTION5H_PTH, BVLC_GOOGLENET];

/// The downloads that provide a model's weights, preferred first. Accepts the same names
/// as the model crate: `lucid` / `inception5h` / `inceptionv1`, `bvlc` / `caffe` /
/// `googlenet` / `bvlc_googlenet`.
pub fn downloads_for(model: &str) -> Result<Vec<Download>, FetchError> {
    let key = match model.to_ascii_lowercase().as_str() {
        "lucid" | "inception5h" | "inceptionv1" => "lucid",
        "bvlc" | "caffe" | "googlenet" | "bvlc_googlenet" => "bvlc",
        _ => return Err(FetchError::UnknownModel(model.to_string())),
    };
    Ok(DOWNLOADS.into_iter().filter(|d| d.model == key).collect())
}

/// The default download folder: `downloads/` in [`WeightCache::default_dir`].
pub fn default_dir() -> PathBuf {
    WeightCache::default_dir().join("downloads")
}

/// How to fetch.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Never touch the network: use a file already present, or fail with instructions.
    pub offline: bool,
    /// Draw a progress bar on standard error (hidden anyway when it is not a terminal).
    pub progress: bool,
    /// Honour `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`.
    pub use_env_proxy: bool,
    /// Limit on connecting (DNS, TCP, TLS).
    pub connect_timeout: Duration,
    /// Limit on waiting for the response headers.
    pub response_timeout: Duration,
    /// Limit on receiving the whole body.
    pub body_timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            offline: false,
            progress: true,
            use_env_proxy: true,
            connect_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(3600),
        }
    }
}

/// What [`fetch`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The file was already in the folder and matched its checksum.
    AlreadyPresent,
    /// The file was downloaded and verified.
    Downloaded { bytes: u64 },
}

/// A verified weight file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    pub path: PathBuf,
    pub download: Download,
    pub outcome: FetchOutcome,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("unknown model `{0}`: expected `lucid` (inception5h) or `bvlc` (BVLC GoogLeNet)")]
    UnknownModel(String),
    #[error("offline, and {wanted} is not in {}.\n{instructions}", dir.display())]
    Offline {
        dir: PathBuf,
        wanted: String,
        instructions: String,
    },
    #[error("could not download the weights: {}.\n{instructions}", failures.join("; "))]
    Network {
        failures: Vec<String>,
        instructions: String,
    },
    #[error("{}: {algorithm} mismatch: expected {expected}, got {actual}. {advice}", path.display())]
    Checksum {
        path: PathBuf,
        algorithm: &'static str,
        expected: String,
        actual: String,
        advice: String,
    },
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

/// The digests a file can be checked against, and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub sha256: String,
    pub sha1: String,
    pub git_blob_sha1: String,
    pub size: u64,
}

/// SHA-256, SHA-1 and git blob SHA-1 of a file, in one pass.
pub fn digests(path: &Path) -> Result<Digests, WeightsError> {
    use sha1::Sha1;
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).map_err(|e| WeightsError::io(path, e))?;
    let size = file
        .metadata()
        .map_err(|e| WeightsError::io(path, e))?
        .len();
    let (mut s256, mut s1, mut git) = (Sha256::new(), Sha1::new(), Sha1::new());
    git.update(format!("blob {size}\0").as_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| WeightsError::io(path, e))?;
        if n == 0 {
            break;
        }
        read += n as u64;
        s256.update(&buf[..n]);
        s1.update(&buf[..n]);
        git.update(&buf[..n]);
    }
    if read != size {
        return Err(WeightsError::io(
            path,
            std::io::Error::other(format!(
                "the file changed while being read ({size} → {read} bytes)"
            )),
        ));
    }
    Ok(Digests {
        sha256: hex::encode(s256.finalize()),
        sha1: hex::encode(s1.finalize()),
        git_blob_sha1: hex::encode(git.finalize()),
        size,
    })
}

/// Check a file against a download's pinned checksum.
pub fn verify(download: &Download, path: &Path) -> Result<(), FetchError> {
    let d = digests(path)?;
    if download.checksum.matches(&d) {
        return Ok(());
    }
    Err(FetchError::Checksum {
        path: path.to_path_buf(),
        algorithm: download.checksum.algorithm(),
        expected: download.checksum.expected().to_string(),
        actual: download.checksum.actual(&d).to_string(),
        advice: format!(
            "This is not the published {} (its checksum is from {}). Remove or replace the file.",
            download.file_name, download.checksum_source
        ),
    })
}

/// The published file a local file is, if any (by its checksums).
pub fn identify(path: &Path) -> Result<Option<Download>, WeightsError> {
    if !path.is_file() {
        return Ok(None);
    }
    let d = digests(path)?;
    Ok(DOWNLOADS.into_iter().find(|dl| dl.checksum.matches(&d)))
}

/// How to install files by hand: where, under which name, with which checksum.
pub fn manual_instructions(downloads: &[Download], dir: &Path) -> String {
    let mut s = format!(
        "To install the weights by hand, download {} on a machine with network access and put it in {}:\n",
        if downloads.len() > 1 {
            "one of these files"
        } else {
            "this file"
        },
        dir.display()
    );
    for d in downloads {
        s.push_str(&format!(
            "  {}\n    from     {}\n    save as  {}\n    {}  {}\n",
            d.description,
            d.url,
            dir.join(d.file_name).display(),
            d.checksum.algorithm(),
            d.checksum.expected()
        ));
    }
    s.push_str(
        "Then run the command again: a file already there is verified and used without downloading.",
    );
    s
}

/// Fetch a model's weights into `dir`: reuse a verified file already there (any of the
/// model's downloads), else download them in order of preference.
pub fn fetch_model(model: &str, dir: &Path, options: &FetchOptions) -> Result<Fetched, FetchError> {
    let candidates = downloads_for(model)?;
    fetch_any(&candidates, dir, options)
}

/// [`fetch_model`] over an explicit list of downloads (tried in order).
pub fn fetch_any(
    candidates: &[Download],
    dir: &Path,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    if let Some(present) = candidates.iter().find(|d| dir.join(d.file_name).is_file()) {
        return fetch(present, dir, options);
    }
    let instructions = manual_instructions(candidates, dir);
    if options.offline {
        return Err(FetchError::Offline {
            dir: dir.to_path_buf(),
            wanted: names(candidates),
            instructions,
        });
    }
    let mut failures = Vec::new();
    for d in candidates {
        match fetch(d, dir, options) {
            Err(FetchError::Network { failures: f, .. }) => failures.extend(f),
            other => return other,
        }
    }
    Err(FetchError::Network {
        failures,
        instructions,
    })
}

fn names(candidates: &[Download]) -> String {
    let names: Vec<&str> = candidates.iter().map(|d| d.file_name).collect();
    match names.as_slice() {
        [one] => one.to_string(),
        many => format!("none of {}", many.join(", ")),
    }
}

/// Fetch one file into `dir`: verify and reuse it if present, else (unless offline)
/// download it to a `.part` file, verify, and rename it into place.
pub fn fetch(
    download: &Download,
    dir: &Path,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let target = dir.join(download.file_name);
    if target.is_file() {
        verify(download, &target)?;
        return Ok(Fetched {
            path: target,
            download: *download,
            outcome: FetchOutcome::AlreadyPresent,
        });
    }
    let instructions = || manual_instructions(std::slice::from_ref(download), dir);
    if options.offline {
        return Err(FetchError::Offline {
            dir: dir.to_path_buf(),
            wanted: download.file_name.to_string(),
            instructions: instructions(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| WeightsError::io(dir, e))?;
    let part = dir.join(format!(
        "{}.{}.part",
        download.file_name,
        std::process::id()
    ));
    let result = download_to(download, &part, options);
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(match e {
                Failure::Network(reason) => FetchError::Network {
                    failures: vec![format!("{}: {reason}", download.url)],
                    instructions: instructions(),
                },
                Failure::Local(e) => FetchError::Weights(e),
            });
        }
    };
    let d = digests(&part)?;
    if !download.checksum.matches(&d) {
        let _ = std::fs::remove_file(&part);
        return Err(FetchError::Checksum {
            path: target,
            algorithm: download.checksum.algorithm(),
            expected: download.checksum.expected().to_string(),
            actual: download.checksum.actual(&d).to_string(),
            advice: format!(
                "The download from {} ({} bytes) is corrupt or not the published file; it was deleted. \
                 The checksum is from {}.",
                download.url, d.size, download.checksum_source
            ),
        });
    }
    std::fs::rename(&part, &target).map_err(|e| {
        let _ = std::fs::remove_file(&part);
        WeightsError::io(&target, e)
    })?;
    Ok(Fetched {
        path: target,
        download: *download,
        outcome: FetchOutcome::Downloaded { bytes },
    })
}

enum Failure {
    Network(String),
    Local(WeightsError),
}

/// Stream a URL into `part` (synced to disk), with a progress bar. Returns the byte count.
fn download_to(download: &Download, part: &Path, options: &FetchOptions) -> Result<u64, Failure> {
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.response_timeout))
        .timeout_recv_body(Some(options.body_timeout))
        .user_agent(concat!("aann/", env!("CARGO_PKG_VERSION")));
    if !options.use_env_proxy {
        config = config.proxy(None);
    }
    let agent = ureq::Agent::new_with_config(config.build());
    let response = agent
        .get(download.url)
        .call()
        .map_err(|e| Failure::Network(describe_http_error(&e)))?;
    let total = response.body().content_length();
    let bar = if options.progress {
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{msg} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(download.file_name);
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut reader = response.into_body().into_reader();
    let file =
        std::fs::File::create(part).map_err(|e| Failure::Local(WeightsError::io(part, e)))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Failure::Network(format!("interrupted after {bytes} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        writer
            .write_all(&buf[..n])
            .map_err(|e| Failure::Local(WeightsError::io(part, e)))?;
        bytes += n as u64;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    if let Some(expected) = total
        && expected != bytes
    {
        return Err(Failure::Network(format!(
            "the server announced {expected} bytes and sent {bytes}"
        )));
    }
    let file = writer
        .into_inner()
        .map_err(|e| Failure::Local(WeightsError::io(part, e.into_error())))?;
    file.sync_all()
        .map_err(|e| Failure::Local(WeightsError::io(part, e)))?;
    Ok(bytes)
}

fn describe_http_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        ureq::Error::HostNotFound => "host not found (no network, or no DNS?)".to_string(),
        ureq::Error::ConnectionFailed => "connection failed (no network?)".to_string(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::Io(io) => format!("{io} (no network?)"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;

    fn quiet() -> FetchOptions {
        FetchOptions {
            progress: false,
            use_env_proxy: false,
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            ..Default::default()
        }
    }

    /// [`quiet`] options that never touch the network.
    fn quiet_offline() -> FetchOptions {
        FetchOptions {
            offline: true,
            ..quiet()
        }
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// A download of `name` from `url`, pinned to the SHA-256 of `content`.
    fn test_download(url: &str, name: &'static str, content: &[u8]) -> Download {
        use sha2::{Digest, Sha256};
        Download {
            model: "test",
            description: "a test file",
            url: leak(url.to_string()),
            file_name: name,
            checksum: Checksum::Sha256(leak(hex::encode(Sha256::digest(content)))),
            checksum_source: "the test",
        }
    }

    /// Serve one HTTP response on a loopback port; returns the base URL.
    fn serve_once(status: &'static str, body: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        });
        format!("http://{addr}")
    }

    fn part_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.ends_with(".part"))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_table_pins_published_checksums() {
        for d in DOWNLOADS {
            let hex_len = match d.checksum {
                Checksum::Sha256(_) => 64,
                _ => 40,
            };
            let h = d.checksum.expected();
            assert!(
                h.len() == hex_len && h.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}",
                d.file_name
            );
            assert!(d.url.ends_with(d.file_name), "{}", d.url);
        }
        let lucid: Vec<&str> = downloads_for("lucid")
            .unwrap()
            .iter()
            .map(|d| d.file_name)
            .collect();
        assert_eq!(lucid, ["inception5h.zip", "inception5h.pth"]);
        assert_eq!(
            downloads_for("BVLC_GoogLeNet").unwrap()[0].file_name,
            "bvlc_googlenet.caffemodel"
        );
        let err = downloads_for("resnet").unwrap_err().to_string();
        assert!(err.contains("resnet") && err.contains("lucid"), "{err}");
    }

    #[test]
    fn digests_match_known_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let d = digests(&path).unwrap();
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        // `git hash-object` of a file holding "abc".
        assert_eq!(d.git_blob_sha1, "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f");
        assert_eq!(d.size, 3);
    }

    #[test]
    fn no_network_fails_with_where_to_put_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on the discard port of the loopback interface: connection refused.
        let d = test_download("http://127.0.0.1:9/weights.bin", "weights.bin", b"x");
        let err = fetch(&d, dir.path(), &quiet()).unwrap_err();
        assert!(matches!(err, FetchError::Network { .. }), "{err:?}");
        let msg = err.to_string();
        let expected_path = dir.path().join("weights.bin");
        assert!(msg.contains("127.0.0.1:9"), "{msg}");
        assert!(msg.contains(&expected_path.display().to_string()), "{msg}");
        assert!(
            msg.contains(d.checksum.expected()) && msg.contains("SHA-256"),
            "{msg}"
        );
        assert!(part_files(dir.path()).is_empty());
        assert!(!expected_path.exists());

        // Offline: the same instructions, without trying.
        let err = fetch_model("bvlc", dir.path(), &quiet_offline()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, FetchError::Offline { .. }), "{msg}");
        assert!(
            msg.contains(
                &dir.path()
                    .join("bvlc_googlenet.caffemodel")
                    .display()
                    .to_string()
            ) && msg.contains("405fc5acd08a3bb12de8ee5e23a96bec22f08204")
                && msg.contains(BVLC_GOOGLENET.url),
            "{msg}"
        );
    }

    #[test]
    fn a_present_file_with_wrong_content_is_a_checksum_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = test_download("http://127.0.0.1:9/w.bin", "w.bin", b"the published bytes");
        std::fs::write(dir.path().join("w.bin"), b"something else").unwrap();
        // Offline or not, the present file is verified, never silently used or replaced.
        let err = fetch(&d, dir.path(), &quiet_offline()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, FetchError::Checksum { .. }), "{msg}");
        assert!(
            msg.contains("w.bin")
                && msg.contains(&format!("expected {}", d.checksum.expected()))
                && msg.contains("got "),
            "{msg}"
        );
        assert!(
            dir.path().join("w.bin").exists(),
            "a user's file is not deleted"
        );

        // The real table: a wrong file placed by hand as bvlc_googlenet.caffemodel.
        std::fs::write(
            dir.path().join("bvlc_googlenet.caffemodel"),
            b"not the model",
        )
        .unwrap();
        let err = fetch_model("bvlc", dir.path(), &quiet_offline())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SHA-1 mismatch")
                && err.contains("expected 405fc5acd08a3bb12de8ee5e23a96bec22f08204"),
            "{err}"
        );
    }

    #[test]
    fn a_download_is_verified_renamed_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"weights".repeat(10_000);
        let url = serve_once("200 OK", content.clone());
        let d = test_download(&format!("{url}/w.bin"), "w.bin", &content);
        let got = fetch(&d, dir.path(), &quiet()).unwrap();
        assert_eq!(got.outcome, FetchOutcome::Downloaded { bytes: 70_000 });
        assert_eq!(std::fs::read(&got.path).unwrap(), content);
        assert!(part_files(dir.path()).is_empty());
        // Second time: no server is listening any more; the file is verified and reused.
        let again = fetch(&d, dir.path(), &quiet()).unwrap();
        assert_eq!(again.outcome, FetchOutcome::AlreadyPresent);
    }

    #[test]
    fn a_corrupt_download_is_deleted_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let url = serve_once("200 OK", b"tampered".to_vec());
        let d = test_download(&format!("{url}/w.bin"), "w.bin", b"original");
        let err = fetch(&d, dir.path(), &quiet()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, FetchError::Checksum { .. }), "{msg}");
        assert!(
            msg.contains(d.checksum.expected()) && msg.contains("deleted"),
            "{msg}"
        );
        assert!(part_files(dir.path()).is_empty());
        assert!(!dir.path().join("w.bin").exists());
    }

    #[test]
    fn an_http_error_is_a_network_failure_with_instructions() {
        let dir = tempfile::tempdir().unwrap();
        let url = serve_once("404 Not Found", b"no".to_vec());
        let d = test_download(&format!("{url}/w.bin"), "w.bin", b"x");
        let msg = fetch_any(&[d], dir.path(), &quiet())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("HTTP 404") && msg.contains("save as"), "{msg}");
        assert!(part_files(dir.path()).is_empty());
    }
}
