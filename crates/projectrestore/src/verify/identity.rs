//! Which key made a signature, by public key material, across schemes
//! (issue 14, item 5): one Ed25519 key present as a minisign key, a signify key,
//! an SSH key and an OpenPGP (sub)key is one signer for `--threshold`, whatever
//! key id or name each file gives it. OpenPGP subkeys count as their certificate.
//!
//! Each trusted signature's report carries a set of tokens; [`super::decide`]
//! treats two signatures as the same signer when their sets share a token.

use sequoia_openpgp as openpgp;

/// An Ed25519 public key.
pub fn ed25519(key: &[u8]) -> String {
    format!("ed25519:{}", hex::encode(key))
}

/// An RSA public key, by its modulus (leading zero bytes dropped).
pub fn rsa(modulus: &[u8]) -> String {
    let start = modulus
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(modulus.len());
    format!("rsa:{}", hex::encode(&modulus[start..]))
}

/// The tokens of an OpenPGP certificate: its fingerprint and the material of
/// its primary key and every subkey.
pub fn openpgp_cert(cert: &openpgp::Cert) -> Vec<String> {
    let mut out = vec![format!("openpgp:{}", cert.fingerprint())];
    out.extend(cert.keys().map(|ka| openpgp_key(ka.key().mpis())));
    out
}

/// One OpenPGP key by its public numbers, never by its fingerprint (which
/// changes with the key's creation time, so one key in two certificates would
/// count twice). Ed25519 and RSA in the encoding the other schemes share.
fn openpgp_key(mpis: &openpgp::crypto::mpi::PublicKey) -> String {
    use openpgp::crypto::mpi::PublicKey;
    use openpgp::serialize::MarshalInto;
    match mpis {
        // Native encoding: 0x40 followed by the 32-byte key.
        PublicKey::EdDSA { curve, q }
            if *curve == openpgp::types::Curve::Ed25519
                && q.value().len() == 33
                && q.value()[0] == 0x40 =>
        {
            ed25519(&q.value()[1..])
        }
        PublicKey::Ed25519 { a } => ed25519(a),
        PublicKey::RSA { n, .. } => rsa(n.value()),
        // Everything else (ECDSA, Ed448, …) by its serialised numbers.
        other => format!(
            "openpgp-mpis:{}",
            hex::encode(other.to_vec().unwrap_or_default())
        ),
    }
}

/// The token of an OpenSSH public key.
pub fn ssh(key: &ssh_key::public::KeyData) -> String {
    use ssh_key::public::KeyData;
    match key {
        KeyData::Ed25519(k) => ed25519(&k.0),
        KeyData::Rsa(k) => rsa(k.n.as_bytes()),
        other => format!(
            "ssh:{}",
            ssh_key::PublicKey::from(other.clone()).fingerprint(ssh_key::HashAlg::Sha256)
        ),
    }
}

/// How many distinct signers `sets` name: sets that share a token (directly or
/// through others) are one signer. Returns one representative name per signer
/// (the smallest of its `names`), sorted.
pub fn distinct(sets: &[(String, Vec<String>)]) -> Vec<String> {
    // Groups of (names, tokens), merged as each set arrives.
    let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (name, tokens) in sets {
        let mut names = vec![name.clone()];
        let mut merged: Vec<String> = tokens.clone();
        merged.push(name.clone());
        let mut i = 0;
        while i < groups.len() {
            if groups[i].1.iter().any(|t| merged.contains(t)) {
                let (n, t) = groups.swap_remove(i);
                names.extend(n);
                merged.extend(t);
                // Start over: the grown set may now touch a group already passed.
                i = 0;
            } else {
                i += 1;
            }
        }
        groups.push((names, merged));
    }
    let mut out: Vec<String> = groups
        .into_iter()
        .filter_map(|(mut n, _)| {
            n.sort();
            n.into_iter().next()
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, tokens: &[&str]) -> (String, Vec<String>) {
        (name.into(), tokens.iter().map(|t| t.to_string()).collect())
    }

    #[test]
    fn shared_material_is_one_signer() {
        let sets = [
            set("minisign:A", &["ed25519:11"]),
            set("signify:B", &["ed25519:11"]),
            set("openpgp:C", &["openpgp:C", "ed25519:22"]),
            set("ssh:D", &["ed25519:22"]),
            set("ssh:E", &["rsa:33"]),
        ];
        assert_eq!(distinct(&sets), ["minisign:A", "openpgp:C", "ssh:E"]);
    }

    /// One ECDSA key in two certificates of different creation times: two
    /// fingerprints, one signer.
    #[test]
    fn one_openpgp_key_under_two_fingerprints_is_one_signer() {
        use openpgp::packet::key::{Key4, PrimaryRole, SecretParts};
        use std::time::{Duration, UNIX_EPOCH};
        let key: Key4<SecretParts, PrimaryRole> =
            Key4::generate_ecc(true, openpgp::types::Curve::NistP256).unwrap();
        let mut later = key.clone();
        later
            .set_creation_time(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .unwrap();
        let cert = |k: Key4<SecretParts, PrimaryRole>| {
            let public = openpgp::packet::Key::V4(k.parts_into_public());
            openpgp::Cert::from_packets(std::iter::once(openpgp::Packet::from(public))).unwrap()
        };
        let (a, b) = (cert(key), cert(later));
        assert_ne!(a.fingerprint(), b.fingerprint());
        let sets = [
            ("openpgp:A".to_string(), openpgp_cert(&a)),
            ("openpgp:B".to_string(), openpgp_cert(&b)),
        ];
        assert_eq!(distinct(&sets).len(), 1);
    }

    #[test]
    fn a_bridge_joins_groups_seen_earlier() {
        let sets = [
            set("a", &["t1"]),
            set("b", &["t2"]),
            set("c", &["t1", "t2"]),
        ];
        assert_eq!(distinct(&sets), ["a"]);
        assert_eq!(rsa(&[0, 0, 1, 2]), "rsa:0102");
    }
}
