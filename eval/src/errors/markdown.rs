//! The error analysis as Markdown, and both forms written next to the run.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::{ErrorAnalysis, Ranking};
use crate::EvalError;

/// The analysis as Markdown (what `aann errors` prints and writes next to the run).
pub fn errors_markdown(a: &ErrorAnalysis) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Where `{}` disagrees with the natural network\n\n{} {} images; the replacement broke the top-1 answer on {} and fixed it on {}. Images ranked by {}; activations compared at `{}`.\n",
        a.condition,
        a.images,
        a.split.name(),
        a.broken,
        a.fixed,
        match a.ranking {
            Ranking::Kl => "KL(natural ‖ replaced)",
            Ranking::Correctness => "changed top-1 correctness (broken first), then KL",
        },
        a.tap
    );
    let _ = writeln!(
        s,
        "## Neurons\n\nRMS difference of artificial from natural activation on the listed images and on {} typical {} images; mean correlation over positions. Worst relative to typical first.\n",
        a.reference_images,
        a.split.name()
    );
    write_table(
        &mut s,
        "| channel | orientation | RMS listed | RMS typical | ratio | r listed | r typical |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        a.neurons.iter().map(|n| {
            format!(
                "| {} | {:.0}° | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                n.channel,
                n.orientation_deg,
                n.listed_rms,
                n.typical_rms,
                n.listed_rms / n.typical_rms.max(1e-9),
                n.listed_correlation,
                n.typical_correlation
            )
        }),
    );
    if !a.leave_one_out.is_empty() {
        let _ = writeln!(
            s,
            "\n## Each neuron left natural\n\nThe replacement with one neuron natural and the other {} replaced, on the same {} images: how much lower its mean KL from the natural network is than with every neuron replaced. The neuron whose circuit costs the most first.\n",
            a.leave_one_out.len() - 1,
            a.images
        );
        write_table(
            &mut s,
            "| channel | orientation | mean KL | KL drop | share of the circuit's KL | loss drop |\n| ---: | ---: | ---: | ---: | ---: | ---: |",
            a.leave_one_out.iter().map(|l| {
                format!(
                    "| {} | {:.0}° | {:.4} | {:+.4} | {:.1}% | {} |",
                    l.channel,
                    l.orientation_deg,
                    l.kl,
                    l.kl_drop,
                    100.0 * l.kl_drop_share,
                    l.loss_drop.map_or("–".to_string(), |d| format!("{d:+.4}"))
                )
            }),
        );
    }
    let _ = writeln!(s, "\n## Images\n");
    for (i, img) in a.listed.iter().enumerate() {
        let top = |v: &[(String, f64)]| {
            v.iter()
                .take(3)
                .map(|(c, p)| format!("{c} {:.0}%", p * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mark = |ok: Option<bool>| match ok {
            Some(true) => "right",
            Some(false) => "wrong",
            None => "unlabelled",
        };
        let _ = writeln!(
            s,
            "{}. **{}** ({}) — KL {:.3}, loss {}; natural {} ({}), replaced {} ({})",
            i + 1,
            img.image,
            img.label_name.as_deref().unwrap_or("unlabelled"),
            img.kl,
            img.loss_change
                .map_or("–".to_string(), |d| format!("{d:+.3}")),
            mark(img.natural_correct1),
            top(&img.natural_top5),
            mark(img.replaced_correct1),
            top(&img.replaced_top5),
        );
        let worst: Vec<String> = img
            .neurons
            .iter()
            .take(3)
            .map(|n| {
                format!(
                    "{} ({:.0}°): natural {:.2}, artificial {:.2}, RMS {:.2}, r {:.2}",
                    n.channel,
                    n.orientation_deg,
                    n.natural_mean,
                    n.artificial_mean,
                    n.rms_difference,
                    n.correlation
                )
            })
            .collect();
        let _ = writeln!(s, "   worst neurons: {}", worst.join("; "));
    }
    s
}

/// A Markdown table: `header` (with its rule) and a line a row.
fn write_table(s: &mut String, header: &str, rows: impl Iterator<Item = String>) {
    let _ = writeln!(s, "{header}");
    for row in rows {
        let _ = writeln!(s, "{row}");
    }
}

/// Write `errors-<condition>.json` and `.md` into the results folder.
pub fn write_errors(a: &ErrorAnalysis, results: &Path) -> Result<Vec<PathBuf>, EvalError> {
    let json = results.join(format!("errors-{}.json", a.condition));
    let md = results.join(format!("errors-{}.md", a.condition));
    std::fs::write(
        &json,
        serde_json::to_string_pretty(a).expect("analyses serialise"),
    )
    .map_err(|e| EvalError::write(&json, e))?;
    std::fs::write(&md, errors_markdown(a)).map_err(|e| EvalError::write(&md, e))?;
    Ok(vec![json, md])
}
