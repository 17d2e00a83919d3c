//! Connection bookkeeping, before the sequence analysis: times and idle gaps, the handshake
//! (ISN, SYN options, window scaling, handshake RTT), the first FIN, and each flow's packet,
//! byte and flag counters.

use super::options::SynOptions;
use super::{Conn, Dir, Flow, TcpSample, af, elapsed, split};

impl Conn {
    /// The connection-level facts of one segment sent in direction `dir` (`ts`: its
    /// timestamp option, read once per packet by the caller).
    pub(super) fn note_segment(&mut self, dir: Dir, s: &TcpSample, ts: Option<(u32, u32)>) {
        let idle = elapsed(s.ts_ns, self.last_ts);
        if idle > self.max_idle.0 {
            self.max_idle = (idle, s.frame);
        }
        self.last_ts = s.ts_ns;
        self.last_frame = s.frame;
        if s.flags.syn() {
            self.note_syn(dir, s);
            if let Some((tsval, tsecr)) = ts {
                let v = if s.flags.ack() {
                    &mut self.hs_synacks
                } else {
                    &mut self.hs_syns
                };
                if v.len() < 8 {
                    v.push((tsval, tsecr, s.ts_ns));
                }
            }
        } else if s.flags.ack() {
            if self.irtt_ns.is_none()
                && let Some(t) = self.ts_mru_syn
            {
                self.irtt_ns = Some(elapsed(s.ts_ns, t));
            }
            if dir == 0 && self.hs_split.is_none() {
                self.hs_split = ts.and_then(|(_, tsecr)| self.echoed_split(tsecr, s.ts_ns));
            }
        }
        if s.flags.fin() {
            let f = &mut self.flows[dir];
            if f.fin_frame.is_none() {
                f.fin_frame = Some(s.frame);
                f.fin_seq = Some(s.seq.wrapping_add(s.payload_len));
            }
            self.first_fin.get_or_insert(dir);
        }
    }

    /// The handshake's split by echoes: the SYN/ACK this ACK's TSecr names, the SYN that
    /// SYN/ACK's TSecr names.
    fn echoed_split(&self, tsecr: u32, now: i64) -> Option<(i64, i64)> {
        let &(_, syn_echo, sa_at) = self.hs_synacks.iter().find(|x| x.0 == tsecr)?;
        let &(_, _, syn_at) = self.hs_syns.iter().find(|x| x.0 == syn_echo)?;
        Some((elapsed(sa_at, syn_at), elapsed(now, sa_at)))
    }

    /// A SYN or SYN-ACK: its flow's ISN and options, the start of the handshake RTT, and
    /// window scaling as Wireshark's `verify_tcp_window_scaling` decides it.
    fn note_syn(&mut self, dir: Dir, s: &TcpSample) {
        let is_synack = s.flags.ack();
        let opts = SynOptions::new(s.options);
        let (fwd, rev) = split(&mut self.flows, dir);
        if fwd.isn.is_none() {
            fwd.isn = Some(s.seq);
            fwd.syn_opts = Some(opts);
            fwd.syn_frame = Some(s.frame);
        }
        if is_synack {
            fwd.saw_synack = true;
            if let (Some(t), None) = (self.ts_mru_syn, self.syn_to_synack_ns) {
                self.syn_to_synack_ns = Some(elapsed(s.ts_ns, t));
            }
        } else {
            fwd.saw_pure_syn = true;
            self.ts_mru_syn = Some(s.ts_ns);
        }
        if let Some(ws) = opts.summary().window_scale {
            fwd.win_scale = ws.min(14) as i8;
        }
        if fwd.win_scale == -1 {
            fwd.win_scale = -2;
            rev.win_scale = -2;
        } else if is_synack && rev.win_scale == -2 {
            fwd.win_scale = -2;
        }
    }
}

impl Flow {
    /// Packets, bytes and payload sent in this flow, truncated packets, and when data flowed.
    pub(super) fn count_packet(&mut self, s: &TcpSample) {
        self.packets += 1;
        self.bytes += u64::from(s.wire_len);
        self.payload_bytes += u64::from(s.payload_len);
        if s.truncated {
            self.truncated += 1;
        }
        if s.payload_len > 0 {
            self.first_data_ts.get_or_insert(s.ts_ns);
            self.last_data_ts = Some(s.ts_ns);
            self.max_seg = self.max_seg.max(s.payload_len);
        }
    }

    /// The analysis flags this flow's statistics count.
    pub(super) fn count_flags(&mut self, ta: u32) {
        if ta & af::OUT_OF_ORDER != 0 {
            self.ooo += 1;
        }
        if ta & af::LOST_SEGMENT != 0 {
            self.lost += 1;
        }
        if ta & af::DUPLICATE_ACK != 0 {
            self.dupacks += 1;
        }
        if ta & af::ZERO_WINDOW != 0 {
            self.zero_windows += 1;
        }
    }
}
