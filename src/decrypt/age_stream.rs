//! age: X25519 and SSH identities, passphrases (scrypt with a bounded work
//! factor), armored or binary input.

use std::io::{BufReader, Read};

use super::secret::AgeCallbacks;
use super::{DecryptError, Identities, Identity};

/// The largest scrypt work factor (log2 N) accepted: 2^22 takes a few seconds and
/// 4 GiB·s of memory-hardness at most; a hostile header cannot make us spin longer.
/// The age CLI writes 18.
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 22;

fn header_error(e: age::DecryptError) -> DecryptError {
    match e {
        age::DecryptError::Io(e) => DecryptError::Corrupt(format!("age header: {e}")),
        other => DecryptError::Corrupt(format!("age header: {other}")),
    }
}

/// Start decrypting an age file, `armored` (PEM-like text) or binary.
pub fn open<'a, R: Read + Send + 'a>(
    input: R,
    armored: bool,
    ids: &Identities,
) -> Result<(Box<dyn Read + Send + 'a>, String), DecryptError> {
    let input: Box<dyn Read + Send + 'a> = if armored {
        Box::new(age::armor::ArmoredReader::new(BufReader::with_capacity(
            256 << 10,
            input,
        )))
    } else {
        // Binary: the payload's 64 KiB chunks are read straight from the source
        // (a read larger than the buffer bypasses it), one copy fewer per byte.
        Box::new(input)
    };
    let decryptor = age::Decryptor::new_buffered(BufReader::new(input)).map_err(header_error)?;
    if decryptor.is_scrypt() {
        let pass = ids.passphrase.get("the archive")?;
        let mut id = age::scrypt::Identity::new(pass);
        id.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
        let reader = decryptor.decrypt(std::iter::once(&id as &dyn age::Identity)).map_err(|e| match e {
            age::DecryptError::ExcessiveWork { required, .. } => DecryptError::Unsupported(format!(
                "the archive's passphrase needs scrypt work factor {required}, over the maximum of {MAX_SCRYPT_WORK_FACTOR}; refusing (a hostile header could make this take hours)"
            )),
            age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed | age::DecryptError::NoMatchingKeys => {
                DecryptError::WrongPassphrase("the archive".into())
            }
            other => header_error(other),
        })?;
        return Ok((Box::new(reader), "age (passphrase)".into()));
    }
    let mut boxed: Vec<Box<dyn age::Identity>> = Vec::new();
    for id in &ids.list {
        match id {
            Identity::AgeX25519 { keys, .. } => boxed.extend(
                keys.iter()
                    .map(|k| Box::new(k.clone()) as Box<dyn age::Identity>),
            ),
            Identity::AgeSsh { file, key, .. } => {
                let cb = AgeCallbacks {
                    passphrase: ids.passphrase.clone(),
                    file: file.clone(),
                };
                boxed.push(Box::new((**key).clone().with_callbacks(cb)));
            }
            Identity::OpenPgp { .. } => {}
        }
    }
    let reader = decryptor
        .decrypt(boxed.iter().map(|b| b.as_ref()))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => DecryptError::NoMatch {
                tried: ids.tried(""),
            },
            age::DecryptError::KeyDecryptionFailed => {
                DecryptError::WrongPassphrase("an encrypted SSH identity".into())
            }
            other => header_error(other),
        })?;
    Ok((Box::new(reader), "age".into()))
}
