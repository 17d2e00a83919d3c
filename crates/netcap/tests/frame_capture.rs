//! netcap's reader on hand-built files: both pcap byte orders and timestamp
//! precisions, pcapng with several interfaces and link types, cut files, BPF filters, and the
//! writer's output read back.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use netcap::{Reader, Record, Timestamp, Writer};
use netproto::frame::linktype;

/// Raw IPv4 + UDP 1000 -> 2000 with 4 payload bytes, or TCP when `tcp`.
fn ip_packet(tcp: bool) -> Vec<u8> {
    let mut v = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    if tcp {
        v[9] = 6;
        v.extend_from_slice(&[
            0x03, 0xe8, 0x07, 0xd0, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 1, 0,
        ]);
        v.extend_from_slice(&[0, 0, 0, 0]);
    } else {
        v.extend_from_slice(&[0x03, 0xe8, 0x07, 0xd0, 0, 12, 0, 0, b'a', b'b', b'c', b'd']);
    }
    let n = v.len() as u16;
    v[2..4].copy_from_slice(&n.to_be_bytes());
    v
}

fn pcap(big_endian: bool, nano: bool, recs: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let w32 = |v: &mut Vec<u8>, x: u32| {
        if big_endian {
            v.extend_from_slice(&x.to_be_bytes())
        } else {
            v.extend_from_slice(&x.to_le_bytes())
        }
    };
    let mut v = Vec::new();
    w32(&mut v, if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    let (maj, min) = if big_endian {
        ([0, 2], [0, 4])
    } else {
        ([2, 0], [4, 0])
    };
    v.extend_from_slice(&maj);
    v.extend_from_slice(&min);
    w32(&mut v, 0);
    w32(&mut v, 0);
    w32(&mut v, 65535);
    w32(&mut v, linktype::RAW);
    for (sec, frac, d) in recs {
        w32(&mut v, *sec);
        w32(&mut v, *frac);
        w32(&mut v, d.len() as u32);
        w32(&mut v, d.len() as u32);
        v.extend_from_slice(d);
    }
    v
}

fn read_all(
    bytes: Vec<u8>,
    filter: Option<&str>,
) -> Result<Vec<(Timestamp, u32, Vec<u8>)>, String> {
    let mut r =
        Reader::from_reader(Box::new(Cursor::new(bytes)), "test").map_err(|e| e.to_string())?;
    if let Some(f) = filter {
        r.set_filter(f).map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    while let Some(rec) = r.next().map_err(|e| e.to_string())? {
        out.push((rec.ts, rec.linktype, rec.data.to_vec()));
    }
    Ok(out)
}

#[test]
fn pcap_both_byte_orders_and_precisions() {
    let recs = vec![(10, 5, ip_packet(false)), (11, 999_999, ip_packet(true))];
    for be in [false, true] {
        let got = read_all(pcap(be, false, &recs), None).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].0,
            Timestamp {
                sec: 10,
                nsec: 5000
            }
        );
        assert_eq!(
            got[1].0,
            Timestamp {
                sec: 11,
                nsec: 999_999_000
            }
        );
        assert_eq!(got[1].1, linktype::RAW);
        assert_eq!(got[1].2, ip_packet(true));
    }
    let got = read_all(pcap(false, true, &recs), None).unwrap();
    assert_eq!(got[0].0, Timestamp { sec: 10, nsec: 5 });
}

#[test]
fn filter_selects_records() {
    let recs = vec![
        (1, 0, ip_packet(false)),
        (2, 0, ip_packet(true)),
        (3, 0, ip_packet(false)),
    ];
    let got = read_all(pcap(false, false, &recs), Some("udp port 2000")).unwrap();
    assert_eq!(got.iter().map(|r| r.0.sec).collect::<Vec<_>>(), [1, 3]);
    let err = read_all(pcap(false, false, &recs), Some("udp prot 2000")).unwrap_err();
    assert!(err.contains("'udp prot 2000'"), "{err}");
}

#[test]
fn cut_and_garbage_inputs_fail_clearly() {
    let recs = vec![(1, 0, ip_packet(false)), (2, 0, ip_packet(true))];
    let mut b = pcap(false, false, &recs);
    b.truncate(b.len() - 5);
    let err = read_all(b, None).unwrap_err();
    assert!(err.contains("truncated dump file: record 2"), "{err}");
    let err = read_all(b"hello, this is not a capture file".to_vec(), None).unwrap_err();
    assert!(err.contains("unknown file format"), "{err}");
    let err = read_all(Vec::new(), None).unwrap_err();
    assert!(err.contains("empty input"), "{err}");
    // A record header claiming gigabytes is refused, not allocated.
    let mut b = pcap(false, false, &[]);
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    assert!(read_all(b, None).unwrap_err().contains("claims"));
}

fn block(btype: u32, body: &[u8]) -> Vec<u8> {
    let total = 12 + body.len().div_ceil(4) * 4;
    let mut v = Vec::new();
    v.extend_from_slice(&btype.to_le_bytes());
    v.extend_from_slice(&(total as u32).to_le_bytes());
    v.extend_from_slice(body);
    v.resize(total - 4, 0);
    v.extend_from_slice(&(total as u32).to_le_bytes());
    v
}

#[test]
fn pcapng_interfaces_with_their_own_link_types_and_resolutions() {
    let mut f = block(
        0x0A0D_0D0A,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    // Interface 0: Ethernet, default microseconds.
    f.extend(block(1, &[1, 0, 0, 0, 0, 0, 4, 0]));
    // Interface 1: raw IP, if_tsresol = 9 (nanoseconds), then opt_endofopt.
    f.extend(block(
        1,
        &[101, 0, 0, 0, 0, 0, 4, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
    ));
    let epb = |ifid: u32, ticks: u64, data: &[u8]| {
        let mut b = Vec::new();
        b.extend_from_slice(&ifid.to_le_bytes());
        b.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ticks as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        block(6, &b)
    };
    f.extend(epb(1, 1_500_000_000_123, &ip_packet(true)));
    // An unknown block is skipped.
    f.extend(block(0x0bad, &[1, 2, 3, 4]));
    let mut eth = vec![0u8; 12];
    eth.extend_from_slice(&[0x08, 0x00]);
    eth.extend_from_slice(&ip_packet(false));
    f.extend(epb(0, 2_000_000, &eth));
    let mut r = Reader::from_reader(Box::new(Cursor::new(f.clone())), "ng").unwrap();
    assert_eq!(r.linktype(), linktype::ETHERNET, "the first interface's");
    let first: Record<'_> = r.next().unwrap().unwrap();
    assert_eq!(first.linktype, linktype::RAW);
    assert_eq!(
        first.ts,
        Timestamp {
            sec: 1500,
            nsec: 123
        }
    );
    assert_eq!(first.decode().unwrap().tcp().unwrap().dport, 2000);
    let second = r.next().unwrap().unwrap();
    assert_eq!(second.linktype, linktype::ETHERNET);
    assert_eq!(second.ts, Timestamp { sec: 2, nsec: 0 });
    assert_eq!(second.decode().unwrap().udp().unwrap().payload, b"abcd");
    assert!(r.next().unwrap().is_none());

    // A filter is compiled for each link type met.
    let got = read_all(f, Some("tcp")).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, linktype::RAW);
}

#[test]
fn pcapng_simple_packet_block_shorter_than_its_header_is_corrupt() {
    let shb = block(
        0x0A0D_0D0A,
        &[
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    let mut f = shb.clone();
    f.extend(block(1, &[101, 0, 0, 0, 0, 0, 4, 0]));
    // A 12-byte simple packet block: no room for its original-length field.
    f.extend(block(3, &[]));
    let err = read_all(f, None).unwrap_err();
    assert!(err.contains("simple packet block of 12 bytes"), "{err}");
    // A well-formed one still reads (interface 0, no timestamp).
    let mut f = shb;
    f.extend(block(1, &[101, 0, 0, 0, 0, 0, 4, 0]));
    let data = ip_packet(true);
    let mut body = (data.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(&data);
    f.extend(block(3, &body));
    let got = read_all(f, None).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, linktype::RAW);
}

#[test]
fn writer_output_reads_back() {
    let path = std::env::temp_dir().join(format!("frame-capture-{}.pcap", std::process::id()));
    let p = path.to_str().unwrap();
    let data = ip_packet(true);
    let mut w = Writer::create(p, linktype::RAW).unwrap();
    w.write(
        &Record {
            ts: Timestamp {
                sec: 7,
                nsec: 123_456_789,
            },
            caplen: data.len() as u32,
            len: 1000,
            linktype: linktype::RAW,
            data: &data,
        },
        None,
    )
    .unwrap();
    w.flush().unwrap();
    drop(w);
    let mut r = Reader::open(p).unwrap();
    let rec = r.next().unwrap().unwrap();
    assert_eq!(
        rec.ts,
        Timestamp {
            sec: 7,
            nsec: 123_456_000
        }
    );
    assert_eq!((rec.caplen, rec.len), (data.len() as u32, 1000));
    assert_eq!(rec.data, &data[..]);
    assert!(r.next().unwrap().is_none());
    std::fs::remove_file(&path).unwrap();
}

fn record(data: &[u8], sec: i64) -> Record<'_> {
    Record {
        ts: Timestamp {
            sec,
            nsec: 123_456_789,
        },
        caplen: data.len() as u32,
        len: data.len() as u32,
        linktype: linktype::RAW,
        data,
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("netcap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Each format read back: the stamp to its precision, the pcapng comment's bytes in the file,
/// the magic numbers tcpdump looks for.
#[test]
fn every_format_reads_back() {
    use netcap::{Format, Interface, Spec};
    let dir = temp("formats");
    let data = ip_packet(false);
    for (format, magic, nsec) in [
        (Format::Pcap, 0xa1b2_c3d4u32, 123_456_000),
        (Format::PcapNano, 0xa1b2_3c4d, 123_456_789),
        (Format::Pcapng { nano: false }, 0x0a0d_0d0a, 123_456_000),
        (Format::Pcapng { nano: true }, 0x0a0d_0d0a, 123_456_789),
    ] {
        let path = dir.join("f");
        let p = path.to_str().unwrap();
        let spec = Spec {
            format,
            linktype: linktype::RAW,
            snaplen: 65535,
            interface: Interface {
                name: Some("lo".into()),
                description: Some("loopback".into()),
            },
        };
        let mut w = Writer::open(p, &spec).unwrap();
        w.write(&record(&data, 5), Some("process: src a/1 > dst -"))
            .unwrap();
        w.write(&record(&data, 6), None).unwrap();
        w.flush().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(w.written(), bytes.len() as u64, "{format:?}");
        assert_eq!(u32::from_le_bytes(bytes[..4].try_into().unwrap()), magic);
        let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
        let ng = matches!(format, Format::Pcapng { .. });
        assert_eq!(has(b"process: src a/1 > dst -"), ng, "{format:?}");
        assert_eq!(has(b"loopback"), ng, "{format:?}");
        let mut r = Reader::open(p).unwrap();
        for sec in [5, 6] {
            let rec = r.next().unwrap().unwrap();
            assert_eq!(rec.ts, Timestamp { sec, nsec }, "{format:?}");
            assert_eq!(rec.data, &data[..]);
            assert_eq!(rec.linktype, linktype::RAW);
        }
        assert!(r.next().unwrap().is_none());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn count_records(path: &std::path::Path) -> usize {
    let mut r = Reader::open(path.to_str().unwrap()).unwrap();
    let mut n = 0;
    while r.next().unwrap().is_some() {
        n += 1;
    }
    n
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// -C: a new file once the current one is over the size, named t, t1, t2 …; every packet in
/// exactly one file. With -W 3: t0, t1, t2, then t0 again.
#[test]
fn rotation_by_size() {
    use netcap::rotate::{Rotating, Rotation, Written};
    let data = ip_packet(false); // 32 bytes: 48 per pcap record, 24 of file header.
    let dir = temp("size");
    let base = dir.join("t");
    let spec = netcap::Spec::pcap(linktype::RAW);
    let rot = Rotation {
        size: Some(100),
        ..Rotation::default()
    };
    let mut w = Rotating::create(base.to_str().unwrap(), &spec, rot, 0).unwrap();
    for i in 0..10 {
        let r = w.write(&record(&data, i), None, || unreachable!()).unwrap();
        assert_eq!(r, Written::Yes);
    }
    w.flush().unwrap();
    // 24 + 48 = 72 is not over 100, 120 is: the third packet opens the next file.
    assert_eq!(names(&dir), ["t", "t1", "t2", "t3", "t4"]);
    let counts: Vec<usize> = names(&dir)
        .iter()
        .map(|n| count_records(&dir.join(n)))
        .collect();
    assert_eq!(counts, [2, 2, 2, 2, 2]);

    let dir = temp("ring");
    let base = dir.join("t");
    let rot = Rotation {
        size: Some(100),
        count: Some(3),
        ..Rotation::default()
    };
    let mut w = Rotating::create(base.to_str().unwrap(), &spec, rot, 0).unwrap();
    for i in 0..8 {
        w.write(&record(&data, i), None, || unreachable!()).unwrap();
    }
    w.flush().unwrap();
    assert_eq!(w.current(), base.to_str().unwrap().to_owned() + "0");
    assert_eq!(names(&dir), ["t0", "t1", "t2"]);
    // Packets 7 and 8 overwrote the first file; 3-4 and 5-6 are in t1 and t2.
    let first = Reader::open(dir.join("t0").to_str().unwrap())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .ts
        .sec;
    assert_eq!(first, 6);
    let counts: Vec<usize> = names(&dir)
        .iter()
        .map(|n| count_records(&dir.join(n)))
        .collect();
    assert_eq!(counts, [2, 2, 2]);
    std::fs::remove_dir_all(
        dir.parent()
            .unwrap()
            .join(format!("netcap-size-{}", std::process::id())),
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// -G: a new file (strftime name) for the first packet a period after the current file was
/// opened; with -W 2 and no -C, the third file is never opened.
#[test]
fn rotation_by_time() {
    use netcap::rotate::{Rotating, Rotation, Written};
    let data = ip_packet(false);
    let dir = temp("time");
    // %s: seconds since the epoch, the same in every time zone.
    let base = dir.join("g-%s");
    let spec = netcap::Spec::pcap(linktype::RAW);
    let rot = Rotation {
        secs: Some(10),
        count: Some(2),
        ..Rotation::default()
    };
    let mut w = Rotating::create(base.to_str().unwrap(), &spec, rot, 1000).unwrap();
    let mut got = Vec::new();
    for now in [1000, 1005, 1009, 1010, 1015, 1019, 1020, 1021] {
        got.push(w.write(&record(&data, now), None, || now).unwrap());
    }
    w.flush().unwrap();
    assert_eq!(got[..6], [Written::Yes; 6]);
    assert_eq!(got[6..], [Written::LimitReached; 2]);
    assert_eq!(names(&dir), ["g-1000", "g-1010"]);
    assert_eq!(count_records(&dir.join("g-1000")), 3);
    assert_eq!(count_records(&dir.join("g-1010")), 3);

    // -G with -C and -W 12: numbered from 00 in each period; -W does not stop.
    let dir = temp("time-size");
    let base = dir.join("g-%s-");
    let rot = Rotation {
        secs: Some(10),
        size: Some(100),
        count: Some(12),
    };
    let mut w = Rotating::create(base.to_str().unwrap(), &spec, rot, 1000).unwrap();
    for now in [1000, 1001, 1002, 1010, 1020, 1030] {
        assert_eq!(
            w.write(&record(&data, now), None, || now).unwrap(),
            Written::Yes
        );
    }
    w.flush().unwrap();
    assert_eq!(
        names(&dir),
        [
            "g-1000-00",
            "g-1000-01",
            "g-1010-00",
            "g-1020-00",
            "g-1030-00"
        ]
    );
    std::fs::remove_dir_all(
        dir.parent()
            .unwrap()
            .join(format!("netcap-time-{}", std::process::id())),
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file is read ahead in blocks: records cut by every block boundary, records longer than
/// the room a block leaves for the cut end, and a truncated last record come out as a
/// stream's reader gives them.
#[test]
fn a_file_read_ahead_gives_the_records_a_stream_gives() {
    let sizes = (0..3000u32).map(|i| match i % 97 {
        0 => 70_000,
        1 => 16_384,
        _ => (i * 37 % 1500) as usize,
    });
    let recs: Vec<(u32, u32, Vec<u8>)> = sizes
        .enumerate()
        .map(|(i, n)| (i as u32, 7, (0..n).map(|k| (k + i) as u8).collect()))
        .collect();
    let mut bytes = pcap(false, false, &recs);
    let whole = bytes.len();
    bytes.truncate(whole - 5);
    let dir = temp("ahead");
    let path = dir.join("f.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let name = path.to_str().unwrap();
    let mut file = Reader::open(name).unwrap();
    let mut stream = Reader::from_reader(Box::new(Cursor::new(bytes)), name).unwrap();
    let mut n = 0;
    loop {
        match (file.next(), stream.next()) {
            (Ok(Some(a)), Ok(Some(b))) => {
                assert_eq!(
                    (a.ts, a.caplen, a.len, a.data),
                    (b.ts, b.caplen, b.len, b.data)
                );
                n += 1;
            }
            (a, b) => {
                assert_eq!(
                    a.map(|r| r.is_some()).map_err(|e| e.to_string()),
                    b.map(|r| r.is_some()).map_err(|e| e.to_string())
                );
                break;
            }
        }
    }
    assert_eq!(n, recs.len() - 1, "every record but the cut last one");
    std::fs::remove_dir_all(&dir).unwrap();
}
