//! 802.2 LLC (after an 802.3 length field or a Linux SLL protocol of 4), SNAP, and the
//! spanning-tree BPDUs LLC carries.

use super::{Field, Frame, LayerKind, Net, Transport, be16};

/// An 802.2 LLC header (3 bytes for unnumbered frames, 4 otherwise), with SNAP when DSAP and
/// SSAP are 0xAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Llc<'a> {
    bytes: &'a [u8],
}

mod field {
    use super::Field;
    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    /// Control: 1 byte for U-frames (low bits 11), 2 for I/S-frames.
    pub const CONTROL: usize = 2;
    pub const U_FRAME_LEN: usize = 3;
    pub const I_S_FRAME_LEN: usize = 4;
    /// SNAP after a 3-byte LLC header: OUI (3..6), then an EtherType.
    pub const SNAP_ETHERTYPE: Field = 6..8;
    pub const SNAP_LEN: usize = SNAP_ETHERTYPE.end;
}

/// The SAP of SNAP (DSAP and SSAP both 0xAA).
const SAP_SNAP: u8 = 0xaa;
/// The SAP of the spanning tree protocol (DSAP and SSAP both 0x42).
const SAP_STP: u8 = 0x42;

impl Llc<'_> {
    pub fn dsap(&self) -> u8 {
        self.bytes[field::DSAP]
    }
    pub fn ssap(&self) -> u8 {
        self.bytes[field::SSAP]
    }
    /// The EtherType after SNAP, when present.
    fn snap_ether_type(&self) -> Option<u16> {
        (self.bytes.len() == field::SNAP_LEN).then(|| be16(self.bytes, field::SNAP_ETHERTYPE))
    }
}

/// A spanning-tree BPDU (IEEE 802.1D / 802.1w), after LLC DSAP 0x42.
///
/// protocol id(2) version(1) type(1), then for configuration and RST BPDUs: flags(1) root
/// id(8) root path cost(4) bridge id(8) port id(2) message age(2) max age(2) hello time(2)
/// forward delay(2), and for RST BPDUs version-1 length(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stp<'a> {
    bytes: &'a [u8],
}

mod bpdu {
    use super::Field;
    pub const VERSION: usize = 2;
    pub const TYPE: usize = 3;
    pub const FLAGS: usize = 4;
    pub const BRIDGE_ID: Field = 17..25;
    pub const PORT_ID: Field = 25..27;
    /// A topology change notification: protocol id, version, type.
    pub const TCN_LEN: usize = 4;
    /// Version 2 (RSTP) and above.
    pub const RSTP: u8 = 2;
    pub const TYPE_CONFIG: u8 = 0x00;
    pub const TYPE_TCN: u8 = 0x80;
}

impl<'a> Stp<'a> {
    /// Length of a configuration BPDU (RST BPDUs add the 1-byte version-1 length).
    pub const CONFIG_LEN: usize = 35;

    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    /// 0 = STP, 2 = RSTP, 3 = MSTP.
    pub fn version(&self) -> u8 {
        self.bytes[bpdu::VERSION]
    }
    /// 0x00 configuration, 0x80 topology change notification, 0x02 RST/MST.
    pub fn bpdu_type(&self) -> u8 {
        self.bytes[bpdu::TYPE]
    }
    /// True for configuration and RST BPDUs (which carry the fields below).
    fn has_config(&self) -> bool {
        self.bytes.len() >= Self::CONFIG_LEN
    }
    pub fn flags(&self) -> Option<u8> {
        self.bytes.get(bpdu::FLAGS).copied()
    }
    /// Bridge ID: priority (2 bytes incl. system ID extension) + MAC.
    pub fn bridge_id(&self) -> Option<(u16, [u8; 6])> {
        let b = self.bytes.get(bpdu::BRIDGE_ID)?;
        Some((be16(b, 0..2), [b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
    pub fn port_id(&self) -> Option<u16> {
        self.has_config().then(|| be16(self.bytes, bpdu::PORT_ID))
    }
}

impl Frame<'_> {
    /// Decode an LLC frame at `off` that ends at `end` (an 802.3 length, or the capture).
    pub(super) fn decode_llc(&mut self, off: usize, end: usize) {
        let d = self.data;
        let end = end.min(d.len());
        let min = field::U_FRAME_LEN;
        let Some(head) = d.get(off..off + min).filter(|_| off + min <= end) else {
            self.short(LayerKind::Llc, off, min);
            return self.finish(off, end);
        };
        let mut len = if head[field::CONTROL] & 3 == 3 {
            field::U_FRAME_LEN
        } else {
            field::I_S_FRAME_LEN
        };
        let snap = head[field::DSAP] == SAP_SNAP && head[field::SSAP] == SAP_SNAP;
        if snap {
            len = field::SNAP_LEN;
        }
        let Some(bytes) = d.get(off..off + len).filter(|_| off + len <= end) else {
            self.short(LayerKind::Llc, off, len);
            return self.finish(off, end);
        };
        let llc = Llc { bytes };
        self.net = Net::Llc(llc);
        if let Some(et) = llc.snap_ether_type() {
            self.push(LayerKind::Llc, off, field::U_FRAME_LEN);
            self.push(
                LayerKind::Snap,
                off + field::U_FRAME_LEN,
                field::SNAP_LEN - field::U_FRAME_LEN,
            );
            // Frames after SNAP carry an EtherType like Ethernet II.
            return self.decode_ether(et, off + field::SNAP_LEN);
        }
        self.push(LayerKind::Llc, off, len);
        let p = off + len;
        if llc.dsap() == SAP_STP && llc.ssap() == SAP_STP {
            let stp_bytes = &d[p..end];
            if stp_bytes.len() >= bpdu::TCN_LEN {
                let ty = stp_bytes[bpdu::TYPE];
                let n = if ty == bpdu::TYPE_TCN {
                    bpdu::TCN_LEN
                } else if stp_bytes.len() > Stp::CONFIG_LEN
                    && stp_bytes[bpdu::VERSION] >= bpdu::RSTP
                {
                    Stp::CONFIG_LEN + 1
                } else {
                    stp_bytes.len().min(Stp::CONFIG_LEN)
                };
                if ty == bpdu::TYPE_CONFIG && n < Stp::CONFIG_LEN {
                    self.short(LayerKind::Stp, p, Stp::CONFIG_LEN);
                }
                self.transport = Transport::Stp(Stp {
                    bytes: &stp_bytes[..n],
                });
                self.push(LayerKind::Stp, p, n);
                return self.finish(p + n, end);
            }
            self.short(LayerKind::Stp, p, bpdu::TCN_LEN);
        }
        self.finish(p, end)
    }
}
