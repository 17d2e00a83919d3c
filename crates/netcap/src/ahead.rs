//! A capture file read ahead on a thread of its own: the copy from the page cache (a tenth
//! of `tcpstat conns`' analysing thread on a 800 MB capture) moves to the other core, and
//! the blocks it fills are handed over whole, not copied again.
//!
//! Each block leaves [`HEAD`] bytes free at its start, where the reader puts the part of a
//! record that the previous block cut, so that the record reads on in one piece. Blocks come
//! back to the thread once read: a few circulate, whatever the file's size.

use std::io;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread;

/// Room before a block's data for the end of the previous block (records are rarely longer;
/// a longer one is put together by copying).
pub const HEAD: usize = 16 << 10;
/// A block's whole allocation: what one `read(2)` asks for, and what a reader holds.
const BLOCK: usize = 128 << 10;
/// Blocks read and waiting beyond the one being read.
const WAITING: usize = 1;
/// Times the reader looks for the next block before it sleeps (some tens of µs).
const SPINS: usize = 2_000;

/// The receiving end: blocks of data (`HEAD` bytes of room, then what was read), in order.
pub struct ReadAhead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    spent: Sender<Vec<u8>>,
    /// The last block came full.
    full: bool,
}

impl ReadAhead {
    /// Read `src` ahead until its end or an error, on a new thread; `src` back when the
    /// thread cannot be started (the caller then reads it itself).
    pub fn start<R: io::Read + Send + 'static>(src: R) -> Result<ReadAhead, R> {
        let (tx, blocks) = mpsc::sync_channel(WAITING);
        let (spent, back) = mpsc::channel();
        // The source goes to the thread through a channel, so that it can be given back to
        // the caller when the thread cannot be started.
        let (give, take) = mpsc::sync_channel::<R>(1);
        let started = thread::Builder::new()
            .name("netcap-read".into())
            .spawn(move || {
                if let Ok(src) = take.recv() {
                    read_blocks(src, &tx, &back);
                }
            });
        match started {
            Ok(_) => {
                // The thread is waiting for it: this cannot block or fail.
                let _ = give.send(src);
                Ok(ReadAhead {
                    blocks,
                    spent,
                    full: false,
                })
            }
            Err(_) => Err(src),
        }
    }

    /// The next block; `None` at the end of the input.
    pub fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        // A reader that goes through a file's blocks faster than they are read (bulk flows:
        // little work per byte) would sleep and be woken for each one, ~10 µs each time on a
        // VM: the next block is then a few microseconds away, so it is waited for awake. Not
        // after a short block (a pipe's: its next bytes may be seconds away).
        let spins = if self.full { SPINS } else { 0 };
        for _ in 0..spins {
            match self.blocks.try_recv() {
                Ok(b) => return Some(self.note(b)),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
        self.blocks.recv().ok().map(|b| self.note(b))
    }

    /// Whether `b` filled its block (then the next one is likely to come soon).
    fn note(&mut self, b: io::Result<Vec<u8>>) -> io::Result<Vec<u8>> {
        self.full = b.as_ref().is_ok_and(|b| b.len() == BLOCK);
        b
    }

    /// A block read through, to be filled again.
    pub fn give_back(&mut self, block: Vec<u8>) {
        if block.capacity() == BLOCK {
            // The thread may have ended: the block is then simply dropped.
            let _ = self.spent.send(block);
        }
    }
}

/// The thread's loop: a `read(2)` per block (a pipe's reads are passed on as they come, so
/// that a live pipe's packets are not held back until a block is full).
fn read_blocks(
    mut src: impl io::Read,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    back: &Receiver<Vec<u8>>,
) {
    loop {
        let mut block = back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        block.resize(BLOCK, 0);
        let read = loop {
            match src.read(&mut block[HEAD..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        let end = match read {
            Ok(0) => return,
            Ok(k) => k,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        block.truncate(HEAD + end);
        if tx.send(Ok(block)).is_err() {
            // The reader is gone.
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that gives a few bytes a read, then an error.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return match self.fail_at_end {
                    true => Err(io::Error::other("disk on fire")),
                    false => Ok(0),
                };
            }
            let k = buf.len().min(7).min(self.data.len() - self.at);
            buf[..k].copy_from_slice(&self.data[self.at..self.at + k]);
            self.at += k;
            Ok(k)
        }
    }

    fn collect(mut ra: ReadAhead) -> (Vec<u8>, Option<String>) {
        let mut all = Vec::new();
        while let Some(b) = ra.next() {
            match b {
                Ok(b) => {
                    all.extend_from_slice(&b[HEAD..]);
                    ra.give_back(b);
                }
                Err(e) => return (all, Some(e.to_string())),
            }
        }
        (all, None)
    }

    #[test]
    fn blocks_carry_every_byte_in_order_then_the_error() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        for fail_at_end in [false, true] {
            let src = Trickle {
                data: data.clone(),
                at: 0,
                fail_at_end,
            };
            let (got, err) = collect(ReadAhead::start(src).ok().unwrap());
            assert_eq!(got, data);
            assert_eq!(err.as_deref(), fail_at_end.then_some("disk on fire"));
        }
    }

    #[test]
    fn a_file_comes_in_whole_blocks() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let path = std::env::temp_dir().join(format!("netcap-ahead-{}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        let mut ra = ReadAhead::start(std::fs::File::open(&path).unwrap())
            .ok()
            .unwrap();
        let first = ra.next().unwrap().unwrap();
        assert_eq!(first.len(), BLOCK);
        ra.give_back(first);
        let (rest, err) = collect(ra);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(err, None);
        assert_eq!(rest, data[BLOCK - HEAD..]);
    }
}
