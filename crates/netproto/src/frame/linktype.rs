//! Link-layer header types: the `network` field of a pcap file header (`LINKTYPE_*` values
//! from tcpdump.org; on Linux the `DLT_*` values are the same).
//!
//! [`TABLE`] is the workspace's one table of link types: the value, libpcap's name and a
//! description. The decoder ([`super::decode`]), the capture I/O (`netcap`) and the tools'
//! messages (`sniff`, `tcpstat`) all read it from here.

/// BSD loopback: 4-byte address family in the capturing host's byte order.
pub const NULL: u32 = 0;
/// Ethernet (`EN10MB`).
pub const ETHERNET: u32 = 1;
/// Raw IP on some BSDs (`DLT_RAW` = 12 there).
pub const RAW_12: u32 = 12;
/// Raw IP on OpenBSD (`DLT_RAW` = 14 there).
pub const RAW_14: u32 = 14;
/// Raw IPv4 or IPv6, version from the first nibble.
pub const RAW: u32 = 101;
/// OpenBSD loopback: 4-byte address family in network byte order.
pub const LOOP: u32 = 108;
/// Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
pub const LINUX_SLL: u32 = 113;
/// Raw IPv4.
pub const IPV4: u32 = 228;
/// Raw IPv6.
pub const IPV6: u32 = 229;
/// Linux cooked capture v2: adds the interface index.
pub const LINUX_SLL2: u32 = 276;

/// One link type the decoder understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkType {
    pub value: u32,
    /// libpcap's name (`EN10MB`, `LINUX_SLL2`, …), as tcpdump prints it.
    pub name: &'static str,
    /// What it is in words (`Ethernet`, `Linux cooked v2`, …).
    pub description: &'static str,
}

const fn lt(value: u32, name: &'static str, description: &'static str) -> LinkType {
    LinkType {
        value,
        name,
        description,
    }
}

/// Every link type [`super::decode`] understands. The order is [`ALL`]'s, which the frame fuzz
/// target indexes with its first byte: append, never reorder (the regression inputs rely on it).
pub const TABLE: [LinkType; 10] = [
    lt(NULL, "NULL", "BSD loopback"),
    lt(ETHERNET, "EN10MB", "Ethernet"),
    lt(RAW_12, "RAW", "Raw IP"),
    lt(RAW_14, "RAW", "Raw IP"),
    lt(RAW, "RAW", "Raw IP"),
    lt(LOOP, "LOOP", "OpenBSD loopback"),
    lt(LINUX_SLL, "LINUX_SLL", "Linux cooked v1"),
    lt(IPV4, "IPV4", "Raw IPv4"),
    lt(IPV6, "IPV6", "Raw IPv6"),
    lt(LINUX_SLL2, "LINUX_SLL2", "Linux cooked v2"),
];

/// The values of [`TABLE`], in its order (tests and fuzzers iterate over it).
pub const ALL: [u32; TABLE.len()] = {
    let mut all = [0; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        all[i] = TABLE[i].value;
        i += 1;
    }
    all
};

/// The names of [`TABLE`] for the unsupported-link-type error, most common first.
pub(super) const SUPPORTED_NAMES: &str =
    "EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP";

/// The table entry of a link type, if the decoder understands it.
pub fn get(lt: u32) -> Option<&'static LinkType> {
    TABLE.iter().find(|t| t.value == lt)
}

/// True for every link type [`super::decode`] understands.
pub fn is_supported(lt: u32) -> bool {
    get(lt).is_some()
}

/// libpcap's name for a link type (`EN10MB`, `LINUX_SLL2`, …), as tcpdump prints it;
/// `unknown` for one the decoder does not understand.
pub fn name(lt: u32) -> &'static str {
    get(lt).map_or("unknown", |t| t.name)
}

/// A link type in words (`Ethernet`, `Linux cooked v2`, …); `not decoded` for one the decoder
/// does not understand.
pub fn description(lt: u32) -> &'static str {
    get(lt).map_or("not decoded", |t| t.description)
}

/// The link type to write in a pcap file header for one a live handle reports: libpcap's
/// `DLT_RAW` (12, or 14 on OpenBSD) is `LINKTYPE_RAW` (101) in a file.
pub fn for_file(lt: u32) -> u32 {
    match lt {
        RAW_12 | RAW_14 => RAW,
        other => other,
    }
}

/// The `DLT_*` value libpcap's filter compiler takes for a file's link type: `LINKTYPE_RAW`
/// is `DLT_RAW` (12 on Linux).
pub fn for_libpcap(lt: u32) -> u32 {
    if lt == RAW { RAW_12 } else { lt }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_every_supported_link_type_once() {
        let mut listed: Vec<_> = SUPPORTED_NAMES.split(", ").collect();
        listed.sort_unstable();
        let mut names: Vec<_> = TABLE.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(listed, names);
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(ALL, [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]);
        assert_eq!(
            (name(LINUX_SLL2), description(LINUX_SLL2)),
            ("LINUX_SLL2", "Linux cooked v2")
        );
        assert_eq!((name(RAW_14), description(RAW_14)), ("RAW", "Raw IP"));
        assert_eq!((name(147), description(147)), ("unknown", "not decoded"));
        assert!(!is_supported(147));
    }

    #[test]
    fn dlt_raw_and_linktype_raw() {
        assert_eq!(for_file(RAW_12), RAW);
        assert_eq!(for_file(RAW_14), RAW);
        assert_eq!(for_file(ETHERNET), ETHERNET);
        assert_eq!(for_libpcap(RAW), RAW_12);
        assert_eq!(for_libpcap(LINUX_SLL2), LINUX_SLL2);
    }
}
