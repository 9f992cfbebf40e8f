//! The crate's error type.

use std::path::PathBuf;

/// Why the model, the agent profiles or an evaluation set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// The model files could not be provisioned.
    #[error(transparent)]
    Asset(#[from] vana_assets::AssetError),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A safetensors file is malformed or lacks what the model needs.
    #[error("{path}: {reason}")]
    Model {
        /// The weights file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A WordPiece vocabulary is unusable.
    #[error("{path}: {reason}")]
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A YAML file (agent profile or evaluation set) is invalid.
    #[error("{path}: {source}")]
    Yaml {
        /// The YAML file.
        path: PathBuf,
        /// Cause.
        source: serde_yaml::Error,
    },
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RouterError + '_ {
    move |source| RouterError::Io { path: path.to_path_buf(), source }
}
