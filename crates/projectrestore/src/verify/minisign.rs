//! minisign signatures (`minisign -S`: prehashed BLAKE2b-512, with a trusted
//! comment signed by a global signature) and signify signatures (`signify -S`:
//! Ed25519 over the whole file). Both files are `untrusted comment:` then
//! base64 of "E?" ‖ key id ‖ signature; minisign adds the trusted comment and
//! its global signature.

use base64::Engine;
use ed25519_dalek::Signature as EdSignature;

use super::{
    hex_id, identity, Detached, Digester, Digests, SigPolicy, SignatureReport, TrustStore, BAD,
};
use crate::report::escape;

/// A minisign signature.
#[derive(Debug)]
pub(super) struct Minisign {
    prehashed: bool,
    key_id: [u8; 8],
    sig: EdSignature,
    comment: String,
    global: EdSignature,
}

/// A signify signature.
#[derive(Debug)]
pub(super) struct Signify {
    key_id: [u8; 8],
    sig: EdSignature,
}

fn decode_line(line: Option<&str>, what: &str) -> Result<Vec<u8>, String> {
    let line = line
        .ok_or_else(|| format!("the {what} line is missing"))?
        .trim();
    base64::engine::general_purpose::STANDARD
        .decode(line)
        .map_err(|e| format!("{what}: bad base64: {e}"))
}

fn ed_sig(b: &[u8]) -> Result<EdSignature, String> {
    let arr: [u8; 64] = b
        .try_into()
        .map_err(|_| "an Ed25519 signature must be 64 bytes".to_string())?;
    Ok(EdSignature::from_bytes(&arr))
}

/// Parse a file that starts with `untrusted comment:` (as minisign or signify).
pub(super) fn parse(t: &str) -> Result<Box<dyn Detached>, String> {
    let mut lines = t.lines();
    lines.next();
    let raw = decode_line(lines.next(), "signature")?;
    if raw.len() != 74 {
        return Err("not a minisign or signify signature (wrong length)".into());
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&raw[2..10]);
    let sig = ed_sig(&raw[10..74])?;
    match lines.next() {
        Some(tc) => {
            let comment = tc
                .strip_prefix("trusted comment: ")
                .ok_or("the third line of a minisign signature must be the trusted comment")?
                .to_string();
            let global = ed_sig(&decode_line(lines.next(), "global signature")?)?;
            let prehashed = match &raw[..2] {
                b"ED" => true,
                b"Ed" => false,
                _ => return Err("unknown minisign signature algorithm".into()),
            };
            Ok(Box::new(Minisign {
                prehashed,
                key_id,
                sig,
                comment,
                global,
            }))
        }
        None if &raw[..2] == b"Ed" => Ok(Box::new(Signify { key_id, sig })),
        None => Err("unknown signify signature algorithm".into()),
    }
}

impl Detached for Minisign {
    fn scheme(&self) -> &'static str {
        "minisign"
    }

    fn want(&self, index: usize, store: &TrustStore, d: &mut Digester) {
        if self.prehashed {
            d.blake2 = Some(d.blake2.take().unwrap_or_default());
        } else {
            d.stream(index, &store.minisign, &self.key_id, &self.sig);
        }
    }

    fn check(
        &self,
        index: usize,
        file: &str,
        store: &TrustStore,
        digests: &mut Digests,
        policy: &SigPolicy,
    ) -> Vec<SignatureReport> {
        vec![self.check_one(file, store, digests, index, policy)]
    }
}

impl Minisign {
    fn check_one(
        &self,
        file: &str,
        store: &TrustStore,
        digests: &Digests,
        index: usize,
        policy: &SigPolicy,
    ) -> SignatureReport {
        let id = hex_id(&self.key_id);
        let r = SignatureReport::new(file, "minisign", format!("minisign:{id}"));
        let Some(k) = store.minisign.iter().find(|k| k.id == self.key_id) else {
            return r.fail(format!("key minisign:{id} is not in the trust store"));
        };
        let mut r = SignatureReport {
            trusted: true,
            signer: Some(k.id_hex()),
            key_file: Some(escape(&k.file)),
            identities: vec![identity::ed25519(k.key.as_bytes())],
            ..r
        };
        let valid = if self.prehashed {
            digests
                .blake2
                .as_deref()
                .is_some_and(|d| k.key.verify_strict(d, &self.sig).is_ok())
        } else if !policy.allow_legacy_minisign {
            return r.fail(format!(
                "{}; re-sign with minisign -S, or pass --allow-legacy-minisign",
                super::LEGACY
            ));
        } else {
            digests.streamed(index) == Some(true)
        };
        if !valid {
            return r.fail(BAD);
        }
        let mut signed = self.sig.to_bytes().to_vec();
        signed.extend_from_slice(self.comment.as_bytes());
        if k.key.verify_strict(&signed, &self.global).is_err() {
            return r
                .fail("the trusted comment's signature does not verify (the comment was changed)");
        }
        r.valid = true;
        r.trusted_comment = Some(escape(&self.comment));
        r
    }
}

impl Detached for Signify {
    fn scheme(&self) -> &'static str {
        "signify"
    }

    fn want(&self, index: usize, store: &TrustStore, d: &mut Digester) {
        d.stream(index, &store.signify, &self.key_id, &self.sig);
    }

    fn check(
        &self,
        index: usize,
        file: &str,
        store: &TrustStore,
        digests: &mut Digests,
        _policy: &SigPolicy,
    ) -> Vec<SignatureReport> {
        let id = hex_id(&self.key_id);
        let r = SignatureReport::new(file, "signify", format!("signify:{id}"));
        let r = match store.signify.iter().find(|k| k.id == self.key_id) {
            None => r.fail(format!("key signify:{id} is not in the trust store")),
            Some(k) => {
                let r = SignatureReport {
                    trusted: true,
                    signer: Some(k.id_hex()),
                    key_file: Some(escape(&k.file)),
                    identities: vec![identity::ed25519(k.key.as_bytes())],
                    ..r
                };
                if digests.streamed(index) == Some(true) {
                    SignatureReport { valid: true, ..r }
                } else {
                    r.fail(BAD)
                }
            }
        };
        vec![r]
    }
}
