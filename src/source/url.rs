//! Repository URLs as ferry accepts them: no credentials inside.

use super::SourceError;

/// Refuses credentials written into a repository URL (`https://user:token@host/…`, or a
/// password in an `ssh://` URL): they would end up in logs, history and the cache clone's
/// `.git/config`. A user name alone is fine for SSH (`ssh://git@host/…`, `git@host:org/repo`).
pub fn check_url(url: &str) -> Result<(), SourceError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(());
    };
    let authority = rest.split('/').next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Ok(());
    };
    let ssh = scheme.eq_ignore_ascii_case("ssh") || scheme.eq_ignore_ascii_case("git+ssh");
    if ssh && !userinfo.contains(':') {
        return Ok(());
    }
    let after_at = rest.get(userinfo.len() + 1..).unwrap_or("");
    Err(SourceError::CredentialsInUrl {
        url: format!("{scheme}://{after_at}"),
    })
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
