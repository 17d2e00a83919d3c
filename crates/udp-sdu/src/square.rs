//! `serve` and `send`: the checksummed "square" message (`netproto::sdu`).

use netcli::{Exit, code};
use netproto::sdu::{self, ACCEPTED, Corruption, Packet, REJECTED, Repr};
use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

/// `udp-sdu serve`: verify every datagram, answer 0xff or 0x55, log a line each (and with
/// `json`, print an NDJSON record on stdout). Forever.
pub fn serve(sock: &UdpSocket, json: bool) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout();
    crate::serve_datagrams(sock, |data, peer| {
        let n = data.len();
        let verdict = Packet::new_unchecked(data).verify();
        match &verdict {
            Ok(r) => log::info!(
                "{peer} {n} bytes: accepted (root {}, {})",
                r.root,
                r.value()
            ),
            Err(e) => log::info!("{peer} {n} bytes: rejected, {} check: {e}", e.check()),
        }
        if json {
            let record = serde_json::json!({
                "type": "datagram",
                "peer": peer.to_string(),
                "size": n,
                "verdict": if verdict.is_ok() { "accepted" } else { "rejected" },
                "root": verdict.as_ref().ok().map(|r| r.root),
                "check": verdict.as_ref().err().map(|e| e.check()),
                "error": verdict.as_ref().err().map(|e| e.to_string()),
            });
            // A closed stdout (`serve --json | head`) ends the server, exit 0 (broken pipe).
            writeln!(out, "{record}").and_then(|()| out.flush())?;
        }
        Ok(vec![if verdict.is_ok() { ACCEPTED } else { REJECTED }])
    })
}

/// `udp-sdu send`: send the message (maybe corrupted), wait for the one-byte verdict.
pub fn send(
    target: SocketAddr,
    root: u16,
    corrupt: Option<Corruption>,
    timeout: Duration,
    retries: u32,
) -> anyhow::Result<ExitCode> {
    let repr = Repr::new(root);
    let msg = match corrupt {
        Some(how) => repr.to_corrupted_bytes(how),
        None => repr.to_bytes(),
    };
    match corrupt {
        Some(how) => log::debug!(
            "datagram to {target}, {} bytes, corrupted ({} check):",
            msg.len(),
            how.check()
        ),
        None => log::debug!("datagram to {target}, {} bytes:", msg.len()),
    }
    for line in sdu::describe(&msg) {
        log::debug!("  {line}");
    }
    let local: SocketAddr = if target.is_ipv6() {
        "[::]:0".parse()?
    } else {
        "0.0.0.0:0".parse()?
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(target)
        .map_err(|e| Exit::failure(format!("cannot reach {target}: {e}")))?;
    let refused = || {
        Exit::failure(format!(
            "nothing listens on UDP {target} (ICMP port unreachable): start `udp-sdu serve {}` there",
            target.port()
        ))
    };
    let mut answer = [0u8; 64];
    // u64: --retries takes any u32, and u32::MAX + 1 tries must not overflow.
    for attempt in 1..=u64::from(retries) + 1 {
        match sock.send(&msg) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return Err(refused().into()),
            Err(e) => return Err(Exit::failure(format!("send to {target}: {e}")).into()),
        }
        // A connected socket only receives from the server, and any verdict is one byte:
        // a single read per try (a late answer to an earlier try counts just as well).
        sock.set_read_timeout(Some(timeout))?;
        match sock.recv(&mut answer) {
            Ok(1) if answer[0] == ACCEPTED => {
                log::debug!("answer ff: accepted");
                println!("accepted");
                return Ok(ExitCode::SUCCESS);
            }
            Ok(1) if answer[0] == REJECTED => {
                log::debug!("answer 55: rejected");
                println!("rejected");
                return Ok(ExitCode::from(code::NEGATIVE));
            }
            Ok(n) => {
                let hex: Vec<String> = answer[..n.min(16)]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                return Err(Exit::failure(format!(
                    "unexpected answer from {target}: {n} byte(s) {} (expected one byte, ff or 55)",
                    hex.join(" ")
                ))
                .into());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                return Err(refused().into());
            }
            Err(e) => return Err(Exit::failure(format!("receive from {target}: {e}")).into()),
        }
        log::debug!(
            "no answer to try {attempt} within {} ms",
            timeout.as_millis()
        );
    }
    Err(Exit::failure(format!(
        "no answer from {target} after {} tries of {} ms",
        u64::from(retries) + 1,
        timeout.as_millis()
    ))
    .into())
}
