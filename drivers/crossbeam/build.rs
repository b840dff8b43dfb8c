//! Records the version of crossbeam-channel (the library under test) for the hello line.
#[path = "../common-rust/library_version.rs"]
mod library_version;

fn main() {
    library_version::record("crossbeam-channel");
}
