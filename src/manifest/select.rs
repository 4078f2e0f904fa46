//! Which files of the repository are manifests.
//!
//! A file is a manifest when it ends in `.yaml` or `.yml`, lies below the configured directory
//! (directly in it unless recursive), no component of its path below that directory is hidden
//! (starts with `.`, so `.github/workflows/ci.yml` is never a manifest), and the ignore globs do
//! not exclude it.
//!
//! Ignore globs follow `.gitignore` rules, relative to the manifest directory: a pattern without
//! a `/` matches a name at any depth (`*.draft.yaml`), one with a `/` is anchored to the
//! directory (`/staging/*.yaml`, `tests/fixtures`), a trailing `/` matches directories only,
//! `!pattern` re-includes what an earlier pattern excluded (the last matching pattern wins),
//! and a file inside an excluded directory stays excluded. `*` does not cross `/`; `**` does.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::ManifestError;

/// Which files of the repository are manifests (the app's configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectOptions {
    /// Directory inside the repository; `""` or `"."` is the root.
    pub path: String,
    /// Include subdirectories of `path`.
    pub recursive: bool,
    /// Gitignore-style globs, relative to `path`, of files to leave out.
    pub ignore: Vec<String>,
}

impl SelectOptions {
    /// True when `repo_path` (relative to the repository root, `/` separators) is a manifest.
    /// Compiles the globs on every call: use [`SelectOptions::compile`] for many paths.
    pub fn matches(&self, repo_path: &str) -> Result<bool, ManifestError> {
        Ok(self.compile()?.matches(repo_path))
    }

    /// Builds the matcher once; fails on a bad directory or a bad glob.
    pub fn compile(&self) -> Result<PathFilter, ManifestError> {
        let dir = normalize_dir(&self.path)?;
        let mut rules = Vec::new();
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.ignore {
            let Some((rule, glob)) = translate(pattern) else {
                continue;
            };
            let compiled = GlobBuilder::new(&glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|source| ManifestError::BadIgnorePattern {
                    pattern: pattern.clone(),
                    source,
                })?;
            builder.add(compiled);
            rules.push(rule);
        }
        let set = builder
            .build()
            .map_err(|source| ManifestError::BadIgnorePattern {
                pattern: self.ignore.join(", "),
                source,
            })?;
        Ok(PathFilter {
            dir,
            recursive: self.recursive,
            rules,
            set,
        })
    }
}

/// A compiled [`SelectOptions`]: cheap to call for every path of a commit.
#[derive(Debug, Clone)]
pub struct PathFilter {
    dir: String,
    recursive: bool,
    rules: Vec<Rule>,
    set: GlobSet,
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    negated: bool,
    dir_only: bool,
}

impl PathFilter {
    /// True when `repo_path` (relative to the repository root, `/` separators) is a manifest.
    pub fn matches(&self, repo_path: &str) -> bool {
        let Some(rel) = self.relative(repo_path) else {
            return false;
        };
        if rel.is_empty() || (!self.recursive && rel.contains('/')) {
            return false;
        }
        if rel.split('/').any(|c| c.is_empty() || c.starts_with('.')) {
            return false;
        }
        if !(rel.ends_with(".yaml") || rel.ends_with(".yml")) {
            return false;
        }
        !self.ignored(rel)
    }

    /// The normalised manifest directory (`""` for the repository root).
    pub fn dir(&self) -> &str {
        &self.dir
    }

    fn relative<'p>(&self, repo_path: &'p str) -> Option<&'p str> {
        let path = repo_path.strip_prefix("./").unwrap_or(repo_path);
        if self.dir.is_empty() {
            return Some(path);
        }
        path.strip_prefix(self.dir.as_str())?.strip_prefix('/')
    }

    /// Gitignore semantics: an excluded parent directory excludes everything below it.
    fn ignored(&self, rel: &str) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        for (i, _) in rel.match_indices('/') {
            if self.decide(&rel[..i], true) {
                return true;
            }
        }
        self.decide(rel, false)
    }

    /// The last matching rule wins: excluded unless it is a `!` rule.
    fn decide(&self, path: &str, is_dir: bool) -> bool {
        let mut hits = self.set.matches(path);
        hits.sort_unstable();
        let mut excluded = false;
        for i in hits {
            if let Some(rule) = self.rules.get(i) {
                if rule.dir_only && !is_dir {
                    continue;
                }
                excluded = !rule.negated;
            }
        }
        excluded
    }
}

/// Turns one gitignore line into a rule and a globset glob; `None` for blanks and comments.
fn translate(pattern: &str) -> Option<(Rule, String)> {
    let mut p = pattern.trim();
    if p.is_empty() || p.starts_with('#') {
        return None;
    }
    let negated = p.starts_with('!');
    if negated {
        p = &p[1..];
    }
    let dir_only = p.ends_with('/');
    p = p.trim_end_matches('/');
    let anchored = p.contains('/');
    p = p.trim_start_matches('/');
    if p.is_empty() {
        return None;
    }
    let glob = if anchored || p.starts_with("**/") {
        p.to_string()
    } else {
        format!("**/{p}")
    };
    Some((Rule { negated, dir_only }, glob))
}

/// `""`, `"."`, `"./apps/"` → `""`, `""`, `"apps"`; refuses `..` and absolute-looking tricks.
fn normalize_dir(path: &str) -> Result<String, ManifestError> {
    let mut parts = Vec::new();
    for part in path.trim().split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(ManifestError::BadPath {
                    path: path.to_string(),
                    reason: "must stay inside the repository (no `..`)".into(),
                })
            }
            _ => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
