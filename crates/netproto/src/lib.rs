//! netlab's protocol library: pure code only — no sockets, no clock, no libpcap, no CLI.
//!
//! - wire codecs in the style of smoltcp's `wire` module ([`checksum`], [`sdu`], [`tlv`], [`segment`]),
//! - the sans-IO sliding-window engine ([`arq`]) and the seeded impairment core that drives both
//!   the programs and the simulated link of the tests ([`impair`]),
//! - frame decoding shared by `sniff` and `tcpstat` ([`frame`]),
//! - the link emulator's core: tc-netem's impairments per link direction, sans-IO ([`netem`]).
//!
//! I/O lives beside it: capture in `netcap`, the UDP driver of sender/receiver in `arq-udp`,
//! the command-line conventions in `netcli`, test helpers in `testsupport` (dev-dependency).

pub mod arq;
pub mod checksum;
pub mod frame;
pub mod impair;
pub mod netem;
pub mod sdu;
pub mod segment;
pub mod tlv;
