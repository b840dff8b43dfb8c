//! Records the version of the library under test (as resolved in Cargo.lock) for the hello line.
fn main() {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut lines = lock.lines();
    let mut version = "unknown".to_string();
    while let Some(line) = lines.next() {
        if line == "name = \"crossbeam-channel\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                version = v.trim_end_matches('"').to_string();
            }
        }
    }
    println!("cargo:rustc-env=LIBRARY_VERSION={version}");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
