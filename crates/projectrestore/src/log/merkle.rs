//! RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof checking.
//!
//! Hashes: leaf `SHA-256(0x00 || entry)`, node `SHA-256(0x01 || left || right)`, and
//! the empty tree `SHA-256("")`. Proof generation works over any [`NodeSource`]
//! (the log's tiles on disk, or a slice of leaf hashes in memory), so the same code
//! answers for a million-entry log without reading it whole.

use sha2::{Digest, Sha256};

/// A SHA-256 output.
pub type Hash = [u8; 32];

/// Proofs from outside are bounded: no tree this log can hold needs more.
pub const MAX_PROOF_HASHES: usize = 64;

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Why a proof did not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {0} hashes; at most {MAX_PROOF_HASHES} are accepted")]
    TooLong(usize),
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongLength,
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
    #[error("tree size {new} is smaller than {old}: a log never shrinks")]
    Shrunk { old: u64, new: u64 },
    #[error("the trees have the same size but different roots")]
    SameSizeDifferentRoot,
    #[error("a consistency proof between equal sizes or from the empty tree must be empty")]
    NotEmpty,
}

/// Where the hashes of complete subtrees come from.
pub trait NodeSource {
    /// The error reading a node.
    type Error: From<ProofError>;
    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index << level`.
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// In-memory leaf hashes (tests, `log verify` after recomputing every leaf).
impl NodeSource for &[Hash] {
    type Error = ProofError;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, ProofError> {
        let lo = (index << level) as usize;
        let hi = lo + (1usize << level);
        Ok(perfect_root(&self[lo..hi]))
    }
}

/// The root of a perfect subtree given its leaf-level (or any one-level) hashes.
pub fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
    }
    level[0]
}

/// The root of any number of leaf hashes (MTH of RFC 9162), in memory.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[lo:hi]) from complete-subtree hashes: O(log n) node reads.
pub fn subtree<S: NodeSource>(src: &mut S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let n = hi - lo;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return src.node(n.trailing_zeros(), lo / n);
    }
    let k = split(n);
    let left = subtree(src, lo, lo + k)?;
    let right = subtree(src, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: NodeSource>(src: &mut S, size: u64) -> Result<Hash, S::Error> {
    subtree(src, 0, size)
}

/// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, deepest hash first.
pub fn inclusion_proof<S: NodeSource>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut out = Vec::new();
    path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn path<S: NodeSource>(
    src: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(src, m, lo, lo + k, out)?;
        out.push(subtree(src, lo + k, hi)?);
    } else {
        path(src, m - k, lo + k, hi, out)?;
        out.push(subtree(src, lo, lo + k)?);
    }
    Ok(())
}

/// PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1.
pub fn consistency_proof<S: NodeSource>(
    src: &mut S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, S::Error> {
    if old > new {
        return Err(ProofError::Shrunk { old, new }.into());
    }
    let mut out = Vec::new();
    if old == 0 || old == new {
        return Ok(out);
    }
    subproof(src, old, 0, new, true, &mut out)?;
    Ok(out)
}

fn subproof<S: NodeSource>(
    src: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(subtree(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, lo, lo + k, complete, out)?;
        out.push(subtree(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(subtree(src, lo, lo + k)?);
    }
    Ok(())
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong(proof.len()));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Check that `leaf` is leaf `index` of the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if root_from_inclusion(index, size, leaf, proof)? == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Check that the tree (`old`, `old_root`) is a prefix of (`new`, `new_root`)
/// (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong(proof.len()));
    }
    if old > new {
        return Err(ProofError::Shrunk { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::NotEmpty);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::SameSizeDifferentRoot)
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::NotEmpty)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn every_proof_up_to_64_leaves() {
        let all = leaves(64);
        for size in 1..=64u64 {
            let tree = &all[..size as usize];
            let root = root_of(tree);
            let mut src: &[Hash] = tree;
            assert_eq!(super::root(&mut src, size).unwrap(), root);
            for i in 0..size {
                let p = inclusion_proof(&mut src, i, size).unwrap();
                verify_inclusion(i, size, &tree[i as usize], &p, &root).unwrap();
                // The same proof for a neighbouring leaf, or at another index, fails.
                let other = &tree[((i + 1) % size) as usize];
                if size > 1 {
                    assert!(verify_inclusion(i, size, other, &p, &root).is_err());
                }
            }
            for old in 0..=size {
                let old_root = root_of(&all[..old as usize]);
                let p = consistency_proof(&mut src, old, size).unwrap();
                verify_consistency(old, size, &old_root, &root, &p).unwrap();
                if old > 0 && old < size {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
                }
            }
        }
    }

    #[test]
    fn bounds() {
        let l = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(1, 1, &l, &[], &l),
            Err(ProofError::IndexOutOfRange { index: 1, size: 1 })
        );
        let long = vec![l; 65];
        assert_eq!(
            verify_inclusion(0, u64::MAX, &l, &long, &l),
            Err(ProofError::TooLong(65))
        );
        assert!(verify_consistency(2, 1, &l, &l, &[]).is_err());
    }
}
