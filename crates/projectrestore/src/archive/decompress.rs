//! Decompression: the pure-Rust decoders and the ratio guard live in
//! `projectrestore_archive::decode` (shared with the Wasm sandbox's guest);
//! libzstd (C) is this build's zstd decoder, used where the native extractor
//! runs (every stored byte authenticated first, or `--sandbox native`).

use std::io::{BufRead, Read};

pub use projectrestore_archive::decode::*;
use projectrestore_archive::{ArchiveError, Format, Limits};

/// libzstd, through the `zstd` crate: `window_log_max` holds every frame to the
/// window bound; a frame checksum is checked unless the bytes were authenticated.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeZstd;

impl ZstdDecoder for NativeZstd {
    fn open<'a, R: BufRead + Send + 'a>(
        &self,
        input: R,
        max_window: u64,
        skip_checksums: bool,
    ) -> Result<Box<dyn Read + Send + 'a>, ArchiveError> {
        let mut d = zstd::stream::read::Decoder::with_buffer(input)
            .map_err(|e| ArchiveError::Malformed(format!("zstd: {e}")))?;
        d.window_log_max(63 - max_window.leading_zeros())
            .map_err(|e| ArchiveError::Malformed(format!("zstd: {e}")))?;
        if skip_checksums {
            d.set_parameter(zstd::zstd_safe::DParameter::ForceIgnoreChecksum(true))
                .map_err(|e| ArchiveError::Malformed(format!("zstd: {e}")))?;
        }
        Ok(Box::new(d))
    }
}

/// The native decompressor of a tar stream (libzstd for zstd), checksums checked.
pub fn decompressor<'a, R: BufRead + Send + 'a>(
    format: Format,
    input: R,
    limits: &Limits,
) -> Result<Box<dyn Read + Send + 'a>, ArchiveError> {
    decompressor_with(format, input, limits, false)
}

/// The native decompressor of a tar stream (libzstd for zstd).
pub fn decompressor_with<'a, R: BufRead + Send + 'a>(
    format: Format,
    input: R,
    limits: &Limits,
    authenticated: bool,
) -> Result<Box<dyn Read + Send + 'a>, ArchiveError> {
    projectrestore_archive::decode::decompressor(format, input, limits, authenticated, &NativeZstd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::ratio_error;
    use std::io;
    use std::io::Write;

    fn read_all(format: Format, data: &[u8], limits: &Limits) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decompressor_with(format, data, limits, false)
            .map_err(io::Error::other)?
            .read_to_end(&mut out)?;
        Ok(out)
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn multi_member_gzip_is_read_whole() {
        let mut data = gz(b"hello ");
        data.extend(gz(b"world"));
        assert_eq!(
            read_all(Format::Gzip, &data, &Limits::default()).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn garbage_after_gzip_is_an_error() {
        let mut data = gz(b"hello");
        data.extend_from_slice(b"garbage!");
        assert!(read_all(Format::Gzip, &data, &Limits::default()).is_err());
    }

    #[test]
    fn multi_frame_zstd_with_skippable_frame() {
        let mut data = zstd::encode_all(&b"hello "[..], 1).unwrap();
        // A skippable frame: magic 0x184D2A50, length 4, payload.
        data.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
        data.extend(zstd::encode_all(&b"world"[..], 1).unwrap());
        assert_eq!(
            read_all(Format::Zstd, &data, &Limits::default()).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn garbage_after_zstd_is_an_error() {
        let mut data = zstd::encode_all(&b"hello"[..], 1).unwrap();
        data.extend_from_slice(b"garbage!");
        assert!(read_all(Format::Zstd, &data, &Limits::default()).is_err());
    }

    /// The frame checksum is checked unless a signature authenticated the input.
    #[test]
    fn zstd_frame_checksum_is_checked_unless_authenticated() {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_checksum(true).unwrap();
        enc.write_all(b"hello, checksummed world").unwrap();
        let mut data = enc.finish().unwrap();
        let n = data.len();
        data[n - 1] ^= 0xff; // the last byte of the XXH64 checksum
        assert!(read_all(Format::Zstd, &data, &Limits::default()).is_err());
        let mut out = Vec::new();
        decompressor_with(Format::Zstd, &data[..], &Limits::default(), true)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"hello, checksummed world");
    }

    /// A small frame that expands to a gigabyte of zeros is refused once the grace
    /// is used up, long before the gigabyte is produced.
    #[test]
    fn zstd_bomb_is_refused_early() {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            enc.write_all(&zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let mut r = decompressor_with(Format::Zstd, &bomb[..], &Limits::default(), false).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("the bomb was read to the end"),
                Ok(n) => total += n as u64,
                Err(e) => break e,
            }
        };
        assert!(total < 64 << 20, "read {total} bytes before refusing");
        assert!(matches!(
            ratio_error(&err),
            Some(ArchiveError::Limit {
                what: "compression ratio",
                ..
            })
        ));
    }

    fn bz(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Concatenated bzip2 streams (pbzip2, `cat a.bz2 b.bz2`) are read whole;
    /// anything after the last stream is an error.
    #[test]
    fn multi_stream_bzip2_is_read_whole() {
        let mut data = bz(b"hello ");
        data.extend(bz(b""));
        data.extend(bz(b"world"));
        assert_eq!(
            read_all(Format::Bzip2, &data, &Limits::default()).unwrap(),
            b"hello world"
        );
        data.extend_from_slice(b"garbage!");
        assert!(read_all(Format::Bzip2, &data, &Limits::default()).is_err());
    }

    /// The attack: empty bzip2 streams are 14 bytes each and decode to nothing,
    /// so the ratio guard never sees output, but each one costs the decoder a
    /// fresh 3.6 MB state (56 MB of them took over three minutes). Streams
    /// must carry output: past a few, each must average 64 KiB.
    #[test]
    fn bzip2_stream_bomb_is_refused() {
        let empty = bz(b"");
        assert_eq!(empty.len(), 14);
        let data = empty.repeat(100_000);
        let err = read_all(Format::Bzip2, &data, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("bzip2 streams"), "{err}");
        // A few empty streams among real ones are fine.
        let mut few = empty.repeat(BZIP2_FREE_STREAMS as usize);
        few.extend(bz(b"data"));
        assert_eq!(
            read_all(Format::Bzip2, &few, &Limits::default()).unwrap(),
            b"data"
        );
        // Streams of exactly the average (pbzip2 writes 100-900 kB ones) are fine.
        let block: Vec<u8> = (0..BZIP2_STREAM_OUTPUT)
            .map(|i| (i * 7919 % 251) as u8)
            .collect();
        let many = bz(&block).repeat(BZIP2_FREE_STREAMS as usize + 8);
        let out = read_all(Format::Bzip2, &many, &Limits::default()).unwrap();
        assert_eq!(
            out.len() as u64,
            BZIP2_STREAM_OUTPUT * (BZIP2_FREE_STREAMS + 8)
        );
        // A refusal stays a refusal: the reader never turns it into an end.
        let mut r = decompressor_with(Format::Bzip2, &data[..], &Limits::default(), false).unwrap();
        let mut sink = Vec::new();
        assert!(r.read_to_end(&mut sink).is_err());
        assert!(r.read(&mut [0u8; 16]).is_err());
    }

    /// A cut-short stream says so in words (an interrupted download is the
    /// usual cause), not "failed to fill whole buffer".
    #[test]
    fn truncated_streams_say_truncated() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let mut xz = Vec::new();
        lzma_rust2::XzWriter::new(&mut xz, lzma_rust2::XzOptions::default())
            .and_then(|mut w| {
                w.write_all(&data)?;
                w.finish().map(|_| ())
            })
            .unwrap();
        let mut zst = Vec::new();
        zstd::stream::copy_encode(&data[..], &mut zst, 3).unwrap();
        for (format, full) in [
            (Format::Gzip, gz(&data)),
            (Format::Zstd, zst),
            (Format::Xz, xz),
            (Format::Bzip2, bz(&data)),
        ] {
            let cut = &full[..full.len() / 2];
            let err = read_all(format, cut, &Limits::default()).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("the {} stream ends early", format.name())),
                "{format:?}: {err}"
            );
        }
    }
}
