//! Seeded random streams: one independent ChaCha8 stream per unit of work, so
//! results depend on the seed only, never on the number of threads or on the
//! order in which rayon schedules work.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream is used for. Part of the ChaCha key, so the same user seed
/// gives unrelated streams for unrelated purposes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Domain {
    /// Bootstrap resample `r` uses stream `r`.
    Bootstrap,
    /// Random channel set `i` uses stream `i`.
    ChannelSets,
    /// Magnitude-matched channel set `i` uses stream `i`.
    MatchedSets,
}

impl Domain {
    fn tag(self) -> [u8; 8] {
        match self {
            Domain::Bootstrap => *b"bootstrp",
            Domain::ChannelSets => *b"chansets",
            Domain::MatchedSets => *b"matchset",
        }
    }
}

/// ChaCha8 keyed by `(seed, domain)`, positioned on stream `stream`.
///
/// ChaCha streams with distinct (key, stream) pairs are independent for all
/// practical purposes (ChaCha is a pseudo-random function of key, stream and
/// counter); 8 rounds are ample for simulation (Aumasson 2019, "Too much
/// crypto").
pub(crate) fn stream_rng(seed: u64, domain: Domain, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&domain.tag());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}
