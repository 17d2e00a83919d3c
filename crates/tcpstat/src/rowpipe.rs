//! `conns`' rows made and formatted on a second core while the first goes on analysing
//! packets: on a capture of many short connections, building each row (reading a state that
//! has waited out its close, long out of the cache), formatting and ordering the rows are a
//! third of the work. Ended connections (or rows) go to a worker in batches; the worker
//! makes the rows, formats them into byte buffers and hands those back with the connections'
//! state, cleared for reuse ([`Conn::clear`]: while it is in the worker's cache), and the
//! caller writes the bytes to its writer (stdout's lock cannot leave
//! its thread) in the order the rows came. Memory stays bounded: a few batches are in flight.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use crate::analysis::{Cleared, Conn, ConnRow};

/// Items per batch: enough to make the hand-over cheap, few enough to keep output flowing.
const BATCH: usize = 64;
/// Batches queued for the worker before the analysis waits for it.
const QUEUED: usize = 2;
/// Rows made where they come, without a worker: a capture of a few connections (bulk flows)
/// never starts one.
const INLINE: usize = 1024;
/// A batch goes when full or when its first item has waited this long in capture time (a
/// live pipe's rows come out as their connections end, not 64 at a time).
const WAIT_NS: i64 = 1_000_000_000;

/// What the worker does with each row: format it (or hold it) into `out`.
pub trait RowSink: Send + 'static {
    fn row(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()>;
}

/// What goes to the worker: a row, or a connection that is over, to make its row from.
pub enum Item {
    Row(Box<ConnRow>),
    Ended(Box<Conn>),
}

/// Items on their way to the worker; the bytes they became and the connections' state on the
/// way back.
struct Batch {
    items: Vec<Item>,
    t0: i64,
    /// Capture time of its first item.
    since: i64,
    bytes: Vec<u8>,
    freed: Vec<Cleared>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            items: Vec::with_capacity(BATCH),
            t0: 0,
            since: 0,
            bytes: Vec::new(),
            freed: Vec::new(),
        }
    }

    /// The worker's part: every item's row through `sink`. Each connection is read here
    /// for the first time since its last packet, on the other core, so what the next ones
    /// read is fetched into the cache meanwhile (a third of the worker's time on a port
    /// scan's capture went into waiting for it): two rows ahead the connection's state, one
    /// row ahead the buffers it points to (their addresses are in the state, which has
    /// arrived by then).
    fn format(&mut self, sink: &mut impl RowSink) -> io::Result<()> {
        let mut items = self.items.drain(..);
        for item in items.as_slice().iter().take(2) {
            fetch(item, Conn::prefetch);
        }
        while let Some(item) = items.next() {
            if let [next, after, ..] = items.as_slice() {
                fetch(after, Conn::prefetch);
                fetch(next, Conn::prefetch_buffers);
            } else if let [next] = items.as_slice() {
                fetch(next, Conn::prefetch_buffers);
            }
            match item {
                Item::Row(r) => sink.row(&r, self.t0, &mut self.bytes)?,
                Item::Ended(mut c) => {
                    sink.row(&ConnRow::of_ended(&mut c), self.t0, &mut self.bytes)?;
                    self.freed.push(c.clear());
                }
            }
        }
        Ok(())
    }
}

fn fetch(item: &Item, how: fn(&Conn)) {
    if let Item::Ended(c) = item {
        how(c);
    }
}

/// Items in, their rows' bytes written in order; [`RowPipe::finish`] gives the sink back.
/// The first rows are made where they come; the worker starts when there are many.
pub struct RowPipe<S: RowSink> {
    filling: Batch,
    /// Batches back from the worker, written out and emptied, for reuse.
    spare: Vec<Batch>,
    /// Connections whose rows are made, cleared, for the caller to reuse.
    freed: Vec<Cleared>,
    /// Rows made without the worker so far.
    inline: usize,
    /// Batches sent and not back yet.
    in_flight: usize,
    worker: Worker<S>,
}

enum Worker<S> {
    /// Not started: the sink is here.
    Idle(S),
    Running {
        to: SyncSender<Batch>,
        from: Receiver<Batch>,
        thread: JoinHandle<io::Result<S>>,
    },
    Stopped,
}

impl<S: RowSink> RowPipe<S> {
    pub fn new(sink: S) -> RowPipe<S> {
        RowPipe {
            filling: Batch::new(),
            spare: Vec::new(),
            freed: Vec::new(),
            inline: 0,
            in_flight: 0,
            worker: Worker::Idle(sink),
        }
    }

    /// `item`'s row (of a capture that began at `t0`; `now` the capture time), after those
    /// pushed before it.
    pub fn push(&mut self, item: Item, t0: i64, now: i64, out: &mut impl Write) -> io::Result<()> {
        if self.filling.items.is_empty() {
            self.filling.since = now;
        }
        self.filling.t0 = t0;
        self.filling.items.push(item);
        if let Worker::Idle(sink) = &mut self.worker
            && self.inline < INLINE
        {
            self.inline += 1;
            let b = &mut self.filling;
            b.format(sink)?;
            out.write_all(&b.bytes)?;
            b.bytes.clear();
            self.freed.append(&mut b.freed);
            return Ok(());
        }
        if self.filling.items.len() >= BATCH || self.waited(now) {
            self.send(out)?;
        }
        Ok(())
    }

    /// The batch being filled has items, the first of them waiting since `WAIT_NS` before `now`.
    fn waited(&self, now: i64) -> bool {
        !self.filling.items.is_empty() && now.saturating_sub(self.filling.since) >= WAIT_NS
    }

    /// The capture's clock moved to `now` (call it every millisecond or so of capture time):
    /// a batch that has waited long enough goes, and the bytes back from the worker are
    /// written — a live pipe's rows come out as their connections end, whether more
    /// connections end or not.
    pub fn tick(&mut self, now: i64, out: &mut impl Write) -> io::Result<()> {
        if self.waited(now) {
            self.send(out)?;
        }
        if self.in_flight > 0 {
            self.write_done(out)?;
        }
        Ok(())
    }

    /// The connections whose rows are made since the last call.
    pub fn take_freed(&mut self) -> std::vec::Drain<'_, Cleared> {
        self.freed.drain(..)
    }

    /// Every row is in: the rest is formatted and written, and the sink comes back (the last
    /// connections freed are still in [`RowPipe::take_freed`]).
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<S> {
        if matches!(self.worker, Worker::Running { .. }) && !self.filling.items.is_empty() {
            self.send(out)?;
        }
        match std::mem::replace(&mut self.worker, Worker::Stopped) {
            Worker::Idle(mut sink) => {
                let mut b = std::mem::replace(&mut self.filling, Batch::new());
                b.format(&mut sink)?;
                self.write(b, out)?;
                Ok(sink)
            }
            Worker::Running { to, from, thread } => {
                // The worker ends once its closed queue is empty: then nothing more comes back.
                drop(to);
                for b in from {
                    self.write(b, out)?;
                }
                joined(thread)
            }
            Worker::Stopped => Err(stopped()),
        }
    }

    fn send(&mut self, out: &mut impl Write) -> io::Result<()> {
        if let Worker::Idle(_) = self.worker {
            self.start()?;
        }
        let next = self.spare.pop().unwrap_or_else(Batch::new);
        let full = std::mem::replace(&mut self.filling, next);
        let Worker::Running { to, .. } = &self.worker else {
            return Err(stopped());
        };
        if to.send(full).is_err() {
            // The worker stopped early: its error says why.
            self.join()?;
            return Err(io::Error::other("the row formatter stopped"));
        }
        self.in_flight += 1;
        self.write_done(out)
    }

    /// Write what the worker has handed back so far.
    fn write_done(&mut self, out: &mut impl Write) -> io::Result<()> {
        while let Worker::Running { from, .. } = &self.worker
            && let Ok(b) = from.try_recv()
        {
            self.write(b, out)?;
        }
        Ok(())
    }

    fn start(&mut self) -> io::Result<()> {
        let Worker::Idle(mut sink) = std::mem::replace(&mut self.worker, Worker::Stopped) else {
            return Ok(());
        };
        let (to, queued) = mpsc::sync_channel::<Batch>(QUEUED);
        let (done, from) = mpsc::channel::<Batch>();
        let thread = thread::Builder::new()
            .name("tcpstat-rows".into())
            .spawn(move || {
                for mut b in queued {
                    b.format(&mut sink)?;
                    if done.send(b).is_err() {
                        break;
                    }
                }
                Ok(sink)
            })?;
        self.worker = Worker::Running { to, from, thread };
        Ok(())
    }

    fn write(&mut self, mut b: Batch, out: &mut impl Write) -> io::Result<()> {
        self.in_flight = self.in_flight.saturating_sub(1);
        out.write_all(&b.bytes)?;
        b.bytes.clear();
        self.freed.append(&mut b.freed);
        self.spare.push(b);
        Ok(())
    }

    fn join(&mut self) -> io::Result<S> {
        match std::mem::replace(&mut self.worker, Worker::Stopped) {
            Worker::Running { to, thread, .. } => {
                drop(to);
                joined(thread)
            }
            Worker::Idle(sink) => Ok(sink),
            Worker::Stopped => Err(stopped()),
        }
    }
}

/// The worker's result: the sink, or what stopped it.
fn joined<S>(thread: JoinHandle<io::Result<S>>) -> io::Result<S> {
    thread
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the row formatter panicked")))
}

fn stopped() -> io::Error {
    io::Error::other("the row formatter already stopped")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::SocketAddr;

    use netproto::frame::{TcpFlags, TcpOptions};

    use super::*;
    use crate::analysis::{Analyzer, Eviction, TcpSample};

    /// Writes each row's id and the capture start it was given.
    struct Ids;
    impl RowSink for Ids {
        fn row(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()> {
            writeln!(out, "{} {t0}", row.id)
        }
    }

    /// `n` SYNs from different ports, `gap_ns` apart.
    pub(crate) fn syns(
        an: &mut Analyzer,
        n: u16,
        gap_ns: i64,
        mut each: impl FnMut(&mut Analyzer),
    ) {
        for p in 0..n {
            an.handle(&TcpSample {
                frame: u64::from(p) + 1,
                ts_ns: i64::from(p) * gap_ns,
                src: SocketAddr::from(([10, 0, 0, 1], 1024 + p)),
                dst: SocketAddr::from(([10, 0, 0, 2], 80)),
                seq: 7,
                ack: 0,
                flags: TcpFlags(TcpFlags::SYN),
                win: 100,
                options: TcpOptions(&[]),
                payload_len: 0,
                payload: &[],
                wire_len: 54,
                truncated: false,
            });
            each(an);
        }
    }

    /// A row per connection: `n` SYNs from different ports.
    fn rows(n: u16) -> Vec<ConnRow> {
        let mut an = Analyzer::new();
        syns(&mut an, n, 1000, |_| {});
        an.conns.iter().map(ConnRow::new).collect()
    }

    /// Debug-prints each row.
    struct Debug;
    impl RowSink for Debug {
        fn row(&mut self, row: &ConnRow, _: i64, out: &mut Vec<u8>) -> io::Result<()> {
            writeln!(out, "{row:?}")
        }
    }

    #[test]
    fn rows_made_on_the_worker_are_the_engines_rows() {
        // Unanswered SYNs a second apart: each is evicted 5 s after it (Zeek's attempt delay).
        let mut an = Analyzer::evicting(Eviction::default());
        let mut want = String::new();
        syns(&mut an, 1500, 1_000_000_000, |an| {
            want.extend(an.take_evicted().map(|r| format!("{r:?}\n")))
        });
        let mut an = Analyzer::evicting(Eviction::default()).handing_over();
        let (mut out, mut freed) = (Vec::new(), 0);
        let mut pipe = RowPipe::new(Debug);
        syns(&mut an, 1500, 1_000_000_000, |an| {
            let ended: Vec<_> = an.take_evicted_conns().collect();
            for c in ended {
                pipe.push(Item::Ended(c), 0, 0, &mut out).unwrap();
            }
            for c in pipe.take_freed().collect::<Vec<_>>() {
                freed += 1;
                an.recycle(c);
            }
        });
        pipe.finish(&mut out).unwrap();
        freed += pipe.take_freed().count();
        let n = want.lines().count();
        assert!(n > INLINE + 3 * BATCH, "{n} rows");
        assert_eq!(String::from_utf8(out).unwrap(), want);
        assert_eq!(freed, n, "every connection comes back for reuse");
    }

    #[test]
    fn rows_come_out_in_order_across_batches() {
        // Without the worker, up to a batch with it, several batches; the capture's clock
        // still, or moving 0.3 s per row (a batch then goes after 4 rows).
        for n in [0, 1, INLINE, INLINE + BATCH, INLINE + 3 * BATCH + 7] {
            for step in [0, 300_000_000] {
                let all = rows(n as u16);
                let mut out = Vec::new();
                let mut pipe = RowPipe::new(Ids);
                for (i, r) in all.iter().cloned().enumerate() {
                    let now = i as i64 * step;
                    pipe.push(Item::Row(Box::new(r)), 5, now, &mut out).unwrap();
                }
                pipe.finish(&mut out).unwrap();
                let want: String = all.iter().map(|r| format!("{} 5\n", r.id)).collect();
                assert_eq!(String::from_utf8(out).unwrap(), want, "{n} rows");
            }
        }
    }

    #[test]
    fn a_lone_row_goes_when_the_clock_has_moved_a_second() {
        let all = rows(INLINE as u16 + 1);
        let mut out = Vec::new();
        let mut pipe = RowPipe::new(Ids);
        for r in all.iter().cloned() {
            pipe.push(Item::Row(Box::new(r)), 0, 0, &mut out).unwrap();
        }
        // The last row waits in a batch of one.
        pipe.tick(WAIT_NS - 1, &mut out).unwrap();
        let before = out.len();
        pipe.tick(WAIT_NS, &mut out).unwrap();
        let last = format!("{} 0\n", INLINE);
        // Written once the worker hands it back.
        let ok = (1..500).any(|i| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            pipe.tick(WAIT_NS + i, &mut out).unwrap();
            out.len() > before
        });
        assert!(ok, "the row never came out");
        assert!(String::from_utf8(out.clone()).unwrap().ends_with(&last));
        pipe.finish(&mut out).unwrap();
    }

    /// A sink that fails on its `.1`th row.
    struct Fails(usize, usize);
    impl RowSink for Fails {
        fn row(&mut self, _: &ConnRow, _: i64, _: &mut Vec<u8>) -> io::Result<()> {
            self.0 += 1;
            if self.0 == self.1 {
                return Err(io::Error::other("sink failed"));
            }
            Ok(())
        }
    }

    #[test]
    fn the_sinks_error_reaches_the_caller() {
        // Failing on a row made inline, and on one made by the worker.
        for at in [2, INLINE + 2] {
            let mut out = Vec::new();
            let mut pipe = RowPipe::new(Fails(0, at));
            let mut err = None;
            for r in rows(4 * BATCH as u16 + 1)
                .into_iter()
                .cycle()
                .take(INLINE + 40 * BATCH)
            {
                if let Err(e) = pipe.push(Item::Row(Box::new(r)), 0, 0, &mut out) {
                    err = Some(e);
                    break;
                }
            }
            let err = match err {
                Some(e) => e,
                None => pipe.finish(&mut out).err().expect("the sink's error"),
            };
            assert_eq!(err.to_string(), "sink failed", "failing at row {at}");
        }
    }
}
