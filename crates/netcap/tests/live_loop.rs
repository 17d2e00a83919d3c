//! The live loop ([`netcap::live::run`]) on `lo` (root): each way it ends — count, deadline,
//! stop flag (and the packets drained after it), SIGINT, the handler's `Break` or error — the
//! ticks and their wake-up times, and the kernel's statistics.
#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::ops::ControlFlow;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netcap::live::{self, End, Error, Handler, Options};
use netcap::{Live, LiveOptions, Record};
use testsupport::require_root;

/// A capture on `lo` filtered to one UDP port, and a socket that sends to that port.
struct Udp {
    cap: Live,
    _rx: UdpSocket,
    tx: UdpSocket,
    port: u16,
}

impl Udp {
    fn open() -> Udp {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rx.local_addr().unwrap().port();
        let mut cap = Live::open(&LiveOptions {
            device: "lo".into(),
            ..Default::default()
        })
        .unwrap();
        cap.set_filter(&format!("udp dst port {port}")).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        Udp {
            cap,
            _rx: rx,
            tx,
            port,
        }
    }

    /// Send `n` datagrams, the i-th carrying byte i (the capture has them once this returns).
    fn send(&self, n: u8) {
        for i in 0..n {
            self.tx.send_to(&[i; 10], ("127.0.0.1", self.port)).unwrap();
        }
    }
}

/// The last payload byte of each record handed out, with its number.
fn collect(
    seen: &mut Vec<(u64, u8)>,
) -> impl FnMut(u64, &Record<'_>) -> Result<ControlFlow<()>, String> + '_ {
    |n, r| {
        seen.push((n, *r.data.last().unwrap()));
        Ok(ControlFlow::Continue(()))
    }
}

#[test]
fn count_ends_the_loop_after_exactly_that_many_packets() {
    if !require_root("count_ends_the_loop_after_exactly_that_many_packets") {
        return;
    }
    let mut u = Udp::open();
    u.send(5);
    let mut seen = Vec::new();
    let opts = Options::new().count(3).timeout(Duration::from_secs(20));
    let o = live::run(&mut u.cap, &opts, &mut collect(&mut seen)).unwrap();
    assert_eq!(o.end, End::Count);
    assert_eq!(o.packets, 3);
    assert_eq!(seen, vec![(1, 0), (2, 1), (3, 2)]);
    let stats = o.stats.expect("kernel statistics");
    assert!(stats.received >= 3, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
}

#[test]
fn deadline_ends_a_quiet_capture_on_time() {
    if !require_root("deadline_ends_a_quiet_capture_on_time") {
        return;
    }
    let mut u = Udp::open();
    let start = Instant::now();
    let opts = Options::new()
        .timeout(Duration::from_millis(300))
        .max_wait(Duration::from_secs(60));
    let o = live::run(&mut u.cap, &opts, &mut collect(&mut Vec::new())).unwrap();
    let took = start.elapsed();
    assert_eq!(o.end, End::Deadline);
    assert_eq!(o.packets, 0);
    // The wait is cut at the deadline, not at max_wait.
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn stop_flag_ends_the_loop_from_another_thread() {
    if !require_root("stop_flag_ends_the_loop_from_another_thread") {
        return;
    }
    let mut u = Udp::open();
    let flag = Arc::new(AtomicBool::new(false));
    let setter = {
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::Relaxed);
        })
    };
    let opts = Options::new()
        .stop(flag)
        .timeout(Duration::from_secs(20))
        .max_wait(Duration::from_millis(50));
    let o = live::run(&mut u.cap, &opts, &mut collect(&mut Vec::new())).unwrap();
    setter.join().unwrap();
    assert_eq!(o.end, End::Stopped);
}

#[test]
fn a_stop_hands_out_what_was_captured_before_it_unless_told_not_to() {
    if !require_root("a_stop_hands_out_what_was_captured_before_it_unless_told_not_to") {
        return;
    }
    for drain in [true, false] {
        let mut u = Udp::open();
        // On lo the packets are in the capture's ring once send_to returns.
        u.send(3);
        let mut seen = Vec::new();
        let mut opts = Options::new()
            .stop(Arc::new(AtomicBool::new(true)))
            .timeout(Duration::from_secs(20));
        opts.drain_on_stop = drain;
        let o = live::run(&mut u.cap, &opts, &mut collect(&mut seen)).unwrap();
        assert_eq!(o.end, End::Stopped);
        if drain {
            assert_eq!(seen, vec![(1, 0), (2, 1), (3, 2)]);
        } else {
            assert_eq!(seen, vec![]);
        }
        assert_eq!(o.packets, seen.len() as u64);
        // The count still holds while draining.
        let mut u = Udp::open();
        u.send(3);
        let mut opts = opts.count(2);
        opts.drain_on_stop = drain;
        let o = live::run(&mut u.cap, &opts, &mut collect(&mut Vec::new())).unwrap();
        assert_eq!(o.packets, if drain { 2 } else { 0 });
    }
}

#[test]
fn sigint_sets_the_signal_flag_and_stops_the_loop() {
    if !require_root("sigint_sets_the_signal_flag_and_stops_the_loop") {
        return;
    }
    // The only test here that installs the handlers: SIGINT no longer kills this process.
    let flag = live::signal_flag().unwrap();
    assert!(Arc::ptr_eq(&flag, &live::signal_flag().unwrap()));
    let mut u = Udp::open();
    u.send(2);
    let pid = std::process::id().to_string();
    let mut seen = Vec::new();
    let opts = Options::new().stop(flag).timeout(Duration::from_secs(20));
    let o = live::run(&mut u.cap, &opts, &mut |n: u64, _: &Record<'_>| {
        seen.push(n);
        if n == 2 {
            // What Ctrl-C does: the handlers set the flag, the loop sees it before its next
            // batch (or its wait ends early: poll(2) returns on a signal).
            let st = Command::new("kill").args(["-INT", &pid]).status().unwrap();
            assert!(st.success());
        }
        Ok::<_, String>(ControlFlow::Continue(()))
    })
    .unwrap();
    assert_eq!(o.end, End::Stopped);
    assert_eq!(o.packets, 2);
    assert_eq!(seen, vec![1, 2]);
    assert!(o.stats.is_some());
}

#[test]
fn handler_break_and_error_end_the_loop() {
    if !require_root("handler_break_and_error_end_the_loop") {
        return;
    }
    let mut u = Udp::open();
    u.send(4);
    let opts = Options::new().timeout(Duration::from_secs(20));
    let o = live::run(&mut u.cap, &opts, &mut |n: u64, _: &Record<'_>| {
        Ok::<_, String>(if n == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })
    .unwrap();
    assert_eq!(o.end, End::Handler);
    // The rest of the batch is dropped, not counted.
    assert_eq!(o.packets, 2);

    let mut u = Udp::open();
    u.send(4);
    let e = live::run(&mut u.cap, &opts, &mut |n: u64, _: &Record<'_>| {
        if n == 3 {
            Err(format!("packet {n} failed"))
        } else {
            Ok(ControlFlow::Continue(()))
        }
    })
    .unwrap_err();
    assert!(
        matches!(&e, Error::Handler(m) if m == "packet 3 failed"),
        "{e}"
    );
}

/// Counts ticks and asks to be woken every 50 ms.
struct Ticker {
    ticks: u32,
    idle: u32,
}

impl Handler for Ticker {
    type Error = String;
    fn packet(&mut self, _: u64, _: &Record<'_>) -> Result<ControlFlow<()>, String> {
        Ok(ControlFlow::Continue(()))
    }
    fn tick(&mut self, now: Instant, idle: bool) -> Result<Option<Instant>, String> {
        self.ticks += 1;
        self.idle += u32::from(idle);
        Ok(Some(now + Duration::from_millis(50)))
    }
}

#[test]
fn ticks_come_at_the_wake_up_times_the_handler_asks_for() {
    if !require_root("ticks_come_at_the_wake_up_times_the_handler_asks_for") {
        return;
    }
    let mut u = Udp::open();
    let opts = Options::new()
        .timeout(Duration::from_millis(600))
        .max_wait(Duration::from_secs(60));
    let mut t = Ticker { ticks: 0, idle: 0 };
    let o = live::run(&mut u.cap, &opts, &mut t).unwrap();
    assert_eq!(o.end, End::Deadline);
    // Every 50 ms for 600 ms, rather than one tick and a wait until the deadline.
    assert!(t.ticks >= 5, "{} ticks", t.ticks);
    assert_eq!(t.idle, t.ticks, "nothing was captured: every tick is idle");
}
