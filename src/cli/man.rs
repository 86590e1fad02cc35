//! Manual pages from the clap definitions (clap_mangen), with the sections a
//! manual needs beyond --help: EXAMPLES (each command's after-help), EXIT
//! STATUS, ENVIRONMENT and FILES. `man --out DIR` writes one page per
//! subcommand (projectrestore-restore.1, projectrestore-log-append.1, …).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

const EXIT_STATUS: &str = "0 success
1 error (I/O, a refused destination, a declined confirmation: \"Aborted.\")
2 interrupted (SIGINT, SIGTERM): nothing changed, staging removed
3 another restore of the same destination holds the lock (--wait waits)
4 verification failed: signature, checksum, the archive changed between passes, or the log does not vouch for it
5 archive rejected as unsafe or over a limit
6 decryption failed (wrong or missing identity or passphrase, damaged ciphertext)
64 usage error";

const ENVIRONMENT: &str = "PROJECTRESTORE_BACKUP_DIR, PROJECTRESTORE_PATTERN, PROJECTRESTORE_TO,
PROJECTRESTORE_TRUST (a path list), PROJECTRESTORE_THRESHOLD, PROJECTRESTORE_IDENTITIES (a path list),
PROJECTRESTORE_PASSPHRASE_FILE, PROJECTRESTORE_MAX_FILES, PROJECTRESTORE_MAX_BYTES, PROJECTRESTORE_KEEP,
PROJECTRESTORE_ANCHOR, PROJECTRESTORE_LOG_KEY, PROJECTRESTORE_LOG_VKEY, PROJECTRESTORE_STRIP_COMPONENTS,
PROJECTRESTORE_ALLOW_PROJECT_DIRS: settings, below command-line flags and above the rc files.
PROJECTRESTORE_PASSPHRASE: the passphrase of a protected key or a passphrase-encrypted archive.
XDG_CONFIG_HOME, HOME: where the user file and the default trust store are.";

const FILES: &str = "./.projectrestore.rc  project settings (TOML; in a directory the user file does not allow, only safe keys count)
$XDG_CONFIG_HOME/projectrestore/config.toml, ~/.projectrestore.rc  the user file
$XDG_CONFIG_HOME/projectrestore/keys (~/.config/projectrestore/keys)  the default trust store
DIR/../.DIR.projectrestore/  a destination's state: lock, journal, current.json, generations/
~/project_backups  the default backup directory";

/// Write the root page to `out`, or with `dir` every page into `dir`.
pub fn run(dir: Option<&Path>) -> io::Result<Vec<PathBuf>> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let Some(dir) = dir else {
        page(&cmd, &mut io::stdout().lock())?;
        return Ok(Vec::new());
    };
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    write_all(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_all(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_all(sub, dir, written)?;
    }
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let path = dir.join(format!("{name}.1"));
    // Never through a link planted where a page goes.
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(nofollow_flag())
            .open(&path)?
    };
    page(cmd, &mut file)?;
    file.flush()?;
    written.push(path);
    Ok(())
}

/// One page: clap_mangen's sections, then ours.
fn page(cmd: &clap::Command, w: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(w)?;
    }
    if let Some(examples) = cmd.get_after_help() {
        section(w, "EXAMPLES", &examples.to_string())?;
    }
    section(w, "EXIT STATUS", EXIT_STATUS)?;
    section(w, "ENVIRONMENT", ENVIRONMENT)?;
    section(w, "FILES", FILES)?;
    section(
        w,
        "SEE ALSO",
        "projectrestore(1); README.md, MIGRATING.md and SECURITY.md in the source",
    )?;
    if cmd.get_version().is_some() {
        man.render_version_section(w)?;
    }
    Ok(())
}

/// A section of preformatted text, escaped for roff.
fn section(w: &mut dyn Write, name: &str, text: &str) -> io::Result<()> {
    writeln!(w, ".SH \"{name}\"")?;
    writeln!(w, ".nf")?;
    for line in text.lines() {
        let line = line.replace('\\', "\\e");
        if line.starts_with('.') || line.starts_with('\'') {
            writeln!(w, "\\&{line}")?;
        } else {
            writeln!(w, "{line}")?;
        }
    }
    writeln!(w, ".fi")
}

/// `O_NOFOLLOW` (from rustix).
fn nofollow_flag() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}
