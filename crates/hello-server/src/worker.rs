//! One worker: an edge-triggered epoll loop (mio) over its own listening socket and the
//! connections it accepted. Workers share nothing on the hot path except an atomic count of
//! open connections (for the global cap).
//!
//! Per batch of ready sockets a worker makes one `epoll_wait`, then per connection one `read`
//! and one `write` for however many pipelined requests arrived, and at most one `write` of
//! access-log lines to stderr per loop iteration.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::http::{Entry, MAX_HEAD, Parser, Site, push_decimal};

const LISTENER: Token = Token(0);
pub const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;

/// Size of the worker's shared read buffer.
const READ_BUF: usize = 64 * 1024;
/// Stop reading a connection while this much output is unsent (a client that pipelines but
/// does not read must not grow our memory).
const MAX_PENDING_OUT: usize = 256 * 1024;
/// An idle keep-alive connection is closed after this long.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);
/// After an error response we read and discard for at most this long before closing, so the
/// client gets our response rather than a reset (the "lingering close").
const LINGER: Duration = Duration::from_secs(2);
/// How often deadlines are checked.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Settings every worker shares.
#[derive(Debug)]
pub struct Shared {
    pub pid: u32,
    pub access_log: bool,
    pub header_timeout: Duration,
    pub max_conns: usize,
    /// Open connections across all workers.
    pub open: AtomicUsize,
    /// Set by the main thread on SIGINT/SIGTERM.
    pub stop: AtomicBool,
    /// How long in-flight responses may take after a stop.
    pub grace: Duration,
}

struct Conn {
    stream: TcpStream,
    parser: Parser,
    /// Unconsumed input (a partial request), normally empty.
    inbuf: Vec<u8>,
    /// Unsent output, normally empty.
    outbuf: Vec<u8>,
    /// When the current wait (head, body, idle, write, linger) runs out.
    deadline: Instant,
    /// When the first bytes of the current request arrived (for the access log).
    started: Instant,
    /// "client -> server pid N", formatted once per connection for the access log.
    who: Box<str>,
    /// The peer sent FIN.
    eof: bool,
    /// We shut down our side and only drain input until the peer closes.
    lingering: bool,
}

/// What to do with a connection after handling an event.
enum Next {
    Keep,
    Close,
}

pub struct Worker {
    id: usize,
    poll: Poll,
    listener: Option<TcpListener>,
    conns: Slab<Conn>,
    site: Site,
    shared: Arc<Shared>,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    log: Vec<u8>,
    /// Kept open so that at EMFILE we can still accept-and-close (see `accept`).
    spare_fd: Option<File>,
    served: u64,
}

impl Worker {
    pub fn new(
        id: usize,
        listener: std::net::TcpListener,
        site: Site,
        shared: Arc<Shared>,
    ) -> io::Result<(Worker, Waker)> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let worker = Worker {
            id,
            poll,
            listener: Some(listener),
            conns: Slab::with_capacity(1024),
            site,
            shared,
            rbuf: vec![0; READ_BUF],
            wbuf: Vec::with_capacity(READ_BUF),
            log: Vec::with_capacity(64 * 1024),
            spare_fd: File::open("/dev/null").ok(),
            served: 0,
        };
        Ok((worker, waker))
    }

    /// Run until stopped; returns the number of requests answered.
    pub fn run(mut self) -> io::Result<u64> {
        let mut events = Events::with_capacity(1024);
        let mut now = Instant::now();
        let mut next_sweep = now + SWEEP_EVERY;
        let mut next_date = now + until_next_second();
        let mut stop_by: Option<Instant> = None;
        loop {
            let wait = next_sweep.saturating_duration_since(now);
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            now = Instant::now();
            if now >= next_date {
                self.site.set_date(SystemTime::now());
                next_date = now + until_next_second();
            }
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept(now),
                    WAKER => {}
                    Token(t) => {
                        let key = t - FIRST_CONN;
                        if !self.conns.contains(key) {
                            continue;
                        }
                        let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        let next = self.on_event(key, readable, ev.is_writable(), now);
                        if let Next::Close = next {
                            self.close(key);
                        }
                    }
                }
            }
            if stop_by.is_none() && self.shared.stop.load(Ordering::Relaxed) {
                stop_by = Some(now + self.shared.grace);
                self.begin_stop(now);
            }
            if now >= next_sweep {
                self.sweep(now);
                next_sweep = now + SWEEP_EVERY;
            }
            self.flush_log();
            if let Some(by) = stop_by
                && (self.conns.is_empty() || now >= by)
            {
                if !self.conns.is_empty() {
                    log::warn!(
                        "worker {}: {} connection(s) still busy at the stop deadline, closing them",
                        self.id,
                        self.conns.len()
                    );
                }
                let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
                for k in keys {
                    self.close(k);
                }
                self.flush_log();
                return Ok(self.served);
            }
        }
    }

    fn accept(&mut self, now: Instant) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            let (stream, peer) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.raw_os_error(), Some(23 | 24)) => {
                    // ENFILE/EMFILE: free the spare descriptor to accept and close one
                    // connection, so the client is not left hanging in the backlog.
                    self.spare_fd = None;
                    if let Ok((s, peer)) = listener.accept() {
                        drop(s);
                        self.note(format_args!(
                            "closed connection from {peer}: out of file descriptors ({e}); raise `ulimit -n`"
                        ));
                    }
                    self.spare_fd = File::open("/dev/null").ok();
                    return;
                }
                Err(e) => {
                    // ECONNABORTED and friends concern one client only.
                    log::debug!("accept: {e}");
                    continue;
                }
            };
            let open = self.shared.open.load(Ordering::Relaxed);
            if open >= self.shared.max_conns {
                drop(stream);
                let max = self.shared.max_conns;
                self.note(format_args!(
                    "closed connection from {peer}: limit of {max} open connections reached (--max-connections)"
                ));
                continue;
            }
            self.shared.open.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            let who = if self.shared.access_log {
                let local = stream
                    .local_addr()
                    .map_or_else(|_| "?".to_owned(), |a| a.to_string());
                format!("{peer} -> {local} pid {}", self.shared.pid).into_boxed_str()
            } else {
                Box::from("")
            };
            log::debug!("worker {}: connection from {peer}", self.id);
            let entry = self.conns.vacant_entry();
            let mut conn = Conn {
                stream,
                parser: Parser::default(),
                inbuf: Vec::new(),
                outbuf: Vec::new(),
                deadline: now + self.shared.header_timeout,
                started: now,
                who,
                eof: false,
                lingering: false,
            };
            let token = Token(entry.key() + FIRST_CONN);
            if let Err(e) = self.poll.registry().register(
                &mut conn.stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("cannot watch connection from {peer}: {e}");
                self.shared.open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            entry.insert(conn);
        }
    }

    /// Handle readiness of connection `key`.
    fn on_event(&mut self, key: usize, readable: bool, writable: bool, now: Instant) -> Next {
        let had_output = !self.conns[key].outbuf.is_empty();
        if had_output && writable {
            if let Next::Close = self.flush_pending(key, now) {
                return Next::Close;
            }
        }
        // A write-space event with nothing queued needs no read (it would only say EAGAIN);
        // after a backlog drained, reading resumes (or the close proceeds).
        if readable || had_output {
            self.on_readable(key, now)
        } else {
            Next::Keep
        }
    }

    /// Write queued output. Closes on error; finishes a connection marked for closing.
    fn flush_pending(&mut self, key: usize, now: Instant) -> Next {
        let conn = &mut self.conns[key];
        while !conn.outbuf.is_empty() {
            match conn.stream.write(&conn.outbuf) {
                Ok(0) => return Next::Close,
                Ok(n) => {
                    conn.outbuf.drain(..n);
                    conn.deadline = now + self.shared.header_timeout;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
        Next::Keep
    }

    fn on_readable(&mut self, key: usize, now: Instant) -> Next {
        loop {
            let conn = &mut self.conns[key];
            if conn.lingering {
                return drain(conn);
            }
            if conn.parser.close || conn.outbuf.len() > MAX_PENDING_OUT || conn.eof {
                return self.after_output(key, now);
            }
            // Read into the worker's buffer unless a partial request is waiting in the
            // connection's own (then append to it, so the parser sees contiguous bytes).
            let from_inbuf = !conn.inbuf.is_empty();
            let (res, cap) = if from_inbuf {
                let len = conn.inbuf.len();
                let cap = (MAX_HEAD + 1024).max(4096);
                conn.inbuf.resize(len + cap, 0);
                let r = conn.stream.read(&mut conn.inbuf[len..]);
                conn.inbuf.truncate(len + *r.as_ref().unwrap_or(&0));
                (r, cap)
            } else {
                (conn.stream.read(&mut self.rbuf), self.rbuf.len())
            };
            let n = match res {
                Ok(0) => {
                    conn.eof = true;
                    if !conn.inbuf.is_empty() || !conn.parser.idle() {
                        // The client went away in the middle of a request.
                        return Next::Close;
                    }
                    return self.after_output(key, now);
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return Next::Close,
            };
            let fresh = !from_inbuf && conn.parser.idle();
            if fresh {
                conn.deadline = now + self.shared.header_timeout;
                if self.shared.access_log {
                    conn.started = Instant::now();
                }
            } else if !conn.parser.idle() {
                // Body bytes: progress resets the wait.
                conn.deadline = now + self.shared.header_timeout;
            }
            let input: &[u8] = if from_inbuf {
                &conn.inbuf
            } else {
                &self.rbuf[..n]
            };
            let served_before = conn.parser.served;
            let log_on = self.shared.access_log;
            let (log, who, started) = (&mut self.log, &conn.who, conn.started);
            let used = conn
                .parser
                .process(input, &self.site, &mut self.wbuf, &mut |e| {
                    if log_on {
                        access_line(log, who, e, started.elapsed());
                    }
                });
            let served = conn.parser.served - served_before;
            self.served += served;
            if from_inbuf {
                conn.inbuf.drain(..used);
            } else if used < n {
                conn.inbuf.extend_from_slice(&self.rbuf[used..n]);
            }
            if served > 0 {
                conn.deadline = if conn.inbuf.is_empty() && conn.parser.idle() {
                    now + KEEP_ALIVE_IDLE
                } else {
                    now + self.shared.header_timeout
                };
            }
            if !self.wbuf.is_empty() {
                if conn.outbuf.is_empty() {
                    match write_some(&mut conn.stream, &self.wbuf) {
                        Ok(w) => conn.outbuf.extend_from_slice(&self.wbuf[w..]),
                        Err(_) => {
                            self.wbuf.clear();
                            return Next::Close;
                        }
                    }
                } else {
                    conn.outbuf.extend_from_slice(&self.wbuf);
                }
                self.wbuf.clear();
            }
            // A short read means the socket is drained; with edge-triggered epoll the next
            // arrival raises a new event, so we save the read that would return EAGAIN.
            if n < cap {
                return self.after_output(key, now);
            }
        }
    }

    /// After writing: start the close of a connection that is done.
    fn after_output(&mut self, key: usize, now: Instant) -> Next {
        let conn = &mut self.conns[key];
        if !conn.outbuf.is_empty() {
            return Next::Keep;
        }
        if conn.parser.close || conn.eof {
            if conn.eof {
                return Next::Close;
            }
            // Our FIN after the response; keep reading (and discarding) until the client
            // closes, so unread request bytes do not turn into a reset that eats the response.
            let _ = conn.stream.shutdown(Shutdown::Write);
            conn.lingering = true;
            conn.deadline = now + LINGER;
            return drain(conn);
        }
        Next::Keep
    }

    /// Close connections whose wait ran out: 408 for a head (or body) that did not arrive.
    fn sweep(&mut self, now: Instant) {
        let expired: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            let conn = &mut self.conns[key];
            let waiting_for_request = !conn.lingering
                && conn.outbuf.is_empty()
                && !conn.parser.close
                && (conn.parser.served == 0 || !conn.inbuf.is_empty() || !conn.parser.idle());
            if !waiting_for_request {
                // Idle keep-alive, stuck writer, or lingering close: just close.
                self.close(key);
                continue;
            }
            let mut out = Vec::new();
            let bytes = self.site.write_timeout(&mut out);
            let _ = conn.stream.write(&out);
            conn.parser.served += 1;
            self.served += 1;
            if self.shared.access_log {
                let e = Entry {
                    method: "-",
                    path: "-",
                    version: None,
                    status: 408,
                    bytes,
                };
                access_line(&mut self.log, &conn.who, &e, conn.started.elapsed());
            }
            let _ = conn.stream.shutdown(Shutdown::Write);
            conn.inbuf = Vec::new();
            conn.lingering = true;
            conn.deadline = now + LINGER;
        }
    }

    /// Stop accepting; close idle connections; let the rest finish their responses.
    fn begin_stop(&mut self, now: Instant) {
        if let Some(mut l) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut l);
        }
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            let conn = &mut self.conns[key];
            if conn.outbuf.is_empty() {
                self.close(key);
            } else {
                conn.parser.close = true;
                conn.deadline = conn.deadline.min(now + self.shared.grace);
            }
        }
    }

    fn close(&mut self, key: usize) {
        if self.conns.try_remove(key).is_some() {
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A one-off note (connection refused at the cap, ...) in the access log stream.
    fn note(&mut self, args: std::fmt::Arguments<'_>) {
        if self.shared.access_log {
            let _ = writeln!(self.log, "{args}");
        }
    }

    /// Write buffered access-log lines in one `write(2)`.
    fn flush_log(&mut self) {
        if !self.log.is_empty() {
            let _ = io::stderr().lock().write_all(&self.log);
            self.log.clear();
        }
    }
}

/// Read and discard until EOF or would-block; EOF (or an error) ends the connection.
fn drain(conn: &mut Conn) -> Next {
    let mut sink = [0u8; 4096];
    loop {
        match conn.stream.read(&mut sink) {
            Ok(0) => return Next::Close,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Next::Close,
        }
    }
}

/// Write as much of `buf` as the socket takes now.
fn write_some(stream: &mut TcpStream, buf: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match stream.write(&buf[done..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// One access-log line:
/// `127.0.0.1:41234 -> 127.0.0.1:5000 pid 4242 "GET / HTTP/1.1" 200 13 0.041ms`.
///
/// Built by hand rather than with `write!`: it runs once per request, and formatting
/// machinery was a visible share of the cost of logging.
fn access_line(log: &mut Vec<u8>, who: &str, e: &Entry<'_>, took: Duration) {
    log.extend_from_slice(who.as_bytes());
    log.extend_from_slice(b" \"");
    log.extend_from_slice(e.method.as_bytes());
    log.push(b' ');
    // httparse admits `"` and `\` in a path: escape them so the line stays parseable.
    for &b in e.path.as_bytes() {
        if b == b'"' || b == b'\\' {
            log.push(b'\\');
        }
        log.push(b);
    }
    log.extend_from_slice(match e.version {
        Some(0) => b" HTTP/1.0\" ",
        Some(1) => b" HTTP/1.1\" ",
        _ => b"\" ",
    });
    push_decimal(log, u64::from(e.status));
    log.push(b' ');
    push_decimal(log, e.bytes as u64);
    log.push(b' ');
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    push_decimal(log, micros / 1000);
    log.push(b'.');
    let frac = micros % 1000;
    log.extend_from_slice(&[
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
    log.extend_from_slice(b"ms\n");
}

/// Time until the wall clock's next whole second (for the `Date` header).
fn until_next_second() -> Duration {
    let sub = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_nanos(u64::from(1_000_000_000 - sub))
}

/// Format a bound address for humans (IPv6 in brackets).
pub fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}
