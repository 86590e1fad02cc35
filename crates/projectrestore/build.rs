//! Builds the sandboxed extractor's guest (crates/sandbox-guest) for
//! wasm32-unknown-unknown from this repository's source, so that the library
//! embeds a module made by the same build (feature "sandbox"): no committed
//! binary. A separate cargo run with its own target directory (the outer one
//! is locked by the build that runs this script), the workspace's lock file,
//! and none of the outer build's flags (a fuzzing or coverage build's
//! instrumentation must not reach the guest).

// A build script is not the library: it runs in cargo, whose way of passing
// what it knows (features, directories) is the environment.
#![allow(clippy::disallowed_methods)]

use std::env;
use std::path::PathBuf;
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    if env::var_os("CARGO_FEATURE_SANDBOX").is_none() {
        return;
    }
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let crates = manifest_dir
        .parent()
        .expect("crates/projectrestore has a parent")
        .to_path_buf();
    let workspace = crates.parent().expect("crates/ has a parent").to_path_buf();
    for watched in [
        crates.join("sandbox-guest/src"),
        crates.join("sandbox-guest/Cargo.toml"),
        crates.join("archive/src"),
        crates.join("archive/Cargo.toml"),
        workspace.join("Cargo.lock"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = out.join("guest-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--locked",
        "--target",
        TARGET,
        "-p",
        "projectrestore-sandbox-guest",
    ])
    .arg("--manifest-path")
    .arg(workspace.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir)
    // The guest's profile: fast code (it decodes every byte: one codegen unit
    // and LTO, so that the decoders inline across crates), no debug info,
    // and abort on panic (a panic in the guest is a trap the host reports).
    .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
    .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
    .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
    .env("CARGO_PROFILE_RELEASE_LTO", "fat")
    .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_PATH",
        "CARGO_INCREMENTAL",
    ] {
        cmd.env_remove(var);
    }
    // 128-bit SIMD (wasmtime compiles it to SSE/AVX): zlib-rs and the
    // copies use it.
    cmd.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("projectrestore: could not run cargo to build the sandbox guest: {e}")
    });
    if !status.success() {
        panic!(
            "projectrestore: building the sandbox guest for {TARGET} failed (see above). \
             If the target is missing: `rustup target add {TARGET}` (scripts/deps.sh does it); \
             or build without the sandbox: --no-default-features."
        );
    }
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join("projectrestore_sandbox_guest.wasm");
    if !wasm.is_file() {
        panic!(
            "projectrestore: the sandbox guest was built but {} is missing",
            wasm.display()
        );
    }
    println!(
        "cargo:rustc-env=PROJECTRESTORE_SANDBOX_GUEST={}",
        wasm.display()
    );
}
