//! A small, real ESMTP listener for tests: speaks enough of RFC 5321 for lettre
//! and records every message it accepts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the listener answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Accepts every message.
    Accept,
    /// Answers RCPT TO with this line (e.g. `550 5.1.1 no such user`).
    RejectRcpt(&'static str),
    /// Accepts the connection and never says a word.
    Silent,
    /// Advertises AUTH PLAIN and accepts (and records) any credentials.
    Auth,
    /// Advertises AUTH PLAIN and refuses every credential with 535.
    RejectAuth,
}

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-unstuffed, CRLF line ends.
    pub data: String,
    /// The decoded AUTH PLAIN response of the session (`\0user\0password`).
    pub auth: Option<String>,
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    connections: usize,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), behaviour).await
    }

    pub async fn start_on(addr: SocketAddr, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the test SMTP listener");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sink.lock().unwrap().connections += 1;
                connections.spawn(serve(stream, behaviour, Arc::clone(&sink)));
            }
        });
        Self { addr, log, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    /// Stops listening and drops every open connection.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A port on which nothing listens (bound once, then let go).
pub async fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

async fn serve(stream: TcpStream, behaviour: Behaviour, sink: Arc<Mutex<Log>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    if let Behaviour::Silent = behaviour {
        while lines.read_line(&mut line).await? > 0 {}
        return Ok(());
    }
    write.write_all(b"220 test.invalid ESMTP ready\r\n").await?;
    let (mut from, mut rcpt, mut auth) = (None::<String>, Vec::new(), None::<String>);
    let ehlo = match behaviour {
        Behaviour::Auth | Behaviour::RejectAuth => "250-test.invalid\r\n250-8BITMIME\r\n250 AUTH PLAIN\r\n",
        _ => "250-test.invalid\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
    };
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let verb = cmd.split([' ', ':']).next().unwrap_or("").to_ascii_uppercase();
        let reply: &str = match verb.as_str() {
            "EHLO" => ehlo,
            "AUTH" if matches!(behaviour, Behaviour::RejectAuth) => "535 5.7.8 authentication failed\r\n",
            "AUTH" => {
                let encoded = cmd.split(' ').nth(2).unwrap_or("");
                let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded);
                auth = decoded.ok().and_then(|d| String::from_utf8(d).ok());
                "235 2.7.0 authenticated\r\n"
            }
            "HELO" | "NOOP" => "250 OK\r\n",
            "RSET" => {
                (from, rcpt) = (None, Vec::new());
                "250 OK\r\n"
            }
            "MAIL" => {
                from = Some(angle(&cmd));
                "250 OK\r\n"
            }
            "RCPT" => match behaviour {
                Behaviour::RejectRcpt(answer) => {
                    write.write_all(format!("{answer}\r\n").as_bytes()).await?;
                    continue;
                }
                _ => {
                    rcpt.push(angle(&cmd));
                    "250 OK\r\n"
                }
            },
            "DATA" if from.is_none() || rcpt.is_empty() => "503 need MAIL and RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let mail_from = from.take().unwrap_or_default();
                let rcpt_to = std::mem::take(&mut rcpt);
                sink.lock().unwrap().received.push(Received { mail_from, rcpt_to, data, auth: auth.clone() });
                "250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 command not implemented\r\n",
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// The `<...>` part of `MAIL FROM:<a@b> SIZE=1`.
fn angle(cmd: &str) -> String {
    let start = cmd.find('<').map_or(0, |i| i + 1);
    let end = cmd[start..].find('>').map_or(cmd.len(), |i| start + i);
    cmd[start..end].to_string()
}
