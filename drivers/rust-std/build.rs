//! Record the compiler's version for the hello: std is the library under test, so its version
//! is the toolchain's.
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=MPSC_DRIVER_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
