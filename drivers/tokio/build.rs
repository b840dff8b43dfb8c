//! Records the version of tokio (the library under test) for the hello line.
#[path = "../common-rust/library_version.rs"]
mod library_version;

fn main() {
    library_version::record("tokio");
}
