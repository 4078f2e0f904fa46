//! Receivers on 127.0.0.1 that stand in for a forge's commit status API or a webhook
//! endpoint, and check every request against what that API documents: method, path, headers
//! and body fields. A request that breaks the documented contract is answered 422 and kept
//! in `violations`, so a test asserts both what arrived and that nothing arrived wrong.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;

/// The API a receiver checks requests against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// GitHub's "Create a commit status":
    /// <https://docs.github.com/en/rest/commits/statuses#create-a-commit-status>
    GithubStatus,
    /// GitLab's "Set the pipeline status of a commit":
    /// <https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit>
    GitlabStatus,
    /// Bitbucket Cloud's "Create a build status for a commit":
    /// <https://developer.atlassian.com/cloud/bitbucket/rest/api-group-commit-statuses/#api-repositories-workspace-repo-slug-commit-commit-statuses-build-post>
    BitbucketStatus,
    /// Any webhook: a JSON POST.
    Webhook,
}

/// One request that passed the checks.
#[derive(Debug, Clone)]
pub struct Received {
    /// The raw path (percent-encoding kept).
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its JSON body.
    pub body: Value,
    /// Its raw body (for signatures).
    pub raw: Vec<u8>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Requests that passed.
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Why requests failed the checks.
    pub violations: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Starts a receiver for `api` on its own thread and runtime (it outlives any one test's
    /// runtime), expecting `token` in the forge's auth header.
    pub fn start(api: Api, token: &str) -> Receiver {
        Receiver::start_slow(api, token, std::time::Duration::ZERO)
    }

    /// [`Receiver::start`], answering each request only after `delay` (a slow forge): a
    /// request whose sender went away before the answer is not counted as received.
    pub fn start_slow(api: Api, token: &str, delay: std::time::Duration) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let violations: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, v, token) = (received.clone(), violations.clone(), token.to_string());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let (r, v, token) = (r.clone(), v.clone(), token.clone());
                        async move {
                            tokio::time::sleep(delay).await;
                            match check(api, &token, &method, &uri, &headers, &body) {
                                Ok(json) => {
                                    r.lock().unwrap().push(Received {
                                        path: uri.path().to_string(),
                                        headers,
                                        body: json,
                                        raw: body.to_vec(),
                                    });
                                    (StatusCode::CREATED, "{}".to_string())
                                }
                                Err(why) => {
                                    v.lock().unwrap().push(why.clone());
                                    (StatusCode::UNPROCESSABLE_ENTITY, why)
                                }
                            }
                        }
                    },
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(listener, app).await;
            });
        });
        Receiver {
            url,
            received,
            violations,
        }
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The violations so far.
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn check(
    api: Api,
    token: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, String> {
    if method != Method::POST {
        return Err(format!("method {method}, want POST"));
    }
    if !header(headers, "content-type").is_some_and(|c| c.starts_with("application/json")) {
        return Err("Content-Type is not application/json".into());
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let path: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let str_field = |name: &str| json.get(name).and_then(Value::as_str);
    match api {
        Api::GithubStatus => {
            // POST /repos/{owner}/{repo}/statuses/{sha}
            if !(path.len() == 5 && path[0] == "repos" && path[3] == "statuses" && is_sha(path[4]))
            {
                return Err(format!(
                    "path {} is not /repos/OWNER/REPO/statuses/SHA",
                    uri.path()
                ));
            }
            if header(headers, "authorization") != Some(&format!("Bearer {token}")) {
                return Err("Authorization is not `Bearer <token>`".into());
            }
            if header(headers, "accept") != Some("application/vnd.github+json") {
                return Err("Accept is not application/vnd.github+json".into());
            }
            if header(headers, "x-github-api-version") != Some("2022-11-28") {
                return Err("X-GitHub-Api-Version is not 2022-11-28".into());
            }
            if header(headers, "user-agent").is_none() {
                return Err("GitHub requires a User-Agent".into());
            }
            let state = str_field("state").unwrap_or_default();
            if !["error", "failure", "pending", "success"].contains(&state) {
                return Err(format!("state {state:?} is not one of GitHub's"));
            }
            if str_field("description").is_some_and(|d| d.chars().count() > 140) {
                return Err("description is longer than 140 characters".into());
            }
        }
        Api::GitlabStatus => {
            // POST /api/v4/projects/:id/statuses/:sha, :id a number or URL-encoded path.
            if !(path.len() == 6
                && path[..3] == ["api", "v4", "projects"]
                && !path[3].is_empty()
                && path[4] == "statuses"
                && is_sha(path[5]))
            {
                return Err(format!(
                    "path {} is not /api/v4/projects/ID/statuses/SHA",
                    uri.path()
                ));
            }
            if header(headers, "private-token") != Some(token) {
                return Err("PRIVATE-TOKEN is not the token".into());
            }
            let state = str_field("state").unwrap_or_default();
            if ![
                "pending", "running", "success", "failed", "canceled", "skipped",
            ]
            .contains(&state)
            {
                return Err(format!("state {state:?} is not one of GitLab's"));
            }
            if str_field("description").is_some_and(|d| d.chars().count() > 255) {
                return Err("description is longer than 255 characters".into());
            }
        }
        Api::BitbucketStatus => {
            // POST /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build
            if !(path.len() == 8
                && path[..2] == ["2.0", "repositories"]
                && path[4] == "commit"
                && is_sha(path[5])
                && path[6..] == ["statuses", "build"])
            {
                return Err(format!(
                    "path {} is not Bitbucket's build status path",
                    uri.path()
                ));
            }
            if header(headers, "authorization") != Some(&format!("Bearer {token}")) {
                return Err("Authorization is not `Bearer <token>`".into());
            }
            let state = str_field("state").unwrap_or_default();
            if !["INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED"].contains(&state) {
                return Err(format!("state {state:?} is not one of Bitbucket's"));
            }
            match str_field("key") {
                Some(k) if !k.is_empty() && k.len() <= 40 => {}
                _ => return Err("key is required, at most 40 characters".into()),
            }
            if str_field("url").is_none_or(str::is_empty) {
                return Err("url is required".into());
            }
        }
        Api::Webhook => {}
    }
    Ok(json)
}
