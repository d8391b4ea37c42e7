//! Free-text rules shared by profile fields.

use crate::error::FieldViolation;

/// Trims `raw` and checks it holds at most `max` characters and no control
/// characters (newlines are allowed only where `multiline` says so).
pub fn clean(field: &str, raw: &str, max: usize, multiline: bool) -> Result<String, FieldViolation> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(FieldViolation::new(field, "TOO_LONG", format!("must be at most {max} characters")));
    }
    let bad = s.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad {
        return Err(FieldViolation::new(field, "CONTROL_CHARACTER", "must not contain control characters"));
    }
    Ok(s.to_string())
}

/// At most `max` characters of `s`, for quoting user input in a message.
pub fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(clean("f", "  a b  ", 3, false).unwrap(), "a b");
        assert_eq!(clean("f", "abcd", 3, false).unwrap_err().reason, "TOO_LONG");
        assert_eq!(clean("f", "a\nb", 3, false).unwrap_err().reason, "CONTROL_CHARACTER");
        assert_eq!(clean("f", "a\nb", 3, true).unwrap(), "a\nb");
        assert_eq!(clean("f", "é€😀", 3, false).unwrap(), "é€😀");
    }
}
