//! Compiles the shared pure modules in their freestanding form: `rootseal_freestanding`
//! leaves out the few error variants that carry a `std::io::Error`.
fn main() {
    println!("cargo:rustc-cfg=rootseal_freestanding");
    println!("cargo:rerun-if-changed=build.rs");
}
