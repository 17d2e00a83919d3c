//! netlab's shared library.
//!
//! Everything two tools need lives here exactly once:
//! - wire codecs in the style of smoltcp's `wire` module ([`checksum`], [`sdu`], [`tlv`], [`segment`]),
//! - the sans-IO sliding-window engine ([`arq`]) and the impairment layer that drives both the
//!   programs and the simulated link of the tests ([`impair`]),
//! - frame decoding and capture I/O shared by `sniff` and `tcpstat` ([`frame`], [`capture`]),
//! - the command-line conventions every binary follows ([`cli`]) and test helpers ([`testsupport`]).

pub mod arq;
pub mod capture;
pub mod checksum;
pub mod cli;
pub mod frame;
pub mod impair;
pub mod sdu;
pub mod segment;
pub mod testsupport;
pub mod tlv;
