//! Property test of the import's CSV reading: arbitrary records written with
//! either terminator, an optional BOM, blank lines and the header in any
//! order read back as the same values on their true lines — and resuming at
//! any record's checkpoint reads the same rest.

use proptest::prelude::*;
use steward_domain::import::{Checkpoint, Columns, RecordReader};

/// A cell: anything printable, commas, quotes, newlines; never ending in CR
/// (a CR before the line end is the CRLF terminator's).
fn cell() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,\"\n\r\té€😀'=-]{0,12}".prop_filter("no trailing CR", |s| !s.ends_with('\r'))
}

fn quoted(s: &str) -> String {
    if s.is_empty() || s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

struct Written {
    bytes: Vec<u8>,
    /// Each record's values (username, email, name) and the line it starts on.
    rows: Vec<([String; 3], u64)>,
}

fn write(rows: &[[String; 3]], order: [usize; 3], crlf: bool, bom: bool, blanks: &[bool]) -> Written {
    let term = if crlf { "\r\n" } else { "\n" };
    let names = ["username", "email", "name"];
    let mut out = String::new();
    if bom {
        out.push('\u{feff}');
    }
    out.push_str(&order.map(|i| names[i]).join(","));
    let mut line = 1 + 1; // the header's line end comes next
    let mut placed = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        out.push_str(term);
        if blanks.get(k).copied().unwrap_or(false) {
            out.push_str(term);
            line += 1;
        }
        let record = order.map(|i| quoted(&r[i])).join(",");
        placed.push((r.clone(), line));
        line += record.matches('\n').count() as u64 + 1;
        out.push_str(&record);
    }
    Written { bytes: out.into_bytes(), rows: placed }
}

/// Raw records (file order) after the header, with lines and checkpoints;
/// the header's columns when reading from the start.
type Read = (Option<Columns>, Vec<(Vec<String>, u64, Checkpoint)>);

fn read(bytes: &[u8], from: Checkpoint) -> Read {
    futures::executor::block_on(async {
        let mut r = RecordReader::new(&bytes[from.offset as usize..], from);
        let mut columns = None;
        let mut out = Vec::new();
        while let Some(rec) = r.next().await.unwrap() {
            let fields = rec.fields();
            if from.offset == 0 && columns.is_none() {
                columns = Some(Columns::from_header(fields, rec.line).unwrap());
                continue;
            }
            out.push((fields.iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect(), rec.line, rec.end));
        }
        (columns, out)
    })
}

fn by_column(c: &Columns, raw: &[String]) -> [String; 3] {
    [raw[c.username].clone(), raw[c.email].clone(), raw[c.name].clone()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn records_round_trip_on_their_lines(
        rows in prop::collection::vec([cell(), cell(), cell()], 1..12),
        order in Just(vec![0usize, 1, 2]).prop_shuffle(),
        crlf: bool,
        bom: bool,
        blanks in prop::collection::vec(any::<bool>(), 12),
        resume_at in any::<prop::sample::Index>(),
    ) {
        let w = write(&rows, [order[0], order[1], order[2]], crlf, bom, &blanks);
        let (columns, got) = read(&w.bytes, Checkpoint { offset: 0, line: 1 });
        let columns = columns.unwrap();
        let values: Vec<_> = got.iter().map(|(raw, line, _)| (by_column(&columns, raw), *line)).collect();
        prop_assert_eq!(&values, &w.rows);

        // Resume after any record: the rest reads the same, on the same lines.
        let k = resume_at.index(got.len());
        let (_, rest) = read(&w.bytes, got[k].2);
        prop_assert_eq!(&rest[..], &got[k + 1..]);
    }
}
