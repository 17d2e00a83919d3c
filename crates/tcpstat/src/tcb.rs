//! `tcb`: the RFC 793 TCB of a connection as one host holds it right after a given frame.
//!
//! The capture point stands for the host: what the trace shows the host sending or receiving
//! up to frame N is what the host has sent or received. Values come from the analysis
//! engine's state after frame N.

use std::io::Write;
use std::net::SocketAddr;

use serde_json::json;

use crate::analysis::{Analyzer, Conn, Eviction, Flow, gt, lt};
use crate::input::{self, Flow as Next};
use crate::{Format, TcbArgs};

/// The RFC 793 state of `h` (0 = client side, 1 = server side).
pub fn state(c: &Conn, h: usize) -> &'static str {
    let me = &c.flows[h];
    let peer = &c.flows[1 - h];
    if c.first_rst.is_some() {
        return "CLOSED";
    }
    let acked = |f: &Flow, upto: u32| peer_ack_covers(f, upto);
    match (me.isn.is_some(), peer.isn.is_some()) {
        (false, false) => return "ESTABLISHED (no handshake in the trace)",
        (true, false) => {
            return if me.saw_synack {
                "SYN-RECEIVED"
            } else {
                "SYN-SENT"
            };
        }
        (false, true) => return "SYN-RECEIVED",
        (true, true) => {
            // The server is established once its SYN is acknowledged; the client as soon as
            // the SYN-ACK arrives.
            let my_syn_acked = me.isn.is_some_and(|i| acked(peer, i.wrapping_add(1)));
            if me.saw_synack && !my_syn_acked {
                return "SYN-RECEIVED";
            }
        }
    }
    let my_fin = me.fin_seq;
    let peer_fin = peer.fin_frame.is_some();
    let fin_acked = my_fin.is_some_and(|f| acked(peer, f.wrapping_add(1)));
    match (my_fin.is_some(), peer_fin) {
        (false, false) => "ESTABLISHED",
        (false, true) => "CLOSE-WAIT",
        (true, false) => {
            if fin_acked {
                "FIN-WAIT-2"
            } else {
                "FIN-WAIT-1"
            }
        }
        (true, true) => {
            let active = me.fin_frame < peer.fin_frame;
            match (active, fin_acked) {
                (true, true) => "TIME-WAIT",
                (true, false) => "CLOSING",
                (false, true) => "CLOSED",
                (false, false) => "LAST-ACK",
            }
        }
    }
}

/// Has the peer (whose flow is `peer`) acknowledged everything below `upto`?
fn peer_ack_covers(peer: &Flow, upto: u32) -> bool {
    peer.high_ack.is_some_and(|a| !lt(a, upto))
}

fn build(c: &Conn, h: usize, frame: u64, sender: SocketAddr) -> serde_json::Value {
    let me = &c.flows[h];
    let peer = &c.flows[1 - h];
    let (local, remote) = if h == 0 {
        (c.client, c.server)
    } else {
        (c.server, c.client)
    };
    let iss = me.isn;
    let irs = peer.isn;
    let snd_una = peer.high_ack.or(iss);
    let snd_nxt = if me.nextseq != 0 {
        Some(me.nextseq)
    } else {
        iss
    };
    let rcv_nxt = if peer.maxseqtobeacked != 0 {
        Some(peer.maxseqtobeacked)
    } else if peer.nextseq != 0 {
        Some(peer.nextseq)
    } else {
        None
    };
    let win = |f: &Flow| f.win_bytes;
    let rel = |v: Option<u32>, base: Option<u32>| match (v, base) {
        (Some(v), Some(b)) => Some(v.wrapping_sub(b)),
        _ => None,
    };
    // Data in flight and usable window, as the host sees them.
    let in_flight = match (snd_nxt, snd_una) {
        (Some(n), Some(u)) if gt(n, u) => n.wrapping_sub(u),
        _ => 0,
    };
    json!({
        "type": "tcb",
        "frame": frame,
        "conn": c.id,
        "sent_by_host": sender == local,
        "local": local.to_string(),
        "remote": remote.to_string(),
        "state": state(c, h),
        "iss": iss,
        "irs": irs,
        "snd_una": snd_una,
        "snd_nxt": snd_nxt,
        "snd_wnd": win(peer),
        "snd_wnd_raw": (peer.window != u32::MAX).then_some(peer.window),
        "snd_wscale": if peer.win_bytes == Some(peer.window as u64) { 0 } else { peer.shift() },
        "rcv_nxt": rcv_nxt,
        "rcv_wnd": win(me),
        "rcv_wnd_raw": (me.window != u32::MAX).then_some(me.window),
        "rcv_wscale": if me.win_bytes == Some(me.window as u64) { 0 } else { me.shift() },
        "rel": {
            "snd_una": rel(snd_una, iss),
            "snd_nxt": rel(snd_nxt, iss),
            "rcv_nxt": rel(rcv_nxt, irs),
        },
        "in_flight": in_flight,
        "mss_local": me.syn_opts.and_then(|o| o.summary().mss),
        "mss_remote": peer.syn_opts.and_then(|o| o.summary().mss),
    })
}

pub fn run(
    file: &str,
    a: &TcbArgs,
    evict: Eviction,
    fmt: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // The connection is only known from the frame: every state stays (as numbered elsewhere).
    let mut an = Analyzer::evicting(Eviction {
        retain: true,
        ..evict
    });
    let mut hit = None;
    let st = input::for_each_tcp(file, |s| {
        let info = an.handle(s);
        if s.frame == a.frame {
            hit = Some((info.conn, s.src));
            return Ok(Next::Stop);
        }
        Ok(Next::Continue)
    })?;
    let Some((cid, sender)) = hit else {
        st.check()?;
        return Err(netcli::Exit::negative(format!(
                "frame {} of {file} is not a TCP segment (or the file is shorter); see `tcpstat packets -r {file}`",
                a.frame
            ),
        )
        .into());
    };
    let c = &an.conns[cid as usize];
    let host = a.host.unwrap_or(sender.ip());
    let h = if c.client.ip() == host && (c.server.ip() != host || sender == c.client) {
        0
    } else if c.server.ip() == host {
        1
    } else {
        return Err(netcli::Exit::usage(format!(
            "host {host} is not an end of connection {cid} ({} <-> {}); pick one of them with --host",
            c.client, c.server
        ))
        .into());
    };
    let j = build(c, h, a.frame, sender);
    if fmt == Format::Json {
        writeln!(out, "{j}")?;
        return Ok(());
    }
    let v = |k: &str| match &j[k] {
        serde_json::Value::Null => "-".to_string(),
        x => x.to_string().trim_matches('"').to_string(),
    };
    let r = |k: &str| match &j["rel"][k] {
        serde_json::Value::Null => String::new(),
        x => format!(" (relative {x})"),
    };
    if fmt == Format::Csv {
        writeln!(
            out,
            "frame,conn,local,remote,state,iss,irs,snd_una,snd_nxt,snd_wnd,rcv_nxt,rcv_wnd"
        )?;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            v("frame"),
            v("conn"),
            v("local"),
            v("remote"),
            v("state"),
            v("iss"),
            v("irs"),
            v("snd_una"),
            v("snd_nxt"),
            v("snd_wnd"),
            v("rcv_nxt"),
            v("rcv_wnd")
        )?;
        return Ok(());
    }
    let who = if j["sent_by_host"].as_bool() == Some(true) {
        "sent"
    } else {
        "received"
    };
    writeln!(
        out,
        "TCB of {} right after frame {} (which it {who}), connection {}",
        v("local"),
        a.frame,
        cid
    )?;
    writeln!(out, "  local address   {}", v("local"))?;
    writeln!(out, "  remote address  {}", v("remote"))?;
    writeln!(out, "  state           {}", v("state"))?;
    writeln!(out, "  ISS             {}", v("iss"))?;
    writeln!(out, "  IRS             {}", v("irs"))?;
    writeln!(out, "  SND.UNA         {}{}", v("snd_una"), r("snd_una"))?;
    writeln!(out, "  SND.NXT         {}{}", v("snd_nxt"), r("snd_nxt"))?;
    writeln!(
        out,
        "  SND.WND         {} (advertised {} << {})",
        v("snd_wnd"),
        v("snd_wnd_raw"),
        v("snd_wscale")
    )?;
    writeln!(out, "  RCV.NXT         {}{}", v("rcv_nxt"), r("rcv_nxt"))?;
    writeln!(
        out,
        "  RCV.WND         {} (advertised {} << {})",
        v("rcv_wnd"),
        v("rcv_wnd_raw"),
        v("rcv_wscale")
    )?;
    writeln!(out, "  in flight       {} bytes", v("in_flight"))?;
    writeln!(
        out,
        "  MSS             local {} remote {}",
        v("mss_local"),
        v("mss_remote")
    )?;
    Ok(())
}
