//! The lab sheet's web experiment in the namespace lab (root): hello-server on brooklyn,
//! hello-client on midwood. With `--bind 0.0.0.0` the client gets the page; with the default
//! loopback-only bind its error explains why it cannot.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use testsupport::{Lab, require_root, tool};

const CLIENT: &str = env!("CARGO_BIN_EXE_hello-client");
const BROOKLYN: &str = "192.168.56.101:5000";

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start hello-server in brooklyn and wait for its start-up line.
fn server(lab: &Lab, args: &[&str]) -> (Kill, String) {
    let mut child = lab
        .command("brooklyn", tool("hello-server"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hello-server in brooklyn");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on "), "{line}");
    (Kill(child), line)
}

#[test]
fn lab_client_on_midwood_reaches_server_on_brooklyn_only_when_bound_to_all() {
    if !require_root("lab_client_on_midwood_reaches_server_on_brooklyn_only_when_bound_to_all") {
        return;
    }
    let lab = Lab::up("two-hosts");

    let (srv, line) = server(&lab, &["--bind", "0.0.0.0", "-q"]);
    assert!(line.contains("other hosts connect"), "{line}");
    let out = lab
        .command("midwood", CLIENT)
        .args(["--timeout", "5", BROOKLYN])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200 OK\nHello, World!\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    drop(srv);

    // Flask's (and our) default: 127.0.0.1 only. midwood's SYN reaches brooklyn, whose kernel
    // answers with a reset because nothing listens on 192.168.56.101:5000.
    let (_srv, line) = server(&lab, &[]);
    assert!(line.contains("loopback only"), "{line}");
    let out = lab
        .command("midwood", CLIENT)
        .args(["--timeout", "5", BROOKLYN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: connection refused by 192.168.56.101:5000: nothing listens"),
        "{err}"
    );
    assert!(err.contains("bound to 127.0.0.1 (loopback only"), "{err}");
    assert!(err.contains("--bind 0.0.0.0"), "{err}");

    // On brooklyn itself the loopback-bound server answers.
    let out = lab
        .command("brooklyn", CLIENT)
        .arg("127.0.0.1:5000")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "200 OK\nHello, World!\n"
    );
}
