//! `conns`' rows formatted on a second core while the first goes on analysing packets: on a
//! capture of many short connections, formatting and ordering the rows is a fifth to a third
//! of the work. Rows go to a worker in batches; the worker formats them into byte buffers
//! and hands those back, and the caller writes them to its writer (stdout's lock cannot
//! leave its thread) in the order the rows came. Memory stays bounded: a few batches are in
//! flight at most.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use crate::analysis::ConnRow;

/// Rows per batch: enough to make the hand-over cheap, few enough to keep output flowing.
const BATCH: usize = 128;
/// Batches queued for the worker before the analysis waits for it.
const QUEUED: usize = 2;

/// What the worker does with each row: format it (or hold it) into `out`.
pub trait RowSink: Send + 'static {
    fn row(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()>;
}

/// Rows on their way to the worker, and the bytes they became on the way back.
struct Batch {
    rows: Vec<ConnRow>,
    t0: i64,
    bytes: Vec<u8>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            rows: Vec::with_capacity(BATCH),
            t0: 0,
            bytes: Vec::new(),
        }
    }
}

/// Rows in, their bytes written in order; [`RowPipe::finish`] gives the sink back.
pub struct RowPipe<S: RowSink> {
    filling: Batch,
    /// Batches back from the worker, written out and emptied, for reuse.
    spare: Vec<Batch>,
    to_worker: Option<SyncSender<Batch>>,
    from_worker: Receiver<Batch>,
    worker: Option<JoinHandle<io::Result<S>>>,
}

impl<S: RowSink> RowPipe<S> {
    pub fn new(sink: S) -> io::Result<RowPipe<S>> {
        let (to_worker, queued) = mpsc::sync_channel::<Batch>(QUEUED);
        let (done, from_worker) = mpsc::channel::<Batch>();
        let worker = thread::Builder::new()
            .name("tcpstat-rows".into())
            .spawn(move || {
                let mut sink = sink;
                for mut b in queued {
                    for r in &b.rows {
                        sink.row(r, b.t0, &mut b.bytes)?;
                    }
                    b.rows.clear();
                    if done.send(b).is_err() {
                        break;
                    }
                }
                Ok(sink)
            })?;
        Ok(RowPipe {
            filling: Batch::new(),
            spare: Vec::new(),
            to_worker: Some(to_worker),
            from_worker,
            worker: Some(worker),
        })
    }

    /// Row `row` (of a capture that began at `t0`), after those pushed before it.
    pub fn push(&mut self, row: ConnRow, t0: i64, out: &mut impl Write) -> io::Result<()> {
        self.filling.t0 = t0;
        self.filling.rows.push(row);
        if self.filling.rows.len() >= BATCH {
            self.send(out)?;
        }
        Ok(())
    }

    /// Every row is in: the rest is formatted and written, and the sink comes back.
    pub fn finish(mut self, out: &mut impl Write) -> io::Result<S> {
        if !self.filling.rows.is_empty() {
            self.send(out)?;
        }
        self.to_worker = None;
        // The worker ends when its queue is closed and empty: then nothing more comes back.
        while let Ok(b) = self.from_worker.recv() {
            self.write(b, out)?;
        }
        self.join()
    }

    fn send(&mut self, out: &mut impl Write) -> io::Result<()> {
        let next = self.spare.pop().unwrap_or_else(Batch::new);
        let full = std::mem::replace(&mut self.filling, next);
        let sent = self.to_worker.as_ref().map(|t| t.send(full));
        if !matches!(sent, Some(Ok(()))) {
            // The worker stopped early: its error says why.
            self.join()?;
            return Err(io::Error::other("the row formatter stopped"));
        }
        while let Ok(b) = self.from_worker.try_recv() {
            self.write(b, out)?;
        }
        Ok(())
    }

    fn write(&mut self, mut b: Batch, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&b.bytes)?;
        b.bytes.clear();
        self.spare.push(b);
        Ok(())
    }

    fn join(&mut self) -> io::Result<S> {
        self.to_worker = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("the row formatter panicked")),
            None => Err(io::Error::other("the row formatter already stopped")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use netproto::frame::{TcpFlags, TcpOptions};

    use super::*;
    use crate::analysis::{Analyzer, TcpSample};

    /// Writes each row's id and the capture start it was given.
    struct Ids;
    impl RowSink for Ids {
        fn row(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()> {
            writeln!(out, "{} {t0}", row.id)
        }
    }

    /// A row per connection: `n` SYNs from different ports.
    fn rows(n: u16) -> Vec<ConnRow> {
        let mut an = Analyzer::new();
        for p in 0..n {
            an.handle(&TcpSample {
                frame: u64::from(p) + 1,
                ts_ns: i64::from(p) * 1000,
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
        }
        an.conns.iter().map(ConnRow::new).collect()
    }

    #[test]
    fn rows_come_out_in_order_across_batches() {
        let all = rows(3 * BATCH as u16 + 7);
        let mut out = Vec::new();
        let mut pipe = RowPipe::new(Ids).unwrap();
        for r in all.iter().cloned() {
            pipe.push(r, 5, &mut out).unwrap();
        }
        pipe.finish(&mut out).unwrap();
        let want: String = all.iter().map(|r| format!("{} 5\n", r.id)).collect();
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    /// A sink that fails on its second row.
    struct Fails(u32);
    impl RowSink for Fails {
        fn row(&mut self, _: &ConnRow, _: i64, _: &mut Vec<u8>) -> io::Result<()> {
            self.0 += 1;
            if self.0 == 2 {
                return Err(io::Error::other("sink failed"));
            }
            Ok(())
        }
    }

    #[test]
    fn the_sinks_error_reaches_the_caller() {
        let mut out = Vec::new();
        let mut pipe = RowPipe::new(Fails(0)).unwrap();
        let mut err = None;
        for r in rows(4 * BATCH as u16 + 1)
            .into_iter()
            .cycle()
            .take(40 * BATCH)
        {
            if let Err(e) = pipe.push(r, 0, &mut out) {
                err = Some(e);
                break;
            }
        }
        let err = match err {
            Some(e) => e,
            None => pipe.finish(&mut out).err().expect("the sink's error"),
        };
        assert_eq!(err.to_string(), "sink failed");
    }
}
