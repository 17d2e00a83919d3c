//! Frame decoding shared by sniff and tcpstat.
