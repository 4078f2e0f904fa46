//! Finding and running the renderers: `kustomize` and `helm` from `--kustomize-bin` /
//! `--helm-bin` or `PATH`, run with an empty environment, a private HOME, proxies pointing at
//! a closed loopback port (no network), stdin closed, a timeout and a cap on output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use tokio::io::AsyncReadExt;

use super::{RenderError, RenderKind};

/// The kustomize version ferry is built and tested with (`dev/cluster/versions.env`).
pub const PINNED_KUSTOMIZE: &str = "v5.8.2";
/// The Helm version ferry is built and tested with (`dev/cluster/versions.env`).
pub const PINNED_HELM: &str = "v4.3.1";

/// Most bytes of a tool's stderr kept for its error message.
const MAX_STDERR_BYTES: usize = 64 * 1024;

/// Where the tools are, as configured (`None`: look on `PATH`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolPaths {
    /// `--kustomize-bin`.
    pub kustomize: Option<PathBuf>,
    /// `--helm-bin`.
    pub helm: Option<PathBuf>,
}

/// The renderers of one ferry process; cheap to clone. Each tool's version is asked once.
#[derive(Debug, Clone, Default)]
pub struct RenderTools {
    paths: ToolPaths,
    limits: super::workspace::RenderLimits,
    versions: Arc<std::sync::Mutex<Vec<(PathBuf, String)>>>,
}

impl RenderTools {
    /// Tools at these paths.
    pub fn new(paths: ToolPaths) -> RenderTools {
        RenderTools {
            paths,
            limits: Default::default(),
            versions: Arc::default(),
        }
    }

    /// What one render may read, write and take.
    pub fn limits(&self) -> &super::workspace::RenderLimits {
        &self.limits
    }

    /// The executable for `tool`, or why there is none.
    pub fn locate(&self, tool: RenderKind, root: &str) -> Result<PathBuf, RenderError> {
        let (flag, name, pinned) = match tool {
            RenderKind::Kustomize => (&self.paths.kustomize, "kustomize", PINNED_KUSTOMIZE),
            RenderKind::Helm => (&self.paths.helm, "helm", PINNED_HELM),
        };
        let missing = |looked: String| RenderError::ToolMissing {
            tool,
            root: if root.is_empty() {
                ".".into()
            } else {
                root.to_string()
            },
            looked,
            pinned,
        };
        match flag {
            Some(path) if is_executable(path) => Ok(path.clone()),
            Some(path) => Err(missing(format!(
                "--{name}-bin {} is not an executable file",
                path.display()
            ))),
            None => std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|dir| dir.join(name))
                .find(|p| is_executable(p))
                .ok_or_else(|| missing(format!("`{name}` is not on PATH"))),
        }
    }

    /// The tool's version as it reports it, asked once per executable.
    pub async fn version(
        &self,
        tool: RenderKind,
        exe: &Path,
        home: &Path,
    ) -> Result<String, RenderError> {
        if let Ok(known) = self.versions.lock() {
            if let Some((_, v)) = known.iter().find(|(p, _)| p == exe) {
                return Ok(v.clone());
            }
        }
        let args: &[&str] = match tool {
            RenderKind::Kustomize => &["version"],
            RenderKind::Helm => &["version", "--short"],
        };
        let run = Run {
            tool,
            root: "",
            exe,
            args: args.iter().map(Into::into).collect(),
            cwd: home,
            home,
            timeout: std::time::Duration::from_secs(10),
            max_output: 4096,
        };
        let out = run.output().await?;
        let version = String::from_utf8_lossy(&out).trim().to_string();
        if let Ok(mut known) = self.versions.lock() {
            known.push((exe.to_path_buf(), version.clone()));
        }
        Ok(version)
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One run of a tool.
pub(super) struct Run<'a> {
    pub tool: RenderKind,
    pub root: &'a str,
    pub exe: &'a Path,
    pub args: Vec<std::ffi::OsString>,
    pub cwd: &'a Path,
    pub home: &'a Path,
    pub timeout: std::time::Duration,
    pub max_output: usize,
}

impl Run<'_> {
    /// Runs the tool; its stdout when it exits 0, else its stderr as [`RenderError::ToolFailed`]
    /// (the caller cleans paths in it).
    pub async fn output(&self) -> Result<Vec<u8>, RenderError> {
        // A port nothing listens on: any HTTP(S) request the tool tries fails at once.
        let nowhere = "http://127.0.0.1:9";
        let mut cmd = tokio::process::Command::new(self.exe);
        cmd.args(&self.args)
            .current_dir(self.cwd)
            .env_clear()
            .env("HOME", self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("HELM_CONFIG_HOME", self.home.join(".config/helm"))
            .env("HELM_CACHE_HOME", self.home.join(".cache/helm"))
            .env("HELM_DATA_HOME", self.home.join(".local/share/helm"))
            .env("KUBECONFIG", self.home.join("no-kubeconfig"))
            .env("PATH", "")
            .env("HTTP_PROXY", nowhere)
            .env("HTTPS_PROXY", nowhere)
            .env("ALL_PROXY", nowhere)
            .env("http_proxy", nowhere)
            .env("https_proxy", nowhere)
            .env("NO_PROXY", "")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(RenderError::io(format!(
            "starting {} ({})",
            self.tool,
            self.exe.display()
        )))?;
        let mut stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let max = self.max_output;
        // stderr on its own task, read to the end (a tool blocked on a full pipe would never
        // exit); its start is kept for the message.
        let errors = tokio::spawn(async move {
            let mut kept = Vec::new();
            if let Some(mut err) = stderr {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = err.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    let room = MAX_STDERR_BYTES.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
            kept
        });
        let work = async {
            let mut out = Vec::new();
            if let Some(pipe) = stdout.as_mut() {
                let mut limited = pipe.take(max as u64 + 1);
                limited
                    .read_to_end(&mut out)
                    .await
                    .map_err(RenderError::io(format!("reading {}'s output", self.tool)))?;
            }
            if out.len() > max {
                // Killed here, so the stderr task sees its pipe close.
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Ok((None, out));
            }
            let status = child
                .wait()
                .await
                .map_err(RenderError::io(format!("waiting for {}", self.tool)))?;
            Ok::<_, RenderError>((Some(status), out))
        };
        let Ok(result) = tokio::time::timeout(self.timeout, work).await else {
            // Dropping the child (kill_on_drop) kills the tool.
            errors.abort();
            return Err(RenderError::Timeout {
                tool: self.tool,
                root: self.root.to_string(),
                timeout: self.timeout,
            });
        };
        let (status, out) = result?;
        let Some(status) = status else {
            errors.abort();
            return Err(RenderError::OutputTooLarge {
                tool: self.tool,
                root: self.root.to_string(),
                limit: max,
            });
        };
        if !status.success() {
            let err = errors.await.unwrap_or_default();
            let message = String::from_utf8_lossy(&err).trim().to_string();
            let message = if message.is_empty() {
                format!("exited with {status} and no message")
            } else {
                message
            };
            return Err(RenderError::ToolFailed {
                tool: self.tool,
                root: self.root.to_string(),
                message,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "tool_tests.rs"]
mod tests;
