//! SSH host key verification end to end: a real OpenSSH `sshd` on 127.0.0.1 (started from a
//! temp dir with its own host key; `.ci/run` installs openssh-server) serves a bare repository
//! over `ssh://`; `ferry plan` fetches it when `auth.knownHostsFile` lists the host key, and
//! fails naming host and file when the key is unknown or different.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::serve::{commit_cm, free_port};
use support::{client, ferry, ssh_keygen as keygen, Remote, TestNamespace};

const SSHD: &str = "/usr/sbin/sshd";

struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("hostkey"));
        keygen(&d.join("client"));
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
        // sshd's privilege separation directory (the package creates it at boot).
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nAllowUsers {user}\n\
                 PidFile {pid}\n",
                hk = d.join("hostkey").display(),
                ak = d.join("authorized_keys").display(),
                pid = d.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sshd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd { child, port, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A known_hosts line for this server with `pubkey_file`'s key.
    fn known_hosts_line(&self, pubkey_file: &str) -> String {
        let key = std::fs::read_to_string(self.path(pubkey_file)).unwrap();
        let mut fields = key.split_whitespace();
        let (kind, blob) = (fields.next().unwrap(), fields.next().unwrap());
        format!("[127.0.0.1]:{} {kind} {blob}\n", self.port)
    }
}

#[tokio::test]
async fn ssh_host_keys_are_checked_against_the_known_hosts_file() {
    // .ci/run installs it; a missing sshd fails loudly rather than passing untested.
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is not installed: apt-get install openssh-server (.ci/run does)"
    );
    let client = client().await;
    let ns = TestNamespace::new(&client, "g-ssh").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let sshd = Sshd::start();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let url = format!(
        "ssh://{user}@127.0.0.1:{}{}",
        sshd.port,
        remote.bare.path().display()
    );
    let other = tempfile::tempdir().unwrap();
    keygen(&other.path().join("other"));
    std::fs::copy(other.path().join("other.pub"), sshd.path("other.pub")).unwrap();
    let files = [
        ("good", sshd.known_hosts_line("hostkey.pub")),
        ("empty", String::new()),
        ("changed", sshd.known_hosts_line("other.pub")),
    ];
    let plan = |name: &str| {
        let known_hosts = sshd.path(&format!("known_hosts-{name}"));
        let config = sshd.path(&format!("ferry-{name}.yaml"));
        std::fs::write(
            &config,
            format!(
                "apps:\n  - name: {ns}\n    repo: {url}\n    branch: main\n    path: apps\n    namespace: {ns}\n    auth:\n      sshKeyFile: {key}\n      knownHostsFile: {kh}\n",
                ns = ns.name,
                key = sshd.path("client").display(),
                kh = known_hosts.display(),
            ),
        )
        .unwrap();
        (
            ferry(&["plan", "-f", config.to_str().unwrap()]),
            known_hosts,
        )
    };
    for (name, contents) in &files {
        std::fs::write(sshd.path(&format!("known_hosts-{name}")), contents).unwrap();
    }

    let (out, _) = plan("good");
    assert_eq!(
        out.code, 1,
        "fetched and planned: {}{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("ConfigMap"), "{}", out.stdout);

    let (out, file) = plan("empty");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let host = format!("[127.0.0.1]:{}", sshd.port);
    assert!(
        out.stderr.contains(&format!(
            "unknown SSH host key for {host}: {}",
            file.display()
        )),
        "{}",
        out.stderr
    );

    let (out, file) = plan("changed");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "SSH host key for {host} does NOT match {}",
            file.display()
        )),
        "{}",
        out.stderr
    );

    let (out, file) = plan("missing");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("cannot read known hosts file {}", file.display())),
        "{}",
        out.stderr
    );
}
