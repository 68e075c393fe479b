//! Anti-aliased synthetic stimuli: curves, lines, edges, Gabor patches, angles
