use super::*;

const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGXrQhgedYmS957sIh9YKYY5plj7ZZsVc8Zm8IaEOeSI";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPnjDIvbO62ra7wAsltd7iQxc9RavzgAcgNqyxNxzyAI";

fn offered(b64: &str) -> (Vec<u8>, [u8; 32]) {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let sha = Sha256::digest(&blob).into();
    (blob, sha)
}

fn check(
    text: &str,
    host: &str,
    port: u16,
    b64: &str,
    with_blob: bool,
) -> Result<(), HostKeyError> {
    let (blob, sha256) = offered(b64);
    let key = OfferedKey {
        key_type: "ssh-ed25519",
        blob: with_blob.then_some(blob.as_slice()),
        sha256,
    };
    verify(text, "kh", host, port, &key)
}

#[test]
fn a_listed_key_is_accepted_by_blob_or_by_hash() {
    let text = format!("# comment\n\ngit.example.com,10.0.0.1 ssh-ed25519 {ED} me@host\n");
    assert_eq!(check(&text, "git.example.com", 22, ED, true), Ok(()));
    assert_eq!(check(&text, "GIT.example.com", 22, ED, false), Ok(()));
    assert_eq!(check(&text, "10.0.0.1", 22, ED, true), Ok(()));
}

#[test]
fn ports_other_than_22_use_brackets() {
    let text = format!("[127.0.0.1]:2222 ssh-ed25519 {ED}\n");
    assert_eq!(check(&text, "127.0.0.1", 2222, ED, true), Ok(()));
    let err = check(&text, "127.0.0.1", 22, ED, true).unwrap_err();
    assert!(matches!(err, HostKeyError::Unknown { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("unknown SSH host key for 127.0.0.1"),
        "{err}"
    );
}

#[test]
fn a_different_key_is_a_changed_key_naming_host_and_file() {
    let text = format!("git.example.com ssh-ed25519 {ED}\n");
    let err = check(&text, "git.example.com", 22, OTHER, true).unwrap_err();
    let (_, sha) = offered(OTHER);
    assert_eq!(
        err,
        HostKeyError::Changed {
            host: "git.example.com".into(),
            file: "kh".into(),
            key_type: "ssh-ed25519".into(),
            fingerprint: fingerprint(&sha),
        }
    );
    assert!(err.to_string().contains("does NOT match kh"), "{err}");
}

#[test]
fn unknown_hosts_say_how_to_add_them() {
    let text = format!("other.example.com ssh-ed25519 {ED}\n");
    let err = check(&text, "git.example.com", 2222, ED, true).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("[git.example.com]:2222"), "{msg}");
    assert!(
        msg.contains("ssh-keyscan -p 2222 git.example.com >> kh"),
        "{msg}"
    );
    // Only another key type listed: still unknown for this type.
    let text = "git.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n";
    let err = check(text, "git.example.com", 22, ED, true).unwrap_err();
    assert!(matches!(err, HostKeyError::Unknown { .. }), "{err}");
}

#[test]
fn patterns_negations_revocations_and_hashed_lines() {
    let text = format!("*.example.com,!evil.example.com ssh-ed25519 {ED}\n");
    assert_eq!(check(&text, "git.example.com", 22, ED, true), Ok(()));
    assert!(check(&text, "evil.example.com", 22, ED, true).is_err());
    let text = format!("@revoked * ssh-ed25519 {ED}\ngit.example.com ssh-ed25519 {ED}\n");
    let err = check(&text, "git.example.com", 22, ED, true).unwrap_err();
    assert!(matches!(err, HostKeyError::Revoked { .. }), "{err}");
    let text = format!("|1|c2FsdA==|aGFzaA== ssh-ed25519 {ED}\n");
    assert!(check(&text, "git.example.com", 22, ED, true).is_err());
    assert!(glob("g?t.*", "git.example.com"));
    assert!(!glob("g?t", "gt"));
}
