//! The `notify:` block of an app in `ferry.yaml`, and what it resolves to.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::event::EventName;
use super::forge::repository_from_url;
use super::NotifyError;

/// `notify:` as written: a commit status at the forge and any number of outgoing webhooks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotifyConfig {
    /// Write a commit status on every synced commit.
    #[serde(default)]
    pub commit_status: Option<CommitStatusConfig>,
    /// Post each sync event to these URLs.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

/// Which forge's commit status API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    /// Gitea (`/api/v1/repos/{owner}/{repo}/statuses/{sha}`).
    Gitea,
    /// Forgejo: Gitea's API.
    Forgejo,
    /// GitHub or GitHub Enterprise (`/repos/{owner}/{repo}/statuses/{sha}`).
    Github,
    /// GitLab (`/api/v4/projects/{id}/statuses/{sha}`).
    Gitlab,
    /// Bitbucket Cloud (`/2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build`).
    Bitbucket,
}

impl ForgeKind {
    /// The name used in `ferry.yaml` and as the `target` label of the metric.
    pub fn name(self) -> &'static str {
        match self {
            ForgeKind::Gitea => "gitea",
            ForgeKind::Forgejo => "forgejo",
            ForgeKind::Github => "github",
            ForgeKind::Gitlab => "gitlab",
            ForgeKind::Bitbucket => "bitbucket",
        }
    }

    /// The API's base URL when `api:` is not given (the public service), if it has one.
    fn default_api(self) -> Option<&'static str> {
        match self {
            ForgeKind::Github => Some("https://api.github.com"),
            ForgeKind::Gitlab => Some("https://gitlab.com"),
            ForgeKind::Bitbucket => Some("https://api.bitbucket.org"),
            ForgeKind::Gitea | ForgeKind::Forgejo => None,
        }
    }
}

/// `notify.commitStatus` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitStatusConfig {
    /// The forge.
    pub forge: ForgeKind,
    /// The API's base URL (`https://git.example.com` for Gitea; GitHub Enterprise:
    /// `https://ghe.example.com/api/v3`). Default: the public service, or for Gitea/Forgejo
    /// the origin of an http(s) repository URL.
    #[serde(default)]
    pub api: Option<String>,
    /// File holding the API token (re-read for every request, so a rotated token is used).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding the API token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// `owner/name` (GitLab: `group/subgroup/name`). Default: taken from the app's repo URL.
    #[serde(default)]
    pub repository: Option<String>,
    /// Send the token over plain `http://` (a forge on loopback or a trusted link).
    #[serde(default)]
    pub allow_plain_http: bool,
}

/// How an outgoing webhook's body is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// ferry's JSON event, HMAC-SHA256 signed in `X-Ferry-Signature` when a secret is set.
    #[default]
    Json,
    /// `{"text": "…"}`, what Slack's (and Mattermost's, Rocket.Chat's…) incoming webhooks take.
    Slack,
}

/// `notify.webhooks[]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// Body shape (default `json`).
    #[serde(default)]
    pub format: WebhookFormat,
    /// File holding the HMAC secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Environment variable holding the HMAC secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Which events to send (default: all of `started`, `succeeded`, `failed`, `superseded`,
    /// `rolledBack`).
    #[serde(default)]
    pub events: Vec<EventName>,
}

/// Where a token or secret is: read when a request is sent, never stored in ferry's memory
/// between requests, never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// A file (surrounding whitespace ignored).
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl Secret {
    fn pick(
        file: Option<PathBuf>,
        env: Option<String>,
        what: &str,
    ) -> Result<Option<Secret>, NotifyError> {
        match (file, env) {
            (Some(f), None) => Ok(Some(Secret::File(f))),
            (None, Some(e)) => Ok(Some(Secret::Env(e))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(NotifyError::Invalid(format!(
                "{what}: give one of the File or Env forms, not both"
            ))),
        }
    }

    /// Reads the value. Missing, unreadable or empty is an error naming the file or variable.
    pub fn read(&self, what: &'static str) -> Result<String, NotifyError> {
        let (value, source_name) = match self {
            Secret::File(path) => (
                std::fs::read_to_string(path).map_err(|source| NotifyError::ReadSecret {
                    what,
                    path: path.clone(),
                    source,
                })?,
                format!("file {}", path.display()),
            ),
            Secret::Env(name) => (
                std::env::var(name).unwrap_or_default(),
                format!("environment variable {name}"),
            ),
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(NotifyError::MissingSecret { what, source_name });
        }
        Ok(value.to_string())
    }
}

/// A resolved commit status target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatusTarget {
    /// The forge.
    pub forge: ForgeKind,
    /// The API base URL, without a trailing slash.
    pub api: String,
    /// The token.
    pub token: Secret,
    /// `owner/name` (GitLab: the project's full path).
    pub repository: String,
    /// The status context, `ferry/<app>`.
    pub context: String,
}

/// A resolved outgoing webhook. Its `Debug` shows the URL's origin only: a chat webhook's
/// path is its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// Where to POST.
    pub url: String,
    /// Body shape.
    pub format: WebhookFormat,
    /// The HMAC secret, when the body is signed.
    pub secret: Option<Secret>,
    /// The events sent.
    pub events: BTreeSet<EventName>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("origin", &origin(&self.url))
            .field("format", &self.format)
            .field("secret", &self.secret)
            .field("events", &self.events)
            .finish()
    }
}

/// `scheme://host[:port]` of a URL: what messages show of a webhook URL.
pub(super) fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// One place a sync's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A commit status at a forge.
    CommitStatus(CommitStatusTarget),
    /// An outgoing webhook.
    Webhook(WebhookTarget),
}

impl Target {
    /// The `target` label of `ferry_notifications_total`: the forge, `webhook` or `slack`.
    pub fn label(&self) -> &'static str {
        match self {
            Target::CommitStatus(t) => t.forge.name(),
            Target::Webhook(w) => match w.format {
                WebhookFormat::Json => "webhook",
                WebhookFormat::Slack => "slack",
            },
        }
    }
}

/// What an app's events are sent to; empty when `notify:` is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySpec {
    /// The targets, in config order.
    pub targets: Vec<Target>,
    /// Where a person reads more about a sync (a status's target URL, a webhook's `url`):
    /// the web UI's history page `<externalUrl>/apps/<app>/history` when `ferry.yaml` sets
    /// `externalUrl`.
    pub details_url: Option<String>,
}

impl NotifySpec {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

impl NotifyConfig {
    /// Validates the block for app `app` whose repository is `repo` (a URL or local path);
    /// `external_url` is the top-level `externalUrl` of `ferry.yaml`.
    pub fn resolve(
        self,
        app: &str,
        repo: &str,
        external_url: Option<&str>,
    ) -> Result<NotifySpec, NotifyError> {
        let mut targets = Vec::new();
        if let Some(status) = self.commit_status {
            targets.push(Target::CommitStatus(status.resolve(app, repo)?));
        }
        for (i, hook) in self.webhooks.into_iter().enumerate() {
            targets.push(Target::Webhook(hook.resolve(i)?));
        }
        let details_url = match external_url {
            Some(base) => {
                check_http_url(base, "externalUrl")?;
                Some(format!("{}/apps/{app}/history", base.trim_end_matches('/')))
            }
            None => None,
        };
        Ok(NotifySpec {
            targets,
            details_url,
        })
    }
}

impl CommitStatusConfig {
    fn resolve(self, app: &str, repo: &str) -> Result<CommitStatusTarget, NotifyError> {
        let forge = self.forge;
        let api = match (self.api, forge.default_api()) {
            (Some(api), _) => api,
            (None, Some(default)) => default.to_string(),
            (None, None) => http_origin(repo).ok_or_else(|| {
                NotifyError::Invalid(format!(
                    "commitStatus.api is required for {} when repo is not an http(s) URL \
                     (e.g. api: https://git.example.com)",
                    forge.name()
                ))
            })?,
        };
        check_http_url(&api, "commitStatus.api")?;
        if api.starts_with("http://") && !self.allow_plain_http {
            return Err(NotifyError::Invalid(format!(
                "refusing to send the forge token over plain http to {api}: use https, or set \
                 commitStatus.allowPlainHttp: true for a forge on a trusted link"
            )));
        }
        let token = Secret::pick(self.token_file, self.token_env, "commitStatus.token")?
            .ok_or_else(|| {
                NotifyError::Invalid(
                    "commitStatus needs tokenFile or tokenEnv (the forge's API token)".into(),
                )
            })?;
        let repository = match self.repository {
            Some(r) => r.trim_matches('/').to_string(),
            None => repository_from_url(repo, forge).ok_or_else(|| {
                NotifyError::Invalid(format!(
                    "commitStatus.repository is not set and cannot be taken from repo {repo:?}: \
                     set it to owner/name"
                ))
            })?,
        };
        let segments: Vec<&str> = repository.split('/').collect();
        let shape_ok = segments.iter().all(|s| !s.is_empty())
            && match forge {
                ForgeKind::Gitlab => segments.len() >= 2,
                _ => segments.len() == 2,
            };
        if !shape_ok {
            return Err(NotifyError::Invalid(format!(
                "commitStatus.repository {repository:?} must be owner/name{}",
                if forge == ForgeKind::Gitlab {
                    " (or group/subgroup/name)"
                } else {
                    ""
                }
            )));
        }
        Ok(CommitStatusTarget {
            forge,
            api: api.trim_end_matches('/').to_string(),
            token,
            repository,
            context: format!("ferry/{app}"),
        })
    }
}

impl WebhookConfig {
    fn resolve(self, index: usize) -> Result<WebhookTarget, NotifyError> {
        let what = format!("webhooks[{index}]");
        check_http_url(&self.url, &format!("{what}.url"))?;
        let secret = Secret::pick(self.secret_file, self.secret_env, &format!("{what}.secret"))?;
        let events = if self.events.is_empty() {
            EventName::ALL.iter().copied().collect()
        } else {
            self.events.into_iter().collect()
        };
        Ok(WebhookTarget {
            url: self.url,
            format: self.format,
            secret,
            events,
        })
    }
}

fn check_http_url(url: &str, what: &str) -> Result<(), NotifyError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {
            if rest
                .split('/')
                .next()
                .is_some_and(|host| host.contains('@'))
            {
                return Err(NotifyError::Invalid(format!(
                    "{what}: credentials do not belong in the URL; use the token/secret file"
                )));
            }
            Ok(())
        }
        // The URL is not echoed: a chat webhook's URL is its secret.
        _ => Err(NotifyError::Invalid(format!(
            "{what} must be an http:// or https:// URL"
        ))),
    }
}

/// `https://host:port` of an http(s) repository URL.
fn http_origin(repo: &str) -> Option<String> {
    let (scheme, rest) = repo.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split('/').next()?;
    let host = host.rsplit('@').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}
