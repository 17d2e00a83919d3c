//! Reading and writing captures (pcap/pcapng files, stdin/stdout, live) shared by sniff and tcpstat.
