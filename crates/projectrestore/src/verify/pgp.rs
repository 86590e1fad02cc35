//! OpenPGP detached signatures (`gpg --detach-sign`, binary or armored):
//! every signature packet of the file, each hashed with its own context and
//! held to the data-signature policy (type, hash, critical subpackets, expiry)
//! as well as the certificate's validity, revocation and expiry now.

use std::time::SystemTime;

use openpgp::parse::Parse;
use sequoia_openpgp as openpgp;

use super::{identity, Detached, Digester, Digests, SigPolicy, SignatureReport, TrustStore, BAD};
use crate::report::escape;

/// The name of sequoia's signature code in errors about its panics.
const VERIFIER: &str = "the OpenPGP verifier (sequoia-openpgp)";

/// The signature packets of one OpenPGP signature file.
#[derive(Debug)]
pub(super) struct OpenPgp(Vec<openpgp::packet::Signature>);

impl Detached for OpenPgp {
    fn scheme(&self) -> &'static str {
        "openpgp"
    }

    fn want(&self, index: usize, _store: &TrustStore, d: &mut Digester) {
        for (j, sig) in self.0.iter().enumerate() {
            // Contained: a panic means no context, and `check` refuses the signature.
            let ctx = crate::contain::contain(VERIFIER, || {
                sig.hash_algo()
                    .context()
                    .ok()
                    .map(|b| b.for_signature(sig.version()))
            });
            if let Ok(Some(ctx)) = ctx {
                d.pgp.push((index, j, ctx));
            }
        }
    }

    fn check(
        &self,
        index: usize,
        file: &str,
        store: &TrustStore,
        digests: &mut Digests,
        _policy: &SigPolicy,
    ) -> Vec<SignatureReport> {
        let mut reports = Vec::new();
        for (j, sig) in self.0.iter().enumerate() {
            let ctx = digests
                .pgp
                .iter()
                .position(|(a, b, _)| *a == index && *b == j)
                .map(|p| digests.pgp.swap_remove(p).2);
            // Everything sequoia does with this attacker-supplied packet is
            // contained; a panic refuses it as a trusted key's bad signature
            // (fail closed: whoever can write the signature file can make the
            // restore refuse anyway), and the packet and its hash context are
            // not used again. The store's certificates are only read.
            let checked = crate::contain::contain(VERIFIER, || check(store, file, sig, ctx));
            reports.push(checked.unwrap_or_else(|panicked| {
                SignatureReport {
                    trusted: true,
                    ..SignatureReport::new(file, "openpgp", "openpgp:unknown".into())
                        .fail(panicked.to_string())
                }
            }));
        }
        reports
    }
}

/// Parse binary or armored OpenPGP: signature packets only (a marker is skipped).
pub(super) fn parse(data: &[u8]) -> Result<Box<dyn Detached>, String> {
    use openpgp::Packet;
    let parsed = crate::contain::contain("the OpenPGP parser (sequoia-openpgp)", || {
        openpgp::PacketPile::from_bytes(data)
    })
    .map_err(|p| p.to_string())?;
    let pile = parsed.map_err(|e| {
        format!("not a recognised signature (minisign, signify, SSH or OpenPGP): {e}")
    })?;
    let mut sigs = Vec::new();
    for p in pile.into_children() {
        match p {
            Packet::Signature(s) => sigs.push(s),
            Packet::Marker(_) => {}
            other => {
                return Err(format!(
                    "an OpenPGP {} packet: this is not a detached signature (inline-signed data is refused)",
                    other.tag()
                ))
            }
        }
    }
    if sigs.is_empty() {
        return Err("no OpenPGP signature packet".into());
    }
    Ok(Box::new(OpenPgp(sigs)))
}

/// The policy for an OpenPGP data signature, apart from its maths (invariant 7):
/// its type, its hash algorithm, its critical subpackets and its own expiry.
///
/// `Signature::verify_hash` checks only the cryptography, so everything a
/// signature says about itself is judged here, for detached and inline
/// signatures alike.
pub(crate) fn openpgp_data_policy(
    sig: &openpgp::packet::Signature,
    now: SystemTime,
) -> Result<(), String> {
    use openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
    use openpgp::types::{HashAlgorithm, SignatureType};
    match sig.typ() {
        SignatureType::Binary => {}
        // Also inside a message: a text signature is over line-end-normalised
        // text, so the tar's bytes could change and still verify.
        SignatureType::Text => {
            return Err("a text-mode signature (made with --textmode or --clearsign): it is over canonicalised text, not the archive's bytes; refused — sign the archive with `gpg --detach-sign` (binary)".into())
        }
        other => {
            return Err(format!(
                "a {other} signature, not a signature over a document; refused"
            ))
        }
    }
    // An allow-list, whatever time the policy would consider: a signature can
    // claim any creation time, and MD5 and SHA-1 have known collisions.
    match sig.hash_algo() {
        HashAlgorithm::SHA256
        | HashAlgorithm::SHA384
        | HashAlgorithm::SHA512
        | HashAlgorithm::SHA224
        | HashAlgorithm::SHA3_256
        | HashAlgorithm::SHA3_512 => {}
        other => {
            return Err(format!(
                "hash algorithm {other} is not collision resistant; refused (re-sign with SHA-256 or SHA-512)"
            ))
        }
    }
    StandardPolicy::at(now)
        .signature(sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| format!("refused by the OpenPGP signature policy: {e:#}"))?;
    // The signature's own lifetime, at the time of the check (not at its
    // creation, where it is always alive).
    sig.signature_alive(now, None)
        .map_err(|e| match sig.signature_expiration_time() {
            Some(t) if t <= now => format!(
                "the signature itself expired at {}",
                humantime::format_rfc3339_seconds(t)
            ),
            _ => format!("the signature is not valid now: {e}"),
        })
}

fn check(
    store: &TrustStore,
    file: &str,
    sig: &openpgp::packet::Signature,
    ctx: Option<openpgp::crypto::hash::Context>,
) -> SignatureReport {
    use openpgp::cert::amalgamation::ValidAmalgamation;
    use openpgp::policy::StandardPolicy;
    use openpgp::types::RevocationStatus;
    let now = SystemTime::now();
    let policy = StandardPolicy::at(now);
    let issuers = sig.get_issuers();
    let shown = issuers
        .first()
        .map(|h| h.to_string())
        .unwrap_or_else(|| "unknown".into());
    let r = SignatureReport::new(file, "openpgp", format!("openpgp:{shown}"));
    let Some(cert) = store.openpgp.iter().find(|c| {
        c.keys()
            .any(|k| issuers.iter().any(|h| h.aliases(k.key().key_handle())))
    }) else {
        return r.fail(format!("key openpgp:{shown} is not in the trust store"));
    };
    let mut r = SignatureReport {
        key: format!("openpgp:{}", cert.fingerprint()),
        trusted: true,
        signer: Some(cert_name(cert)),
        key_file: store.openpgp_file(cert),
        identities: identity::openpgp_cert(cert),
        ..r
    };
    if let Err(why) = openpgp_data_policy(sig, now) {
        return r.fail(why);
    }
    let Some(ctx) = ctx else {
        return r.fail(format!("unsupported hash algorithm {}", sig.hash_algo()));
    };
    let vc = match valid_now(cert, &policy, now) {
        Ok(vc) => vc,
        Err(why) => return r.fail(why),
    };
    let mut last = String::from("no signing-capable key of the certificate made this signature");
    for ka in vc.keys().for_signing().key_handles(issuers.iter()) {
        if let RevocationStatus::Revoked(_) = ka.revocation_status() {
            last = format!("signing key {} is revoked", ka.key().fingerprint());
            continue;
        }
        if let Err(e) = ka.alive() {
            last = format!("signing key {} is expired: {e}", ka.key().fingerprint());
            continue;
        }
        match sig.verify_hash(ka.key(), ctx.clone()) {
            Ok(()) => {
                r.valid = true;
                return r;
            }
            Err(_) => last = BAD.into(),
        }
    }
    r.fail(last)
}

/// The certificate as the policy sees it now: valid, not revoked, not expired.
fn valid_now<'a>(
    cert: &'a openpgp::Cert,
    policy: &'a openpgp::policy::StandardPolicy<'a>,
    now: SystemTime,
) -> Result<openpgp::cert::ValidCert<'a>, String> {
    use openpgp::types::RevocationStatus;
    let vc = cert
        .with_policy(policy, now)
        .map_err(|e| format!("certificate {} is not valid now: {e}", cert.fingerprint()))?;
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Err(format!("certificate {} is revoked", cert.fingerprint()));
    }
    vc.alive()
        .map_err(|e| format!("certificate {} is expired: {e}", cert.fingerprint()))?;
    Ok(vc)
}

/// Who an OpenPGP certificate belongs to: its first user ID, or its fingerprint.
pub(crate) fn cert_name(cert: &openpgp::Cert) -> String {
    cert.userids()
        .next()
        .map(|u| escape(&String::from_utf8_lossy(u.userid().value())))
        .unwrap_or_else(|| cert.fingerprint().to_string())
}
