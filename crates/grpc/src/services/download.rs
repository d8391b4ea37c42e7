//! Server-streamed CSV downloads of a paged listing: the caller reads the
//! first page before answering (so a bad id or a missing permission is the
//! call's status, not a broken stream); then a page goes out per chunk.

use std::future::Future;

use steward_domain::DomainError;
use steward_domain::page::{Page, PageRequest};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::error::to_status;

/// How a download goes on: `kind` and `size` of the listing's pages, `next`
/// reads a page, `render` turns rows into CSV bytes, `wrap` into a message.
pub(crate) struct CsvPages<N, R, W> {
    pub kind: &'static str,
    pub size: u32,
    pub request_id: String,
    pub next: N,
    pub render: R,
    pub wrap: W,
}

pub(crate) fn csv_chunks<T, M, N, Fut, R, W>(
    first: Page<T>,
    mut d: CsvPages<N, R, W>,
) -> ReceiverStream<Result<M, Status>>
where
    T: Send + 'static,
    M: Send + 'static,
    N: FnMut(PageRequest) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>, DomainError>> + Send,
    R: FnMut(&[T]) -> Vec<u8> + Send + 'static,
    W: Fn(Vec<u8>) -> M + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut page = first;
        loop {
            if tx.send(Ok((d.wrap)((d.render)(&page.items)))).await.is_err() || page.next_page_token.is_empty() {
                return;
            }
            let next = match PageRequest::parse(d.size as i32, &page.next_page_token, d.kind) {
                Ok(p) => (d.next)(p).await,
                Err(e) => Err(e),
            };
            match next {
                Ok(p) => page = p,
                Err(e) => {
                    let _ = tx.send(Err(to_status(e, &d.request_id))).await;
                    return;
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
