//! Kubernetes manifests from a short spec: a ConfigMap (the environment), a Deployment (probes,
//! resources, a non-root security context), a Service, an Ingress (when a host is given) and a
//! HorizontalPodAutoscaler (`autoscaling/v2`), as one multi-document YAML.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What to deploy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// The application's name (a DNS label: lower-case letters, digits, `-`; at most 63).
    pub name: String,
    /// The container image with its tag, e.g. `ghcr.io/acme/api:1.4.2`.
    pub image: String,
    /// The port the container listens on.
    pub port: u16,
    /// Replicas when no autoscaler applies (default 2).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// The namespace (default: none, i.e. the one applied to).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Environment variables, put in a ConfigMap (never secrets: use a Secret for those).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The Ingress host (e.g. `api.example.com`); no Ingress without it.
    #[serde(default)]
    pub host: Option<String>,
    /// The Ingress class (default `nginx`).
    #[serde(default)]
    pub ingress_class: Option<String>,
    /// The HTTP path the probes call (default `/`).
    #[serde(default)]
    pub health_path: Option<String>,
    /// Autoscaler minimum replicas (default 2).
    #[serde(default)]
    pub min_replicas: Option<u32>,
    /// Autoscaler maximum replicas (default 10).
    #[serde(default)]
    pub max_replicas: Option<u32>,
    /// Target average CPU utilisation in percent (default 70).
    #[serde(default)]
    pub cpu_target: Option<u32>,
    /// CPU request, e.g. `100m` (default `100m`; the limit is not set for CPU).
    #[serde(default)]
    pub cpu: Option<String>,
    /// Memory request and limit, e.g. `256Mi` (default `256Mi`).
    #[serde(default)]
    pub memory: Option<String>,
}

fn dns_label(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {s:?} must be a DNS label (a-z, 0-9, '-', at most 63, no leading or trailing '-')"
        ))
    }
}

fn quantity(what: &str, s: &str) -> Result<(), String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    let ok = !digits.is_empty()
        && digits.parse::<f64>().is_ok()
        && ["", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"].contains(&suffix);
    if ok {
        Ok(())
    } else {
        Err(format!("{what} {s:?} is not a Kubernetes quantity (e.g. 100m, 256Mi, 1Gi)"))
    }
}

/// Checks the spec; every refusal names the field.
pub fn check(s: &AppSpec) -> Result<(), String> {
    dns_label("name", &s.name)?;
    if let Some(ns) = &s.namespace {
        dns_label("namespace", ns)?;
    }
    let img_ok = !s.image.is_empty()
        && s.image.len() <= 255
        && s.image.bytes().all(|b| b.is_ascii_alphanumeric() || b"./:-_@".contains(&b));
    if !img_ok {
        return Err(format!("image {:?} is not an image reference (registry/name:tag)", s.image));
    }
    if s.image.ends_with(":latest")
        || !(s.image.rsplit('/').next().unwrap_or("").contains(':') || s.image.contains('@'))
    {
        return Err(format!("image {:?} needs a pinned tag or digest (not latest)", s.image));
    }
    if s.port == 0 {
        return Err("port must be 1-65535".into());
    }
    for k in s.env.keys() {
        let ok = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !ok {
            return Err(format!("env name {k:?} is not a valid variable name"));
        }
    }
    if let Some(h) = &s.host {
        let ok = h.split('.').count() >= 2 && h.split('.').all(|l| dns_label("host", l).is_ok());
        if !ok {
            return Err(format!("host {h:?} is not a DNS name (e.g. api.example.com)"));
        }
    }
    if let Some(p) = &s.health_path {
        if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("health_path {p:?} must be an absolute URL path"));
        }
    }
    let min = s.min_replicas.unwrap_or(2);
    let max = s.max_replicas.unwrap_or(10);
    if min == 0 || max < min {
        return Err(format!("min_replicas {min} / max_replicas {max}: need 1 <= min <= max"));
    }
    if let Some(t) = s.cpu_target {
        if t == 0 || t > 100 {
            return Err(format!("cpu_target {t} must be 1-100"));
        }
    }
    quantity("cpu", s.cpu.as_deref().unwrap_or("100m"))?;
    quantity("memory", s.memory.as_deref().unwrap_or("256Mi"))?;
    Ok(())
}

/// The manifests, in apply order: ConfigMap, Deployment, Service, Ingress, HPA.
pub fn manifests(s: &AppSpec) -> Result<Vec<Value>, String> {
    check(s)?;
    let name = s.name.as_str();
    let mut meta = json!({"name": name, "labels": {"app.kubernetes.io/name": name}});
    if let Some(ns) = &s.namespace {
        meta["namespace"] = json!(ns);
    }
    let selector = json!({"app.kubernetes.io/name": name});
    let health = s.health_path.as_deref().unwrap_or("/");
    let probe = |delay: u32| json!({"httpGet": {"path": health, "port": "http"}, "initialDelaySeconds": delay, "periodSeconds": 10});
    let memory = s.memory.as_deref().unwrap_or("256Mi");
    let mut out = Vec::new();
    out.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta.clone(), "data": s.env}));
    out.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta.clone(),
        "spec": {
            "replicas": s.replicas.unwrap_or(2),
            "selector": {"matchLabels": selector.clone()},
            "template": {
                "metadata": {"labels": selector.clone()},
                "spec": {
                    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": name,
                        "image": s.image,
                        "ports": [{"name": "http", "containerPort": s.port, "protocol": "TCP"}],
                        "envFrom": [{"configMapRef": {"name": name}}],
                        "readinessProbe": probe(5),
                        "livenessProbe": probe(15),
                        "resources": {
                            "requests": {"cpu": s.cpu.as_deref().unwrap_or("100m"), "memory": memory},
                            "limits": {"memory": memory}
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]}
                        }
                    }]
                }
            }
        }
    }));
    out.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.clone(),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    }));
    if let Some(host) = &s.host {
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta.clone(),
            "spec": {
                "ingressClassName": s.ingress_class.as_deref().unwrap_or("nginx"),
                "rules": [{"host": host, "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"name": "http"}}}
                }]}}]
            }
        }));
    }
    out.push(json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": s.min_replicas.unwrap_or(2),
            "maxReplicas": s.max_replicas.unwrap_or(10),
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": s.cpu_target.unwrap_or(70)}}}]
        }
    }));
    Ok(out)
}

/// The manifests as one multi-document YAML.
pub fn to_yaml(docs: &[Value]) -> String {
    docs.iter().map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap_or_default())).collect()
}
