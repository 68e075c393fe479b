//! `aann experiment SPEC --slurm N [--submit]`: the run as a SLURM job array of N shards
//! and a merge job that waits for all of them (`afterok`). Each shard is requeueable and
//! resumes from its own records; the merge unites them into the results folder, where the
//! summary equals an unsharded run's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

/// What the scripts need to know besides the command line.
pub struct SlurmRequest {
    pub jobs: usize,
    /// The results folder of the whole run (`run.out`).
    pub out: String,
    pub cpus: usize,
    /// Memory per shard, MiB.
    pub mem_mib: u64,
    /// Time per shard, minutes.
    pub minutes: u64,
    pub partition: Option<String>,
    /// The command line the user typed, without the program's name.
    pub args: Vec<String>,
}

/// The measured peak of the headline card in one process (BENCHMARKS.md: 1,047 MiB), for
/// a results folder that holds no earlier run to measure.
const MEASURED_PEAK_MIB: f64 = 1047.0;

impl SlurmRequest {
    /// Memory and time from the run in `out` if there is one (its peak and its seconds per
    /// test image), else from the card's measured peak and a generous time; a margin of half
    /// again on both, plus a fixed allowance for loading the weights.
    pub fn sized(
        jobs: usize,
        out: &str,
        test_images: usize,
        cpus: usize,
        args: Vec<String>,
    ) -> Self {
        let earlier: Option<serde_json::Value> =
            std::fs::read_to_string(Path::new(out).join("summary.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
        let peak = earlier
            .as_ref()
            .and_then(|s| s["peak_memory_mib"].as_f64())
            .unwrap_or(MEASURED_PEAK_MIB);
        let per_image = earlier.as_ref().and_then(|s| {
            let evaluated = s["images_evaluated"].as_f64()?;
            (evaluated > 0.0).then_some(s["seconds"].as_f64()? / evaluated)
        });
        let share = test_images.div_ceil(jobs.max(1)) as f64;
        // Without an earlier run: 12 s an image (BENCHMARKS.md puts the card's 50 arms and
        // both nulls on every image, refitted draws included, at 7–8 s an image on two
        // quiet cores; the margin below comes on top).
        let seconds = per_image.unwrap_or(12.0) * share;
        SlurmRequest {
            jobs,
            out: out.to_string(),
            cpus,
            mem_mib: (peak * 1.5 + 512.0).ceil() as u64,
            minutes: (seconds * 1.5 / 60.0).ceil() as u64 + 15,
            partition: None,
            args,
        }
    }

    /// The folder of the scripts and the jobs' logs.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(format!("{}-slurm", self.out))
    }

    /// The shards' results folders.
    fn shards(&self) -> String {
        format!("{}-shards", self.out)
    }

    fn header(&self, name: &str, log: &str) -> String {
        let mut h = format!(
            "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --cpus-per-task={}\n#SBATCH --mem={}M\n#SBATCH --time={}:{:02}:00\n#SBATCH --output={}/{log}\n#SBATCH --open-mode=append\n",
            self.cpus,
            self.mem_mib,
            self.minutes / 60,
            self.minutes % 60,
            absolute(&self.dir()).display(),
        );
        if let Some(p) = &self.partition {
            h.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        h
    }

    /// The two scripts: the array (one shard a job, requeueable) and the merge.
    pub fn scripts(&self, program: &Path, data_root: Option<&Path>) -> (String, String) {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut env = format!(
            "set -euo pipefail\ncd {}\n",
            quote(&cwd.display().to_string())
        );
        if let Some(d) = data_root {
            env.push_str(&format!(
                "export AANN_DATA={}\n",
                quote(&absolute(d).display().to_string())
            ));
        }
        if let Ok(c) = std::env::var("AANN_CACHE") {
            env.push_str(&format!("export AANN_CACHE={}\n", quote(&c)));
        }
        env.push_str(&format!("export RAYON_NUM_THREADS={}\n", self.cpus));
        let base: Vec<String> = std::iter::once(program.display().to_string())
            .chain(self.args.iter().cloned())
            .map(|a| quote(&a))
            .collect();
        let shards = self.shards();
        let mut array = self.header("aann-shard", "shard-%a.log");
        array.push_str(&format!(
            "#SBATCH --array=0-{}\n#SBATCH --requeue\n\n{env}\n# A requeued shard, or one submitted again alone (sbatch --array=K this script),\n# resumes from the records in its folder.\n{} --shard auto/{} --out {}/\"$SLURM_ARRAY_TASK_ID\"\n",
            self.jobs - 1,
            base.join(" "),
            self.jobs,
            quote(&shards),
        ));
        let folders: Vec<String> = (0..self.jobs)
            .map(|i| quote(&format!("{shards}/{i}")))
            .collect();
        let mut merge = self.header("aann-merge", "merge.log");
        merge.push_str(&format!(
            "\n{env}\n# Submitted with --dependency=afterok:<the array>: runs once every shard is done.\n{} --merge {} --out {}\n",
            base.join(" "),
            folders.join(" "),
            quote(&self.out),
        ));
        (array, merge)
    }
}

/// The command line without what the scripts set themselves (`--slurm`, `--submit`,
/// `--out`, `--shard`, `--merge`, `--fresh`: a requeued shard must resume, not start over).
pub fn passed_on(args: &[String]) -> Vec<String> {
    let with_value = [
        "--slurm",
        "--out",
        "--shard",
        "--slurm-cpus",
        "--slurm-partition",
    ];
    let flags = ["--submit", "--fresh"];
    let mut kept = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        if flags.contains(&a.as_str()) {
            continue;
        }
        if with_value.contains(&name) {
            if !a.contains('=') {
                it.next();
            }
            continue;
        }
        if name == "--merge" {
            if !a.contains('=') {
                while it.peek().is_some_and(|v| !v.starts_with("--")) {
                    it.next();
                }
            }
            continue;
        }
        kept.push(a.clone());
    }
    kept
}

/// Write the scripts into the request's folder; returns their paths.
pub fn write(
    request: &SlurmRequest,
    data_root: Option<&Path>,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let program = std::env::current_exe().context("finding the aann binary")?;
    let (array, merge) = request.scripts(&program, data_root);
    let dir = request.dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let paths = (dir.join("array.sbatch"), dir.join("merge.sbatch"));
    for (path, text) in [(&paths.0, array), (&paths.1, merge)] {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(paths)
}

/// Submit the array, then the merge after it (`afterok`); returns the two job ids.
pub fn submit(array: &Path, merge: &Path) -> anyhow::Result<(String, String)> {
    let array_id = sbatch(&[], array)?;
    let merge_id = sbatch(&[format!("--dependency=afterok:{array_id}")], merge)?;
    Ok((array_id, merge_id))
}

fn sbatch(extra: &[String], script: &Path) -> anyhow::Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .context(
            "running sbatch (is this a SLURM login node? the scripts can be submitted by hand)",
        )?;
    anyhow::ensure!(
        out.status.success(),
        "sbatch {} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `id` or `id;cluster`.
    Ok(text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string())
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A word for the shell, single-quoted unless it is plainly safe.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_scripts_get_the_command_line_without_what_they_set() {
        let typed = words(
            "experiment spec.toml --set null.sets=2 --out results/x --slurm 4 --submit --fresh --merge a b --limit 8 --shard=0/2 --quiet",
        );
        assert_eq!(
            passed_on(&typed),
            words("experiment spec.toml --set null.sets=2 --limit 8 --quiet")
        );
    }

    #[test]
    fn an_array_and_a_merge_that_waits_for_it() {
        let request = SlurmRequest {
            jobs: 3,
            out: "results/card".into(),
            cpus: 2,
            mem_mib: 2083,
            minutes: 95,
            partition: Some("short".into()),
            args: words("experiment eval/experiments/curves-bvlc.toml --set run.batch_size=8"),
        };
        let (array, merge) = request.scripts(Path::new("/opt/aann"), None);
        for line in [
            "#SBATCH --array=0-2",
            "#SBATCH --requeue",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --mem=2083M",
            "#SBATCH --time=1:35:00",
            "#SBATCH --partition=short",
            "/opt/aann experiment eval/experiments/curves-bvlc.toml --set run.batch_size=8 --shard auto/3 --out results/card-shards/\"$SLURM_ARRAY_TASK_ID\"",
        ] {
            assert!(array.lines().any(|l| l == line), "{line} in\n{array}");
        }
        let last = merge.lines().last().unwrap();
        assert_eq!(
            last,
            "/opt/aann experiment eval/experiments/curves-bvlc.toml --set run.batch_size=8 --merge results/card-shards/0 results/card-shards/1 results/card-shards/2 --out results/card"
        );
        assert!(!merge.contains("--array"));
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("a b"), "'a b'");
    }

    #[test]
    fn shards_are_sized_from_an_earlier_run_or_the_measured_card() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let out = out.to_str().unwrap();
        let fresh = SlurmRequest::sized(4, out, 500, 2, Vec::new());
        // 1,047 MiB × 1.5 + 512; 12 s × 125 images × 1.5 + 15 min.
        assert_eq!((fresh.mem_mib, fresh.minutes), (2083, 53));
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(
            Path::new(out).join("summary.json"),
            r#"{"peak_memory_mib": 1000.0, "seconds": 600.0, "images_evaluated": 100}"#,
        )
        .unwrap();
        let measured = SlurmRequest::sized(4, out, 500, 2, Vec::new());
        // 1,000 × 1.5 + 512; 6 s × 125 × 1.5 = 1,125 s → 19 min + 15.
        assert_eq!((measured.mem_mib, measured.minutes), (2012, 34));
    }
}
