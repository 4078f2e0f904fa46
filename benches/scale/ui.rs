//! The web UI on the real `ferry serve` with every app reconciled: the apps page's time and
//! size over HTTP, and what showing it (50 apps pages, 10 app pages, 10 open live streams)
//! adds to serve's RSS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::http_client::http;
use super::probe::proc_stats;

/// What the UI probe measured.
#[derive(Debug, Default, Clone)]
pub struct UiFigures {
    /// `GET /` (1,000 rows): median and p95.
    pub page: (Duration, Duration),
    /// Its body, bytes.
    pub page_bytes: usize,
    /// serve's RSS (KiB) before the first page and with the pages shown and streams open.
    pub rss: (u64, u64),
}

/// Loads the pages and opens the streams, then reads serve's RSS.
pub fn probe(port: u16, pid: u32, app: &str) -> UiFigures {
    let before = proc_stats(pid).map_or(0, |s| s.rss_kib);
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..50 {
        let started = Instant::now();
        if let Some((200, body)) = http(port, "GET", "/", &[], b"") {
            times.push(started.elapsed());
            bytes = body.len();
        }
    }
    for _ in 0..10 {
        let _ = http(port, "GET", &format!("/apps/{app}"), &[], b"");
    }
    let streams: Vec<TcpStream> = (0..10)
        .filter_map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.write_all(b"GET /ui/events HTTP/1.1\r\nHost: x\r\n\r\n")
                .ok()?;
            s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
            let mut head = [0u8; 256];
            let _ = s.read(&mut head);
            Some(s)
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let after = proc_stats(pid).map_or(0, |s| s.rss_kib);
    drop(streams);
    times.sort();
    let pick = |p: f64| {
        times
            .get(((times.len().saturating_sub(1)) as f64 * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    UiFigures {
        page: (pick(0.5), pick(0.95)),
        page_bytes: bytes,
        rss: (before, after),
    }
}
