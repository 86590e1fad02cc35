//! Low-level, beneath-only file-system operations shared by staging and commit.
//!
//! Every path handed to these functions is relative to a directory handle and is
//! resolved without following symlinks and without leaving that directory
//! (invariant 3). On Linux that is one `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)`; elsewhere, on kernels without openat2, or when
//! `PROJECTRESTORE_PORTABLE_FS=1` (so the fallback is tested on Linux too), it is a
//! walk from the handle, one `O_NOFOLLOW` component at a time; on macOS one
//! `openat` with `O_NOFOLLOW_ANY` (macOS 11+) after the components are checked,
//! else the same walk.
//!
//! | operation | Linux | macOS | other Unix, or `PROJECTRESTORE_PORTABLE_FS=1` |
//! |---|---|---|---|
//! | beneath-only open | `openat2(BENEATH \| NO_SYMLINKS)` | `O_NOFOLLOW_ANY` | `O_NOFOLLOW` walk |
//! | atomic swap | `renameat2(RENAME_EXCHANGE)` | `renamex_np(RENAME_SWAP)` | two renames under the journal |
//! | first restore | `renameat2(RENAME_NOREPLACE)` | `renamex_np(RENAME_EXCL)` | check, then rename, under the lock |
//! | durability | one `syncfs` | `fsync` per file, then `F_FULLFSYNC` | `fsync` per file and directory |
//! | lock | `flock` | `flock` | `flock` |

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};

/// Use the component-by-component walk instead of openat2? (Only the test hooks
/// say yes on Linux: see [`crate::hooks`].)
pub fn portable() -> bool {
    crate::hooks::portable()
}

/// Open `path` as `options` says, without following a symbolic link in its
/// last component and without blocking on a FIFO (a pipe swapped in after a
/// check would otherwise hang an open that waits for its other end). What was
/// opened is then the caller's to judge with `fstat`; a link is an error that
/// [`is_symlink_refusal`] recognises. The descriptor is left non-blocking:
/// irrelevant for regular files; a caller that keeps a pipe clears it.
pub fn open_unfollowed(
    path: &std::path::Path,
    options: &mut std::fs::OpenOptions,
) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    options
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .open(path)
}

/// Did [`open_unfollowed`] refuse a symbolic link? (`ELOOP` on Linux and macOS,
/// `EMLINK` on FreeBSD.)
pub fn is_symlink_refusal(e: &io::Error) -> bool {
    let loop_ = Some(rustix::io::Errno::LOOP.raw_os_error());
    let freebsd = cfg!(target_os = "freebsd")
        && e.raw_os_error() == Some(rustix::io::Errno::MLINK.raw_os_error());
    e.raw_os_error() == loop_ || freebsd
}

/// Permission bits as rustix takes them (`mode_t` is 16 bits on macOS, 32 on Linux).
#[allow(clippy::unnecessary_cast)]
pub fn mode(bits: u32) -> Mode {
    Mode::from_raw_mode((bits & 0o7777) as rfs::RawMode)
}

fn errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from(e)
}

/// Open `rel` beneath `root`, never following a symlink in any component.
pub fn open_beneath(
    root: BorrowedFd<'_>,
    rel: &str,
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    open_beneath_with(root, rel, flags, mode, portable())
}

/// [`open_beneath`] with the resolution method chosen by the caller (tests use both).
pub fn open_beneath_with(
    root: BorrowedFd<'_>,
    rel: &str,
    flags: OFlags,
    mode: Mode,
    walk: bool,
) -> io::Result<OwnedFd> {
    let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    #[cfg(target_os = "linux")]
    if !walk {
        use rustix::fs::ResolveFlags;
        match rfs::openat2(
            root,
            rel,
            flags,
            mode,
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
        ) {
            Err(rustix::io::Errno::NOSYS) => {}
            other => return other.map_err(errno),
        }
    }
    #[cfg(target_vendor = "apple")]
    if !walk {
        check_components(rel)?;
        match rfs::openat(root, rel, flags | OFlags::NOFOLLOW_ANY, mode) {
            // Before macOS 11 the flag is unknown: walk instead.
            Err(rustix::io::Errno::INVAL) => {}
            other => return other.map_err(errno),
        }
    }
    let _ = walk; // only Linux and macOS have a one-call resolution to skip
    walk_open(root, rel, flags, mode)
}

/// `..`, `.` and empty components are never resolved (and `/` never leads).
fn check_components(rel: &str) -> io::Result<()> {
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("refusing path component {part:?}"),
            ));
        }
    }
    Ok(())
}

/// The portable walk: every intermediate component is opened as a directory with
/// `O_NOFOLLOW` from the previous handle; `..`, `.` and empty components are refused.
fn walk_open(root: BorrowedFd<'_>, rel: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
    check_components(rel)?;
    let mut parts = rel.split('/').peekable();
    let mut cur: Option<OwnedFd> = None;
    while let Some(part) = parts.next() {
        let dir = cur.as_ref().map_or(root, |fd| fd.as_fd());
        if parts.peek().is_none() {
            return rfs::openat(dir, part, flags, mode).map_err(errno);
        }
        let next = rfs::openat(
            dir,
            part,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)?;
        cur = Some(next);
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, "empty path"))
}

/// Open the directory that holds `rel` (beneath `root`) and return it with the last component.
pub fn open_parent<'p>(root: BorrowedFd<'_>, rel: &'p str) -> io::Result<(OwnedFd, &'p str)> {
    match rel.rsplit_once('/') {
        Some((parent, name)) => Ok((
            open_beneath(
                root,
                parent,
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
            )?,
            name,
        )),
        None => Ok((root.try_clone_to_owned()?, rel)),
    }
}

/// Is `name` in `dir` a directory (not following a symlink)? `None` if it does not exist.
pub fn kind_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Option<FileType>> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(errno(e)),
    }
}

/// (device, inode) of `name` in `dir`, not following a symlink.
pub fn identity_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Option<(u64, u64)>> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(identity(&st))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(errno(e)),
    }
}

/// (device, inode) from a stat result.
// The field types differ between platforms (i32 device numbers on macOS).
#[allow(clippy::unnecessary_cast)]
pub fn identity(st: &rfs::Stat) -> (u64, u64) {
    (st.st_dev as u64, st.st_ino as u64)
}

/// How the deep part of a tree being removed is named once moved up beside
/// it ([`remove_tree`]); recovery removes any such leftover of a crash.
pub const REMOVING_PREFIX: &str = ".projectrestore-remove-";

/// Remove `name` in `parent` and everything beneath it, never following a symlink.
/// Directories are made writable first, so read-only trees from archives go too.
/// Any depth: a directory deeper than [`MAX_WALK_DEPTH`] below where the walk
/// started is first moved up beside `name` (in `parent`, the same file
/// system) and removed from there, so neither the stack nor the open
/// descriptors grow with the tree.
pub fn remove_tree(parent: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let name = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name with a NUL byte"))?;
    let mut queue = vec![name];
    let mut moved = 0u64;
    while let Some(next) = queue.pop() {
        remove_at(parent, parent, &next, 0, &mut queue, &mut moved)?;
    }
    Ok(())
}

fn remove_at(
    top: BorrowedFd<'_>,
    parent: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    depth: usize,
    queue: &mut Vec<std::ffi::CString>,
    moved: &mut u64,
) -> io::Result<()> {
    let kind = match rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => FileType::from_raw_mode(st.st_mode),
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(e) => return Err(errno(e)),
    };
    if kind != FileType::Directory {
        return rfs::unlinkat(parent, name, AtFlags::empty()).map_err(errno);
    }
    if depth >= MAX_WALK_DEPTH {
        // Too deep to go on from here: move it up beside the top and
        // remove it from there later.
        // A name nothing holds: a leftover of an earlier run (the same pid
        // again, in a container) must be neither replaced nor a reason to fail.
        let up = loop {
            let candidate =
                std::ffi::CString::new(format!("{REMOVING_PREFIX}{}-{moved}", std::process::id()))
                    .map_err(|_| io::Error::other("a NUL byte in a generated name"))?;
            *moved += 1;
            match rfs::statat(top, candidate.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Err(rustix::io::Errno::NOENT) => break candidate,
                Ok(_) => continue,
                Err(e) => return Err(errno(e)),
            }
        };
        rfs::renameat(parent, name, top, up.as_c_str()).map_err(errno)?;
        queue.push(up);
        return Ok(());
    }
    let dir = open_dir_at(parent, name)?;
    let _ = rfs::fchmod(&dir, Mode::from_raw_mode(0o700));
    for child in sorted_names(dir.as_fd())? {
        remove_at(top, dir.as_fd(), &child, depth + 1, queue, moved)?;
    }
    rfs::unlinkat(parent, name, AtFlags::REMOVEDIR).map_err(errno)
}

/// Is this error "the file system cannot do that" (so a fallback applies)?
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
fn unsupported(e: rustix::io::Errno) -> bool {
    matches!(
        e,
        rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP
    )
}

/// Atomically exchange two directory entries. `ErrorKind::Unsupported` when the
/// file system or platform cannot (the caller then uses its journaled fallback).
pub fn rename_exchange(
    a_dir: BorrowedFd<'_>,
    a: &str,
    b_dir: BorrowedFd<'_>,
    b: &str,
) -> io::Result<()> {
    // renameat2(RENAME_EXCHANGE) on Linux, renamex_np(RENAME_SWAP) on macOS.
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    {
        if portable() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "exchange disabled by PROJECTRESTORE_PORTABLE_FS",
            ));
        }
        match rfs::renameat_with(a_dir, a, b_dir, b, rfs::RenameFlags::EXCHANGE) {
            Err(e) if unsupported(e) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "RENAME_EXCHANGE is not supported here",
            )),
            other => other.map_err(errno),
        }
    }
    #[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
    {
        let _ = (a_dir, a, b_dir, b);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "atomic exchange is not implemented on this platform",
        ))
    }
}

/// Rename without replacing an existing entry.
pub fn rename_noreplace(
    a_dir: BorrowedFd<'_>,
    a: &str,
    b_dir: BorrowedFd<'_>,
    b: &str,
) -> io::Result<()> {
    // renameat2(RENAME_NOREPLACE) on Linux, renamex_np(RENAME_EXCL) on macOS.
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    if !portable() {
        match rfs::renameat_with(a_dir, a, b_dir, b, rfs::RenameFlags::NOREPLACE) {
            Err(e) if unsupported(e) => {}
            other => return other.map_err(errno),
        }
    }
    // Fallback: check, then rename. The state directory's lock keeps other
    // projectrestore runs out; a racing foreign writer loses nothing (its entry
    // would be a directory, which rename refuses to replace unless it is empty).
    if kind_at(b_dir, b)?.is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{b} already exists"),
        ));
    }
    rfs::renameat(a_dir, a, b_dir, b).map_err(errno)
}

/// A plain rename between directory handles.
pub fn rename(a_dir: BorrowedFd<'_>, a: &str, b_dir: BorrowedFd<'_>, b: &str) -> io::Result<()> {
    rfs::renameat(a_dir, a, b_dir, b).map_err(errno)
}

/// Make a file's or directory's contents durable. On macOS `fsync` only reaches
/// the drive's cache; `F_FULLFSYNC` reaches the medium.
pub fn fsync(fd: BorrowedFd<'_>) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    {
        match rfs::fcntl_fullfsync(fd) {
            // File systems without F_FULLFSYNC (some network and FUSE ones).
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOTSUP) => {}
            other => return other.map_err(errno),
        }
    }
    rfs::fsync(fd).map_err(errno)
}

/// Make a directory's entries durable.
pub fn fsync_dir(dir: BorrowedFd<'_>) -> io::Result<()> {
    fsync(dir)
}

/// Whether one [`sync_filesystem`] makes every file written beneath a directory
/// durable (Linux `syncfs`). Elsewhere, and with `PROJECTRESTORE_PORTABLE_FS=1`,
/// the staging writer fsyncs each file and directory itself.
pub fn syncfs_covers_files() -> bool {
    cfg!(target_os = "linux") && !portable()
}

/// Flush the file system that holds `fd`: `syncfs` on Linux (since 5.8 it reports
/// write-back errors); elsewhere a full fsync of `fd`, after the caller synced
/// each file (see [`syncfs_covers_files`]).
pub fn sync_filesystem(fd: BorrowedFd<'_>) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        if syncfs_covers_files() {
            return rfs::syncfs(fd).map_err(errno);
        }
    }
    fsync(fd)
}

/// Open directory `name` in `parent`, never following a symlink.
fn open_dir_at(parent: BorrowedFd<'_>, name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    rfs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)
}

/// The names in a directory but `.` and `..`, sorted.
fn sorted_names(dir: BorrowedFd<'_>) -> io::Result<Vec<std::ffi::CString>> {
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(dir).map_err(errno)? {
        let entry = entry.map_err(errno)?;
        let n = entry.file_name();
        if n.to_bytes() != b"." && n.to_bytes() != b".." {
            names.push(n.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// How deep [`tree_usage`] and [`same_tree`] go. Each level holds a
/// descriptor and a stack frame; a restored tree is at most `--max-depth`
/// (128 by default) deep, but a tree someone built in the destination may
/// be any depth: past this, measuring fails and comparing says "not the
/// same", never a stack overflow.
pub const MAX_WALK_DEPTH: usize = 512;

fn too_deep() -> io::Error {
    io::Error::other(format!(
        "the tree is more than {MAX_WALK_DEPTH} directories deep"
    ))
}

/// Bytes on disk (allocated blocks) of `name` in `parent` and everything
/// beneath it, never following a symlink; an inode in `seen` already (a hard
/// link, or a file shared with a tree counted before) is not counted again.
pub fn tree_usage(
    parent: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    seen: &mut std::collections::HashSet<(u64, u64)>,
) -> io::Result<u64> {
    usage_at(parent, name, seen, 0)
}

// st_blocks is i64 on Linux, u64 elsewhere.
#[allow(clippy::unnecessary_cast)]
fn usage_at(
    parent: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    seen: &mut std::collections::HashSet<(u64, u64)>,
    depth: usize,
) -> io::Result<u64> {
    if depth > MAX_WALK_DEPTH {
        return Err(too_deep());
    }
    let st = rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
    let mut total = 0;
    if seen.insert(identity(&st)) {
        total += (st.st_blocks as u64).saturating_mul(512);
    }
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        let dir = open_dir_at(parent, name)?;
        for child in sorted_names(dir.as_fd())? {
            total += usage_at(dir.as_fd(), &child, seen, depth + 1)?;
        }
    }
    Ok(total)
}

/// Are `a` (in `a_parent`) and `b` (in `b_parent`) the same tree: the same
/// names, types, permission bits, owners, modification times, link targets
/// and file contents? Never follows a symlink; stops at the first
/// difference; a tree deeper than [`MAX_WALK_DEPTH`] is "not the same".
/// (Extended attributes and ACLs are not compared: a restore writes none.)
pub fn same_tree(
    a_parent: BorrowedFd<'_>,
    a: &std::ffi::CStr,
    b_parent: BorrowedFd<'_>,
    b: &std::ffi::CStr,
) -> io::Result<bool> {
    same_at(a_parent, a, b_parent, b, 0)
}

fn same_at(
    a_parent: BorrowedFd<'_>,
    a: &std::ffi::CStr,
    b_parent: BorrowedFd<'_>,
    b: &std::ffi::CStr,
    depth: usize,
) -> io::Result<bool> {
    if depth > MAX_WALK_DEPTH {
        return Ok(false);
    }
    let sa = rfs::statat(a_parent, a, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
    let sb = rfs::statat(b_parent, b, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
    let kind = FileType::from_raw_mode(sa.st_mode);
    if kind != FileType::from_raw_mode(sb.st_mode)
        || sa.st_mode & 0o7777 != sb.st_mode & 0o7777
        || (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid)
        || (kind != FileType::Directory
            && (sa.st_size != sb.st_size
                || (sa.st_mtime, sa.st_mtime_nsec) != (sb.st_mtime, sb.st_mtime_nsec)))
    {
        return Ok(false);
    }
    match kind {
        FileType::Directory => {
            let (da, db) = (open_dir_at(a_parent, a)?, open_dir_at(b_parent, b)?);
            let (na, nb) = (sorted_names(da.as_fd())?, sorted_names(db.as_fd())?);
            if na != nb {
                return Ok(false);
            }
            for n in &na {
                if !same_at(da.as_fd(), n, db.as_fd(), n, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        FileType::Symlink => Ok(rfs::readlinkat(a_parent, a, Vec::new()).map_err(errno)?
            == rfs::readlinkat(b_parent, b, Vec::new()).map_err(errno)?),
        FileType::RegularFile => {
            use std::io::Read;
            let open = |p, n| {
                rfs::openat(
                    p,
                    n,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map(std::fs::File::from)
                .map_err(errno)
            };
            let (mut fa, mut fb) = (open(a_parent, a)?, open(b_parent, b)?);
            let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
            loop {
                let n = fa.read(&mut ba)?;
                if n == 0 {
                    // Same size by stat, so b ends here too unless it grew.
                    return Ok(fb.read(&mut bb[..1])? == 0);
                }
                match fb.read_exact(&mut bb[..n]) {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                    other => other?,
                }
                if ba[..n] != bb[..n] {
                    return Ok(false);
                }
            }
        }
        // Devices, FIFOs, sockets: never written by a restore; not the same.
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root(dir: &std::path::Path) -> OwnedFd {
        rfs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap()
    }

    /// A tree deeper than the walk goes is removed whole, its deep part moved
    /// up first; a leftover of an earlier run under the name the move would
    /// take (the same pid again, in a container) is neither replaced nor a
    /// reason to fail.
    #[test]
    fn deep_trees_are_removed_past_leftovers_of_earlier_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let top = root(tmp.path());
        rfs::mkdirat(&top, "tree", Mode::from_raw_mode(0o755)).unwrap();
        let mut dir = open_dir_at(top.as_fd(), c"tree").unwrap();
        for _ in 0..MAX_WALK_DEPTH + 50 {
            rfs::mkdirat(&dir, "d", Mode::from_raw_mode(0o755)).unwrap();
            dir = open_dir_at(dir.as_fd(), c"d").unwrap();
        }
        drop(dir);
        let planted = format!("{REMOVING_PREFIX}{}-0", std::process::id());
        std::fs::create_dir(tmp.path().join(&planted)).unwrap();
        std::fs::write(tmp.path().join(&planted).join("keep"), b"x").unwrap();
        remove_tree(top.as_fd(), "tree").unwrap();
        assert!(!tmp.path().join("tree").exists());
        assert!(tmp.path().join(&planted).join("keep").exists());
    }

    /// Both resolution methods refuse `..`, absolute paths and paths through symlinks.
    #[test]
    fn refuses_escapes_both_ways() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("root");
        std::fs::create_dir_all(base.join("sub")).unwrap();
        std::fs::write(tmp.path().join("outside"), b"secret").unwrap();
        symlink(tmp.path(), base.join("link")).unwrap();
        symlink(tmp.path().join("outside"), base.join("filelink")).unwrap();
        let fd = root(&base);
        for walk in [false, true] {
            for bad in [
                "../outside",
                "/etc/passwd",
                "link/outside",
                "filelink",
                "sub/../../outside",
            ] {
                let r = open_beneath_with(fd.as_fd(), bad, OFlags::RDONLY, Mode::empty(), walk);
                assert!(r.is_err(), "walk={walk}: {bad} was opened");
            }
            assert!(open_beneath_with(
                fd.as_fd(),
                "sub",
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
                walk
            )
            .is_ok());
        }
    }

    /// A symlink planted where a file is to be created is not followed.
    #[test]
    fn create_does_not_follow_a_planted_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("root");
        std::fs::create_dir(&base).unwrap();
        symlink(tmp.path().join("target"), base.join("f")).unwrap();
        let fd = root(&base);
        for walk in [false, true] {
            let r = open_beneath_with(
                fd.as_fd(),
                "f",
                OFlags::WRONLY | OFlags::CREATE,
                Mode::from_raw_mode(0o600),
                walk,
            );
            assert!(r.is_err(), "walk={walk}");
        }
        assert!(!tmp.path().join("target").exists());
    }

    #[test]
    fn remove_tree_removes_read_only_trees_and_not_what_links_point_to() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"keep").unwrap();
        let t = tmp.path().join("tree");
        std::fs::create_dir_all(t.join("a/b")).unwrap();
        std::fs::write(t.join("a/b/f"), b"x").unwrap();
        symlink(&outside, t.join("a/link")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.join("a/b"), std::fs::Permissions::from_mode(0o555)).unwrap();
        std::fs::set_permissions(t.join("a"), std::fs::Permissions::from_mode(0o500)).unwrap();
        let fd = root(tmp.path());
        remove_tree(fd.as_fd(), "tree").unwrap();
        assert!(!t.exists());
        assert_eq!(std::fs::read(outside.join("keep")).unwrap(), b"keep");
    }

    #[test]
    fn exchange_swaps_directories() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("a")).unwrap();
        std::fs::write(tmp.path().join("a/x"), b"a").unwrap();
        std::fs::create_dir(tmp.path().join("b")).unwrap();
        let fd = root(tmp.path());
        match rename_exchange(fd.as_fd(), "a", fd.as_fd(), "b") {
            Ok(()) => assert!(tmp.path().join("b/x").exists() && !tmp.path().join("a/x").exists()),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::Unsupported),
        }
        assert!(rename_noreplace(fd.as_fd(), "a", fd.as_fd(), "b").is_err());
    }
}
