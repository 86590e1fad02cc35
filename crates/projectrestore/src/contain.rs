//! Containing the panics of parsers this crate does not own.
//!
//! sequoia-openpgp and age parse attacker-controlled bytes (archives,
//! signature files) and promise errors, not panics. A promise is not a proof:
//! the fuzzer found an `unwrap()` in sequoia-openpgp 2.4.2 (`parse.rs`, SEIPv1
//! decryption) that any OpenPGP message cut short inside its encrypted packet
//! reaches — a truncated download, or a file anyone with the recipient's
//! public key can write. Left alone, such a panic ends the process with exit
//! 101 and a backtrace instead of a refusal.
//!
//! Every call into those parsers on input bytes goes through [`contain`]: a
//! panic there becomes a typed [`Panicked`] that the caller turns into its own
//! refusal (damaged input), the parser's state is dropped and never used
//! again, and the run goes on to clean up and say why.
//!
//! The process's panic hook still runs before the unwind is caught;
//! [`containing`] tells it that this panic will be handled, so a hook can stay
//! quiet (the binary's and the fuzz harness's do). Only third-party code runs
//! contained: this crate's own code beneath a decoder (the hashing reader, the
//! progress events) runs through [`ours`]/[`Ours`], which switch containment
//! off, so a bug of ours is reported loudly as an internal error (exit 1) and
//! never passed off as damaged input. Containment needs `panic = "unwind"`,
//! Rust's default, which the workspace profiles state.

use std::any::Any;
use std::cell::Cell;
use std::io::{self, Read};
use std::panic::{self, AssertUnwindSafe};

pub use crate::archive::Internal;
use crate::report::escape;

thread_local! {
    /// How many [`contain`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Whether the current thread is inside [`contain`]: a panic hook that sees
/// `true` is looking at a panic that will be caught and reported as an error.
pub fn containing() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// A third-party parser panicked on the input.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{parser} broke on this input (its internal error: {detail}); the input is refused")]
pub struct Panicked {
    /// Which parser, e.g. "the OpenPGP parser (sequoia-openpgp)".
    pub parser: &'static str,
    /// The panic's message, escaped and cut to a line.
    pub detail: String,
}

/// Run code of this crate's own (a reader beneath a third-party decoder, a
/// pipeline stage) with containment switched off: a panic there is a bug in
/// this program, so the panic hook reports it loudly (backtrace, "internal
/// error") and the caller gets [`Internal`], never a verdict on the input.
pub(crate) fn ours<T>(f: impl FnOnce() -> T) -> Result<T, Internal> {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DEPTH.with(|d| d.replace(0)));
    // AssertUnwindSafe: as in `contain`, the caller drops what `f` touched.
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Internal(describe(payload)))
}

/// A reader of this crate's own, handed to a third-party decoder: its reads
/// run through [`ours`], so a bug of ours beneath the decoder is reported as
/// one (and as an `io::Error` carrying [`Internal`]) rather than contained as
/// the decoder's failure on the input.
pub(crate) struct Ours<R>(pub(crate) R);

impl<R: Read> Read for Ours<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        ours(|| self.0.read(buf)).unwrap_or_else(|bug| Err(io::Error::other(bug)))
    }
}

/// Does this error carry a bug of ours ([`Internal`])?
pub(crate) fn is_internal(e: &io::Error) -> bool {
    crate::source::carries::<Internal>(e)
}

/// Run `f`, turning a panic inside it into [`Panicked`].
///
/// `AssertUnwindSafe` is sound here in the only sense unwind safety has (it is
/// not about memory safety): whatever `f` touched is the parser's state, and
/// callers drop it after a `Panicked` without reading it again.
pub(crate) fn contain<T>(parser: &'static str, f: impl FnOnce() -> T) -> Result<T, Panicked> {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    DEPTH.with(|d| d.set(d.get().saturating_add(1)));
    let _depth = Depth;
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked {
        parser,
        detail: describe(payload),
    })
}

/// The panic's message, for the error: escaped (it may quote input) and short.
fn describe(payload: Box<dyn Any + Send>) -> String {
    const MAX: usize = 160;
    let text = match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "no message".to_string(),
        },
    };
    let mut text = escape(&text);
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A reader whose every read (and whose drop) is contained: after a panic it
/// drops the inner reader and answers every later read with the same error.
pub(crate) struct Contained<R: Read> {
    inner: Option<R>,
    parser: &'static str,
    failed: Option<Panicked>,
}

impl<R: Read> Contained<R> {
    pub(crate) fn new(parser: &'static str, inner: R) -> Self {
        Contained {
            inner: Some(inner),
            parser,
            failed: None,
        }
    }

    fn poison(&mut self, why: Panicked) -> io::Error {
        if let Some(inner) = self.inner.take() {
            // Its state is whatever the panic left: dropped, never read, and a
            // panic in its drop is contained too.
            let _ = contain(self.parser, move || drop(inner));
        }
        self.failed = Some(why.clone());
        io::Error::new(io::ErrorKind::InvalidData, why)
    }
}

impl<R: Read> Read for Contained<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(inner) = self.inner.as_mut() else {
            let why = self.failed.clone().unwrap_or(Panicked {
                parser: self.parser,
                detail: "no message".into(),
            });
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        };
        match contain(self.parser, || inner.read(buf)) {
            Ok(result) => result,
            Err(why) => Err(self.poison(why)),
        }
    }
}

impl<R: Read> Drop for Contained<R> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let _ = contain(self.parser, move || drop(inner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bomb(u32);
    impl Read for Bomb {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0 += 1;
            if self.0 > 1 {
                panic!("boom at read {} with \u{1b}[2J", self.0);
            }
            buf[0] = b'x';
            Ok(1)
        }
    }

    // The panics below print through the test harness's captured output; the
    // hook is left alone (it is process-wide and the tests run in parallel).

    #[test]
    fn a_panicking_reader_becomes_an_error_and_stays_failed() {
        let mut r = Contained::new("the test parser", Bomb(0));
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).unwrap(), 1);
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let text = e.to_string();
        assert!(text.contains("the test parser broke"), "{text}");
        assert!(text.contains("boom at read 2"), "{text}");
        assert!(!text.contains('\u{1b}'), "escaped: {text}");
        // Never read again: the same error, the inner reader is gone.
        assert!(r.read(&mut buf).unwrap_err().to_string().contains("boom"));
        assert!(r.inner.is_none());
    }

    #[test]
    fn containing_is_true_only_inside() {
        assert!(!containing());
        let inside = contain("p", containing).unwrap();
        assert!(inside);
        assert!(!containing());
        let _ = contain("p", || panic!("x"));
        assert!(!containing(), "the depth unwinds with the panic");
    }

    /// Our own reader beneath a contained decoder: its panic is not contained
    /// (the hook would see `containing() == false`) and comes back as Internal.
    #[test]
    fn our_bug_beneath_a_decoder_is_an_internal_error() {
        let mut seen_inside = None;
        let r = contain("the decoder", || {
            let mut inner = Ours(Bomb(1));
            let mut buf = [0u8; 4];
            let _ = inner.read(&mut buf);
            let e = ours(|| {
                seen_inside = Some(containing());
                panic!("our bug")
            })
            .unwrap_err();
            (inner.read(&mut buf).unwrap_err(), e)
        })
        .unwrap();
        assert_eq!(seen_inside, Some(false), "the hook must report our panic");
        assert!(is_internal(&r.0), "{}", r.0);
        assert!(r.1.to_string().contains("our bug"));
        assert!(!containing());
    }

    #[test]
    fn long_messages_are_cut() {
        let e = contain("p", || panic!("{}", "é".repeat(500))).unwrap_err();
        assert!(e.detail.len() <= 164, "{}", e.detail.len());
        assert!(e.detail.ends_with('…'));
    }
}
