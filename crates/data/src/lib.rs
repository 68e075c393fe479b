//! ImageNet image sets, label maps, decoding and per-model preprocessing
