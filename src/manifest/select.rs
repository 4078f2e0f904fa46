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
mod tests {
    use super::*;

    fn opts(path: &str, recursive: bool, ignore: &[&str]) -> SelectOptions {
        SelectOptions {
            path: path.into(),
            recursive,
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn extensions() {
        let f = opts("", true, &[]).compile().unwrap();
        assert!(f.matches("a.yaml"));
        assert!(f.matches("a.yml"));
        assert!(!f.matches("a.json"));
        assert!(!f.matches("a.txt"));
        assert!(!f.matches("a.yaml.bak"));
        assert!(!f.matches("README.md"));
        assert!(!f.matches("yaml"));
    }

    #[test]
    fn root_variants_are_the_same() {
        for root in ["", ".", "./", "/"] {
            let f = opts(root, false, &[]).compile().unwrap();
            assert!(f.matches("a.yaml"), "root {root:?}");
            assert!(!f.matches("sub/a.yaml"), "root {root:?}");
        }
    }

    #[test]
    fn recursive_vs_direct_children() {
        let flat = opts("apps", false, &[]).compile().unwrap();
        assert!(flat.matches("apps/a.yaml"));
        assert!(!flat.matches("apps/logging/a.yaml"));
        assert!(!flat.matches("a.yaml"));
        assert!(!flat.matches("appsx/a.yaml"));
        assert!(!flat.matches("other/apps/a.yaml"));

        let deep = opts("./apps/", true, &[]).compile().unwrap();
        assert!(deep.matches("apps/a.yaml"));
        assert!(deep.matches("apps/logging/a.yaml"));
        assert!(deep.matches("apps/logging/x/y/a.yml"));
        assert!(!deep.matches("a.yaml"));
        assert!(!deep.matches("appsx/a.yaml"));
    }

    #[test]
    fn nested_dir() {
        let f = opts("clusters/prod", true, &[]).compile().unwrap();
        assert!(f.matches("clusters/prod/ds.yaml"));
        assert!(!f.matches("clusters/production/ds.yaml"));
        assert!(!f.matches("clusters/ds.yaml"));
    }

    #[test]
    fn hidden_components_are_skipped() {
        let f = opts("", true, &[]).compile().unwrap();
        assert!(!f.matches(".github/workflows/ci.yml"));
        assert!(!f.matches(".sops.yaml"));
        assert!(!f.matches("apps/.hidden/a.yaml"));
        // The configured directory itself may be hidden.
        let g = opts(".deploy", true, &[]).compile().unwrap();
        assert!(g.matches(".deploy/a.yaml"));
    }

    #[test]
    fn unanchored_globs_match_at_any_depth() {
        let f = opts("apps", true, &["*.draft.yaml"]).compile().unwrap();
        assert!(!f.matches("apps/x.draft.yaml"));
        assert!(!f.matches("apps/sub/deeper/x.draft.yaml"));
        assert!(f.matches("apps/x.yaml"));
    }

    #[test]
    fn anchored_globs_are_relative_to_path() {
        let f = opts("apps", true, &["/staging/*.yaml", "tests/fixtures"])
            .compile()
            .unwrap();
        assert!(!f.matches("apps/staging/a.yaml"));
        // `*` does not cross '/'.
        assert!(f.matches("apps/staging/sub/a.yaml"));
        assert!(f.matches("apps/other/staging/a.yaml"));
        // A directory pattern excludes everything inside it.
        assert!(!f.matches("apps/tests/fixtures/a.yaml"));
        assert!(!f.matches("apps/tests/fixtures/deep/b.yaml"));
        assert!(f.matches("apps/tests/a.yaml"));
    }

    #[test]
    fn dir_only_and_double_star() {
        let f = opts("", true, &["secrets/", "**/generated/**"])
            .compile()
            .unwrap();
        assert!(!f.matches("secrets/a.yaml"));
        assert!(!f.matches("apps/secrets/a.yaml"));
        assert!(!f.matches("apps/generated/x/a.yaml"));
        assert!(f.matches("apps/secrets.yaml"));
        // A dir-only pattern does not match a file of the same name.
        let g = opts("", true, &["a.yaml/"]).compile().unwrap();
        assert!(g.matches("a.yaml"));
    }

    #[test]
    fn negation_last_match_wins() {
        let f = opts("", true, &["*.yaml", "!keep.yaml", "# comment", ""])
            .compile()
            .unwrap();
        assert!(!f.matches("a.yaml"));
        assert!(f.matches("keep.yaml"));
        assert!(f.matches("sub/keep.yaml"));
        assert!(f.matches("a.yml"));
        // A file inside an excluded directory cannot be re-included.
        let g = opts("", true, &["vendor/", "!vendor/keep.yaml"])
            .compile()
            .unwrap();
        assert!(!g.matches("vendor/keep.yaml"));
    }

    #[test]
    fn matches_without_compiling_first() {
        let o = opts("apps", false, &["x.yaml"]);
        assert!(o.matches("apps/a.yaml").unwrap());
        assert!(!o.matches("apps/x.yaml").unwrap());
    }

    #[test]
    fn bad_glob_and_bad_path_are_errors() {
        let err = opts("", true, &["[unclosed"]).compile().unwrap_err();
        assert!(
            matches!(&err, ManifestError::BadIgnorePattern { pattern, .. } if pattern == "[unclosed"),
            "{err}"
        );
        let err = opts("../elsewhere", true, &[]).compile().unwrap_err();
        assert!(matches!(err, ManifestError::BadPath { .. }), "{err}");
        assert!(opts("a/../b", true, &[]).matches("b/x.yaml").is_err());
    }
}
