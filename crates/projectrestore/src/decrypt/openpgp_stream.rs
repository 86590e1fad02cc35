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
                        let what = format!("the OpenPGP key {}", key.fingerprint());
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
        if !skesks.is_empty() {
            return self.decrypt_symmetric(skesks, decrypt);
        }
        if let Some(what) = wrong_key_passphrase {
            return Err(self.fail(DecryptError::WrongPassphrase(what)).into());
        }
        Err(self.no_match(pkesks).into())
    }
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
