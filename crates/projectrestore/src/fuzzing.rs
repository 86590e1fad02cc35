//! Entry points for the coverage-guided fuzz targets in `fuzz/`, and for
//! `tests/fuzz_corpus.rs`, which replays their seed corpora and every input a
//! fuzzer ever crashed on. Each function hands attacker bytes to one parser the
//! way the tool does; the parser may refuse the bytes, but it must not panic,
//! hang or allocate without bound. Not a stable API.

use std::io::{BufReader, Read};
use std::path::Path;

use crate::archive::{self, decompress, EntryPolicy, Format, Limits, NullSink};
use crate::decrypt::{self, Identities};
use crate::log::note::{self, SignerKey, VerifierKey};
use crate::verify::{checksum, SigPolicy, Signatures, TrustStore};

/// The most decrypted or decompressed bytes one run reads: a fuzz input of a
/// few KiB never needs more, and libFuzzer's time and memory limits stay
/// meaningful.
const READ_CAP: u64 = 64 << 20;

/// The keys the targets check against: the test fixtures' trust store,
/// decryption identities and log keys.
pub struct Keys {
    pub store: TrustStore,
    pub identities: Identities,
    pub log_vkey: VerifierKey,
    pub log_signer: SignerKey,
    /// The file the fixtures' detached signatures sign.
    pub signed: Vec<u8>,
}

/// Errors a fuzz harness cannot go on without: its fixtures are missing.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("{0}")]
    Verify(#[from] crate::verify::VerifyError),
    #[error("{0}")]
    Decrypt(#[from] crate::decrypt::DecryptError),
    #[error("{0}")]
    Log(#[from] crate::log::LogError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Keys {
    /// Load the keys from the repository's `fixtures/` (`repo` is its root).
    pub fn load(repo: &Path) -> Result<Self, KeysError> {
        let crypto = repo.join("fixtures/crypto");
        let store = TrustStore::load(&[crypto.join("trust")])?;
        let secret = crypto.join("secret");
        let identities = Identities::load(
            &[secret.join("age.txt"), secret.join("gpg-enc25519.asc")],
            crate::interact::NoInteraction::shared(),
        )?;
        let log = repo.join("fixtures/log");
        let log_vkey = crate::log::load_vkey(&log.join("log.vkey").display().to_string())?;
        let log_signer = crate::log::load_signer(&log.join("log.key"))?;
        let path = crypto.join("data.tar.gz");
        let signed = std::fs::read(&path).map_err(|source| KeysError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Keys {
            store,
            identities,
            log_vkey,
            log_signer,
            signed,
        })
    }
}

/// Run the validator over a tar stream with the default policy, then with
/// `--strip-components 1` on a case-folding destination.
fn validate(tar: &mut dyn Read) {
    let limits = Limits::default();
    let mut data = Vec::new();
    if tar.take(READ_CAP).read_to_end(&mut data).is_err() {
        return;
    }
    let _ = archive::extract(&data[..], &limits, &EntryPolicy::default(), &mut NullSink);
    let folding = EntryPolicy {
        strip_components: 1,
        fold_case: true,
        ..EntryPolicy::default()
    };
    let _ = archive::extract(&data[..], &limits, &folding, &mut NullSink);
}

fn decompressed(format: Format, data: &[u8]) {
    let _ = archive::sniff(data);
    if let Ok(mut r) = decompress::decompressor_with(format, data, &Limits::default(), false) {
        validate(&mut r);
    }
}

/// A plain tar stream, as the validator sees it.
pub fn tar(data: &[u8]) {
    let _ = archive::sniff(data);
    validate(&mut &data[..]);
}

/// A gzip stream: decompression under the ratio guard, then the validator.
pub fn gzip(data: &[u8]) {
    decompressed(Format::Gzip, data);
}

/// A zstd stream: the frame-header window check, decompression under the
/// window and ratio limits, then the validator.
pub fn zstd(data: &[u8]) {
    let _ = decompress::zstd_window(data);
    decompressed(Format::Zstd, data);
}

/// An xz stream: decompression under the decoder-memory and ratio limits,
/// then the validator.
pub fn xz(data: &[u8]) {
    let _ = decompress::xz_dictionary(data);
    decompressed(Format::Xz, data);
}

/// A bzip2 stream: decompression under the ratio guard, then the validator.
pub fn bzip2(data: &[u8]) {
    decompressed(Format::Bzip2, data);
}

fn decrypted(format: Format, data: &[u8], keys: &Keys) {
    let certs = keys.store.openpgp_certs();
    if let Ok(d) = decrypt::open(format, data, &keys.identities, certs) {
        let _ = std::io::copy(&mut d.reader.take(READ_CAP), &mut std::io::sink());
    }
}

/// An age file, binary or armored (chosen by the sniffer, as the tool does):
/// the header pre-scan, the age crate's parse, decryption with the fixtures'
/// identities.
pub fn age(data: &[u8], keys: &Keys) {
    let _ = decrypt::age_stream::prescan(&mut BufReader::new(data));
    let format = match archive::sniff(data) {
        Some(Format::AgeArmored) => Format::AgeArmored,
        _ => Format::Age,
    };
    decrypted(format, data, keys);
}

/// An OpenPGP message: packet parsing, decryption with the fixtures' secret
/// keys, inline signatures checked against the trust store.
pub fn openpgp_message(data: &[u8], keys: &Keys) {
    let format = match archive::sniff(data) {
        Some(Format::OpenPgpArmored) => Format::OpenPgpArmored,
        _ => Format::OpenPgp,
    };
    decrypted(format, data, keys);
}

/// A detached signature file of any supported format, checked against the
/// fixtures' trust store over the file the fixtures sign (the digests are
/// computed as the restore computes them, in one pass).
pub fn signature(data: &[u8], keys: &Keys) {
    let Ok(sigs) = Signatures::parse("fuzzed.sig", data) else {
        return;
    };
    let mut digester = sigs.digester(&keys.store);
    digester.update(&keys.signed);
    let policy = SigPolicy::default();
    let _ = crate::verify::evaluate(&keys.store, &sigs, digester.finish(), &[], &policy);
}

/// A trust-store key file.
pub fn trust_store(data: &[u8]) {
    if let Ok(store) = TrustStore::parse("fuzzed.pub", data) {
        let _ = store.describe();
    }
}

/// A checksum file (`sha256sum` format), with and without an archive name to look for.
pub fn checksum(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = checksum::parse(&text, Some("data.tar.gz"));
    let _ = checksum::parse(&text, None);
}

/// A log verifier key, then a signed note and checkpoint opened with the
/// fixtures' log key.
pub fn note(data: &[u8], keys: &Keys) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VerifierKey::parse(text.trim());
        let _ = SignerKey::parse(text.trim());
    }
    let _ = note::open(data, &keys.log_vkey);
    let _ = note::open_checkpoint(data, &keys.log_vkey);
}

/// A checkpoint body, signed with the fixtures' log key so that its parser
/// (behind the signature check) is reached.
pub fn checkpoint(data: &[u8], keys: &Keys) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(signed) = keys.log_signer.sign(text) {
        let _ = note::open_checkpoint(signed.as_bytes(), &keys.log_vkey);
    }
}

/// One line of a log's `entries.jsonl`.
pub fn log_entry(data: &[u8]) {
    let _ = crate::log::entry_seq(data);
    if let Ok(e) = crate::log::parse_entry(0, data) {
        let _ = crate::log::project_of(None, &e.archive, None);
        let _ = crate::log::parse_name(&e.archive);
    }
}

/// A C2SP tlog-proof file, checked with the fixtures' log key for the
/// fixtures' second demo archive.
pub fn tlog_proof(data: &[u8], keys: &Keys) {
    const SHA256: &str = "fe0c7e18d66e175cfcbab1e7cbaf65b68b5d587cb5511487d5d07ed8e69575a2";
    let _ = crate::log::check_proof("fuzzed.tlog-proof", data, &keys.log_vkey, SHA256, 518);
}

/// An rc file (`.projectrestore.rc` or the user file).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::parse(Path::new("/fuzz/.projectrestore.rc"), text);
    }
}

/// The files of a state directory that recovery and `history` read: the
/// journal, and `current.json`/`meta.json` (generation metadata).
pub fn state_files(data: &[u8]) {
    let _ = projectrestore_fs::commit::check_journal(data);
    if let Ok(meta) = serde_json::from_slice::<projectrestore_fs::commit::GenerationMeta>(data) {
        let _ = crate::report::escape(&meta.archive);
    }
}

/// What a compromised sandbox guest could send: records (each after a 2-byte
/// little-endian length) decoded as the host decodes them and judged by the
/// host's re-validation, on a case-folding destination; a file's data is the
/// data records that follow its header. The host may refuse; it must not
/// panic, hang or grow without bound.
pub fn sandbox_records(data: &[u8]) {
    use archive::validate::Recheck;
    use archive::wire::Record;
    let limits = Limits {
        max_files: 10_000,
        ..Limits::default()
    };
    let policy = EntryPolicy {
        fold_case: true,
        ..EntryPolicy::default()
    };
    let mut records = Vec::new();
    let mut rest = data;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let n = usize::from(u16::from_le_bytes(*len)).min(tail.len());
        let Ok(r) = Record::decode(&tail[..n]) else {
            return;
        };
        records.push(r);
        rest = &tail[n..];
    }
    let mut recheck = Recheck::new(&limits, &policy);
    let mut i = 0;
    while i < records.len() {
        match &records[i] {
            Record::Entry(e) => {
                let mut bytes = Vec::new();
                while let Some(Record::Data(d)) = records.get(i + 1) {
                    bytes.extend_from_slice(d);
                    i += 1;
                }
                if recheck.entry(e, &mut &bytes[..], &mut NullSink).is_err() {
                    return;
                }
            }
            Record::End(end) => {
                let _ = recheck.finish(end);
                return;
            }
            _ => return,
        }
        i += 1;
    }
}
