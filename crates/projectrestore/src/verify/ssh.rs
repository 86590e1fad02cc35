//! SSH signatures (`ssh-keygen -Y sign`): the SSHSIG envelope over the SHA-256
//! or SHA-512 of the file, checked against `allowed_signers` (principals,
//! namespaces, validity window).

use std::time::SystemTime;

use super::{identity, Detached, Digester, Digests, SigPolicy, SignatureReport, TrustStore, BAD};
use crate::report::escape;

/// An SSH signature.
#[derive(Debug)]
pub(super) struct Ssh(Box<ssh_key::SshSig>);

/// Parse `-----BEGIN SSH SIGNATURE-----` armor.
pub(super) fn parse(t: &str) -> Result<Box<dyn Detached>, String> {
    ssh_key::SshSig::from_pem(t)
        .map(|s| Box::new(Ssh(Box::new(s))) as Box<dyn Detached>)
        .map_err(|e| format!("SSH signature: {e}"))
}

impl Detached for Ssh {
    fn scheme(&self) -> &'static str {
        "ssh"
    }

    fn want(&self, _index: usize, _store: &TrustStore, d: &mut Digester) {
        match self.0.hash_alg() {
            ssh_key::HashAlg::Sha256 => d.sha256 = Some(d.sha256.take().unwrap_or_default()),
            _ => d.sha512 = Some(d.sha512.take().unwrap_or_default()),
        }
    }

    fn check(
        &self,
        _index: usize,
        file: &str,
        store: &TrustStore,
        digests: &mut Digests,
        policy: &SigPolicy,
    ) -> Vec<SignatureReport> {
        vec![check(store, file, &self.0, digests, policy)]
    }
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn check(
    store: &TrustStore,
    file: &str,
    sig: &ssh_key::SshSig,
    digests: &Digests,
    policy: &SigPolicy,
) -> SignatureReport {
    use signature::Verifier;
    let key = ssh_key::PublicKey::from(sig.public_key().clone());
    let fpr = key.fingerprint(ssh_key::HashAlg::Sha256).to_string();
    let r = SignatureReport::new(file, "ssh", format!("ssh:{fpr}"));
    let Some(signer) = store
        .ssh
        .iter()
        .find(|s| s.key.key_data() == sig.public_key())
    else {
        return r.fail(format!(
            "key ssh:{fpr} is not in the trust store's allowed_signers"
        ));
    };
    let r = SignatureReport {
        trusted: true,
        signer: Some(escape(&signer.principals)),
        key_file: Some(escape(&signer.file)),
        identities: vec![identity::ssh(sig.public_key())],
        ..r
    };
    if let Err(why) = allowed(signer, sig, policy) {
        return r.fail(why);
    }
    let (name, digest) = match sig.hash_alg() {
        ssh_key::HashAlg::Sha256 => ("sha256", digests.sha256.as_deref()),
        _ => ("sha512", digests.sha512.as_deref()),
    };
    let Some(digest) = digest else {
        return r.fail("internal: digest missing");
    };
    let mut data = b"SSHSIG".to_vec();
    ssh_string(&mut data, sig.namespace().as_bytes());
    ssh_string(&mut data, b"");
    ssh_string(&mut data, name.as_bytes());
    ssh_string(&mut data, digest);
    if Verifier::<ssh_key::Signature>::verify(&key, &data, sig.signature()).is_err() {
        return r.fail(BAD);
    }
    SignatureReport { valid: true, ..r }
}

/// What `allowed_signers` and the policy say about this key for this
/// signature: the namespace and the validity window, now.
fn allowed(
    signer: &super::keys::SshSigner,
    sig: &ssh_key::SshSig,
    policy: &SigPolicy,
) -> Result<(), String> {
    if sig.namespace() != policy.ssh_namespace {
        return Err(format!(
            "signed for namespace {:?}, not {:?} (--ssh-namespace)",
            escape(sig.namespace()),
            policy.ssh_namespace
        ));
    }
    if let Some(ns) = &signer.namespaces {
        if !ns.iter().any(|n| n == &policy.ssh_namespace || n == "*") {
            return Err(format!(
                "allowed_signers does not allow this key for namespace {:?}",
                policy.ssh_namespace
            ));
        }
    }
    let today = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let now: String = today
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    if let Some(after) = &signer.valid_after {
        if now.as_str() < pad_time(after).as_str() {
            return Err(format!(
                "the key is valid only after {after} (allowed_signers)"
            ));
        }
    }
    if let Some(before) = &signer.valid_before {
        if now.as_str() >= pad_time(before).as_str() {
            return Err(format!(
                "the key was valid only before {before} (allowed_signers)"
            ));
        }
    }
    Ok(())
}

/// allowed_signers times are YYYYMMDD[HHMM[SS]]; compare as 14 digits.
fn pad_time(t: &str) -> String {
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    format!("{digits:0<14}")
}
