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
    use openpgp::crypto::mpi::PublicKey;
    let mut out = vec![format!("openpgp:{}", cert.fingerprint())];
    for ka in cert.keys() {
        match ka.key().mpis() {
            PublicKey::EdDSA { curve, q } if *curve == openpgp::types::Curve::Ed25519 => {
                // Native encoding: 0x40 followed by the 32-byte key.
                let v = q.value();
                if v.len() == 33 && v[0] == 0x40 {
                    out.push(ed25519(&v[1..]));
                }
            }
            PublicKey::Ed25519 { a } => out.push(ed25519(a)),
            PublicKey::RSA { n, .. } => out.push(rsa(n.value())),
            _ => out.push(format!("openpgp-key:{}", ka.key().fingerprint())),
        }
    }
    out
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
