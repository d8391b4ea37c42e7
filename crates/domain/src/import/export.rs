//! Row errors as CSV for download and for the summary email. A cell that a
//! spreadsheet would run as a formula (`= + - @`, tab, CR) is neutralised
//! with a leading apostrophe.

use super::model::RowError;

pub const ERROR_CSV_HEADER: &str = "line,column,reason,message";

/// A cell that no spreadsheet evaluates.
pub fn safe_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if neutral.contains([',', '"', '\n', '\r']) { format!("\"{}\"", neutral.replace('"', "\"\"")) } else { neutral }
}

/// Builds the CSV a row at a time.
pub struct ErrorCsv {
    out: Vec<u8>,
}

impl Default for ErrorCsv {
    fn default() -> Self {
        Self::new()
    }
}

impl ErrorCsv {
    pub fn new() -> Self {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(ERROR_CSV_HEADER.as_bytes());
        out.extend_from_slice(b"\r\n");
        Self { out }
    }

    pub fn push(&mut self, e: &RowError) {
        let line =
            format!("{},{},{},{}\r\n", e.line, safe_cell(&e.column), safe_cell(&e.reason), safe_cell(&e.message));
        self.out.extend_from_slice(line.as_bytes());
    }

    /// The bytes so far, leaving the builder empty (for streaming in chunks).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_escaped() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for f in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(safe_cell(f).trim_start_matches('"').starts_with('\''), "{f:?}");
        }
        assert_eq!(safe_cell("plain"), "plain");
        assert_eq!(safe_cell("a,b"), "\"a,b\"");
        let mut csv = ErrorCsv::new();
        csv.push(&RowError::new(3, "email", "INVALID_EMAIL", "=cmd|' /C calc'!A0"));
        assert_eq!(
            String::from_utf8(csv.finish()).unwrap(),
            "line,column,reason,message\r\n3,email,INVALID_EMAIL,'=cmd|' /C calc'!A0\r\n"
        );
    }
}
