//! A real browser for the UI tests: Debian's `chromium`, headless, driven over the W3C
//! WebDriver protocol through `chromedriver` on 127.0.0.1 (fantoccini). One browser per test;
//! screenshots go to `target/tmp/ui-screenshots/` (kept after the run, never committed).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use super::serve::free_port;

/// The browser binary (`FERRY_TEST_CHROMIUM`, else Debian's).
fn chromium() -> PathBuf {
    std::env::var_os("FERRY_TEST_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// The WebDriver binary (`FERRY_TEST_CHROMEDRIVER`, else Debian's).
fn chromedriver() -> PathBuf {
    std::env::var_os("FERRY_TEST_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

/// Where screenshots are saved.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots")
}

/// A headless Chromium under chromedriver; both stop when this is dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the chromium it started share a process group: stop them all,
        // also when a test panicked before closing the session.
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            // SAFETY: kill(2) on our own child's process group; no memory is involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free 127.0.0.1 port and opens a headless session.
    pub async fn start() -> Browser {
        for binary in [chromium(), chromedriver()] {
            assert!(
                binary.exists(),
                "{} is missing: install Debian's chromium and chromium-driver (.ci/run does: apt-get install chromium chromium-driver)",
                binary.display()
            );
        }
        let port = free_port();
        let driver = Command::new(chromedriver())
            .process_group(0)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-extensions",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("could not open a chromium session through chromedriver: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the WebDriver session (chromium exits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens `path` of the ferry server on `port`.
    pub async fn open(&self, port: u16, path: &str) {
        self.client
            .goto(&format!("http://127.0.0.1:{port}{path}"))
            .await
            .unwrap();
    }

    /// The text of the first element matching `css` (`None`: no such element).
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    /// Clicks the first element matching `css` (it must exist).
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// True when an element matches `css`.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Waits until `check` gives something, re-checking every 20 ms.
    pub async fn wait_for<T, F, Fut>(&self, timeout: Duration, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = check().await {
                return found;
            }
            if Instant::now() > deadline {
                let html = self.source().await;
                panic!("timed out after {timeout:?} waiting for {what}; the page is:\n{html}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Saves a screenshot as `<name>.png` in [`screenshot_dir`] and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }
}
