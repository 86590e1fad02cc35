//! Command-line definitions (clap derive), turned into library options.

pub mod output;
pub mod progress;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use projectrestore::archive::{EntryPolicy, Limits};
use projectrestore::decrypt::PassphraseOptions;
use projectrestore::restore::{Options, PassMode};
use projectrestore::source::Input;
use projectrestore::verify::SigPolicy;

/// Restore project backups that trust nothing: verify signatures, decrypt,
/// validate every tar entry, and swap the result into place atomically.
#[derive(Debug, Parser)]
#[command(name = "projectrestore", version, max_term_width = 100, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success, 1 error, 2 interrupted, 3 another restore holds the lock, \
4 verification failed, 5 archive rejected as unsafe or over a limit, 6 decryption failed, 64 usage error.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify, decrypt, validate and atomically restore an archive into DIR.
    #[command(after_help = "Examples:
  projectrestore restore backup.tar.zst.age --to ~/src/app --trust keys/ -i key.txt
  projectrestore restore --backup-dir ~/project_backups --to ~/src/app --strip-components 1
  curl -s https://host/b.tar.gz | projectrestore restore - --to app --checksum b.tar.gz.sha256

Without ARCHIVE the newest archive in --backup-dir matching --pattern is restored.
The replaced tree is kept in .DIR.projectrestore/generations (see --keep).")]
    Restore(RestoreArgs),
    /// Check an archive completely (signatures, checksum, decryption, every entry) without writing anything.
    #[command(after_help = "Examples:
  projectrestore verify backup.tar.gz --trust keys/
  projectrestore verify backup.tar.zst.age --trust keys/ -i key.txt --json")]
    Verify(VerifyCmd),
    /// Write the decrypted stored stream (e.g. the .tar.zst inside a .age) for inspection.
    #[command(after_help = "Examples:
  projectrestore decrypt backup.tar.zst.age -i key.txt -o backup.tar.zst
  projectrestore decrypt backup.tar.gz.gpg -i secret.asc | tar -tzf -

Nothing is verified or extracted: use `verify` or `restore` for that. On any failure
the partial output file is removed and the exit code is non-zero.")]
    Decrypt(DecryptArgs),
    /// List the archives in a backup directory, newest first, with their sidecars.
    #[command(after_help = "Example:
  projectrestore list --backup-dir ~/project_backups")]
    List(ListArgs),
    /// Finish or undo an interrupted restore of DIR and remove stale staging.
    #[command(after_help = "Example:
  projectrestore recover ~/src/app")]
    Recover(RecoverArgs),
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive file, or `-` for standard input. Default: the newest in --backup-dir.
    pub archive: Option<PathBuf>,
    /// The destination directory.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Where to look for the newest archive when ARCHIVE is not given.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Glob for archive names in --backup-dir.
    #[arg(long, value_name = "GLOB", default_value = projectrestore::discover::DEFAULT_PATTERN)]
    pub pattern: String,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Drop this many leading path components (as tar); 1 turns a projectclone archive into the project itself.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub strip_components: usize,
    /// Keep setuid/setgid/sticky and group/world-write bits (stripped by default).
    #[arg(long)]
    pub keep_permissions: bool,
    /// Apply the archive's owners and groups (root only).
    #[arg(long)]
    pub same_owner: bool,
    /// How many replaced trees to keep as generations.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub keep: usize,
    /// Wait for another restore of the same destination instead of failing with exit 3.
    #[arg(long)]
    pub wait: bool,
    /// When --to is a symlink, restore into the directory it points to (refused by default).
    #[arg(long)]
    pub follow_dest_symlink: bool,
    /// Replace a non-empty directory that projectrestore did not create, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Do the whole pass (read, verify, decrypt, validate) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct VerifyCmd {
    /// The archive file, or `-` for standard input.
    pub archive: PathBuf,
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Verification, decryption and limit flags shared by `restore` and `verify`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A detached signature (OpenPGP, minisign, SSH or signify; repeatable). Default: ARCHIVE.sig/.asc/.minisig.
    #[arg(long, value_name = "FILE")]
    pub signature: Vec<PathBuf>,
    /// Trusted public keys: a directory or a file (repeatable). With a trust store, unsigned archives are refused.
    #[arg(long, value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Require signatures by this many distinct trusted keys.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub threshold: usize,
    /// UNSAFE: restore even without a valid trusted signature.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Namespace SSH signatures must carry.
    #[arg(long, value_name = "NS", default_value = "file")]
    pub ssh_namespace: String,
    /// Accept legacy (non-prehashed) minisign signatures.
    #[arg(long)]
    pub allow_legacy_minisign: bool,
    /// Expected SHA-256 (sha256sum format). Default: ARCHIVE.sha256 if it exists.
    #[arg(long, value_name = "FILE")]
    pub checksum: Option<PathBuf>,
    /// Decryption identity: age identity file, SSH private key or OpenPGP secret key (repeatable).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Read the decryption passphrase from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Check signatures in a first pass before any byte is decrypted or parsed (default for files).
    #[arg(long, conflicts_with = "single_pass")]
    pub verify_first: bool,
    /// Read the archive once; the staging gate protects the destination.
    #[arg(long)]
    pub single_pass: bool,
    /// Accept GNU sparse entries.
    #[arg(long)]
    pub allow_sparse: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource limits (invariant 4).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Maximum number of entries.
    #[arg(long, value_name = "N")]
    pub max_files: Option<u64>,
    /// Maximum total size of file contents (e.g. 500M, 2G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_bytes: Option<u64>,
    /// Maximum size of one file (e.g. 4G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_entry_size: Option<u64>,
    /// Maximum number of path components.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Maximum path length in bytes.
    #[arg(long, value_name = "N")]
    pub max_path_length: Option<usize>,
    /// Maximum file-name length in bytes.
    #[arg(long, value_name = "N")]
    pub max_name_length: Option<usize>,
    /// Maximum size of one PAX or GNU long-name header.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_pax_size: Option<u64>,
    /// Maximum decompressed/compressed ratio.
    #[arg(long, value_name = "N")]
    pub max_ratio: Option<u64>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print one JSON report on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The encrypted archive, or `-` for standard input.
    pub archive: PathBuf,
    /// Decryption identity: age identity file, SSH private key or OpenPGP secret key (repeatable).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Read the passphrase from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The backup directory.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Glob for archive names.
    #[arg(long, value_name = "GLOB", default_value = projectrestore::discover::DEFAULT_PATTERN)]
    pub pattern: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The destination directory whose restore was interrupted.
    pub dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(s: &str) -> Result<u64, String> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(s)
        .map_err(|e| format!("{e} (use e.g. 500M or 2G)"))
}

impl LimitArgs {
    fn apply(&self) -> Limits {
        let mut l = Limits::default();
        macro_rules! set {
            ($($field:ident <- $arg:ident),*) => { $( if let Some(v) = self.$arg { l.$field = v; } )* };
        }
        set!(max_files <- max_files, max_bytes <- max_bytes, max_entry_bytes <- max_entry_size,
             max_depth <- max_depth, max_path_bytes <- max_path_length, max_name_bytes <- max_name_length,
             max_pax_bytes <- max_pax_size, max_ratio <- max_ratio);
        l
    }
}

impl CheckArgs {
    /// Library options for these flags (input and destination are set by the caller).
    pub fn options(&self) -> Options {
        Options {
            signatures: self.signature.clone(),
            trust: self.trust.clone(),
            sig_policy: SigPolicy {
                threshold: self.threshold,
                allow_unsigned: self.allow_unsigned,
                ssh_namespace: self.ssh_namespace.clone(),
                allow_legacy_minisign: self.allow_legacy_minisign,
            },
            checksum: self.checksum.clone(),
            identities: self.identity.clone(),
            passphrase: PassphraseOptions {
                file: self.passphrase_file.clone(),
                env: true,
                prompt: std::io::IsTerminal::is_terminal(&std::io::stdin()),
            },
            limits: self.limits.apply(),
            policy: EntryPolicy {
                allow_sparse: self.allow_sparse,
                ..EntryPolicy::default()
            },
            mode: if self.verify_first {
                PassMode::VerifyFirst
            } else if self.single_pass {
                PassMode::SinglePass
            } else {
                PassMode::Auto
            },
            ..Options::default()
        }
    }
}

/// The input a `restore` names, or the newest archive in the backup directory.
pub fn restore_input(args: &RestoreArgs) -> Result<Input, projectrestore::Error> {
    match &args.archive {
        Some(a) => Ok(Input::from_arg(a)),
        None => {
            let dir = args
                .backup_dir
                .clone()
                .unwrap_or_else(projectrestore::discover::default_backup_dir);
            Ok(Input::File(
                projectrestore::discover::latest(&dir, &args.pattern)?.path,
            ))
        }
    }
}
