//! Command-line definitions (clap derive), turned into library options.

pub mod events;
pub mod interact;
pub mod legacy;
pub mod logcmd;
pub mod man;
pub mod notify;
pub mod output;
pub mod progress;
pub mod settings;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use projectrestore::event::{Event, Events};

use projectrestore::archive::{EntryPolicy, Limits};
use projectrestore::restore::{Options, PassMode};
use projectrestore::source::Input;
use projectrestore::verify::SigPolicy;

/// Restore project backups that trust nothing: verify signatures, decrypt,
/// validate every tar entry, and swap the result into place atomically.
#[derive(Debug, Parser)]
#[command(name = "projectrestore", version, max_term_width = 100, after_help = EXIT_CODES)]
pub struct Cli {
    /// Read settings from FILE only, instead of ./.projectrestore.rc and the user file.
    #[arg(value_parser = local_path, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
The replaced tree is kept in .DIR.projectrestore/generations (see --keep).

Partial restores (the whole archive is still verified):
  projectrestore restore backup.tar.gz src/config --to /tmp/config-only --strip-components 1
  projectrestore restore backup.tar.gz --include '*.py' --exclude tests --to /tmp/py")]
    Restore(RestoreArgs),
    /// Check an archive completely (signatures, checksum, decryption, every entry) without writing anything.
    #[command(after_help = "Examples:
  projectrestore verify backup.tar.gz --trust keys/
  projectrestore verify backup.tar.zst.age --trust keys/ -i key.txt --json")]
    Verify(VerifyCmd),
    /// List an archive's entries (type, mode, size, mtime, path) after every check of `verify`.
    #[command(after_help = "Examples:
  projectrestore ls backup.tar.zst.age --trust keys/ -i key.txt
  projectrestore ls backup.tar.gz --strip-components 1 --json

The archive gets the full verified pass (signatures, checksum, decryption, every
entry through the validator); the listing is printed only if all of it passed, so
it shows exactly what a restore would write (paths after --strip-components).")]
    Ls(LsCmd),
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
    /// Show what a restore would change (added, removed, modified, mode-changed), writing nothing.
    #[command(after_help = "Examples:
  projectrestore preview backup.tar.zst.age --to ~/src/app --trust keys/ -i key.txt
  projectrestore preview --backup-dir ~/project_backups --to ~/src/app --strip-components 1 --diff
  projectrestore preview backup.tar.gz --to app --json

The archive gets the full verified pass (signatures, checksum, decryption, every
entry); files are compared by content hash. Unchanged files are counted, not
listed. Nothing is created, not even the state directory.")]
    Preview(PreviewArgs),
    /// Show what a restore would do (checks, keys, passes, layers, destination, after-steps), reading no archive byte past the format sniff.
    #[command(after_help = "Examples:
  projectrestore plan backup.tar.zst.age --to ~/src/app --trust keys/
  projectrestore plan backup.tar.gz --to app --require-anchored ~/backup-log --json

Keys, signature files, the checksum file and the log requirements are loaded and
checked; the archive's first bytes are read to name its format; the destination
is looked at without creating, locking or writing anything. Nothing is decrypted
and no identity file is read. A restore decides everything again under its lock.")]
    Plan(PlanArgs),
    /// List the trees a destination held (kept generations), newest first.
    #[command(after_help = "Examples:
  projectrestore history ~/src/app
  projectrestore history ~/src/app --json")]
    History(HistoryArgs),
    /// Go back to a kept generation, atomically; the replaced tree is kept too.
    #[command(after_help = "Examples:
  projectrestore rollback ~/src/app                   # the state before the last restore
  projectrestore rollback ~/src/app --generation 3    # number 3 in `history`
  projectrestore rollback ~/src/app --before 2h --yes
  projectrestore rollback ~/src/app --before 2026-11-24T09:00:00Z

A rollback is itself a swap under the lock and is recorded as a generation, so
`rollback` again undoes it. It asks on a terminal; --yes skips the question.")]
    Rollback(RollbackArgs),
    /// Remove kept generations of DIR explicitly (beyond --keep N, older than --older-than).
    #[command(after_help = "Examples:
  projectrestore prune ~/src/app --keep 3
  projectrestore prune ~/src/app --older-than 30days
  projectrestore prune ~/src/app --keep 5 --older-than 2weeks --json

Generations are the trees restores and rollbacks replaced (see `history`); the
tree in place is never touched. Under the destination's lock, crash-safe: each
generation is renamed to trash first, which `recover` finishes removing.")]
    Prune(PruneArgs),
    /// Print the effective settings and where each came from (rc files, environment).
    #[command(
        after_help = "Settings come from, highest first: command-line flags, PROJECTRESTORE_*
environment variables, ./.projectrestore.rc, then the user file
($XDG_CONFIG_HOME/projectrestore/config.toml or ~/.projectrestore.rc).
--config FILE replaces the two files. Keys (TOML): backup_dir, pattern, to,
trust (list), threshold, identities (list), passphrase_file, max_files,
max_bytes, keep, anchor, log_key, log_vkey, strip_components,
allow_project_dirs (user file only). A project file in a directory the user file
does not list in allow_project_dirs may set only strip_components, lower limits
and a higher keep; the rest is ignored with a warning.

Example .projectrestore.rc:
  to = \"/home/me/src/app\"
  backup_dir = \"/home/me/project_backups\"
  trust = [\"/etc/projectrestore/keys\"]
  identities = [\"/home/me/.config/age/key.txt\"]
  strip_components = 1
  keep = 10"
    )]
    Config(ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Examples:
  projectrestore completions bash > ~/.local/share/bash-completion/completions/projectrestore
  projectrestore completions zsh > ~/.zfunc/_projectrestore
  projectrestore completions fish > ~/.config/fish/completions/projectrestore.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or with --out DIR write one page per subcommand.
    #[command(after_help = "Examples:
  projectrestore man > projectrestore.1 && man ./projectrestore.1
  projectrestore man --out /usr/local/share/man/man1   # projectrestore.1, projectrestore-restore.1, …")]
    Man {
        /// Write projectrestore.1 and one page per subcommand (projectrestore-restore.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// The append-only log of archive digests: keygen, init, append, verify, prove, show.
    #[command(
        subcommand,
        after_help = "A log is a directory: entries.jsonl (one JSON entry per line), checkpoint
(a C2SP tlog-checkpoint signed as a C2SP signed-note with Ed25519), vkey (the
verifier key) and tile/ (RFC 6962 tree hashes as C2SP tlog-tiles).

Example, from nothing to a restore that refuses unlogged or rolled-back archives:
  projectrestore log keygen --origin example.com/backups -o log.key   # prints the vkey
  projectrestore log init ~/backup-log --key log.key
  projectrestore log append ~/backup-log backup.tar.zst.age --key log.key --trust keys/ -i id.txt
  projectrestore restore backup.tar.zst.age --to app --trust keys/ -i id.txt \\
      --require-anchored ~/backup-log --log-vkey 'example.com/backups+1234abcd+AQ...'"
    )]
    Log(LogCmd),
    /// Re-verify every archive in a backup directory (checksum, signatures, log) without extracting.
    #[command(after_help = "Examples:
  projectrestore audit --backup-dir ~/project_backups --trust keys/
  projectrestore audit --backup-dir ~/project_backups --trust keys/ --log ~/backup-log --json

Reads each archive once (SHA-256 and the signature digests); nothing is decrypted
or written. Exit 4 if any archive fails.")]
    Audit(AuditArgs),
}

#[derive(Debug, Subcommand)]
pub enum LogCmd {
    /// Make a new Ed25519 log signing key (file mode 0600) and print its verifier key.
    #[command(after_help = "Example:
  projectrestore log keygen --origin example.com/backups -o log.key > log.vkey")]
    Keygen {
        /// The log's name (checkpoint origin and key name), e.g. example.com/backups.
        #[arg(long, value_name = "NAME")]
        origin: String,
        /// Where to write the signing key (never overwritten).
        #[arg(long, short = 'o', value_name = "KEYFILE")]
        output: PathBuf,
    },
    /// Create an empty log signed by KEYFILE.
    #[command(after_help = "Example:
  projectrestore log init ~/backup-log --key log.key")]
    Init {
        /// The log directory (new or empty).
        log: PathBuf,
        /// The signing key from `log keygen`.
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
    },
    /// Verify an archive completely, then append its digest and sign a new checkpoint.
    #[command(after_help = "Example:
  projectrestore log append ~/backup-log 2026-11-24_120000-app-daily.tar.zst.age --key log.key --trust keys/ -i id.txt

The archive is appended only if it passes the same full verification as `verify`.
An archive already in the log is not appended twice.")]
    Append(Box<LogAppendArgs>),
    /// Recompute the tree from entries.jsonl, check the checkpoint and, with --checkpoint, consistency with an older one.
    #[command(after_help = "Examples:
  projectrestore log verify ~/backup-log --vkey log.vkey
  projectrestore log verify ~/backup-log --vkey log.vkey --checkpoint saved-checkpoint

Keep a copy of LOG/checkpoint somewhere the log's writer cannot reach; checking
against it catches rewritten, reordered or truncated history (exit 4).")]
    Verify {
        /// The log directory.
        log: PathBuf,
        /// An older checkpoint kept elsewhere, to prove the log only grew since.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Pin the verifier key (text or file). Default: LOG/vkey, with a warning.
        #[arg(long, value_name = "KEY")]
        vkey: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print an inclusion proof for an archive (file or hex SHA-256).
    #[command(after_help = "Examples:
  projectrestore log prove ~/backup-log backup.tar.zst.age --json
  projectrestore log prove ~/backup-log backup.tar.zst.age --tlog-proof backup.tlog-proof

The tlog-proof file (C2SP tlog-proof, the entry in its extra line) lets a restore
check inclusion offline: restore --require-anchored backup.tlog-proof --log-vkey KEY.")]
    Prove {
        /// The log directory.
        log: PathBuf,
        /// The archive file, or its SHA-256 in hex (64 hex digits are always the digest).
        archive: Option<String>,
        /// Prove entry N instead of looking an archive up.
        #[arg(long, value_name = "N", conflicts_with = "archive")]
        index: Option<u64>,
        /// Also write the proof in C2SP tlog-proof form to FILE.
        #[arg(long, value_name = "FILE")]
        tlog_proof: Option<PathBuf>,
        /// Pin the verifier key (text or file).
        #[arg(long, value_name = "KEY")]
        vkey: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the checkpoint and the newest entries.
    #[command(after_help = "Example:
  projectrestore log show ~/backup-log --last 10")]
    Show {
        /// The log directory.
        log: PathBuf,
        /// How many of the newest entries to list.
        #[arg(long, value_name = "N", default_value_t = 20)]
        last: u64,
        /// Pin the verifier key (text or file).
        #[arg(long, value_name = "KEY")]
        vkey: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct LogAppendArgs {
    /// The log directory.
    #[arg(value_parser = local_path)]
    pub log: PathBuf,
    /// The archive to verify and append.
    pub archive: PathBuf,
    /// The log's signing key.
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The project the archive belongs to. Default: from projectclone's name.
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The backup directory, or a bucket prefix (s3://bucket/backups/).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Glob for archive names.
    #[arg(long, value_name = "GLOB", default_value = projectrestore::discover::DEFAULT_PATTERN)]
    pub pattern: String,
    /// Also require every archive to be included in this log.
    #[arg(value_parser = local_path, long, value_name = "LOG")]
    pub log: Option<PathBuf>,
    /// Pin the log's verifier key (text or file).
    #[arg(long, value_name = "KEY")]
    pub log_vkey: Option<String>,
    /// Trusted public keys: a directory or a file (repeatable).
    #[arg(value_parser = local_path, long, value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Require signatures by this many distinct trusted keys.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub threshold: usize,
    /// Count unsigned archives as passing.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Namespace SSH signatures must carry.
    #[arg(long, value_name = "NS", default_value = "file")]
    pub ssh_namespace: String,
    /// Accept legacy (non-prehashed) minisign signatures.
    #[arg(long)]
    pub allow_legacy_minisign: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write every event as JSON lines to FILE (`-`: standard output); the last
    /// line is `finished` or `failed`.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Where `trust` came from (filled in from the settings).
    #[arg(skip)]
    pub trust_origin: String,
}

/// Append-only log checks shared by `restore` and `verify`.
#[derive(Debug, Args)]
pub struct LogCheckArgs {
    /// Refuse (exit 4) an archive that this log (directory) or C2SP tlog-proof file does not include under a valid checkpoint.
    #[arg(value_parser = local_path, long, value_name = "LOG|PROOF")]
    pub require_anchored: Option<PathBuf>,
    /// Pin the log's verifier key (NAME+ID+KEY text or a file holding it).
    #[arg(long, value_name = "KEY")]
    pub log_vkey: Option<String>,
    /// Restore an archive older than the newest logged backup of its project (rollback).
    #[arg(long)]
    pub allow_older: bool,
    /// The project the archive belongs to, for rollback protection. Default: from projectclone's name, else the --to directory's name.
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// Restore only these paths of the archive (and what is beneath them), after --strip-components.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Restore only entries matching GLOB (a path, or a base name for a pattern without '/'; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out entries matching GLOB, and what is beneath them (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// With a selection: replace the tree at --to with only the selection (default: --to must be new or empty).
    #[arg(long)]
    pub replace_with_selection: bool,
    /// After the restore, append the archive's digest to this log (see `log --help`).
    #[arg(value_parser = local_path, long, value_name = "LOG", requires = "log_key")]
    pub anchor: Option<PathBuf>,
    /// The log's signing key, for --anchor.
    #[arg(value_parser = local_path, long, value_name = "KEYFILE")]
    pub log_key: Option<PathBuf>,
    /// Apply the archive's owners and groups (root only).
    #[arg(long)]
    pub same_owner: bool,
    /// How many replaced trees to keep as generations.
    #[arg(long, value_name = "N", default_value_t = projectrestore::config::DEFAULT_KEEP)]
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
    /// Show the preview of what would change and ask y/N before the swap.
    #[arg(long, conflicts_with_all = ["dry_run", "json"])]
    pub interactive: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Plan an append to this log after the restore (see `restore --anchor`).
    #[arg(value_parser = local_path, long, value_name = "LOG", requires = "log_key")]
    pub anchor: Option<PathBuf>,
    /// The log's signing key, for --anchor (loaded and checked, never shown).
    #[arg(value_parser = local_path, long, value_name = "KEYFILE")]
    pub log_key: Option<PathBuf>,
    /// How many replaced trees the restore would keep as generations.
    #[arg(long, value_name = "N", default_value_t = projectrestore::config::DEFAULT_KEEP)]
    pub keep: usize,
    /// Plan a replacement of a foreign tree without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Add unified diffs of modified text files (binary files are named; long diffs are cut).
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `restore` and `preview` share: which archive, where to, checked how.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The archive file, or `-` for standard input. Default: the newest in --backup-dir.
    pub archive: Option<PathBuf>,
    /// 4.x's `--file NAME` (MIGRATING.md): BACKUP_DIR/NAME when it exists, else NAME.
    #[arg(
        long = "file",
        value_name = "NAME",
        hide = true,
        conflicts_with = "archive"
    )]
    pub legacy_file: Option<PathBuf>,
    /// The destination directory (or `to` in .projectrestore.rc).
    #[arg(value_parser = local_path, long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Where to look for the newest archive when ARCHIVE is not given: a
    /// directory, or a bucket prefix (s3://bucket/backups/).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Glob for archive names in --backup-dir.
    #[arg(long, value_name = "GLOB", default_value = projectrestore::discover::DEFAULT_PATTERN)]
    pub pattern: String,
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub log: LogCheckArgs,
    /// Drop this many leading path components (as tar); 1 turns a projectclone archive into the project itself.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub strip_components: usize,
    /// Keep setuid/setgid/sticky and group/world-write bits (stripped by default).
    #[arg(long)]
    pub keep_permissions: bool,
}

impl CheckArgs {
    /// The input `arg` names (an object, `-`, a file), read through `--spool`
    /// when given; flags that must be local paths are checked first.
    pub fn input(&self, arg: &std::path::Path) -> Result<Input, projectrestore::Error> {
        let input = self.store.input(arg)?;
        self.spooled(input)
    }

    /// `input` through `--spool DIR`, when given (only for an object store).
    pub fn spooled(&self, input: Input) -> Result<Input, projectrestore::Error> {
        match &self.spool {
            Some(dir) => projectrestore::source::spool::spooled(input, dir),
            None => Ok(input),
        }
    }
}

impl TargetArgs {
    /// Library options for these flags; `what` names the command in errors,
    /// `action` makes the library's action from the destination.
    pub fn options(
        &self,
        what: &str,
        action: impl FnOnce(PathBuf) -> projectrestore::restore::Action,
    ) -> Result<Options, projectrestore::Error> {
        let mut opts = self.check.options();
        let archive = self.archive.clone().or_else(|| {
            // 4.x looked for --file in the backup directory first.
            self.legacy_file.as_ref().map(|f| {
                self.backup_dir
                    .as_ref()
                    .map(|d| d.join(f))
                    .filter(|p| p.is_file())
                    .unwrap_or_else(|| f.clone())
            })
        });
        opts.input = Some(restore_input(
            &archive,
            &self.backup_dir,
            &self.pattern,
            &self.check,
        )?);
        opts.action = action(destination(&self.to, what)?);
        opts.policy.strip_components = self.strip_components;
        opts.policy.keep_permissions = self.keep_permissions;
        opts.log = self.log.options();
        Ok(opts)
    }
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The destination directory (or `to` in .projectrestore.rc).
    pub dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The destination directory (or `to` in .projectrestore.rc).
    pub dir: Option<PathBuf>,
    /// The generation to go back to: its number in `history` (1 = newest) or its id.
    #[arg(long, value_name = "N", conflicts_with = "before")]
    pub generation: Option<String>,
    /// The newest generation put in place before TIME (RFC 3339, or ago: 2h, 3days).
    #[arg(long, value_name = "TIME")]
    pub before: Option<String>,
    /// Roll back without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How many replaced trees to keep as generations.
    #[arg(long, value_name = "N", default_value_t = projectrestore::config::DEFAULT_KEEP)]
    pub keep: usize,
    /// Wait for a running restore of the same destination instead of failing with exit 3.
    #[arg(long)]
    pub wait: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write every event as JSON lines to FILE (`-`: standard output); the last
    /// line is `finished` or `failed`.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The destination directory (or `to` in .projectrestore.rc).
    pub dir: Option<PathBuf>,
    /// Keep the newest N generations, remove the rest.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Remove generations replaced longer ago than this (30days, 2weeks, 12h); with --keep, only those beyond the newest N.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Wait for a running restore of the same destination instead of failing with exit 3.
    #[arg(long)]
    pub wait: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (use e.g. 30days, 2weeks, 12h)"))
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LsCmd {
    #[command(flatten)]
    pub verify: VerifyCmd,
    /// Drop this many leading path components, as a restore would.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub strip_components: usize,
}

#[derive(Debug, Args)]
pub struct VerifyCmd {
    /// The archive file, or `-` for standard input.
    pub archive: PathBuf,
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub log: LogCheckArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Verification, decryption and limit flags shared by `restore` and `verify`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A detached signature (OpenPGP, minisign, SSH or signify; repeatable). Default: ARCHIVE.sig/.asc/.minisig.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub signature: Vec<PathBuf>,
    /// Trusted public keys: a directory or a file (repeatable). Default: ~/.config/projectrestore/keys if it exists. With a trust store, unsigned archives are refused.
    #[arg(value_parser = local_path, long, value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Where `trust` came from (filled in from the settings).
    #[arg(skip)]
    pub trust_origin: String,
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
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub checksum: Option<PathBuf>,
    /// Decryption identity: age identity file, SSH private key or OpenPGP secret key (repeatable).
    #[arg(value_parser = local_path, long, short = 'i', value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// OpenPGP archives: also try the secret keys gpg-agent holds (the keyring of
    /// GNUPGHOME, else ~/.gnupg, and smartcards), after any -i key. The agent asks
    /// for a key's passphrase by pinentry: without a terminal, unlock it first.
    #[arg(long)]
    pub gpg_agent: bool,
    /// Read the decryption passphrase from the first line of FILE.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Check signatures in a first pass before any byte is decrypted or parsed (default for files).
    #[arg(long, conflicts_with = "single_pass")]
    pub verify_first: bool,
    /// Read the archive once; the staging gate protects the destination.
    #[arg(long)]
    pub single_pass: bool,
    /// Reserved for GNU sparse entries: extracting them is not implemented yet, so
    /// they are refused with or without this flag.
    #[arg(long)]
    pub allow_sparse: bool,
    /// An archive in an object store (s3://, gs://, az://): download its stored
    /// bytes once into a private file in DIR and read both passes from there.
    #[arg(long, value_name = "DIR", conflicts_with = "single_pass")]
    pub spool: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Which extractor parses the archive (DESIGN.md invariant 10).
#[derive(Debug, Args, Default)]
pub struct SandboxArgs {
    /// Where the archive is decompressed and parsed: wasm (a WebAssembly sandbox
    /// with no file system, network or clock; every entry it passes is checked
    /// again before anything is written), native, or auto: native only when a
    /// trusted signature authenticated every byte before parsing (config key
    /// `sandbox`) [default: auto].
    #[arg(long, value_name = "MODE", value_parser = ["auto", "wasm", "native"])]
    pub sandbox: Option<String>,
    /// The sandbox's memory limit (default 256M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub sandbox_memory: Option<u64>,
    /// The sandbox's time budget: how many instructions it may run without
    /// reading or writing (every byte it moves earns 1000 more, up to this);
    /// default 20G.
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub sandbox_fuel: Option<u64>,
}

impl SandboxArgs {
    fn mode(&self) -> projectrestore::sandbox::SandboxMode {
        self.sandbox
            .as_deref()
            .and_then(projectrestore::sandbox::SandboxMode::parse)
            .unwrap_or_default()
    }

    fn limits(&self) -> projectrestore::sandbox::SandboxLimits {
        let mut l = projectrestore::sandbox::SandboxLimits::default();
        if let Some(m) = self.sandbox_memory {
            l.memory = m;
        }
        if let Some(f) = self.sandbox_fuel {
            l.fuel = f;
        }
        l
    }
}

/// How object stores are reached (s3://, gs://, az:// archives and prefixes).
#[derive(Debug, Args, Default)]
pub struct StoreArgs {
    /// An object-store setting, KEY=VALUE (repeatable; also `[store]` in the
    /// rc file): object_store's keys, e.g. aws_endpoint=URL, aws_region=R,
    /// google_service_account=FILE, azure_storage_account_name=N. Credentials
    /// come from the usual AWS_*, GOOGLE_*, AZURE_* variables.
    #[arg(long = "store-opt", value_name = "KEY=VALUE")]
    pub store_opt: Vec<String>,
    /// The `[store]` table of the settings (under the flags).
    #[arg(skip)]
    pub from_settings: Vec<(String, String)>,
}

impl StoreArgs {
    /// The settings, then the flags (later ones win).
    pub fn options(
        &self,
    ) -> Result<projectrestore::source::object::StoreOptions, projectrestore::Error> {
        let mut o = projectrestore::source::object::StoreOptions {
            options: self.from_settings.clone(),
            env: store_env(),
        };
        for a in &self.store_opt {
            o.push_arg(a).map_err(projectrestore::Error::Usage)?;
        }
        Ok(o)
    }

    /// The input `arg` names: an object in a store, `-`, or a file.
    pub fn input(&self, arg: &std::path::Path) -> Result<Input, projectrestore::Error> {
        Ok(projectrestore::source::object::input(
            arg.as_os_str(),
            &self.options()?,
        )?)
    }

    /// The backups in `dir`: a local directory or a bucket prefix.
    pub fn catalog(
        &self,
        dir: &std::path::Path,
    ) -> Result<Box<dyn projectrestore::discover::Catalog>, projectrestore::Error> {
        Ok(projectrestore::source::object::catalog(
            dir,
            &self.options()?,
        )?)
    }
}

/// The process's variables an object store reads (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
pub fn store_env() -> Vec<(String, String)> {
    projectrestore::source::object::StoreOptions::store_vars(std::env::vars())
}

/// A path that must be local. Trust stores, keys, identities, logs,
/// destinations and explicit signature or checksum files never come from an
/// object store: a bucket an attacker can write must not be able to vouch for
/// what it serves (sidecar objects beside an archive are read by themselves).
fn local_path(arg: &str) -> Result<PathBuf, String> {
    projectrestore::source::require_local(arg)?;
    Ok(PathBuf::from(arg))
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
    /// Largest decoder window (memory) a zstd frame or an xz block may need, default 128M; archives made with `zstd --long=31` need 2G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_zstd_window: Option<u64>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print one JSON report on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write every event (phases, progress, verdicts, warnings, the end) as JSON
    /// lines to FILE as it happens; `-` is standard output (then nothing else is
    /// printed there). The last line is `finished` or `failed`.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub events: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The encrypted archive, or `-` for standard input.
    pub archive: PathBuf,
    /// Decryption identity: age identity file, SSH private key or OpenPGP secret key (repeatable).
    #[arg(value_parser = local_path, long, short = 'i', value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// OpenPGP archives: also try the secret keys gpg-agent holds (the keyring of
    /// GNUPGHOME, else ~/.gnupg, and smartcards), after any -i key. The agent asks
    /// for a key's passphrase by pinentry: without a terminal, unlock it first.
    #[arg(long)]
    pub gpg_agent: bool,
    /// Read the passphrase from the first line of FILE.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The backup directory, or a bucket prefix (s3://bucket/backups/).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Glob for archive names.
    #[arg(long, value_name = "GLOB", default_value = projectrestore::discover::DEFAULT_PATTERN)]
    pub pattern: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The destination directory whose restore was interrupted.
    pub dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Notifications of the outcome (also `[[notify]]` in the settings).
#[derive(Debug, Args, Default)]
pub struct NotifyArgs {
    /// Tell TARGET the outcome: [KIND=]URL, or [KIND=]file:PATH (the URL on the
    /// file's first line) or [KIND=]env:NAME (in a variable), KIND being webhook,
    /// slack, discord or healthchecks (else from the URL's host); repeatable.
    /// Slack and Discord URLs are secrets: prefer file: or env:.
    #[arg(long = "notify", value_name = "TARGET")]
    pub notify: Vec<String>,
    /// The whsec_ signing secret of the --notify webhooks (Standard Webhooks), on the file's first line.
    #[arg(value_parser = local_path, long, value_name = "FILE")]
    pub notify_secret_file: Option<PathBuf>,
    /// Which outcomes to tell: event types (restore.started, restore.failed, …) or their
    /// last part, comma-separated; dry-run tells dry runs too [default: succeeded,failed].
    #[arg(long, value_name = "EVENTS")]
    pub notify_on: Option<String>,
}

use projectrestore::config::parse_size;

impl LimitArgs {
    fn apply(&self) -> Limits {
        let mut l = Limits::default();
        macro_rules! set {
            ($($field:ident <- $arg:ident),*) => { $( if let Some(v) = self.$arg { l.$field = v; } )* };
        }
        set!(max_files <- max_files, max_bytes <- max_bytes, max_entry_bytes <- max_entry_size,
             max_depth <- max_depth, max_path_bytes <- max_path_length, max_name_bytes <- max_name_length,
             max_pax_bytes <- max_pax_size, max_ratio <- max_ratio,
             max_zstd_window <- max_zstd_window);
        l
    }
}

impl CheckArgs {
    /// Library options for these flags (input and destination are set by the caller).
    /// Where this command's passphrases and confirmations come from.
    pub fn interaction(&self, confirm: bool) -> projectrestore::interact::SharedInteraction {
        interact::Terminal::shared(self.passphrase_file.clone(), confirm)
    }

    pub fn options(&self) -> Options {
        Options {
            signatures: self.signature.clone(),
            trust: self.trust.clone(),
            trust_origin: self.trust_origin.clone(),
            sig_policy: SigPolicy {
                threshold: self.threshold,
                allow_unsigned: self.allow_unsigned,
                ssh_namespace: self.ssh_namespace.clone(),
                allow_legacy_minisign: self.allow_legacy_minisign,
            },
            checksum: self.checksum.clone(),
            identities: self.identity.clone(),
            gpg_agent: self.gpg_agent,
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
            sandbox: self.sandbox.mode(),
            sandbox_limits: self.sandbox.limits(),
            ..Options::default()
        }
    }
}

impl LogCheckArgs {
    /// Library options (the anchor log and key are set by `restore`).
    pub fn options(&self) -> projectrestore::log::gate::LogOptions {
        projectrestore::log::gate::LogOptions {
            require: self.require_anchored.clone(),
            vkey: self.log_vkey.clone(),
            allow_older: self.allow_older,
            project: self.project.clone(),
            ..Default::default()
        }
    }
}

/// The input a `restore` or `preview` names, or the newest archive in the backup directory.
pub fn restore_input(
    archive: &Option<PathBuf>,
    backup_dir: &Option<PathBuf>,
    pattern: &str,
    check: &CheckArgs,
) -> Result<Input, projectrestore::Error> {
    match archive {
        Some(a) => check.input(a),
        None if backup_dir
            .as_deref()
            .and_then(|d| d.to_str())
            .is_some_and(projectrestore::source::object::is_store_url) =>
        {
            let dir = backup_dir.clone().unwrap_or_default();
            let catalog = check.store.catalog(&dir)?;
            let newest = catalog.latest(pattern)?;
            check.spooled(catalog.input(&newest))
        }
        None => {
            let dir = backup_dir
                .clone()
                .unwrap_or_else(settings::default_backup_dir);
            if backup_dir.is_none() && std::fs::symlink_metadata(&dir).is_err() {
                return Err(projectrestore::Error::Usage(format!(
                    "no ARCHIVE given, and the default backup directory {} does not exist: name the archive, or its directory with --backup-dir DIR",
                    projectrestore::report::escape(&dir.display().to_string())
                )));
            }
            Ok(Input::File(
                projectrestore::discover::latest(&dir, pattern)?.path,
            ))
        }
    }
}

/// The destination from --to (or the rc file), or a usage error that says how to give it.
pub fn destination(to: &Option<PathBuf>, what: &str) -> Result<PathBuf, projectrestore::Error> {
    to.clone().ok_or_else(|| {
        projectrestore::Error::Usage(format!(
            "{what} needs a destination: pass --to DIR (or set `to` in .projectrestore.rc)"
        ))
    })
}

/// The directory of `history`, `rollback` and `prune` (given as DIR, or `to`
/// of the rc file), or a usage error that says so.
pub fn dir_arg(dir: &Option<PathBuf>, what: &str) -> Result<PathBuf, projectrestore::Error> {
    dir.clone().ok_or_else(|| {
        projectrestore::Error::Usage(format!(
            "{what} needs the restored directory: `projectrestore {what} DIR` (or set `to` in .projectrestore.rc)"
        ))
    })
}

/// The last event of a command that finished: `report` is the document `--json`
/// prints for it.
pub fn finished<T: serde::Serialize>(events: &dyn Events, report: &T) {
    if let Ok(report) = serde_json::to_value(report) {
        events.emit(&Event::Finished { report });
    }
}
