//! The tree's interior hashes as C2SP tlog-tiles: `tile/L/N[.p/W]`, each tile 256
//! hashes of tree level `8·L` (tile height 8). With them a proof or a root reads
//! O(log n) small files instead of the whole log.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use super::merkle::{self, Hash, NodeSource, ProofError};

/// Tile height: each tile spans 8 tree levels.
pub const HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const WIDTH: u64 = 1 << HEIGHT;

/// A tile file that is missing, short or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("cannot read tile {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("tile {path} holds {found} bytes where {want} were expected: the tiles are damaged (`log verify` rebuilds nothing; restore LOG/tile from a copy)")]
    Short {
        path: String,
        found: usize,
        want: usize,
    },
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// `tile/L/N` or `tile/L/N.p/W`, N in 3-digit groups with `x` before all but the last.
pub fn tile_path(level: u32, index: u64, width: u64) -> String {
    let mut n = format!("{:03}", index % 1000);
    let mut rest = index / 1000;
    while rest > 0 {
        n = format!("x{:03}/{n}", rest % 1000);
        rest /= 1000;
    }
    if width == WIDTH {
        format!("tile/{level}/{n}")
    } else {
        format!("tile/{level}/{n}.p/{width}")
    }
}

/// The width of tile (`level`, `index`) in a tree of `size` leaves (0 if it has none).
pub fn width(size: u64, level: u32, index: u64) -> u64 {
    let count = size >> (HEIGHT * level);
    count.saturating_sub(index * WIDTH).min(WIDTH)
}

/// Reads complete-subtree hashes of the tree of `size` leaves from tiles.
pub struct TileReader<'a> {
    root: &'a Path,
    size: u64,
    cache: HashMap<(u32, u64), Vec<u8>>,
    /// Tiles read (for the benchmark and tests).
    pub reads: usize,
}

impl<'a> TileReader<'a> {
    /// Reader for the log directory `root` at tree size `size`.
    pub fn new(root: &'a Path, size: u64) -> Self {
        TileReader {
            root,
            size,
            cache: HashMap::new(),
            reads: 0,
        }
    }

    /// The raw bytes of tile (`level`, `index`) at this tree size.
    pub fn tile(&mut self, level: u32, index: u64) -> Result<&[u8], TileError> {
        if !self.cache.contains_key(&(level, index)) {
            let w = width(self.size, level, index);
            let rel = tile_path(level, index, w);
            let path = self.root.join(&rel);
            let data = fs::read(&path).map_err(|source| TileError::Io {
                path: rel.clone(),
                source,
            })?;
            let want = (w * 32) as usize;
            if data.len() != want {
                return Err(TileError::Short {
                    path: rel,
                    found: data.len(),
                    want,
                });
            }
            self.reads += 1;
            self.cache.insert((level, index), data);
        }
        Ok(self
            .cache
            .get(&(level, index))
            .map(Vec::as_slice)
            .unwrap_or(&[]))
    }
}

fn hashes_of(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect()
}

impl NodeSource for TileReader<'_> {
    type Error = TileError;

    fn node(&mut self, level: u32, index: u64) -> Result<Hash, TileError> {
        let tile_level = level / HEIGHT;
        let sub = level % HEIGHT;
        // The 2^sub hashes of tree level 8·tile_level under this node, all in one tile.
        let first = index << sub;
        let count = 1u64 << sub;
        let tile_index = first / WIDTH;
        let offset = (first % WIDTH) as usize;
        let bytes = self.tile(tile_level, tile_index)?;
        let end = (offset + count as usize) * 32;
        if end > bytes.len() {
            return Err(ProofError::IndexOutOfRange {
                index: index << level,
                size: self.size,
            }
            .into());
        }
        Ok(merkle::perfect_root(&hashes_of(&bytes[offset * 32..end])))
    }
}

/// Write the tiles that change when the tree of `old` leaves grows by `new_leaves`
/// (leaf hashes). Every file is fsynced before this returns (the checkpoint that
/// covers them is written after). Returns the superseded partial tiles, to remove
/// once the new checkpoint is in place.
pub fn extend(root: &Path, old: u64, new_leaves: &[Hash]) -> Result<Vec<String>, TileError> {
    let io_err = |rel: &str, source: io::Error| TileError::Io {
        path: rel.to_string(),
        source,
    };
    let new = old + new_leaves.len() as u64;
    let mut reader = TileReader::new(root, old);
    let mut superseded = Vec::new();
    let mut dirs = Vec::new();
    // The new hashes at the current tree level 8·level, from index `start`.
    let mut fresh: Vec<Hash> = new_leaves.to_vec();
    let mut level = 0u32;
    loop {
        let start = old >> (HEIGHT * level);
        let end = new >> (HEIGHT * level);
        if end == start {
            break;
        }
        let mut next = Vec::new();
        let mut t = start / WIDTH;
        while t * WIDTH < end {
            let old_w = width(old, level, t);
            let mut content = if old_w > 0 {
                reader.tile(level, t)?.to_vec()
            } else {
                Vec::new()
            };
            let new_w = width(new, level, t);
            let from = (t * WIDTH + old_w) - start;
            let to = (t * WIDTH + new_w) - start;
            for h in &fresh[from as usize..to as usize] {
                content.extend_from_slice(h);
            }
            let rel = tile_path(level, t, new_w);
            let path = super::write_synced(root, &rel, &content).map_err(|e| io_err(&rel, e))?;
            if let Some(p) = path.parent() {
                if !dirs.contains(&p.to_path_buf()) {
                    dirs.push(p.to_path_buf());
                }
            }
            if old_w > 0 && old_w < WIDTH && old_w != new_w {
                superseded.push(tile_path(level, t, old_w));
            }
            if new_w == WIDTH {
                next.push(merkle::perfect_root(&hashes_of(&content)));
            }
            t += 1;
        }
        fresh = next;
        level += 1;
    }
    for d in dirs {
        if let Ok(f) = fs::File::open(&d) {
            f.sync_all()
                .map_err(|e| io_err(&d.display().to_string(), e))?;
        }
    }
    Ok(superseded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(tile_path(0, 0, 256), "tile/0/000");
        assert_eq!(tile_path(1, 1234067, 256), "tile/1/x001/x234/067");
        assert_eq!(tile_path(0, 5, 17), "tile/0/005.p/17");
    }

    #[test]
    fn tiles_agree_with_memory() {
        let dir = tempfile::tempdir().unwrap();
        let leaves: Vec<Hash> = (0..70_000u32)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        // Grow in uneven batches, checking roots and proofs on the way.
        let mut size = 0usize;
        for step in [1usize, 2, 253, 1, 300, 65_536, 3907] {
            extend(dir.path(), size as u64, &leaves[size..size + step]).unwrap();
            size += step;
            let mut r = TileReader::new(dir.path(), size as u64);
            assert_eq!(
                merkle::root(&mut r, size as u64).unwrap(),
                merkle::root_of(&leaves[..size])
            );
            let i = (size as u64 * 7) / 11;
            let p = merkle::inclusion_proof(&mut r, i, size as u64).unwrap();
            merkle::verify_inclusion(
                i,
                size as u64,
                &leaves[i as usize],
                &p,
                &merkle::root_of(&leaves[..size]),
            )
            .unwrap();
            assert!(r.reads <= 12, "{} tile reads", r.reads);
        }
    }
}
