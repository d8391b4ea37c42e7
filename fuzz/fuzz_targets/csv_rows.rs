//! The import's row pipeline on arbitrary bytes: records, header, rows. It
//! must never panic; lines only grow; checkpoints only move forward and stay
//! inside the file; every row is either valid or has errors on its own line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::import::{Checkpoint, Columns, RecordReader, parse_row};
use steward_domain::user::EmailPolicy;

fuzz_target!(|data: &[u8]| {
    futures::executor::block_on(async {
        let policy = EmailPolicy::default();
        let mut records = RecordReader::new(data, Checkpoint { offset: 0, line: 1 });
        let mut columns = None;
        let (mut last_line, mut last_offset) = (0u64, 0u64);
        while let Ok(Some(rec)) = records.next().await {
            assert!(rec.line > last_line || last_line == 0, "lines grow");
            assert!(rec.end.offset >= last_offset && rec.end.offset <= data.len() as u64, "checkpoints move forward");
            assert!(rec.end.line >= rec.line);
            (last_line, last_offset) = (rec.line, rec.end.offset);
            match columns {
                None => match Columns::from_header(rec.fields(), rec.line) {
                    Ok(c) => columns = Some(c),
                    Err(errors) => {
                        assert!(!errors.is_empty());
                        return;
                    }
                },
                Some(c) => {
                    if let Err(errors) = parse_row(rec.fields().into_iter(), rec.line, &c, &policy) {
                        assert!(!errors.is_empty() && errors.iter().all(|e| e.line == rec.line));
                    }
                }
            }
        }
    });
});
