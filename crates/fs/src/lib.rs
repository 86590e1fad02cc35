//! projectrestore-fs: the parts of projectrestore that touch the file system —
//! the beneath-only file-system layer (`fs`), the staging writer (`stage`) and
//! the atomic swap with its journal and generations (`commit`).
//!
//! They are a crate of their own so that they can be type-checked for every
//! platform the tool supports (`cargo check -p projectrestore-fs --target
//! aarch64-apple-darwin`) without the C and crypto dependencies of the whole tool,
//! which cannot be cross-checked. They have no dependency that needs a C compiler.
//! Archive entries come from `projectrestore-archive`, the layer below.

pub mod commit;
pub mod fs;
pub mod hooks;
pub mod stage;

use projectrestore_archive::escape;
