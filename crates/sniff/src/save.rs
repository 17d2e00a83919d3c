//! `-w`: the capture file's format (pcap micro or nano, pcapng) and tcpdump's rotation
//! (`-C`/`-G`/`-W`), for live captures and files read alike.

use anyhow::Result;
use netcap::rotate::{Rotating, Rotation, Written};
use netcap::{Format, Interface, Record, Spec};
use netcli::Exit;

use crate::args::Args;

/// The `-w` output: one file, or tcpdump's rotation over several.
#[derive(Debug)]
pub struct Save {
    out: Rotating,
    flush_each: bool,
    limit: Option<u32>,
}

impl Save {
    /// Open the first file for frames of `linktype` captured on `interface`.
    pub fn open(args: &Args, path: &str, linktype: u32, interface: Interface) -> Result<Save> {
        let nano = args.ts_precision == "nano";
        let format = match (args.pcapng, nano) {
            (true, _) => Format::Pcapng { nano },
            (false, true) => Format::PcapNano,
            (false, false) => Format::Pcap,
        };
        let spec = Spec {
            format,
            linktype,
            snaplen: args.snaplen as u32,
            interface,
        };
        let rot = Rotation {
            size: args.file_size.map(|mb| mb * 1_000_000),
            secs: args.rotate_secs,
            count: args.file_count,
        };
        let out =
            Rotating::create(path, &spec, rot, now()).map_err(|e| Exit::failure(e.to_string()))?;
        Ok(Save {
            out,
            flush_each: args.packet_buffered,
            limit: args
                .file_count
                .filter(|_| rot.secs.is_some() && rot.size.is_none()),
        })
    }

    /// Write one packet (`comment`: pcapng's per-packet comment). False when -G with -W has
    /// completed its files: the capture ends, as tcpdump's, and the packet is not written.
    pub fn write(&mut self, r: &Record<'_>, comment: Option<&str>) -> Result<bool> {
        // The error itself, not its text: a broken pipe in its chain is a reader of `-w -`
        // that went away (exit 0).
        match self.out.write(r, comment, now)? {
            Written::Yes => {}
            Written::LimitReached => {
                // tcpdump's words, on stderr.
                eprintln!(
                    "Maximum file limit reached: {}",
                    self.limit.unwrap_or_default()
                );
                return Ok(false);
            }
        }
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(true)
    }

    pub fn flush(&mut self) -> Result<()> {
        Ok(self.out.flush()?)
    }
}

/// Wall-clock seconds since the epoch, what tcpdump's -G measures periods in.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
