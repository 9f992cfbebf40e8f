//! Where AWS credentials and the region come from, in the order the AWS CLI uses: the
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` variables, then the
//! profile (`[aws] profile`, `$AWS_PROFILE`, `default`) in the shared credentials file.

use super::sigv4::Credentials;
use crate::config::AwsConfig;
use std::collections::HashMap;

/// The process environment, or a fixed map (tests, embedding).
#[derive(Debug, Clone, Default)]
pub struct Env(pub Option<HashMap<String, String>>);

impl Env {
    /// A variable, empty values treated as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        let v = match &self.0 {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        v.filter(|v| !v.trim().is_empty())
    }
}

/// The sections of an INI file (`[name]`, `key = value`).
fn ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().trim_start_matches("profile ").trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone()).or_default().insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn credentials_file(config: &AwsConfig, env: &Env) -> Option<std::path::PathBuf> {
    if !config.credentials_file.is_empty() {
        return Some(config.credentials_file.clone().into());
    }
    if let Some(p) = env.get("AWS_SHARED_CREDENTIALS_FILE") {
        return Some(p.into());
    }
    env.get("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials"))
}

fn profile_name(config: &AwsConfig, env: &Env) -> String {
    if !config.profile.is_empty() {
        return config.profile.clone();
    }
    env.get("AWS_PROFILE").unwrap_or_else(|| "default".into())
}

/// The profile's section of the credentials file, if there is one.
fn profile(config: &AwsConfig, env: &Env) -> Option<HashMap<String, String>> {
    let path = credentials_file(config, env)?;
    let text = std::fs::read_to_string(path).ok()?;
    ini(&text).remove(&profile_name(config, env))
}

/// The credentials, or an error that says where they were looked for.
pub fn resolve(config: &AwsConfig, env: &Env) -> Result<Credentials, String> {
    if let (Some(id), Some(secret)) = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env.get("AWS_SESSION_TOKEN"),
        });
    }
    if let Some(p) = profile(config, env) {
        if let (Some(id), Some(secret)) = (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
            return Ok(Credentials {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                session_token: p.get("aws_session_token").cloned(),
            });
        }
    }
    let file = credentials_file(config, env)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.aws/credentials".into());
    Err(format!(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary \
         credentials), or add aws_access_key_id / aws_secret_access_key to profile [{}] in {file} ([aws] profile, \
         $AWS_PROFILE)",
        profile_name(config, env)
    ))
}

/// The region: `[aws] region`, `$AWS_REGION`, `$AWS_DEFAULT_REGION`, the profile's, `us-east-1`.
pub fn region(config: &AwsConfig, env: &Env) -> Result<String, String> {
    let r = if !config.region.is_empty() {
        config.region.clone()
    } else if let Some(r) = env.get("AWS_REGION").or_else(|| env.get("AWS_DEFAULT_REGION")) {
        r
    } else {
        profile(config, env).and_then(|p| p.get("region").cloned()).unwrap_or_else(|| "us-east-1".into())
    };
    let ok = !r.is_empty()
        && r.len() <= 32
        && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(r)
    } else {
        Err(format!("region {r:?} is not an AWS region name (e.g. eu-west-1)"))
    }
}
