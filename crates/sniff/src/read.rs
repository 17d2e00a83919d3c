//! `sniff -r FILE`: read a pcap or pcapng file (or stdin) and print or copy its packets.

use std::process::ExitCode;

use anyhow::Result;
use netcap::{Interface, Reader};
use netcli::Exit;
use netproto::frame::linktype;

use crate::args::{Args, filter_error};
use crate::print::{Printer, draw};
use crate::save::Save;

pub fn read_file(args: &Args, path: &str, filter: &str) -> Result<ExitCode> {
    let mut rd = Reader::open(path).map_err(|e| Exit::failure(e.to_string()))?;
    if !filter.is_empty() {
        rd.set_filter(filter).map_err(filter_error)?;
    }
    let lt = rd.linktype();
    if !args.quiet {
        log::info!(
            "reading from {}, link-type {} ({})",
            if path == "-" { "standard input" } else { path },
            linktype::name(lt),
            linktype::description(lt)
        );
    }
    let mut writer = match &args.write {
        Some(w) => Some(Save::open(args, w, lt, Interface::default())?),
        None => None,
    };
    let mut p = Printer::new(args, None);
    let want = args.diagram.as_ref().map(|_| args.frame.unwrap_or(1));
    let mut n = 0u64;
    loop {
        let r = match rd.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                // Keep what was read before the damage: print it and complete the output file.
                p.flush()?;
                if let Some(mut w) = writer.take() {
                    w.flush()?;
                }
                return Err(Exit::failure(format!("{e} (after {n} packets)")).into());
            }
        };
        n += 1;
        if let Some(w) = writer.as_mut()
            && !w.write(&r, None)?
        {
            break;
        }
        if want == Some(n) {
            draw(args, n, &r)?;
            break;
        }
        p.packet(n, &r, None)?;
        if args.count.is_some_and(|c| n >= c) {
            break;
        }
    }
    if let Some(mut w) = writer.take() {
        w.flush()?;
    }
    if let Some(w) = want
        && n < w
    {
        return Err(Exit::failure(format!(
            "--frame {w}: the capture has only {n} packets{}",
            if filter.is_empty() {
                ""
            } else {
                " matching the filter"
            }
        ))
        .into());
    }
    p.finish(None)?;
    Ok(ExitCode::SUCCESS)
}
