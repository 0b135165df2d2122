//! Relinks the bot when the list of its hot functions changes: optimised builds place
//! them together (scripts/link-hot-first, the linker driver set in .cargo/config.toml).

fn main() {
    println!("cargo::rerun-if-changed=scripts/hot-functions.txt");
    println!("cargo::rerun-if-changed=scripts/link-hot-first");
}
