//! OpenPGP: public-key (secret keys from --identity) and symmetric (passphrase)
//! messages, and signed-and-encrypted ones whose inline signature is checked
//! against the trust store and reported to the signature policy.

use std::io::Read;
use std::sync::{Arc, Mutex};

use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::types::SymmetricAlgorithm;
use sequoia_openpgp as openpgp;

use super::secret::{openpgp_password, Passphrase};
use super::{DecryptError, DecryptStatus, Identities, Identity, SyncReader};
use crate::report::escape;
use crate::verify::SignatureReport;

/// The parser's name in errors about its panics.
const PARSER: &str = "the OpenPGP parser (sequoia-openpgp)";

/// How much plaintext sequoia may hold back to verify a signature before
/// releasing data: small, so memory stays flat (the staging gate protects the
/// destination until the signature is known).
const BUFFER: usize = 1 << 20;

struct Helper {
    secret: Vec<openpgp::Cert>,
    trusted: Vec<openpgp::Cert>,
    passphrase: Arc<Passphrase>,
    status: Arc<Mutex<DecryptStatus>>,
    tried: String,
    /// Ask gpg-agent for the recipients' secret keys (`--gpg-agent`).
    gpg_agent: bool,
}

impl Helper {
    /// Record why decryption failed (sequoia's error is untyped) and return an error for it.
    fn fail(&self, e: DecryptError) -> openpgp::Error {
        if let Ok(mut s) = self.status.lock() {
            s.error.get_or_insert(e.clone());
        }
        openpgp::Error::InvalidOperation(e.to_string())
    }
}

impl DecryptionHelper for Helper {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        // Our code, called back from inside the contained parser: a bug here
        // is ours (crate::contain::ours), not the message's. The session-key
        // check `decrypt` is sequoia's again, and contained again.
        // A panic in that check ends the search: the parser's state is not
        // used again (the error makes sequoia drop it), and the message is
        // refused as damaged.
        crate::contain::ours(|| {
            let mut broke = None;
            let found = self.find_session_key(pkesks, skesks, sym_algo, &mut |algo, sk| {
                if broke.is_some() {
                    return false;
                }
                crate::contain::contain(PARSER, || decrypt(algo, sk)).unwrap_or_else(|p| {
                    broke = Some(p);
                    false
                })
            });
            match broke {
                Some(p) => {
                    // This is the cause, whatever the search recorded meanwhile.
                    let e = DecryptError::Corrupt(p.to_string());
                    if let Ok(mut s) = self.status.lock() {
                        s.error = Some(e.clone());
                    }
                    Err(openpgp::Error::InvalidOperation(e.to_string()).into())
                }
                None => found,
            }
        })
        .unwrap_or_else(|bug| Err(openpgp::Error::InvalidOperation(bug.to_string()).into()))
    }
}

impl Helper {
    fn find_session_key(
        &mut self,
        pkesks: &[PKESK],
        skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        let policy = StandardPolicy::new();
        let mut wrong_key_passphrase = None;
        for pkesk in pkesks {
            let recipient = pkesk.recipient();
            for cert in &self.secret {
                for ka in cert
                    .keys()
                    .with_policy(&policy, None)
                    .supported()
                    .secret()
                    .for_transport_encryption()
                    .chain(
                        cert.keys()
                            .with_policy(&policy, None)
                            .supported()
                            .secret()
                            .for_storage_encryption(),
                    )
                {
                    if let Some(r) = &recipient {
                        if !r.aliases(ka.key().key_handle()) {
                            continue;
                        }
                    }
                    let mut key = ka.key().clone();
                    if key.secret().is_encrypted() {
                        let what = key_words(cert, &key.fingerprint());
                        let pw = match self.passphrase.get(&what) {
                            Ok(p) => p,
                            Err(e) => return Err(self.fail(e).into()),
                        };
                        match key.decrypt_secret(&openpgp_password(&pw)) {
                            Ok(k) => key = k,
                            Err(_) => {
                                wrong_key_passphrase = Some(what);
                                continue;
                            }
                        }
                    }
                    let Ok(mut pair) = key.into_keypair() else {
                        continue;
                    };
                    if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo) {
                        if decrypt(algo, &sk) {
                            return Ok(Some(cert.clone()));
                        }
                    }
                }
            }
        }
        if self.gpg_agent {
            if let Some(cert) = self.via_agent(pkesks, sym_algo, decrypt)? {
                return Ok(Some(cert));
            }
        }
        if !skesks.is_empty() {
            return self.decrypt_symmetric(skesks, decrypt);
        }
        if let Some(what) = wrong_key_passphrase {
            return Err(self.fail(DecryptError::WrongPassphrase(what)).into());
        }
        Err(self.no_match(pkesks).into())
    }
}

/// "the OpenPGP key of Alice <alice@example.org> (FINGERPRINT)": a prompt
/// names the key by its user ID, as gpg does.
fn key_words(cert: &openpgp::Cert, fpr: &openpgp::Fingerprint) -> String {
    match cert.userids().next() {
        Some(u) => format!(
            "the OpenPGP key of {} ({fpr})",
            escape(&String::from_utf8_lossy(u.userid().value()))
        ),
        None => format!("the OpenPGP key {fpr}"),
    }
}

/// The name of gpg-agent's client in errors about its panics.
#[cfg(all(unix, feature = "gpg-agent"))]
const AGENT: &str = "the gpg-agent client (sequoia-gpg-agent)";

/// Recipients of one message looked up for gpg-agent, at most.
#[cfg(all(unix, feature = "gpg-agent"))]
const AGENT_RECIPIENTS: usize = 16;

impl Helper {
    /// `--gpg-agent`: each recipient's certificate from the GnuPG keyring
    /// (`gpg --export`), its encryption key handed to gpg-agent, which holds
    /// (or has a smartcard hold) the secret and asks for its passphrase by
    /// pinentry. The agent never gives the secret out; the session key it
    /// returns is checked like any other.
    #[cfg(all(unix, feature = "gpg-agent"))]
    fn via_agent(
        &self,
        pkesks: &[PKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        use sequoia_gpg_agent as agent;
        let contained =
            |e: crate::contain::Panicked| self.fail(DecryptError::Identity(e.to_string()));
        let ctx = crate::contain::contain(AGENT, agent::gnupg::Context::new)
            .map_err(contained)?
            .map_err(|e| {
                self.fail(DecryptError::Identity(format!(
                    "--gpg-agent: {e}: make it (any gpg command does) or point GNUPGHOME at your GnuPG home"
                )))
            })?;
        // Started on demand, as gpg does (an agent already running is kept).
        let _ = crate::contain::contain(AGENT, || ctx.start("gpg-agent"));
        let policy = StandardPolicy::new();
        // Each recipient costs a gpg run and a round trip to the agent: a
        // message may name thousands, so only the first few distinct ones are
        // looked up (real messages have a handful).
        let mut asked: Vec<openpgp::KeyHandle> = Vec::new();
        for pkesk in pkesks {
            // An anonymous recipient names no key to look up.
            let Some(recipient) = pkesk.recipient() else {
                continue;
            };
            if asked.iter().any(|a| a.aliases(&recipient)) {
                continue;
            }
            if asked.len() == AGENT_RECIPIENTS {
                break;
            }
            asked.push(recipient.clone());
            for cert in keyring_certs(&recipient).map_err(|e| self.fail(e))? {
                let Ok(vc) = cert.with_policy(&policy, None) else {
                    continue;
                };
                let keys = vc
                    .keys()
                    .supported()
                    .for_transport_encryption()
                    .chain(vc.keys().supported().for_storage_encryption());
                for ka in keys {
                    if !recipient.aliases(ka.key().key_handle()) {
                        continue;
                    }
                    let pair = crate::contain::contain(AGENT, || {
                        agent::KeyPair::new_for_gnupg_context(&ctx, ka.key())
                            .map(|p| p.with_cert(&vc))
                    })
                    .map_err(contained)?;
                    let Ok(mut pair) = pair else {
                        continue;
                    };
                    // None: the agent has no such secret key, or its
                    // passphrase was not given at the pinentry.
                    let got = crate::contain::contain(AGENT, || pkesk.decrypt(&mut pair, sym_algo))
                        .map_err(contained)?;
                    if let Some((algo, sk)) = got {
                        if decrypt(algo, &sk) {
                            return Ok(Some(cert.clone()));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    #[cfg(not(all(unix, feature = "gpg-agent")))]
    fn via_agent(
        &self,
        _pkesks: &[PKESK],
        _sym_algo: Option<SymmetricAlgorithm>,
        _decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        // Identities::with_gpg_agent refuses the flag in such a build.
        Ok(None)
    }
}

/// How `gpg --export` is to name `recipient`: only a well-formed key id or
/// fingerprint, `0x`-prefixed. gpg reads any other hex string (a PKESK may
/// carry a fingerprint of unknown shape, any length) as a search of user IDs,
/// which would export half the keyring.
#[cfg(all(unix, feature = "gpg-agent"))]
fn export_name(recipient: &openpgp::KeyHandle) -> Option<String> {
    use openpgp::{Fingerprint, KeyHandle, KeyID};
    match recipient {
        KeyHandle::Fingerprint(f @ (Fingerprint::V4(_) | Fingerprint::V6(_))) => {
            Some(format!("0x{}", f.to_hex()))
        }
        KeyHandle::KeyID(k @ KeyID::Long(_)) => Some(format!("0x{}", k.to_hex())),
        _ => None,
    }
}

/// The certificates GnuPG's keyring holds for `recipient` (`gpg --export`,
/// which finds a certificate by any of its keys' ids); none when it has none.
#[cfg(all(unix, feature = "gpg-agent"))]
fn keyring_certs(recipient: &openpgp::KeyHandle) -> Result<Vec<openpgp::Cert>, DecryptError> {
    let Some(name) = export_name(recipient) else {
        return Ok(Vec::new());
    };
    let out = std::process::Command::new("gpg")
        .args(["--batch", "--no-tty", "--export", &name])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            DecryptError::Identity(format!(
                "--gpg-agent: cannot run gpg to find the certificate of {recipient} in the keyring ({e}); is GnuPG installed?"
            ))
        })?;
    if out.stdout.is_empty() {
        return Ok(Vec::new());
    }
    let certs = crate::contain::contain(PARSER, || {
        openpgp::cert::CertParser::from_bytes(&out.stdout)
            .map(|p| p.filter_map(Result::ok).collect::<Vec<_>>())
    })
    .map_err(|p| DecryptError::Identity(p.to_string()))?;
    certs.map_err(|e| {
        DecryptError::Identity(format!(
            "--gpg-agent: gpg exported an unreadable certificate: {e}"
        ))
    })
}

impl Helper {
    /// A passphrase-encrypted message: the one passphrase, tried on every SKESK.
    fn decrypt_symmetric(
        &self,
        skesks: &[SKESK],
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        let pw = match self.passphrase.get("the archive") {
            Ok(p) => p,
            Err(e) => return Err(self.fail(e).into()),
        };
        let pw = openpgp_password(&pw);
        for skesk in skesks {
            if let Ok((algo, sk)) = skesk.decrypt(&pw) {
                if decrypt(algo, &sk) {
                    return Ok(None);
                }
            }
        }
        Err(self
            .fail(DecryptError::WrongPassphrase("the archive".into()))
            .into())
    }

    /// No identity matched: say what was tried and whom the archive is for.
    fn no_match(&self, pkesks: &[PKESK]) -> openpgp::Error {
        let recipients: Vec<String> = pkesks
            .iter()
            .filter_map(|p| p.recipient().map(|r| r.to_string()))
            .collect();
        let tried = if recipients.is_empty() {
            self.tried.clone()
        } else {
            format!(
                "{}; the archive is for {}",
                self.tried,
                recipients.join(", ")
            )
        };
        self.fail(DecryptError::NoMatch { tried })
    }
}

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<openpgp::Cert>> {
        Ok(self.trusted.clone())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut reports = Vec::new();
        for layer in structure.into_iter() {
            let MessageLayer::SignatureGroup { results } = layer else {
                continue;
            };
            for result in results {
                let mut r = SignatureReport {
                    file: "inline".into(),
                    scheme: "openpgp".into(),
                    key: String::new(),
                    signer: None,
                    key_file: None,
                    trusted: false,
                    valid: false,
                    reason: None,
                    trusted_comment: None,
                    identities: Vec::new(),
                };
                match result {
                    Ok(good) => {
                        let cert = good.ka.cert();
                        r.key = format!("openpgp:{}", cert.fingerprint());
                        r.signer = Some(crate::verify::pgp::cert_name(cert));
                        r.trusted = true;
                        r.identities = crate::verify::identity::openpgp_cert(cert);
                        // The same policy as for detached signatures (type, hash,
                        // critical subpackets, expiry now), beyond sequoia's own.
                        match crate::verify::openpgp_data_policy(
                            good.sig,
                            std::time::SystemTime::now(),
                        ) {
                            Ok(()) => r.valid = true,
                            Err(why) => r.reason = Some(why),
                        }
                    }
                    Err(VerificationError::MissingKey { sig }) => {
                        let issuer = sig
                            .get_issuers()
                            .first()
                            .map(|h| h.to_string())
                            .unwrap_or_else(|| "unknown".into());
                        r.key = format!("openpgp:{issuer}");
                        r.reason = Some(format!("key {issuer} is not in the trust store"));
                    }
                    Err(VerificationError::BadSignature { ka, .. }) => {
                        r.key = format!("openpgp:{}", ka.cert().fingerprint());
                        r.trusted = true;
                        r.reason = Some("BAD signature: the signed data was changed".into());
                    }
                    Err(VerificationError::BadKey { ka, error, .. }) => {
                        r.key = format!("openpgp:{}", ka.cert().fingerprint());
                        r.trusted = true;
                        r.reason = Some(format!("the signing key is not usable: {error}"));
                    }
                    Err(VerificationError::UnboundKey { cert, error, .. }) => {
                        r.key = format!("openpgp:{}", cert.fingerprint());
                        r.trusted = true;
                        r.reason = Some(format!("the signing key is not bound: {error}"));
                    }
                    Err(other) => {
                        r.key = "openpgp:unknown".into();
                        r.reason = Some(escape(&other.to_string()));
                    }
                }
                reports.push(r);
            }
        }
        if let Ok(mut s) = self.status.lock() {
            s.inline_signatures.extend(reports);
        }
        // The signature policy decides at the gate; decryption goes on.
        Ok(())
    }
}

/// Start decrypting an OpenPGP message.
pub fn open<'a, R: Read + Send + 'a>(
    input: R,
    ids: &Identities,
    certs: &[openpgp::Cert],
    status: Arc<Mutex<DecryptStatus>>,
) -> Result<(Box<dyn Read + Send + 'a>, String), DecryptError> {
    let helper = Helper {
        secret: ids
            .list
            .iter()
            .filter_map(|i| match i {
                Identity::OpenPgp { cert, .. } => Some((**cert).clone()),
                _ => None,
            })
            .collect(),
        trusted: certs.to_vec(),
        passphrase: ids.passphrase.clone(),
        status: Arc::clone(&status),
        tried: ids.tried(""),
        gpg_agent: ids.gpg_agent,
    };
    static POLICY: std::sync::OnceLock<StandardPolicy<'static>> = std::sync::OnceLock::new();
    let policy = POLICY.get_or_init(StandardPolicy::new);
    let builder = DecryptorBuilder::from_reader(SyncReader(Mutex::new(input)))
        .map_err(|e| DecryptError::Corrupt(format!("OpenPGP: {e}")))?
        .buffer_size(BUFFER);
    match builder.with_policy(policy, None, helper) {
        Ok(d) => Ok((Box::new(d), "openpgp".into())),
        Err(e) => {
            let recorded = status.lock().ok().and_then(|mut s| s.error.take());
            Err(recorded.unwrap_or_else(|| DecryptError::Corrupt(format!("OpenPGP: {e}"))))
        }
    }
}

#[cfg(all(test, unix, feature = "gpg-agent"))]
mod tests {
    use super::*;

    /// The attack: a PKESK whose recipient is a fingerprint of unknown shape
    /// ("CE") would make `gpg --export CE` search user IDs. Only key ids and
    /// v4/v6 fingerprints are looked up, `0x`-prefixed.
    #[test]
    fn only_real_key_handles_are_looked_up() {
        use openpgp::{Fingerprint, KeyHandle, KeyID};
        let odd = KeyHandle::Fingerprint(Fingerprint::from_bytes(9, &[0xce]).unwrap());
        assert_eq!(export_name(&odd), None);
        let invalid = KeyHandle::KeyID(KeyID::from_bytes(&[0xce, 0xfe]));
        assert_eq!(export_name(&invalid), None);
        let v4 = KeyHandle::Fingerprint(Fingerprint::from_bytes(4, &[0xab; 20]).unwrap());
        assert_eq!(export_name(&v4), Some(format!("0x{}", "AB".repeat(20))));
        let id = KeyHandle::KeyID(KeyID::from_bytes(&[0x12; 8]));
        assert_eq!(export_name(&id), Some(format!("0x{}", "12".repeat(8))));
    }
}
