//! A minimal HTTP/1.1 client over a raw socket, for the presigned upload URL:
//! what curl would send, with nothing hidden.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// `PUT url` with `body` and a Content-Length (or, with `chunked`, as chunks
/// of 1 KiB and no length).
pub async fn put(url: &str, body: &[u8], chunked: bool) -> Reply {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut sock = TcpStream::connect(host).await.expect("connect");
    let length =
        if chunked { "Transfer-Encoding: chunked".to_string() } else { format!("Content-Length: {}", body.len()) };
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\n{length}\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) and close before the whole body is sent.
    let _ = if chunked {
        async {
            for c in body.chunks(1024) {
                sock.write_all(format!("{:x}\r\n", c.len()).as_bytes()).await?;
                sock.write_all(c).await?;
                sock.write_all(b"\r\n").await?;
            }
            sock.write_all(b"0\r\n\r\n").await
        }
        .await
    } else {
        sock.write_all(body).await
    };
    let mut raw = Vec::new();
    let _ = sock.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Reply { status, body }
}
