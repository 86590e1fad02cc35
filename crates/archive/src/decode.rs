//! Decompression (gzip, zstd, xz, bzip2) with a compression-ratio guard, for
//! the native extractor and the sandboxed one alike (feature `decode`).
//!
//! Multi-member gzip and multi-frame zstd (with skippable frames) are read whole;
//! anything after the last member or frame is an error of the decompressor. The
//! guard counts compressed bytes in and decompressed bytes out and stops a bomb
//! early: once more than [`RATIO_GRACE`] bytes came out, output may not exceed
//! `max_ratio` times the input.
//!
//! gzip, xz and bzip2 are pure Rust and decoded here. zstd's decoder is the
//! caller's ([`ZstdDecoder`]): libzstd (C) natively, where every byte was
//! authenticated first or the user chose it, and the pure-Rust `ruzstd` inside
//! the Wasm sandbox. The checks before it (the first frame's window) are here,
//! so both apply the same bound with the same message.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::{ArchiveError, Format, Limits, RatioExceeded};

/// A zstd decoder of a whole (multi-frame, skippable-frame) stream, whose every
/// frame's window is held to `max_window` bytes and whose frame checksums are
/// checked unless `skip_checksums` (set only when a signature authenticated
/// every stored byte).
pub trait ZstdDecoder {
    fn open<'a, R: BufRead + Send + 'a>(
        &self,
        input: R,
        max_window: u64,
        skip_checksums: bool,
    ) -> Result<Box<dyn Read + Send + 'a>, ArchiveError>;
}

/// Output allowed before the ratio is enforced (small archives of zeros are fine).
pub const RATIO_GRACE: u64 = 16 << 20;

/// Counts the bytes the decompressor takes from its input.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.consume(n);
    }
}

/// Checks the ratio of decompressed output to compressed input.
struct RatioGuard<D> {
    inner: D,
    input: Arc<AtomicU64>,
    output: u64,
    limit: u64,
}

impl<D: Read> Read for RatioGuard<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.output += n as u64;
        if self.output > RATIO_GRACE {
            let input = self.input.load(Ordering::Relaxed).max(1);
            if self.output / input >= self.limit {
                return Err(io::Error::other(RatioExceeded {
                    input,
                    output: self.output,
                    limit: self.limit,
                }));
            }
        }
        Ok(n)
    }
}

/// A reader of the decompressed tar stream, zstd decoded by `zstd`;
/// `authenticated`: a trusted signature has verified every stored byte
/// (verify-first), so zstd's frame checksums (XXH64 of the output, about a
/// tenth of decoding time) are skipped — they could only catch corruption the
/// signature already excludes.
pub fn decompressor<'a, R: BufRead + Send + 'a, Z: ZstdDecoder>(
    format: Format,
    input: R,
    limits: &Limits,
    authenticated: bool,
    zstd: &Z,
) -> Result<Box<dyn Read + Send + 'a>, ArchiveError> {
    let count = Arc::new(AtomicU64::new(0));
    let mut counted = Counted {
        inner: input,
        count: Arc::clone(&count),
    };
    let inner: Box<dyn Read + Send + 'a> = match format {
        Format::Tar => return Ok(Box::new(counted.inner)),
        // The input is read in place (BufRead): no copy into a decoder's buffer.
        Format::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Format::Zstd => {
            // The first frame's window, checked before the decoder allocates it,
            // for a message that names the limit; window_log_max holds every
            // later frame to the same bound.
            let head = counted.inner.fill_buf().map_err(ArchiveError::Io)?;
            let max = limits.max_zstd_window.clamp(1 << 10, 1 << 31);
            if let Some(window) = zstd_window(head) {
                if window > max {
                    return Err(ArchiveError::Limit {
                        what: "zstd window (decoder memory)",
                        value: window,
                        limit: max,
                        kind: crate::LimitKind::ZstdWindow,
                    });
                }
            }
            zstd.open(counted, max, authenticated)?
        }
        // xz's LZMA2 dictionary is the decoder's memory: held to the same bound
        // as zstd's window, checked before it is allocated.
        Format::Xz => {
            // The first block's dictionary, checked before the decoder allocates
            // it, for a message that names the limit (as zstd's window);
            // later blocks are held to the same bound by the decoder.
            let head = counted.inner.fill_buf().map_err(ArchiveError::Io)?;
            let max = limits.max_zstd_window.clamp(1 << 10, 1 << 32);
            if let Some(dict) = xz_dictionary(head) {
                if dict > max {
                    return Err(ArchiveError::Limit {
                        what: "xz dictionary (decoder memory)",
                        value: dict,
                        limit: max,
                        kind: crate::LimitKind::ZstdWindow,
                    });
                }
            }
            Box::new(XzMemory {
                inner: lzma_rust2::XzReader::new_mem_limit(
                    counted,
                    true,
                    u32::try_from(limits.max_zstd_window.clamp(1 << 10, 1 << 32) >> 10)
                        .unwrap_or(u32::MAX),
                ),
                limit: limits.max_zstd_window.clamp(1 << 10, 1 << 32),
            })
        }
        Format::Bzip2 => Box::new(Bzip2Streams {
            current: Some(bzip2::bufread::BzDecoder::new(counted)),
            streams: 1,
            output: 0,
            refused: None,
        }),
        other => {
            return Err(ArchiveError::UnknownFormat(format!(
                "{} is not a compression format",
                other.name()
            )));
        }
    };
    let inner = Box::new(Truncation {
        inner,
        format: format.name(),
    });
    Ok(ratio_guarded(inner, count, limits))
}

/// A decoder whose input ran out mid-stream says so in words (the decoders say
/// "incomplete frame", "failed to fill whole buffer", ...).
struct Truncation<R> {
    inner: R,
    format: &'static str,
}

impl<R: Read> Read for Truncation<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the {} stream ends early: the file is cut short (an interrupted \
                         download or copy?) ({e})",
                        self.format
                    ),
                )
            } else {
                e
            }
        })
    }
}

/// Streams a bzip2 file may hold before they must carry output.
pub const BZIP2_FREE_STREAMS: u64 = 64;

/// Output each bzip2 stream past [`BZIP2_FREE_STREAMS`] must carry on average.
/// pbzip2 writes one stream per 100–900 kB block.
pub const BZIP2_STREAM_OUTPUT: u64 = 64 << 10;

/// Concatenated bzip2 streams, read one after another (as
/// `bzip2::bufread::MultiBzDecoder`), with a bound on their number: every
/// stream costs the decoder a fresh state of up to 3.6 MB however little it
/// holds, and an empty one is 14 bytes that decode to nothing — invisible to
/// the ratio guard. Past [`BZIP2_FREE_STREAMS`], streams must average
/// [`BZIP2_STREAM_OUTPUT`] of output, so the work stays proportional to the
/// output the other limits bound.
struct Bzip2Streams<R> {
    current: Option<bzip2::bufread::BzDecoder<R>>,
    streams: u64,
    output: u64,
    /// The bound was broken: every later read says so again.
    refused: Option<String>,
}

impl<R: BufRead> Read for Bzip2Streams<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(why) = &self.refused {
                return Err(io::Error::new(io::ErrorKind::InvalidData, why.clone()));
            }
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.output += n as u64;
                return Ok(n);
            }
            // The stream ended (a cut stream is an error of the decoder):
            // the end of the input, or another stream.
            if decoder.get_mut().fill_buf()?.is_empty() {
                self.current = None;
                return Ok(0);
            }
            // The streams so far have all ended: their average decides.
            let done = self.streams;
            if done > BZIP2_FREE_STREAMS && self.output / done < BZIP2_STREAM_OUTPUT {
                self.refused = Some(format!(
                    "{done} bzip2 streams for {} bytes of output, and more follow: past \
                     {BZIP2_FREE_STREAMS} streams, each must average {} KiB (each costs the \
                     decoder a fresh state, so empty ones are a CPU bomb); if this is many \
                     small .bz2 files concatenated, pipe `bzip2 -dc FILE` into the tool instead",
                    self.output,
                    BZIP2_STREAM_OUTPUT >> 10
                ));
                continue;
            }
            let Some(decoder) = self.current.take() else {
                return Ok(0);
            };
            self.streams += 1;
            self.current = Some(bzip2::bufread::BzDecoder::new(decoder.into_inner()));
        }
    }
}

/// An xz reader whose "out of memory" (a block's dictionary over the limit,
/// refused before it is allocated) is reported as the limit it is.
struct XzMemory<R> {
    inner: R,
    limit: u64,
}

impl<R: Read> Read for XzMemory<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::OutOfMemory {
                io::Error::other(format!(
                    "xz: a block's dictionary needs more decoder memory than the limit of {} MiB",
                    self.limit >> 20
                ))
            } else {
                e
            }
        })
    }
}

/// The LZMA2 dictionary size the first block of an xz stream declares (the
/// .xz file format 1.2.1, 3.1 and 5.3.1), when `head` holds that block header.
pub fn xz_dictionary(head: &[u8]) -> Option<u64> {
    if !head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return None;
    }
    let block = head.get(12..)?;
    let size = (usize::from(*block.first()?) + 1) * 4;
    if block[0] == 0 {
        return None; // the index: no block
    }
    let header = block.get(..size)?;
    let flags = header[1];
    let mut at = 2;
    let varint = |at: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for i in 0..9 {
            let b = *header.get(*at)?;
            *at += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    if flags & 0x40 != 0 {
        varint(&mut at)?;
    }
    if flags & 0x80 != 0 {
        varint(&mut at)?;
    }
    for _ in 0..=(flags & 3) {
        let id = varint(&mut at)?;
        let props = usize::try_from(varint(&mut at)?).ok()?;
        if id == 0x21 && props == 1 {
            let p = u32::from(*header.get(at)?);
            return match p {
                40 => Some(u64::from(u32::MAX)),
                0..=39 => Some(u64::from((2 | (p & 1)) << (p / 2 + 11))),
                _ => None,
            };
        }
        at = at.checked_add(props)?;
    }
    None
}

/// The window a zstd frame header declares (RFC 8878, 3.1.1.1), when `head`
/// starts with a zstd frame.
pub fn zstd_window(head: &[u8]) -> Option<u64> {
    let (magic, rest) = head.split_first_chunk::<4>()?;
    if *magic != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let (&fhd, rest) = rest.split_first()?;
    if fhd & 0x20 == 0 {
        // Window_Descriptor: exponent and mantissa.
        let wd = *rest.first()?;
        let base = 1u64 << (10 + u64::from(wd >> 3));
        return Some(base + (base / 8) * u64::from(wd & 7));
    }
    // Single segment: the window is the frame content size.
    let dict = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    let fcs = [1usize, 2, 4, 8][usize::from(fhd >> 6)];
    let bytes = rest.get(dict..dict + fcs)?;
    let mut v = bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if fcs == 2 {
        v += 256;
    }
    Some(v)
}

/// Counts the bytes read through it (the stored bytes a decryptor takes), for
/// a [`ratio_guarded`] reader further down.
pub fn counting<R: Read + Send>(inner: R) -> (impl Read + Send, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    (
        Counted {
            inner,
            count: Arc::clone(&count),
        },
        count,
    )
}

/// `inner`'s output may not exceed `max_ratio` times the bytes `input` counted
/// (after [`RATIO_GRACE`]): the one guard of every expanding layer — gzip, zstd,
/// and the decompression sequoia performs inside OpenPGP encryption (invariant 9).
pub fn ratio_guarded<'a, R: Read + Send + 'a>(
    inner: R,
    input: Arc<AtomicU64>,
    limits: &Limits,
) -> Box<dyn Read + Send + 'a> {
    Box::new(RatioGuard {
        inner,
        input,
        output: 0,
        limit: limits.max_ratio.max(1),
    })
}
