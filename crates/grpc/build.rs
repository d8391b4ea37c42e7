//! Compiles proto/steward/v1 with protox (no system protoc), generates the
//! tonic services from the descriptor set, and writes the same descriptor
//! bytes for reflection and for the deny-by-default policy test.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let dir = root.join("steward/v1");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed={}", dir.display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("steward_descriptor.bin"), fds.encode_to_vec())?;
    // The google.rpc error details, for reflection only (no code generated).
    let vendor = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vendor");
    let details = vendor.join("google/rpc/error_details.proto");
    println!("cargo:rerun-if-changed={}", details.display());
    let details_fds = protox::compile([&details], [&vendor])?;
    std::fs::write(out.join("error_details_descriptor.bin"), details_fds.encode_to_vec())?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(fds)?;
    Ok(())
}
