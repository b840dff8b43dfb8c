//! For a driver's build.rs: records the version of the library under test, as resolved in the
//! driver's Cargo.lock, as the compile-time variable LIBRARY_VERSION that its hello reports.
//! Included with `#[path = "../common-rust/library_version.rs"] mod library_version;`.

/// Emits `LIBRARY_VERSION` for the package named `krate` in Cargo.lock ("unknown" if absent).
pub fn record(krate: &str) {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let wanted = format!("name = \"{krate}\"");
    let mut lines = lock.lines();
    let mut version = "unknown".to_string();
    while let Some(line) = lines.next() {
        if line == wanted {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                version = v.trim_end_matches('"').to_string();
            }
        }
    }
    println!("cargo:rustc-env=LIBRARY_VERSION={version}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
