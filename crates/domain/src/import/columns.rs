//! The CSV header: the columns username, email and name, each exactly once,
//! in any order and any case; nothing else.

use super::model::RowError;

pub const TEMPLATE_HEADER: &str = "username,email,name";
pub const TEMPLATE_EXAMPLE: &str = "jdoe,jane.doe@example.com,Jane Doe";

const NAMES: [&str; 3] = ["username", "email", "name"];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where each column sits in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub username: usize,
    pub email: usize,
    pub name: usize,
}

impl Columns {
    /// Reads the header record (at `line`). A leading UTF-8 BOM is ignored.
    pub fn from_header<'a>(fields: impl IntoIterator<Item = &'a [u8]>, line: u64) -> Result<Self, Vec<RowError>> {
        let mut found: [Option<usize>; 3] = [None; 3];
        let mut errors = Vec::new();
        for (i, raw) in fields.into_iter().enumerate() {
            let raw = if i == 0 { raw.strip_prefix(UTF8_BOM).unwrap_or(raw) } else { raw };
            let Ok(name) = std::str::from_utf8(raw) else {
                errors.push(RowError::new(line, "", "INVALID_UTF8", format!("header column {} is not UTF-8", i + 1)));
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            match NAMES.iter().position(|n| *n == name) {
                Some(k) if found[k].is_some() => errors.push(RowError::new(
                    line,
                    NAMES[k],
                    "DUPLICATE_COLUMN",
                    format!("the column {} appears twice", NAMES[k]),
                )),
                Some(k) => found[k] = Some(i),
                None => errors.push(RowError::new(
                    line,
                    "",
                    "UNKNOWN_COLUMN",
                    format!("unexpected column {:?}: the columns are {TEMPLATE_HEADER}", crate::text::clip(&name, 40)),
                )),
            }
        }
        for (k, slot) in found.iter().enumerate() {
            if slot.is_none() {
                errors.push(RowError::new(line, NAMES[k], "MISSING_COLUMN", format!("no {} column", NAMES[k])));
            }
        }
        match (errors.is_empty(), found) {
            (true, [Some(username), Some(email), Some(name)]) => Ok(Self { username, email, name }),
            _ => Err(errors),
        }
    }

    /// The column names in file order, as the job keeps them for a resumed run.
    pub fn encode(&self) -> String {
        let mut order = [(self.username, "username"), (self.email, "email"), (self.name, "name")];
        order.sort_unstable();
        order.map(|(_, n)| n).join(",")
    }

    /// The inverse of [`Columns::encode`].
    pub fn decode(s: &str) -> Option<Self> {
        let fields: Vec<&[u8]> = s.split(',').map(str::as_bytes).collect();
        Self::from_header(fields, 1).ok()
    }

    pub fn width(&self) -> usize {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Result<Columns, Vec<RowError>> {
        Columns::from_header(s.split(',').map(str::as_bytes), 1)
    }

    #[test]
    fn any_order_and_case_with_a_bom() {
        let c = header("\u{feff}Email, NAME ,UserName").unwrap();
        assert_eq!(c, Columns { username: 2, email: 0, name: 1 });
        assert_eq!(c.encode(), "email,name,username");
        assert_eq!(Columns::decode(&c.encode()), Some(c));
    }

    #[test]
    fn extra_missing_and_doubled_columns_are_errors() {
        let reasons = |s| header(s).unwrap_err().into_iter().map(|e| e.reason).collect::<Vec<_>>();
        assert_eq!(reasons("username,email,name,phone"), ["UNKNOWN_COLUMN"]);
        assert_eq!(reasons("username,email"), ["MISSING_COLUMN"]);
        assert_eq!(reasons("username,email,name,email"), ["DUPLICATE_COLUMN"]);
    }
}
