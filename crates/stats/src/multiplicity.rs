//! Many tests read together: Holm's step-down adjustment of p-values, which holds the
//! family-wise error rate at α whatever the dependence between the tests (Holm 1979, Scand
//! J Statist 6:65–70).

/// Holm–Bonferroni adjusted p-values, in the order given: with the raw p-values sorted
/// `p_(1) ≤ … ≤ p_(m)`, `p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))`. A test is rejected
/// at family-wise level α when its adjusted p-value is below α. `None` (a degenerate test)
/// stays `None` and does not count towards `m`.
pub fn holm_adjust(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = p_values
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = order.len();
    let mut adjusted = vec![None; p_values.len()];
    let mut running = 0f64;
    for (rank, (i, p)) in order.into_iter().enumerate() {
        running = running.max(((m - rank) as f64 * p).min(1.0));
        adjusted[i] = Some(running);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "holm")
    /// = 0.04 0.09 0.09 0.025 0.2
    #[test]
    fn holm_matches_r_p_adjust() {
        let p = [Some(0.01), Some(0.04), Some(0.03), Some(0.005), Some(0.2)];
        let want = [0.04, 0.09, 0.09, 0.025, 0.2];
        for (got, want) in holm_adjust(&p).iter().zip(want) {
            assert!((got.unwrap() - want).abs() < 1e-12, "{got:?} vs {want}");
        }
    }

    #[test]
    fn degenerate_tests_stay_out_of_the_family() {
        let adjusted = holm_adjust(&[Some(0.02), None, Some(0.5)]);
        assert_eq!(adjusted[1], None);
        assert!((adjusted[0].unwrap() - 0.04).abs() < 1e-12);
        assert!((adjusted[2].unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(holm_adjust(&[]), Vec::<Option<f64>>::new());
        // Never above 1.
        assert_eq!(holm_adjust(&[Some(0.6), Some(0.7)]), [Some(1.0), Some(1.0)]);
    }
}
