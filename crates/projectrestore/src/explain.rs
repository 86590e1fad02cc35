//! How a failure is told to a person: its exit code, its one-line message and
//! what to do next. The binary and the Python package print the same sentences
//! from here.

use crate::{Category, Error};

impl Category {
    /// The documented exit code of this class (DESIGN.md), in one place.
    pub fn exit_code(self) -> u8 {
        match self {
            Category::Error => 1,
            Category::Interrupted => 2,
            Category::Locked => 3,
            Category::Verification => 4,
            Category::Unsafe => 5,
            Category::Decryption => 6,
            Category::Usage => 64,
        }
    }
}

impl Error {
    /// The exit code the binary returns for this failure.
    pub fn exit_code(&self) -> u8 {
        self.category().exit_code()
    }

    /// The error and its causes, in one line: the sentence every front end
    /// prints.
    pub fn message(&self) -> String {
        message(self)
    }

    /// What to do next, per class of failure (STYLE.md 3); `None` when the
    /// message says it all.
    pub fn hint(&self) -> Option<String> {
        hint(self)
    }
}

fn hint(e: &Error) -> Option<String> {
    if let Error::Source(s) = e {
        if let Some(h) = s.hint() {
            return Some(h.to_string());
        }
    }
    fixed_hint(e).map(str::to_string).or_else(|| limit_hint(e))
}

/// The flag that raises an exceeded limit (the library names only the limit).
fn limit_hint(e: &Error) -> Option<String> {
    use crate::archive::{ArchiveError, LimitKind};
    let Error::Archive(ArchiveError::Limit { kind, .. }) = e else {
        return None;
    };
    let flag = match kind {
        LimitKind::Files => "--max-files N",
        LimitKind::Bytes => "--max-bytes SIZE",
        LimitKind::EntrySize => "--max-entry-size SIZE",
        LimitKind::Depth => "--max-depth N",
        LimitKind::PathLength => "--max-path-length N",
        LimitKind::NameLength => "--max-name-length N",
        LimitKind::PaxSize => "--max-pax-size SIZE",
        LimitKind::Ratio => "--max-ratio N",
        LimitKind::ZstdWindow => "--max-zstd-window SIZE",
        _ => return None,
    };
    Some(format!(
        "nothing was changed; if you trust this archive, raise the limit with {flag}"
    ))
}

fn fixed_hint(e: &Error) -> Option<&'static str> {
    if let Error::Log(l) = e {
        return Some(match l {
            crate::log::LogError::Older(_) => "nothing was changed; a newer backup of this project is logged",
            crate::log::LogError::NotIncluded { .. } => "nothing was changed; append the archive with `log append` if you trust it, or drop --require-anchored",
            l if l.is_verification() => "the log does not vouch for this; nothing was changed. Check the log with `projectrestore log verify`",
            _ => return None,
        });
    }
    if let Error::Decrypt(crate::decrypt::DecryptError::Corrupt(_)) = e {
        return Some("nothing was changed; the encrypted file is damaged or cut short: fetch it again, and compare it with its checksum or signature");
    }
    use crate::decrypt::DecryptError;
    use crate::verify::{Unmet, VerifyError};
    match e {
        Error::Archive(crate::archive::ArchiveError::Limit { .. }) => return None,
        // Hints by cause (issue 16, item 9), each saying something the error did not.
        Error::Verify(VerifyError::Unreadable { .. }) => {
            return Some("nothing was checked or changed: check the path (--signature and --checksum name files that must exist; without them, the files beside the archive are used)")
        }
        Error::Verify(VerifyError::TrustStore { .. }) => {
            return Some("nothing was changed; --trust takes a key file or a directory of them (OpenPGP certificates, minisign/signify .pub files, an allowed_signers file): check the path")
        }
        Error::Verify(VerifyError::Unmet { why: Unmet::Threshold { .. }, .. }) => {
            return Some("nothing was changed; fewer trusted keys signed it than --threshold asks: get the other signature, or add the signer's key to the trust store if you trust it")
        }
        Error::Verify(VerifyError::Unmet { why: Unmet::Unsigned, .. }) => {
            return Some("nothing was changed; the trust store asks for a signature: give the archive's with --signature FILE if it is not beside it (ARCHIVE.minisig, .sig, .asc), or --allow-unsigned to restore it unchecked")
        }
        Error::Verify(VerifyError::Unmet { why: Unmet::Untrusted, .. }) => {
            return Some("nothing was changed; no key of the trust store made these signatures: if you trust the signer, add their public key (--trust DIR, or ~/.config/projectrestore/keys)")
        }
        Error::Verify(VerifyError::Unmet { why: Unmet::LegacyMinisign, .. }) => {
            return Some("nothing was changed; the signature is minisign's legacy form, which signs the whole file unhashed: re-sign with a current minisign, or pass --allow-legacy-minisign if you trust it")
        }
        Error::Verify(VerifyError::Unmet { why: Unmet::NoTrustStore, .. }) => {
            return Some("nothing was changed; give the signers' public keys with --trust DIR (or put them in ~/.config/projectrestore/keys), or --allow-unsigned to restore without checking")
        }
        Error::Decrypt(DecryptError::WrongPassphrase(_)) => {
            return Some("nothing was changed; the passphrase did not open it: try again (a --passphrase-file holds it on its first line)")
        }
        Error::Config(_) => {
            return Some("fix the settings file at the line shown; `projectrestore config` prints the effective settings and where each came from")
        }
        Error::NotConfirmed(_) => {
            return Some("nothing was changed; --yes answers yes without asking")
        }
        Error::Decrypt(DecryptError::NoPassphrase(_)) => {
            return Some("nothing was changed; give the passphrase with --passphrase-file FILE or PROJECTRESTORE_PASSPHRASE, or run on a terminal")
        }
        Error::Decrypt(DecryptError::NoMatch { .. }) => {
            return Some("nothing was changed; give the matching identity with -i/--identity (age, SSH or OpenPGP secret key)")
        }
        _ => {}
    }
    Some(match e.category() {
        Category::Verification => {
            "the archive is not what its signatures or checksum say it is; nothing was changed. Do not restore it unless you know why"
        }
        Category::Unsafe => "nothing was changed; the archive was refused before anything reached the destination",
        Category::Decryption => "nothing was changed; give the matching identity with -i or the passphrase with --passphrase-file",
        Category::Locked => "another restore of this destination is running; wait for it, or pass --wait",
        // One line: the message says it all (issue 16, item 14).
        Category::Interrupted => return None,
        Category::Usage => "see --help",
        Category::Error => return None,
    })
}

/// The error and its causes, in one line.
fn message(e: &Error) -> String {
    one_line(e)
}

/// Any error and its causes in one line, each cause once (a cause whose text
/// the line already holds is not repeated).
pub(crate) fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    line
}
