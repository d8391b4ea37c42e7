//! The invariants the fuzz targets hold the import's parsers to, as plain
//! functions that panic when one breaks: `fuzz/` runs them under libFuzzer,
//! and a test replays the checked-in corpus through them.

use super::columns::Columns;
use super::model::Checkpoint;
use super::records::RecordReader;
use super::row::parse_row;
use super::signed_url::UploadGrant;
use crate::keyring::Keyring;
use crate::user::EmailPolicy;

/// The row pipeline on arbitrary bytes: never a panic; lines grow;
/// checkpoints move forward and stay inside the file; a refused row has
/// errors, all on its own line; resuming at a checkpoint reads the same rest.
pub fn csv_pipeline(data: &[u8]) {
    futures::executor::block_on(async {
        let policy = EmailPolicy::default();
        let mut records = RecordReader::new(data, Checkpoint { offset: 0, line: 1 });
        let mut columns = None;
        let mut seen = Vec::new();
        while let Ok(Some(rec)) = records.next().await {
            if let Some((line, offset)) = seen.last().map(|(l, c): &(u64, Checkpoint)| (*l, c.offset)) {
                assert!(rec.line > line, "lines grow");
                assert!(rec.end.offset >= offset, "checkpoints move forward");
            }
            assert!(rec.end.offset <= data.len() as u64 && rec.end.line >= rec.line);
            seen.push((rec.line, rec.end));
            match columns {
                None => match Columns::from_header(rec.fields(), rec.line) {
                    Ok(c) => columns = Some(c),
                    Err(errors) => assert!(!errors.is_empty()),
                },
                Some(c) => {
                    if let Err(errors) = parse_row(rec.fields().into_iter(), rec.line, &c, &policy) {
                        assert!(!errors.is_empty() && errors.iter().all(|e| e.line == rec.line));
                    }
                }
            }
        }
        if let Some(&(_, from)) = seen.first() {
            let mut again = RecordReader::new(&data[from.offset as usize..], from);
            for (line, end) in &seen[1..] {
                let rec = again.next().await.ok().flatten().expect("the same records after resuming");
                assert_eq!((rec.line, rec.end), (*line, *end), "resuming reads the same rest");
            }
        }
    });
}

/// The presigned URL verifier on arbitrary text: never a panic, and what
/// verifies is exactly what this keyring signed.
pub fn upload_url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, query) = text.split_once('?').unwrap_or((text, ""));
    let keyring = Keyring::from_secret(&[42u8; 32]);
    let now = time::OffsetDateTime::UNIX_EPOCH;
    if let Ok(grant) = UploadGrant::verify(&keyring, path, query, now) {
        let url = grant.path_and_query(&keyring);
        let (p, q) = url.split_once('?').expect("a query");
        assert_eq!(UploadGrant::verify(&keyring, p, q, now), Ok(grant));
    }
}
