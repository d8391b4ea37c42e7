//! The file as a stream of records, each with the line it starts on (blank
//! lines and newlines inside quoted fields counted, so line numbers stay true)
//! and the checkpoint just after it. Memory holds one record at a time.
//!
//! Records end at `\n`; a `\r` before it is dropped, so CRLF and LF files read
//! alike. csv's own CRLF mode ends a record at the `\r` and leaves the `\n`
//! to the next read, which would make both the line and the checkpoint of a
//! record depend on what follows it.

use std::pin::Pin;
use std::task::{Context, Poll};

use csv_async::{AsyncReader, AsyncReaderBuilder, ByteRecord, Terminator};
use futures::io::AsyncRead;

use super::model::Checkpoint;

/// One record of the file.
#[derive(Debug, Clone)]
pub struct Record {
    /// The line the record starts on (1 = the file's first line).
    pub line: u64,
    /// Where reading continues after this record.
    pub end: Checkpoint,
    fields: ByteRecord,
}

impl Record {
    /// The raw fields.
    pub fn fields(&self) -> Vec<&[u8]> {
        let n = self.fields.len();
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| if i + 1 == n { f.strip_suffix(b"\r").unwrap_or(f) } else { f })
            .collect()
    }

    /// A line holding nothing (or only the `\r` of a CRLF).
    fn is_blank(&self) -> bool {
        self.fields.len() == 1 && matches!(&self.fields[0], b"" | b"\r")
    }
}

/// Reads records from `source`, which starts at `from` in the file.
pub struct RecordReader<R: AsyncRead + Unpin + Send> {
    csv: AsyncReader<LastByte<R>>,
    from: Checkpoint,
    /// The next raw record with the reader's line just after it, read ahead to
    /// learn whether the current one is the file's last.
    ahead: Option<(ByteRecord, u64, u64)>,
    started: bool,
}

impl<R: AsyncRead + Unpin + Send> RecordReader<R> {
    pub fn new(source: R, from: Checkpoint) -> Self {
        let csv = AsyncReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(Terminator::Any(b'\n'))
            .create_reader(LastByte { inner: source, last: None });
        Self { csv, from, ahead: None, started: false }
    }

    /// The next record that is not a blank line; `None` at the end of the file.
    pub async fn next(&mut self) -> std::io::Result<Option<Record>> {
        loop {
            if !self.started {
                self.started = true;
                self.ahead = self.raw().await?;
            }
            let Some((fields, line_after, byte_after)) = self.ahead.take() else { return Ok(None) };
            self.ahead = self.raw().await?;
            // Every record but an unterminated last one consumed its `\n`.
            let terminated = self.ahead.is_some() || self.csv.get_ref().last == Some(b'\n');
            let newlines_inside = fields.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64).sum::<u64>();
            let first_line = line_after - newlines_inside - u64::from(terminated);
            let record = Record {
                line: self.from.line + first_line - 1,
                end: Checkpoint { offset: self.from.offset + byte_after, line: self.from.line + line_after - 1 },
                fields,
            };
            if !record.is_blank() {
                return Ok(Some(record));
            }
        }
    }

    async fn raw(&mut self) -> std::io::Result<Option<(ByteRecord, u64, u64)>> {
        let mut rec = ByteRecord::new();
        let more = self.csv.read_byte_record(&mut rec).await.map_err(std::io::Error::other)?;
        let pos = self.csv.position();
        Ok(more.then(|| (rec, pos.line(), pos.byte())))
    }
}

/// Remembers the last byte read, to tell a terminated last record from an
/// unterminated one.
struct LastByte<R> {
    inner: R,
    last: Option<u8>,
}

impl<R: AsyncRead + Unpin> AsyncRead for LastByte<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll
            && *n > 0
        {
            this.last = Some(buf[*n - 1]);
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], from: Checkpoint) -> Vec<(u64, Vec<String>, Checkpoint)> {
        futures::executor::block_on(async {
            let mut r = RecordReader::new(&data[from.offset as usize..], from);
            let mut out = Vec::new();
            while let Some(rec) = r.next().await.unwrap() {
                let fields = rec.fields().iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                out.push((rec.line, fields, rec.end));
            }
            out
        })
    }

    fn lines(data: &[u8]) -> Vec<(u64, Vec<String>)> {
        read_all(data, Checkpoint { offset: 0, line: 1 }).into_iter().map(|(l, f, _)| (l, f)).collect()
    }

    fn row(line: u64, f: &[&str]) -> (u64, Vec<String>) {
        (line, f.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn lines_stay_true_across_blank_lines_quotes_and_terminators() {
        let data = b"h1,h2\r\n\r\na,\"b,\nc\"\n\n\nd,\"e \"\"q\"\"\"\r\nlast,x";
        assert_eq!(
            lines(data),
            [row(1, &["h1", "h2"]), row(3, &["a", "b,\nc"]), row(7, &["d", "e \"q\""]), row(8, &["last", "x"])]
        );
        assert_eq!(lines(b"a\nb\n\n"), [row(1, &["a"]), row(2, &["b"])]);
        assert_eq!(lines(b"\n\na\r\n"), [row(3, &["a"])]);
        assert_eq!(lines(b""), []);
    }

    #[test]
    fn resuming_at_any_checkpoint_reads_the_same_rest() {
        let data = b"h1,h2\r\n\r\na,\"b,\nc\"\n\n\nd,e\r\nlast,x\n";
        let whole = read_all(data, Checkpoint { offset: 0, line: 1 });
        for (i, (_, _, end)) in whole.iter().enumerate() {
            assert_eq!(read_all(data, *end), whole[i + 1..], "resumed after record {i}");
        }
    }
}
