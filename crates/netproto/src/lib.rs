//! netlab's shared library.
//!
//! Everything two tools need lives here exactly once:
//! - wire codecs in the style of smoltcp's `wire` module ([`checksum`], [`sdu`], [`tlv`], [`segment`]),
//! - the sans-IO sliding-window engine ([`arq`]) and the impairment layer that drives both the
//!   programs and the simulated link of the tests ([`impair`]),
//! - frame decoding shared by `sniff` and `tcpstat` ([`frame`]),
//! - the command-line conventions every binary follows ([`cli`]).

pub mod cli;
pub mod testsupport;
