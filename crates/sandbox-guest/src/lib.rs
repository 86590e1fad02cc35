//! The guest of projectrestore's sandboxed extractor (DESIGN.md invariant 10).
//!
//! Compiled for `wasm32-unknown-unknown` by `crates/projectrestore/build.rs`,
//! it is the only code that parses bytes no signature has authenticated: it
//! decodes gzip, zstd (ruzstd), xz or bzip2 and runs the tar validator of
//! `projectrestore-archive`, then sends each validated entry and its data to
//! the host as [`wire::Record`]s. It has no file system, no clock, no
//! randomness and no network: its only imports are the host's `read` (the next
//! bytes of the decrypted stream) and `emit` (one record out). The host
//! validates every record again before it writes anything.
//!
//! The logic is [`run`], generic over its input and its output, so that it is
//! tested natively too; the Wasm exports are at the bottom.

use std::io::{self, BufRead, BufReader, Read};

use projectrestore_archive::decode::{self, ZstdDecoder};
use projectrestore_archive::wire::{self, Config, EndRecord, EntryRecord, Record, Stop};
use projectrestore_archive::{ArchiveError, EntryKind, ExtractError, SafeEntry, Sink};

/// The size of the pieces the guest reads and sends.
pub const CHUNK: usize = 64 << 10;

/// The host asked the guest to stop (its own writes failed, or it was cancelled).
#[derive(Debug)]
pub struct HostStopped;

/// Decode and validate the stream `input` as `config` (a [`Config`]'s bytes)
/// says, handing each record to `emit` (which returns `false` when the host
/// wants the guest to stop). The last record is always an end or a stop.
pub fn run<R, F>(config: &[u8], input: R, mut emit: F)
where
    R: Read + Send,
    F: FnMut(&[u8]) -> bool,
{
    let stop = match extract(config, input, &mut emit) {
        Ok(end) => Record::End(end),
        Err(stop) => Record::Stop(stop),
    };
    emit(&stop.encode());
}

fn extract<R, F>(config: &[u8], input: R, emit: &mut F) -> Result<EndRecord, Stop>
where
    R: Read + Send,
    F: FnMut(&[u8]) -> bool,
{
    let archive = |e: ArchiveError| Stop::Archive(wire::WireArchiveError::from_archive(&e));
    let config = Config::decode(config).map_err(|e| {
        archive(ArchiveError::Malformed(format!(
            "sandbox configuration: {e}"
        )))
    })?;
    let input = BufReader::with_capacity(CHUNK, input);
    let tar = decode::decompressor(
        config.format,
        input,
        &config.limits,
        config.authenticated,
        &RuZstd,
    )
    .map_err(archive)?;
    let mut sink = Emitter {
        emit,
        buf: vec![0; CHUNK + 1],
    };
    match projectrestore_archive::extract(tar, &config.limits, &config.policy, &mut sink) {
        Ok(summary) => Ok(EndRecord {
            stripped: summary.stripped,
            root: summary.root,
        }),
        Err(ExtractError::Archive(e)) => Err(archive(e)),
        Err(ExtractError::Sink { .. }) => Err(Stop::Host),
    }
}

/// The guest's sink: each entry becomes a header record and, for a file, data
/// records of at most [`CHUNK`] bytes.
struct Emitter<'e, F> {
    emit: &'e mut F,
    /// A data record: the tag, then the chunk read in place.
    buf: Vec<u8>,
}

impl<F: FnMut(&[u8]) -> bool> Emitter<'_, F> {
    fn send(
        &mut self,
        entry: &SafeEntry,
        implicit: bool,
        data: &mut dyn Read,
    ) -> Result<(), HostStopped> {
        let (kind, size, target) = match &entry.kind {
            EntryKind::File { size } => (0, *size, Vec::new()),
            EntryKind::Dir => (1, 0, Vec::new()),
            EntryKind::Symlink { target } => (2, 0, target.as_bytes().to_vec()),
            EntryKind::Hardlink { target } => (3, 0, target.as_str().as_bytes().to_vec()),
        };
        let header = Record::Entry(EntryRecord {
            kind,
            implicit,
            mode: entry.mode,
            mtime: entry.mtime,
            uid: entry.uid,
            gid: entry.gid,
            size,
            path: entry.path.as_str().as_bytes().to_vec(),
            target,
        });
        if !(self.emit)(&header.encode()) {
            return Err(HostStopped);
        }
        self.buf[0] = wire::DATA_TAG;
        loop {
            let n = match data.read(&mut self.buf[1..]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The validator kept the cause (the archive's fault) and reports it.
                Err(_) => return Err(HostStopped),
            };
            if !(self.emit)(&self.buf[..=n]) {
                return Err(HostStopped);
            }
        }
    }
}

impl<F: FnMut(&[u8]) -> bool> Sink for Emitter<'_, F> {
    type Error = HostStopped;
    fn entry(&mut self, entry: &SafeEntry, data: &mut dyn Read) -> Result<(), HostStopped> {
        self.send(entry, false, data)
    }
    fn implicit_dir(&mut self, entry: &SafeEntry) -> Result<(), HostStopped> {
        self.send(entry, true, &mut io::empty())
    }
}

/// zstd in pure Rust: every frame of the stream (skippable frames skipped), each
/// frame's window held to the bound and its checksum checked unless the bytes
/// were authenticated — what libzstd does natively.
pub struct RuZstd;

impl ZstdDecoder for RuZstd {
    fn open<'a, R: BufRead + Send + 'a>(
        &self,
        input: R,
        max_window: u64,
        skip_checksums: bool,
    ) -> Result<Box<dyn Read + Send + 'a>, ArchiveError> {
        let mut decoder = ruzstd::decoding::FrameDecoder::new();
        decoder.set_max_window_size(max_window);
        Ok(Box::new(Frames {
            src: input,
            decoder,
            in_frame: false,
            frames: 0,
            skip_checksums,
        }))
    }
}

struct Frames<R> {
    src: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
    frames: u64,
    skip_checksums: bool,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn zstd_error(e: ruzstd::decoding::errors::FrameDecoderError) -> io::Error {
    invalid(format!("zstd: {e}"))
}

const ZSTD_MAGIC: u32 = 0xFD2F_B528;

impl<R: BufRead> Frames<R> {
    /// The next frame's magic number, or `None` at the end of the stream.
    fn magic(&mut self) -> io::Result<Option<[u8; 4]>> {
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.src.read(&mut magic[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "zstd: the stream ends inside a frame header",
                    ))
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(magic))
    }

    /// Start the next frame (skipping skippable ones); `false` at the end.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let Some(magic) = self.magic()? else {
                if self.frames == 0 {
                    return Err(invalid("zstd: no frame"));
                }
                return Ok(false);
            };
            let m = u32::from_le_bytes(magic);
            if m & 0xFFFF_FFF0 == 0x184D_2A50 {
                let mut len = [0u8; 4];
                self.src.read_exact(&mut len)?;
                let len = u64::from(u32::from_le_bytes(len));
                let skipped = io::copy(&mut (&mut self.src).take(len), &mut io::sink())?;
                if skipped < len {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "zstd: the stream ends inside a skippable frame",
                    ));
                }
                continue;
            }
            if m != ZSTD_MAGIC {
                return Err(invalid(
                    "zstd: data after the last frame is not a zstd frame (Unknown frame descriptor)",
                ));
            }
            let mut header = (&magic[..]).chain(&mut self.src);
            self.decoder.reset(&mut header).map_err(zstd_error)?;
            self.frames += 1;
            self.in_frame = true;
            return Ok(true);
        }
    }
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                continue;
            }
            if self.decoder.can_collect() > 0 {
                return self.decoder.read(buf);
            }
            if !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(
                        &mut self.src,
                        ruzstd::decoding::BlockDecodingStrategy::UptoBlocks(1),
                    )
                    .map_err(zstd_error)?;
                continue;
            }
            // The frame is decoded and drained: its checksum, then the next one.
            if !self.skip_checksums {
                if let (Some(stored), Some(computed)) = (
                    self.decoder.get_checksum_from_data(),
                    self.decoder.get_calculated_checksum(),
                ) {
                    if stored != computed {
                        return Err(invalid("zstd: Restored data doesn't match checksum"));
                    }
                }
            }
            self.in_frame = false;
        }
    }
}

/// The Wasm module's interface: `run(config, len)` with the configuration in
/// memory the host filled through `alloc(len)`; the imports `read(ptr, len)`
/// (bytes of input, 0 at the end, negative on the host's error) and
/// `emit(ptr, len)` (one record; nonzero: stop).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod exports {
    use std::io::{self, Read};

    #[link(wasm_import_module = "projectrestore")]
    extern "C" {
        fn read(ptr: *mut u8, len: usize) -> isize;
        fn emit(ptr: *const u8, len: usize) -> i32;
    }

    struct HostInput;

    impl Read for HostInput {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            // SAFETY: `buf` is a live, writable slice of this module's memory
            // for the whole call; the host writes at most `buf.len()` bytes
            // into it (it bounds-checks against the guest memory too) and
            // keeps no reference after returning.
            let n = unsafe { read(buf.as_mut_ptr(), buf.len()) };
            match usize::try_from(n) {
                Ok(n) if n <= buf.len() => Ok(n),
                // The host's own read failed: it keeps the cause and reports
                // it; the guest only stops (`Cancelled` makes the validator
                // call it a read error, not a malformed archive).
                _ => Err(io::Error::other(projectrestore_archive::Cancelled)),
            }
        }
    }

    /// Memory for the host to write the configuration into (leaked: one per run).
    #[no_mangle]
    pub extern "C" fn alloc(len: usize) -> *mut u8 {
        let mut v = vec![0u8; len].into_boxed_slice();
        let ptr = v.as_mut_ptr();
        std::mem::forget(v);
        ptr
    }

    /// Decode and validate the whole input (see [`crate::run`]).
    #[no_mangle]
    pub extern "C" fn run(ptr: *const u8, len: usize) -> i32 {
        // SAFETY: `ptr` and `len` are what `alloc(len)` returned and was asked
        // for: a leaked allocation of exactly `len` initialised bytes that
        // nothing else aliases. The host only ever calls `run` that way; a
        // host that did otherwise could only corrupt this sandboxed instance.
        let config = unsafe { std::slice::from_raw_parts(ptr, len) };
        crate::run(config, HostInput, |record| {
            // SAFETY: `record` is a live slice of this module's memory; the
            // host copies it out during the call and keeps no reference.
            unsafe { emit(record.as_ptr(), record.len()) == 0 }
        });
        0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use projectrestore_archive::{EntryPolicy, Format, Limits};

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            // Raw names (`..` too): the builder's path setter refuses those.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn records(format: Format, input: &[u8]) -> Vec<Record> {
        let config = Config {
            format,
            authenticated: false,
            limits: Limits::default(),
            policy: EntryPolicy::default(),
        };
        let mut out = Vec::new();
        run(&config.encode(), input, |r| {
            out.push(Record::decode(r).unwrap());
            true
        });
        out
    }

    #[test]
    fn a_tar_becomes_records_and_an_end() {
        let out = records(Format::Tar, &tar(&[("a/b.txt", b"hello")]));
        assert!(matches!(&out[0], Record::Entry(e) if e.implicit && e.path == b"a"));
        assert!(
            matches!(&out[1], Record::Entry(e) if !e.implicit && e.path == b"a/b.txt" && e.size == 5)
        );
        assert_eq!(out[2], Record::Data(b"hello".to_vec()));
        assert!(matches!(out.last(), Some(Record::End(_))));
    }

    #[test]
    fn zstd_frames_and_skippable_frames_are_read_whole() {
        let t = tar(&[("x", b"12345")]);
        let (a, b) = t.split_at(700);
        let mut z = Vec::new();
        z.extend(ruzstd::encoding::compress_to_vec(
            a,
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        z.extend([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        z.extend(ruzstd::encoding::compress_to_vec(
            b,
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        let out = records(Format::Zstd, &z);
        assert!(matches!(out.last(), Some(Record::End(_))), "{out:?}");
        assert!(out.contains(&Record::Data(b"12345".to_vec())));
        // Garbage after the last frame.
        z.extend(b"junk");
        let out = records(Format::Zstd, &z);
        assert!(
            matches!(out.last(), Some(Record::Stop(Stop::Archive(_)))),
            "{out:?}"
        );
    }

    #[test]
    fn a_refusal_is_the_validators() {
        let out = records(Format::Tar, &tar(&[("../escaped", b"x")]));
        match out.last() {
            Some(Record::Stop(Stop::Archive(wire::WireArchiveError::Rejected {
                entry, ..
            }))) => {
                assert!(entry.contains("escaped"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_host_can_stop_the_guest() {
        let config = Config {
            format: Format::Tar,
            authenticated: false,
            limits: Limits::default(),
            policy: EntryPolicy::default(),
        };
        let mut out = Vec::new();
        run(
            &config.encode(),
            &tar(&[("a", b"1"), ("b", b"2")])[..],
            |r| {
                out.push(Record::decode(r).unwrap());
                false
            },
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1], Record::Stop(Stop::Host));
    }
}
