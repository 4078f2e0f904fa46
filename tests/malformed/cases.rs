//! The corpus of malformed commits for `tests/malformed.rs`: each case is the files a bad
//! commit writes on top of a good one, and what the output must say (the file, and `file:line`
//! where the problem has a line). `{ns}` in a text stands for the test's namespace.
//!
//! The groups follow the pipeline stage that must catch them: git (symlinks, encodings, sizes:
//! here), the YAML reader and ferry's own checks (`reader_cases.rs`), discovery and the
//! server's dry-run (`server_cases.rs`). This file also holds the case types and builders.

/// What a file of the bad commit holds.
pub enum Content {
    /// Text; `{ns}` is replaced by the test namespace.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(&'static str),
}

/// One malformed commit.
pub struct Case {
    /// Short name, for failure messages.
    pub name: &'static str,
    /// Files of the good commit besides `good.yaml` (objects a bad change then edits).
    pub base: Vec<(&'static str, String)>,
    /// Files the bad commit writes (it also changes `good.yaml` and adds `fresh.yaml`, valid
    /// changes that must not be applied either).
    pub bad: Vec<(&'static str, Content)>,
    /// Substrings the output (stdout and stderr) must contain, `{ns}` replaced.
    pub expect: Vec<&'static str>,
}

pub fn text(s: impl Into<String>) -> Content {
    Content::Text(s.into())
}

pub fn case(
    name: &'static str,
    file: &'static str,
    body: impl Into<String>,
    expect: &[&'static str],
) -> Case {
    Case {
        name,
        base: Vec::new(),
        bad: vec![(file, text(body))],
        expect: expect.to_vec(),
    }
}

/// A ConfigMap `name` whose `data` block is `data` (indented by the caller).
pub fn cm(name: &str, data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{data}")
}

/// A DaemonSet `name`: `selector` goes under `spec:`, `labels` are the pod template's, and
/// `container` continues the one container.
pub fn ds(name: &str, selector: &str, labels: &str, container: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\nspec:\n{selector}  template:\n    metadata:\n      labels: {labels}\n    spec:\n      containers:\n      - name: main\n{container}"
    )
}

pub fn sts(selector: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: web\n  replicas: 1\n  selector: {{matchLabels: {{app: {selector}}}}}\n  template:\n    metadata: {{labels: {{app: {selector}}}}}\n    spec:\n      containers: [{{name: nginx, image: nginx:1.27}}]\n"
    )
}

/// All cases.
pub fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(super::reader_cases::syntax());
    all.extend(super::reader_cases::fields());
    all.extend(super::server_cases::discovery());
    all.extend(git_level());
    all.extend(super::server_cases::server());
    all
}

/// Caught while reading the commit from git.
fn git_level() -> Vec<Case> {
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    png.extend((0..200u32).map(|i| (i * 37 % 256) as u8));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            cm("wide", "  k: a\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let mut late_binary = cm("late", "  k: a\n").into_bytes();
    late_binary.extend([b' ', b' ', b'x', b':', b' ', 0xC3, 0x28, b'\n']);
    // 50 MB: a ConfigMap followed by comment lines.
    let mut huge = cm("huge", "  k: a\n").into_bytes();
    let line = b"# padding padding padding padding padding padding padding padding padding\n";
    while huge.len() < 50 * 1024 * 1024 {
        huge.extend_from_slice(line);
    }
    vec![
        Case {
            name: "binary file",
            base: Vec::new(),
            bad: vec![("image.yaml", Content::Bytes(png))],
            expect: vec!["image.yaml:1", "not valid UTF-8"],
        },
        Case {
            name: "UTF-16 file",
            base: Vec::new(),
            bad: vec![("wide.yaml", Content::Bytes(utf16))],
            expect: vec!["wide.yaml:1", "not valid UTF-8 (byte 0)"],
        },
        Case {
            name: "invalid UTF-8 on a later line",
            base: Vec::new(),
            bad: vec![("late.yaml", Content::Bytes(late_binary))],
            expect: vec!["late.yaml:7", "not valid UTF-8"],
        },
        Case {
            name: "50 MB file",
            base: Vec::new(),
            bad: vec![("huge.yaml", Content::Bytes(huge))],
            expect: vec!["huge.yaml", "over the limit"],
        },
        Case {
            name: "symlink to another manifest",
            base: Vec::new(),
            bad: vec![("link.yaml", Content::Symlink("good.yaml"))],
            expect: vec!["link.yaml is a symbolic link"],
        },
        Case {
            name: "symlink out of the repository",
            base: Vec::new(),
            bad: vec![("apps/passwd.yaml", Content::Symlink("/etc/passwd"))],
            expect: vec!["apps/passwd.yaml is a symbolic link"],
        },
    ]
}
