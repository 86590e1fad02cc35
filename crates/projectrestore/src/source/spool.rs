//! `--spool DIR`: a remote archive's stored bytes (still encrypted, still
//! compressed) are downloaded once, and both passes of verify-first read them
//! locally.
//!
//! Pass 1 reads the download as it arrives and writes every byte it hashes into
//! a private file in DIR (created without a name, `O_TMPFILE`, where the system
//! has it, else unlinked at once; mode 0600 either way), so nobody else can open
//! it, and it is gone when the run ends, however it ends. Pass 2 reads that file
//! back. The pass check proves the bytes pass 2 reads are the ones pass 1 verified.
//! Sidecars still come from the remote source.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Capabilities, Opened, Pin, Sibling, Source, SourceError, Transfer};

/// The spool file once pass 1 has written all of it, and its length.
type Done = Arc<Mutex<Option<(Arc<File>, u64)>>>;

/// A remote source read through a local spool file.
#[derive(Debug)]
pub struct SpoolSource {
    remote: Arc<dyn Source>,
    dir: PathBuf,
    /// The spool file, once pass 1 has written all of it: (file, length).
    done: Done,
}

impl SpoolSource {
    /// Spool `remote` into a private file in `dir`.
    pub fn new(remote: Arc<dyn Source>, dir: &Path) -> Self {
        SpoolSource {
            remote,
            dir: dir.to_path_buf(),
            done: Arc::new(Mutex::new(None)),
        }
    }

    fn io(&self, source: io::Error) -> SourceError {
        SourceError::Io {
            path: format!("the spool directory {}", self.dir.display()),
            source,
        }
    }
}

impl Source for SpoolSource {
    fn display(&self) -> String {
        self.remote.display()
    }

    fn file_name(&self) -> Option<String> {
        self.remote.file_name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            rereadable: true,
            ..self.remote.capabilities()
        }
    }

    fn kind(&self) -> &'static str {
        self.remote.kind()
    }

    fn spooled(&self) -> bool {
        true
    }

    fn transfer(&self) -> Option<Arc<Transfer>> {
        self.remote.transfer()
    }

    fn watch(&self, cancel: &super::Cancel) {
        self.remote.watch(cancel);
    }

    fn open(&self) -> Result<Opened, SourceError> {
        // The file before the download: a spool directory that cannot take it
        // fails before a byte is fetched.
        let meta = std::fs::metadata(&self.dir).map_err(|e| self.io(e))?;
        if !meta.is_dir() {
            return Err(self.io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a directory",
            )));
        }
        let file = tempfile::tempfile_in(&self.dir).map_err(|e| self.io(e))?;
        let opened = self.remote.open()?;
        // The whole stored size must fit: a store that declares more than the
        // directory holds is refused before a byte is downloaded.
        if let (Some(size), Ok(fs)) = (opened.size, rustix::fs::statvfs(&self.dir)) {
            let free = fs.f_bavail.saturating_mul(fs.f_frsize);
            if size > free {
                return Err(self.io(io::Error::new(
                    io::ErrorKind::StorageFull,
                    format!("the archive is {size} bytes and the directory has {free} free; give --spool a directory with room"),
                )));
            }
        }
        if let Ok(mut d) = self.done.lock() {
            *d = None;
        }
        let pin = Pin(format!(
            "spool:{}",
            opened.pin.as_ref().map(|p| p.0.as_str()).unwrap_or("")
        ));
        Ok(Opened {
            reader: Box::new(Tee {
                inner: opened.reader,
                file: Some(file),
                written: 0,
                done: Arc::clone(&self.done),
            }),
            size: opened.size,
            pin: Some(pin),
        })
    }

    fn reopen(&self, _pin: &Pin) -> Result<Opened, SourceError> {
        let done = self
            .done
            .lock()
            .ok()
            .and_then(|d| d.clone())
            .ok_or_else(|| {
                SourceError::NotFound(format!(
                    "the spool file of {} is not complete",
                    self.remote.display()
                ))
            })?;
        let (file, len) = done;
        Ok(Opened {
            reader: Box::new(SpoolReader { file, pos: 0, len }),
            size: Some(len),
            pin: None,
        })
    }

    fn sibling(&self, suffix: &str, max: u64) -> Result<Option<Sibling>, SourceError> {
        self.remote.sibling(suffix, max)
    }
}

/// Pass 1's reader: every byte read is written to the spool file too.
struct Tee {
    inner: Box<dyn Read + Send>,
    file: Option<File>,
    written: u64,
    done: Done,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let Some(file) = self.file.as_mut() else {
            return Ok(n);
        };
        if n == 0 {
            // The whole object is in the file: pass 2 may read it.
            if let (Some(f), Ok(mut d)) = (self.file.take(), self.done.lock()) {
                *d = Some((Arc::new(f), self.written));
            }
            return Ok(0);
        }
        file.write_all(&buf[..n])?;
        self.written += n as u64;
        Ok(n)
    }
}

/// Pass 2's reader: the spool file from its start (positioned reads, so the
/// file's shared offset does not matter).
struct SpoolReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// `input` read through a spool in `dir` (`--spool DIR`, `spool=`): only an
/// object in a store has a download to spool; a local file or a pipe is a
/// usage error.
pub fn spooled(input: super::Input, dir: &std::path::Path) -> Result<super::Input, crate::Error> {
    match input {
        super::Input::Source(s) if s.transfer().is_some() => Ok(super::Input::Source(
            std::sync::Arc::new(SpoolSource::new(s, dir)),
        )),
        _ => Err(crate::Error::Usage(
            "--spool is for archives in an object store (s3://, gs://, az://); a local file is read where it is".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_two_reads_what_pass_one_wrote_and_only_once_it_is_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.tar");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let spool_dir = tmp.path().join("spool");
        std::fs::create_dir(&spool_dir).unwrap();
        let src = SpoolSource::new(Arc::new(super::super::FileSource::new(&path)), &spool_dir);
        let opened = src.open().unwrap();
        let pin = opened.pin.clone().unwrap();
        let mut r = opened.reader;
        let mut first = vec![0u8; 1000];
        r.read_exact(&mut first).unwrap();
        assert!(
            src.reopen(&pin).is_err(),
            "a part of the file is not the archive"
        );
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        let mut again = Vec::new();
        src.reopen(&pin)
            .unwrap()
            .reader
            .read_to_end(&mut again)
            .unwrap();
        assert_eq!(again, data);
        // Nothing with a name is left in the spool directory.
        assert_eq!(std::fs::read_dir(&spool_dir).unwrap().count(), 0);
    }
}
