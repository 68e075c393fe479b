//! Experiment runner: conditions, prefix reuse, resumable per-image records, summaries and reports
