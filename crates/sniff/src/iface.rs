//! Interfaces: `sniff -D`, the kernel's packet counters (for the 0-packet hint), and what to
//! do when an interface cannot be opened.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use netcap::CaptureError;
use netcli::Exit;

pub fn list_interfaces() -> Result<ExitCode> {
    let devs = netcap::list_devices().map_err(|e| Exit::failure(e.to_string()))?;
    let mut o = std::io::stdout().lock();
    for (i, d) in devs.iter().enumerate() {
        let mut flags = Vec::new();
        if d.flags.is_up() {
            flags.push("Up");
        }
        if d.flags.is_running() {
            flags.push("Running");
        }
        if d.flags.is_loopback() {
            flags.push("Loopback");
        }
        let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
        write!(o, "{}.{} [{}]", i + 1, d.name, flags.join(", "))?;
        if let Some(desc) = &d.desc {
            write!(o, " ({desc})")?;
        }
        if !addrs.is_empty() {
            write!(o, " {}", addrs.join(" "))?;
        }
        writeln!(o)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Packets the kernel counted on `dev` (all interfaces for `any`), to make the 0-packet hint
/// concrete. Reads /sys; `None` when unavailable.
pub fn iface_packets(dev: &str) -> Option<u64> {
    let read = |name: &str| -> Option<u64> {
        let base = format!("/sys/class/net/{name}/statistics");
        let rx: u64 = std::fs::read_to_string(format!("{base}/rx_packets"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let tx: u64 = std::fs::read_to_string(format!("{base}/tx_packets"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(rx + tx)
    };
    if dev == "any" {
        let mut sum = 0;
        for e in std::fs::read_dir("/sys/class/net").ok()?.flatten() {
            sum += read(&e.file_name().to_string_lossy()).unwrap_or(0);
        }
        Some(sum)
    } else {
        read(dev)
    }
}

pub fn open_error(dev: &str, e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Permission { message, .. } => Exit::failure(format!(
            "capturing on {dev} is not permitted ({message}): it needs root or \
             CAP_NET_RAW+CAP_NET_ADMIN; {}",
            netcap::privilege_hint()
        ))
        .into(),
        CaptureError::NoSuchDevice { message, .. } => {
            let names: Vec<String> = netcap::list_devices()
                .map(|v| v.into_iter().map(|d| d.name).collect())
                .unwrap_or_default();
            Exit::failure(format!(
                "no such interface '{dev}' ({message}); interfaces: {} (sniff -D shows their addresses)",
                names.join(", ")
            ))
            .into()
        }
        other => Exit::failure(other.to_string()).into(),
    }
}
