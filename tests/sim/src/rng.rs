//! A tiny seeded PRNG (SplitMix64) so the sample data is reproducible without the `rand` crate.
//!
//! Not cryptographic, and not meant to be: it only has to give the same numbers for the same seed on
//! every platform and every release, which a hand-written generator guarantees and `rand` does not.

/// SplitMix64 (Steele, Lea, Flood 2014): one `u64` of state, good statistical quality for test data.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function. It is a bijection on `u64`, which `Dataset` relies on to build lock
/// ids that are unique by construction.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bijection on 48-bit values (xor-shift and odd multiplication modulo 2^48 are both invertible), so
/// distinct inputs give distinct MAC-style hardware addresses.
pub(crate) fn mix48(x: u64) -> u64 {
    const MASK: u64 = (1 << 48) - 1;
    let mut z = x & MASK;
    z ^= z >> 23;
    z = z.wrapping_mul(0x9FB2_1C65_1E98_DF25 | 1) & MASK;
    z ^= z >> 21;
    z = z.wrapping_mul(0xC2B2_AE3D_27D4_EB4F | 1) & MASK;
    z ^= z >> 24;
    z
}

/// A keyed bijection on 62-bit values: a 4-round Feistel network on two 31-bit halves. The ids of the keys
/// behind the generated event histories carry their (lock, holder) through it, so they look random yet
/// `GET /keys/{id}` can decode them without an index of every key (see `data::decode_history_key_id`).
pub(crate) fn feistel62(x: u64, key: u64) -> u64 {
    let (mut l, mut r) = ((x >> 31) & MASK31, x & MASK31);
    for round in 0..FEISTEL_ROUNDS {
        (l, r) = (r, l ^ feistel_round(r, round, key));
    }
    (l << 31) | r
}

/// The inverse of [`feistel62`] under the same key.
pub(crate) fn unfeistel62(y: u64, key: u64) -> u64 {
    let (mut l, mut r) = ((y >> 31) & MASK31, y & MASK31);
    for round in (0..FEISTEL_ROUNDS).rev() {
        (l, r) = (r ^ feistel_round(l, round, key), l);
    }
    (l << 31) | r
}

const MASK31: u64 = (1 << 31) - 1;
const FEISTEL_ROUNDS: u64 = 4;

fn feistel_round(half: u64, round: u64, key: u64) -> u64 {
    mix64(key ^ mix64(half | (round << 32))) & MASK31
}

/// Formats two random words as a version-4 UUID (RFC 4122 layout: version nibble 4, variant `10`), lower
/// case and hyphenated as the API prints key ids. The version and variant bits are forced here.
pub(crate) fn format_uuid_v4(hi: u64, lo: u64) -> String {
    let hi = (hi & !0xF000) | 0x4000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent stream for one purpose (`tag`) and one item (`index`), so that e.g. the events of
    /// lock 17 do not change when the number of locks or the events of lock 16 change.
    pub(crate) fn stream(seed: u64, tag: u64, index: u64) -> Self {
        Self::new(mix64(seed ^ mix64(tag.wrapping_add(mix64(index)))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// Uniform in `0..n` (Lemire's multiply-high; the bias for the small `n` used here is < 2^-40).
    /// `n == 0` returns 0 rather than panicking.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (requires `lo <= hi`).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub(crate) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // The index is < len by construction of `below`; callers only pass the non-empty constant tables
        // of `data.rs`, so indexing cannot panic.
        &items[self.below(items.len() as u64) as usize]
    }

    /// A random version-4 UUID (RFC 4122 layout), lower-case hyphenated as the API prints key ids.
    pub(crate) fn uuid_v4(&mut self) -> String {
        let hi = self.next_u64();
        format_uuid_v4(hi, self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn same_seed_same_numbers() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(42);
            (0..10).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::new(42);
            (0..10).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        // Known first output of SplitMix64 for seed 0, so a refactor cannot silently change every dataset.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_and_range_stay_in_bounds() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            assert!(r.below(6) < 6);
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn mix48_is_injective_on_a_sample() {
        let set: HashSet<u64> = (0..100_000).map(mix48).collect();
        assert_eq!(set.len(), 100_000);
        assert!(set.iter().all(|&v| v < (1 << 48)));
    }

    #[test]
    fn feistel62_is_a_keyed_bijection() {
        let mut seen = HashSet::new();
        for x in (0..50_000u64).chain([(1 << 62) - 1, 1 << 61]) {
            let y = feistel62(x, 7);
            assert!(y < (1 << 62));
            assert!(seen.insert(y), "collision at {x}");
            assert_eq!(unfeistel62(y, 7), x);
            assert_ne!(unfeistel62(y, 8), x, "another key decodes differently");
        }
        // Neighbouring inputs do not give neighbouring outputs (the ids should look random).
        assert!((feistel62(1, 7) ^ feistel62(2, 7)).count_ones() > 10);
    }

    #[test]
    fn uuid_v4_shape() {
        let mut r = SplitMix64::new(1);
        for _ in 0..100 {
            let u = r.uuid_v4();
            assert_eq!(u.len(), 36);
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
            assert!(parts[2].starts_with('4'));
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
            assert!(u.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        }
    }
}
