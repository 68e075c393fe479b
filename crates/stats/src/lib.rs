//! Paired statistics for ablation and replacement experiments: Wilson, McNemar, bootstrap fraction recovered, random-channel nulls
