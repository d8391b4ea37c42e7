//! Capped exponential backoff with a little jitter.

use std::time::Duration;

use steward_domain::id::OutboxId;

/// The most the jitter takes off a delay: 10 %.
const JITTER: f64 = 0.1;

/// The delay before the next attempt when `attempts` attempts were made before
/// the one that just failed: `base * 2^attempts`, capped at `max`, minus up to
/// 10 % (`jitter` in `[0, 1)`) so that emails that failed together spread out.
/// Never more than `max`.
pub fn backoff(base: Duration, max: Duration, attempts: u32, jitter: f64) -> Duration {
    let exp = 2u32.checked_pow(attempts).and_then(|f| base.checked_mul(f)).unwrap_or(max);
    let capped = exp.min(max);
    capped.mul_f64(1.0 - JITTER * jitter.clamp(0.0, 1.0))
}

/// A jitter in `[0, 1)` derived from the email and the attempt: different
/// emails spread out, and the same input always gives the same delay.
pub(crate) fn jitter_for(id: OutboxId, attempts: u32) -> f64 {
    let u = id.as_uuid().as_u128();
    // splitmix64 of the UUID's bits (v7: the low 62 are random) and the attempt.
    let mut x = (u as u64) ^ ((u >> 64) as u64) ^ u64::from(attempts).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(5);
    const MAX: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn doubles_then_caps() {
        let expected = [5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900];
        for (attempts, secs) in expected.iter().enumerate() {
            assert_eq!(backoff(BASE, MAX, attempts as u32, 0.0), Duration::from_secs(*secs));
        }
        // No overflow, however many attempts.
        assert_eq!(backoff(BASE, MAX, 40, 0.0), MAX);
        assert_eq!(backoff(BASE, MAX, u32::MAX, 0.0), MAX);
        assert_eq!(backoff(Duration::MAX, MAX, 3, 0.0), MAX);
    }

    #[test]
    fn jitter_takes_off_at_most_ten_percent_and_never_exceeds_the_cap() {
        for attempts in 0..30 {
            let plain = backoff(BASE, MAX, attempts, 0.0);
            for j in [0.0, 0.3, 0.999_999, 1.0, 7.0, -1.0] {
                let d = backoff(BASE, MAX, attempts, j);
                assert!(d <= plain && d <= MAX && d >= plain.mul_f64(0.9), "{attempts} {j} {d:?}");
            }
        }
    }

    #[test]
    fn jitter_is_in_range_stable_and_spread() {
        let ids: Vec<OutboxId> = (0..200).map(|_| OutboxId::new()).collect();
        let js: Vec<f64> = ids.iter().map(|id| jitter_for(*id, 3)).collect();
        assert!(js.iter().all(|j| (0.0..1.0).contains(j)));
        assert_eq!(jitter_for(ids[0], 3), js[0]);
        let low = js.iter().filter(|j| **j < 0.5).count();
        assert!((50..150).contains(&low), "{low} of 200 below 0.5");
    }
}
