//! TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA-1, 30-second steps, six
//! digits, one step of drift either way. Pure functions; the caller supplies
//! the time.

use ring::hmac;

/// Seconds per step.
pub const PERIOD: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a fresh secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Steps of clock drift accepted either side of the current one.
pub const DRIFT_STEPS: u64 = 1;

/// The HOTP value of `secret` at counter `step`, `digits` long (zero-padded).
pub fn code(secret: &[u8], step: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    // Dynamic truncation (RFC 4226 section 5.3).
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    let value = u64::from(bin) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The step a Unix time (seconds) falls in; times before 1970 are step 0.
pub fn step_at(unix_secs: i64) -> u64 {
    u64::try_from(unix_secs).unwrap_or(0) / PERIOD
}

/// The step whose code `code` is, among the current step and one either
/// side; `None` when it is none of them or not six digits. Every candidate
/// is compared in full, so the time taken does not depend on which matched.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_secs);
    let mut found = None;
    for step in now.saturating_sub(DRIFT_STEPS)..=now.saturating_add(DRIFT_STEPS) {
        if equal(self::code(secret, step, DIGITS).as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Compares two equally long byte strings without an early exit.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI an authenticator app scans (Key URI Format):
/// `secret_base32` upper case, the label `Steward:<username>` percent-encoded.
pub fn otpauth_uri(username: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/Steward:{}?secret={}&issuer=Steward&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        percent_encode(username),
        secret_base32.to_ascii_uppercase(),
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 4648 base32, either case, padding and spaces ignored; `None` when a
/// character is outside the alphabet.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => c - b'a',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::base32;

    const SEED: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, the SHA-1 rows: (time, 8-digit TOTP).
    #[test]
    fn rfc6238_sha1_vectors() {
        let rows: [(i64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in rows {
            assert_eq!(code(SEED, step_at(t), 8), expected, "T = {t}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0..=9.
    #[test]
    fn rfc4226_hotp_vectors() {
        let expected =
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(code(SEED, counter as u64, 6), *want, "counter {counter}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_either_way() {
        let t = 1_234_567_890;
        let now = step_at(t);
        for (step, ok) in [(now - 2, false), (now - 1, true), (now, true), (now + 1, true), (now + 2, false)] {
            let c = code(SEED, step, DIGITS);
            assert_eq!(verify(SEED, &c, t), ok.then_some(step), "step {step}");
        }
        let c = code(SEED, now, DIGITS);
        assert_eq!(verify(SEED, &format!(" {c} "), t), Some(now));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert_eq!(verify(SEED, bad, t), None, "{bad:?}");
        }
        assert_eq!(verify(b"another secret", &c, t), None);
    }

    #[test]
    fn step_boundaries() {
        assert_eq!((step_at(0), step_at(29), step_at(30), step_at(-5)), (0, 0, 1, 0));
        // At step 0 there is no step before: no underflow.
        assert_eq!(verify(SEED, &code(SEED, 0, DIGITS), 0), Some(0));
    }

    #[test]
    fn base32_round_trips_and_rejects_junk() {
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("").unwrap(), b"");
        assert_eq!(base32_decode("mzxw1"), None);
        for n in 0..=SECRET_BYTES {
            let bytes: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
            assert_eq!(base32_decode(&base32(&bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn otpauth_uri_shape() {
        assert_eq!(
            otpauth_uri("Alice", "gezdgnbvgy3tqojq"),
            "otpauth://totp/Steward:Alice?secret=GEZDGNBVGY3TQOJQ&issuer=Steward&algorithm=SHA1&digits=6&period=30"
        );
        assert!(otpauth_uri("a b:c", "x").starts_with("otpauth://totp/Steward:a%20b%3Ac?"));
    }
}
