//! The simulation's one random source, seeded from [`BrowserBuilder::seed`](crate::BrowserBuilder::seed).
//!
//! Everything random in the browser (the jitter of the update checks and of their backoff) draws
//! from here, in the order the simulation runs, so the same seed gives the same run.

use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

/// A seeded, platform-independent random stream.
pub(crate) struct SimRng {
    inner: ChaCha12Rng,
    seed: u64,
    /// How many draws were made, so that where the stream is prints.
    draws: u64,
}

impl std::fmt::Debug for SimRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimRng")
            .field("seed", &self.seed)
            .field("draws", &self.draws)
            .finish()
    }
}

impl SimRng {
    pub(crate) fn new(seed: u64) -> Self {
        SimRng {
            inner: ChaCha12Rng::seed_from_u64(seed),
            seed,
            draws: 0,
        }
    }

    /// A random (version 4) UUID, as Firefox gives each installed add-on for its
    /// `moz-extension://` origin.
    pub(crate) fn uuid_v4(&mut self) -> String {
        self.draws += 1;
        let mut bytes = [0u8; 16];
        self.inner.fill_bytes(&mut bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// A number in `[0, 1)`, as Chromium's `base::RandDouble` gives: 53 random bits.
    pub(crate) fn rand_double(&mut self) -> f64 {
        self.draws += 1;
        (self.inner.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let mut a = SimRng::new(42);
        let mut b = SimRng::new(42);
        let mut c = SimRng::new(43);
        let xs: Vec<f64> = (0..8).map(|_| a.rand_double()).collect();
        let ys: Vec<f64> = (0..8).map(|_| b.rand_double()).collect();
        let zs: Vec<f64> = (0..8).map(|_| c.rand_double()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    }
}
