//! The DevOps suite: generators whose output is checked by the real validators
//! (`generate_dockerfile` with hadolint, `generate_ci_pipeline` with actionlint and GitLab CI's
//! JSON Schema, `generate_k8s_manifests` with the pinned Kubernetes schemas of
//! `kubernetes-validate`), AWS calls signed with SigV4 (S3, EC2, Lambda; mutations need approval),
//! containers through the Docker Engine API on a unix socket (Docker or Podman), and Terraform
//! (`terraform_validate`, `terraform_plan` on a private copy of the configuration).

pub mod aws;
mod aws_tools;
pub mod ci;
mod config;
pub mod docker;
mod docker_tools;
pub mod dockerfile;
pub mod k8s;
pub mod project;
pub mod terraform;
mod tools;
pub mod validate;

pub use aws::creds::Env;
pub use config::{AwsConfig, DevopsConfig};

use std::collections::HashMap;
use std::sync::Arc;
use vana_core::Tool;
use vana_net::OutboundPolicy;
use vana_toolkit::{typed, MissingPart, SessionFiles, SuiteStatus, ToolSuite};

/// The suite.
pub struct DevopsSuite {
    config: DevopsConfig,
    files: SessionFiles,
    aws: aws_tools::Client,
    env: Env,
}

impl DevopsSuite {
    /// The suite over `[devops]`, `[aws]`, the shared outbound policy and the session files;
    /// AWS credentials come from the process environment and the credentials file.
    pub fn new(config: DevopsConfig, aws: AwsConfig, policy: OutboundPolicy, files: SessionFiles) -> Self {
        Self::with_env(config, aws, policy, files, Env(None))
    }

    /// As [`DevopsSuite::new`], with AWS variables read from `env` instead of the process
    /// environment (tests, embedding).
    pub fn with_environment(
        config: DevopsConfig,
        aws: AwsConfig,
        policy: OutboundPolicy,
        files: SessionFiles,
        env: HashMap<String, String>,
    ) -> Self {
        Self::with_env(config, aws, policy, files, Env(Some(env)))
    }

    fn with_env(
        config: DevopsConfig,
        aws: AwsConfig,
        policy: OutboundPolicy,
        files: SessionFiles,
        env: Env,
    ) -> Self {
        let timeout = std::time::Duration::from_secs(config.timeout_secs.max(1));
        let client = aws::AwsClient::new(aws, env.clone(), policy, timeout);
        DevopsSuite { config, files, aws: Arc::new(client), env }
    }
}

impl ToolSuite for DevopsSuite {
    fn name(&self) -> &'static str {
        "devops"
    }
    fn description(&self) -> &'static str {
        "Dockerfiles, CI pipelines and Kubernetes manifests checked by real validators; AWS S3/EC2/Lambda; Docker/Podman"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let (c, f) = (self.config.clone(), self.files.clone());
        let a = self.aws.clone();
        vec![
            typed(tools::GenerateDockerfile { config: c.clone(), files: f.clone() }),
            typed(tools::GenerateCiPipeline { config: c.clone(), files: f.clone() }),
            typed(tools::GenerateK8sManifests { config: c.clone(), files: f.clone() }),
            typed(aws_tools::ListEc2Instances { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::Ec2Start { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::Ec2Stop { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::CreateS3Bucket { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::S3List { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::S3Get { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::S3Put { aws: a.clone(), files: f.clone() }),
            typed(aws_tools::DeployLambda { aws: a, files: f.clone() }),
            typed(docker_tools::DockerPs { config: c.clone(), files: f.clone() }),
            typed(docker_tools::DockerLogs { config: c.clone(), files: f.clone() }),
            typed(docker_tools::DockerStop { config: c.clone(), files: f.clone() }),
            typed(docker_tools::DockerRun { config: c.clone(), files: f.clone() }),
            typed(docker_tools::DockerBuild { config: c.clone(), files: f.clone() }),
            typed(terraform::TerraformValidate {
                config: c.clone(),
                files: f.clone(),
                env: self.env.clone(),
            }),
            typed(terraform::TerraformPlan { config: c, files: f, env: self.env.clone() }),
        ]
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["devops", "aws"]
    }
    fn status(&self) -> SuiteStatus {
        let mut missing = Vec::new();
        let checks = [
            ("hadolint (generate_dockerfile's check)", validate::hadolint_path(&self.config)),
            (
                "actionlint (generate_ci_pipeline's GitHub Actions check)",
                validate::actionlint_path(&self.config),
            ),
            (
                "kubernetes-validate (generate_k8s_manifests' check, GitLab CI schema check)",
                validate::kubernetes_validate_path(&self.config),
            ),
        ];
        for (what, r) in checks {
            if r.is_err() {
                missing.push(MissingPart { what: what.into(), fix: validate::INSTALL.into() });
            }
        }
        if let Err(e) = terraform::terraform_path(&self.config) {
            missing
                .push(MissingPart { what: "terraform (terraform_validate, terraform_plan)".into(), fix: e });
        }
        if docker::socket(&self.config).is_err() {
            missing.push(MissingPart {
                what: "a Docker or Podman Engine API socket (docker_* tools)".into(),
                fix: docker::INSTALL.into(),
            });
        }
        if let Err(e) = self.aws.as_ref() {
            missing.push(MissingPart { what: "a valid [aws] endpoint_url".into(), fix: e.clone() });
        }
        SuiteStatus { missing }
    }
}
