//! A bounded two-thread pipe: one thread reads (hash, decrypt, decompress) while the
//! other parses, validates and writes. Memory stays bounded (`DEPTH` chunks in flight)
//! and buffers are recycled, so the hot path does not allocate.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};

/// Bytes per chunk.
pub const CHUNK: usize = 1 << 20;
/// Chunks in flight between the two threads.
pub const DEPTH: usize = 4;

/// The reading end, used on the consumer thread.
pub struct PipeReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

/// The producer: run it on its own thread; it returns when `src` is exhausted, fails,
/// or the reader is dropped.
pub struct Pump {
    tx: SyncSender<io::Result<Vec<u8>>>,
    pool: Receiver<Vec<u8>>,
}

/// A connected pump and reader.
pub fn pipe() -> (Pump, PipeReader) {
    let (tx, rx) = mpsc::sync_channel(DEPTH);
    let (back, pool) = mpsc::sync_channel(DEPTH + 1);
    (
        Pump { tx, pool },
        PipeReader {
            rx,
            back,
            cur: Vec::new(),
            pos: 0,
            done: false,
        },
    )
}

impl Pump {
    /// Copy `src` into the pipe. Read errors are passed on to the reader unchanged
    /// (so typed errors inside `io::Error` survive), and so is a panic in `src`
    /// that nothing beneath caught (a bug of ours: reported by the panic hook,
    /// then passed on as [`crate::contain::Internal`]): the stream's one route
    /// for what goes wrong on this thread. A panic never looks like the end of
    /// the stream and never escapes the thread. (A third-party decoder's panic
    /// is contained beneath, where it is called, as damaged input.)
    pub fn run<R: Read>(self, mut src: R) {
        self.copy(&mut src);
        // A stage that panicked may panic again as it is dropped.
        let _ = crate::contain::ours(move || drop(src));
    }

    fn copy<R: Read>(&self, src: &mut R) {
        loop {
            let mut buf = self.pool.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let mut filled = 0;
            // Fill the chunk, so the consumer sees few, large pieces.
            let result = loop {
                let read = crate::contain::ours(|| src.read(&mut buf[filled..]))
                    .unwrap_or_else(|bug| Err(io::Error::other(bug)));
                match read {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        filled += n;
                        if filled == buf.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            buf.truncate(filled);
            let last = filled == 0 || result.is_err();
            if filled > 0 && self.tx.send(Ok(buf)).is_err() {
                return; // the reader is gone
            }
            if let Err(e) = result {
                let _ = self.tx.send(Err(e));
                return;
            }
            if last {
                return; // EOF: dropping tx ends the reader's stream
            }
        }
    }
}

impl BufRead for PipeReader {
    /// The current chunk as it is, without a copy (for hashing and decompression).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() {
            if self.done {
                return Ok(&[]);
            }
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let old = std::mem::replace(&mut self.cur, next);
                    let _ = self.back.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(&[]);
                }
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.cur.len());
    }
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let chunk = self.fill_buf()?;
        let n = out.len().min(chunk.len());
        out[..n].copy_from_slice(&chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads in odd sizes, as a seeded short-read source would (STYLE.md 12).
    struct Jagged<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Jagged<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.step = (self.step * 7 + 3) % 4099 + 1;
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn carries_every_byte_in_order() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
        let (pump, mut reader) = pipe();
        let got = std::thread::scope(|s| {
            s.spawn(|| {
                pump.run(Jagged {
                    data: &data,
                    step: 1,
                })
            });
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        assert_eq!(got, data);
    }

    #[test]
    fn passes_errors_through_with_their_type() {
        #[derive(Debug, thiserror::Error)]
        #[error("typed")]
        struct Typed;
        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    Err(io::Error::other(Typed))
                } else {
                    out[0] = 1;
                    Ok(1)
                }
            }
        }
        let (pump, mut reader) = pipe();
        let err = std::thread::scope(|s| {
            s.spawn(|| pump.run(Failing(false)));
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap_err()
        });
        assert!(err.get_ref().is_some_and(|e| e.is::<Typed>()));
    }

    /// A stage that panics half way (a bug, or a third-party decoder's
    /// `unwrap` on hostile bytes) must not look like the end of the stream:
    /// the reader gets an error, in order after the bytes before it, and the
    /// pump's thread ends normally (no panic resumes at the scope's end).
    #[test]
    fn a_panicking_stage_is_an_error_not_the_end_of_the_stream() {
        struct Bomb(usize);
        impl Read for Bomb {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    panic!("a decoder bug");
                }
                let n = self.0.min(out.len()).min(1000);
                out[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let (pump, mut reader) = pipe();
        let (got, err) = std::thread::scope(|s| {
            let pumping = s.spawn(|| pump.run(Bomb(CHUNK + 10)));
            let mut got = Vec::new();
            let err = reader.read_to_end(&mut got).unwrap_err();
            assert!(pumping.join().is_ok(), "the panic escaped the pump");
            (got, err)
        });
        assert_eq!(got.len(), CHUNK + 10, "every byte before the panic arrives");
        assert!(err.to_string().contains("a decoder bug"), "{err}");
        assert!(crate::contain::is_internal(&err), "{err}");
    }

    #[test]
    fn producer_stops_when_reader_is_dropped() {
        let (pump, reader) = pipe();
        drop(reader);
        pump.run(io::repeat(0)); // returns instead of spinning forever
    }
}
