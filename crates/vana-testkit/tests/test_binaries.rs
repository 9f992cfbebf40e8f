//! A crate whose integration tests are one binary (`tests/<name>/main.rs` with a module per
//! file) compiles only the files `main.rs` declares: this test fails on a file placed beside it
//! and never declared, which would otherwise never run.

use std::path::{Path, PathBuf};

/// Every `crates/*/tests/*/main.rs`.
fn test_binaries() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut out = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("read crates/").flatten() {
        let Ok(dirs) = std::fs::read_dir(krate.path().join("tests")) else { continue };
        for dir in dirs.flatten() {
            let main = dir.path().join("main.rs");
            if main.is_file() {
                out.push(main);
            }
        }
    }
    out
}

/// The modules a test binary's directory holds: `x.rs` files and `x/mod.rs` directories.
fn modules_beside(main: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(main.parent().unwrap()).unwrap().flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_file() && p.extension().is_some_and(|x| x == "rs") && name != "main" {
            out.push(name);
        } else if p.join("mod.rs").is_file() {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// The modules `main.rs` declares (`mod x;`, with or without attributes or `pub`).
fn declared(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(|n| n.trim().to_string())
        })
        .collect()
}

#[test]
fn every_file_of_a_single_test_binary_is_compiled() {
    let mains = test_binaries();
    assert!(!mains.is_empty(), "no crates/*/tests/*/main.rs found");
    let mut missing = Vec::new();
    for main in &mains {
        let declared = declared(&std::fs::read_to_string(main).unwrap());
        for m in modules_beside(main) {
            if !declared.contains(&m) {
                missing.push(format!("{}: `{m}` is never declared (add `mod {m};`)", main.display()));
            }
        }
    }
    assert!(missing.is_empty(), "test files that would never run:\n{}", missing.join("\n"));
}

#[test]
fn an_undeclared_module_is_found() {
    assert_eq!(
        declared("//! doc\nmod common;\n\nmod api;\n#[cfg(unix)]\npub mod b;\n"),
        ["common", "api", "b"]
    );
    assert!(!declared("mod common;\n").contains(&"api".to_string()));
}
