//! Image generation through a hosted provider, each spoken in its documented wire format:
//!
//! - OpenAI Images: `POST {base}/v1/images/generations`, bearer key, JSON
//!   `{model, prompt, n, size}` → `{data: [{b64_json, revised_prompt}]}`;
//! - Gemini API (Imagen): `POST {base}/v1beta/models/{model}:predict`, `x-goog-api-key`, JSON
//!   `{instances: [{prompt}], parameters: {sampleCount, aspectRatio}}` →
//!   `{predictions: [{bytesBase64Encoded, mimeType}]}`;
//! - Stability AI: `POST {base}/v2beta/stable-image/generate/{model}`, bearer key,
//!   `multipart/form-data` (`prompt`, `aspect_ratio`, `output_format`, `negative_prompt`),
//!   `Accept: application/json` → `{image, finish_reason, seed}`;
//! - Replicate: `POST {base}/v1/models/{owner}/{name}/predictions`, bearer token,
//!   `Prefer: wait`, JSON `{input: {prompt, aspect_ratio, output_format}}` → a prediction whose
//!   `output` is the image URL (or a list of them), polled at `urls.get` until it succeeds.
//!
//! Requests go through the outbound-policy client; the configured base URL's host is allowed
//! (it is the operator's configuration, not the model's), anything else (Replicate's output
//! URLs) is checked like any other address.

use super::config::{DesignConfig, ImageProvider};
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vana_core::ToolError;
use vana_net::OutboundPolicy;

/// The shape of the image.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, vana_toolkit::schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// 1:1.
    #[default]
    Square,
    /// Wide (16:9, or 3:2 where the model has no 16:9).
    Landscape,
    /// Tall (9:16, or 2:3).
    Portrait,
}

impl Aspect {
    fn ratio(self) -> &'static str {
        match self {
            Aspect::Square => "1:1",
            Aspect::Landscape => "16:9",
            Aspect::Portrait => "9:16",
        }
    }
    fn openai_size(self, model: &str) -> &'static str {
        let dalle = model.starts_with("dall-e");
        match (self, dalle) {
            (Aspect::Square, _) => "1024x1024",
            (Aspect::Landscape, true) => "1792x1024",
            (Aspect::Portrait, true) => "1024x1792",
            (Aspect::Landscape, false) => "1536x1024",
            (Aspect::Portrait, false) => "1024x1536",
        }
    }
}

/// A generated image.
#[derive(Debug)]
pub struct Generated {
    /// The image bytes.
    pub bytes: Vec<u8>,
    /// Its MIME type (from its bytes).
    pub mime: &'static str,
    /// Who made it.
    pub provider: &'static str,
    /// The model.
    pub model: String,
    /// The prompt as the provider rewrote it, when it says.
    pub revised_prompt: Option<String>,
}

/// The provider `config` selects, with its key; a clear error when none is configured.
fn pick(config: &DesignConfig) -> Result<(ImageProvider, String), ToolError> {
    let key = |env: &str| std::env::var(env).ok().filter(|k| !k.trim().is_empty());
    let envs = [
        (ImageProvider::Openai, &config.openai_key_env),
        (ImageProvider::Gemini, &config.gemini_key_env),
        (ImageProvider::Stability, &config.stability_key_env),
        (ImageProvider::Replicate, &config.replicate_key_env),
    ];
    let all_envs = envs.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join(", ");
    match config.image_provider {
        ImageProvider::None => Err(ToolError::Unavailable(format!(
            "image generation is off (`[design] image_provider = \"none\"`); set it to auto, openai, gemini, stability \
             or replicate and its key ({all_envs}). render_svg draws SVG without any key"
        ))),
        ImageProvider::Auto => envs
            .iter()
            .find_map(|(p, e)| key(e).map(|k| (*p, k)))
            .ok_or_else(|| {
                ToolError::Unavailable(format!(
                    "no image provider is configured: set one of the environment variables {all_envs} (OpenAI Images, \
                     Gemini/Imagen, Stability AI, Replicate) for VANA's server, or choose one with `[design] \
                     image_provider`. render_svg draws SVG (logos, icons, diagrams) without any key"
                ))
            }),
        chosen => {
            let env = envs.iter().find(|(p, _)| *p == chosen).map(|(_, e)| e.as_str()).unwrap_or_default();
            key(env).map(|k| (chosen, k)).ok_or_else(|| {
                ToolError::Unavailable(format!(
                    "`[design] image_provider = \"{}\"` needs its key in the environment variable {env}, which is not set",
                    name(chosen)
                ))
            })
        }
    }
}

fn name(p: ImageProvider) -> &'static str {
    match p {
        ImageProvider::Auto => "auto",
        ImageProvider::Openai => "openai",
        ImageProvider::Gemini => "gemini",
        ImageProvider::Stability => "stability",
        ImageProvider::Replicate => "replicate",
        ImageProvider::None => "none",
    }
}

/// Which provider would be used now, if any (for the suite status and the docs).
pub fn configured(config: &DesignConfig) -> Option<&'static str> {
    pick(config).ok().map(|(p, _)| name(p))
}

/// The image type from its first bytes.
pub fn sniff(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The client for one provider: the outbound policy with the configured base URL's host
/// allowed.
fn client(config: &DesignConfig, policy: &OutboundPolicy, base: &str) -> Result<vana_net::Client, ToolError> {
    let parsed = url::Url::parse(base).map_err(|e| {
        ToolError::Unavailable(format!("the configured image provider URL `{base}` is not a URL: {e}"))
    })?;
    let mut policy = policy.clone();
    if let Some(host) = parsed.host_str() {
        policy.allowed_hosts.push(host.trim_start_matches('[').trim_end_matches(']').to_string());
    }
    policy
        .client(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(config.image_timeout_secs.max(1)))
                .user_agent(concat!("vana/", env!("CARGO_PKG_VERSION"))),
            3,
        )
        .map_err(|e| ToolError::Failed(format!("cannot build the HTTP client: {e}")))
}

fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn refused(e: vana_net::Refusal) -> ToolError {
    ToolError::Blocked(e.to_string())
}

/// Sends a request and reads the JSON answer, with the provider's own error message on failure.
async fn send_json(
    req: reqwest::RequestBuilder,
    provider: &str,
    key_env: &str,
    max: u64,
) -> Result<Value, ToolError> {
    let res = req.send().await.map_err(|e| {
        if let Some(r) = vana_net::Refusal::find(&e) {
            return ToolError::Blocked(r.to_string());
        }
        if e.is_timeout() {
            ToolError::Failed(format!("{provider} did not answer in time: {e}"))
        } else {
            ToolError::Failed(format!("{provider} could not be reached: {e}"))
        }
    })?;
    let status = res.status();
    let bytes = read_limited(res, max, provider).await?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = body
            .pointer("/error/message")
            .or_else(|| body.get("detail"))
            .or_else(|| body.pointer("/errors/0"))
            .or_else(|| body.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        let hint = if status.as_u16() == 401 || status.as_u16() == 403 {
            format!(" (the key in {key_env} was refused)")
        } else {
            String::new()
        };
        return Err(ToolError::Failed(format!("{provider} answered HTTP {}{hint}: {msg}", status.as_u16())));
    }
    if body.is_null() {
        return Err(ToolError::Failed(format!("{provider} answered something that is not JSON")));
    }
    Ok(body)
}

async fn read_limited(res: reqwest::Response, max: u64, provider: &str) -> Result<Vec<u8>, ToolError> {
    if res.content_length().is_some_and(|n| n > max) {
        return Err(ToolError::Failed(format!(
            "{provider} sent more than `[design] max_image_bytes` ({max} bytes)"
        )));
    }
    let mut res = res;
    let mut out = Vec::new();
    while let Some(chunk) =
        res.chunk().await.map_err(|e| ToolError::Failed(format!("reading {provider}'s answer: {e}")))?
    {
        out.extend_from_slice(&chunk);
        if out.len() as u64 > max {
            return Err(ToolError::Failed(format!(
                "{provider} sent more than `[design] max_image_bytes` ({max} bytes)"
            )));
        }
    }
    Ok(out)
}

fn decode_b64(s: Option<&str>, provider: &str) -> Result<Vec<u8>, ToolError> {
    let s = s.ok_or_else(|| ToolError::Failed(format!("{provider}'s answer holds no image")))?;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| ToolError::Failed(format!("{provider} sent an image that is not base64: {e}")))
}

/// Generates one image from `prompt`.
pub async fn generate(
    config: &DesignConfig,
    policy: &OutboundPolicy,
    prompt: &str,
    negative: Option<&str>,
    aspect: Aspect,
) -> Result<Generated, ToolError> {
    let (provider, key) = pick(config)?;
    let max = config.max_image_bytes;
    let (bytes, label, model, revised): (Vec<u8>, &'static str, String, Option<String>) = match provider {
        ImageProvider::Openai => {
            let label = "OpenAI Images";
            let c = client(config, policy, &config.openai_url)?;
            let model = config.openai_model.clone();
            let mut body =
                json!({"model": model, "prompt": prompt, "n": 1, "size": aspect.openai_size(&model)});
            if model.starts_with("dall-e") {
                body["response_format"] = json!("b64_json");
            }
            let req = c
                .request(reqwest::Method::POST, &join(&config.openai_url, "/v1/images/generations"))
                .map_err(refused)?
                .bearer_auth(&key)
                .json(&body);
            let v = send_json(req, label, &config.openai_key_env, max * 2).await?;
            let bytes = decode_b64(v.pointer("/data/0/b64_json").and_then(Value::as_str), label)?;
            let revised = v.pointer("/data/0/revised_prompt").and_then(Value::as_str).map(str::to_string);
            (bytes, label, model, revised)
        }
        ImageProvider::Gemini => {
            let label = "Gemini (Imagen)";
            let c = client(config, policy, &config.gemini_url)?;
            let model = config.gemini_model.clone();
            let url = join(&config.gemini_url, &format!("/v1beta/models/{model}:predict"));
            let body = json!({
                "instances": [{"prompt": prompt}],
                "parameters": {"sampleCount": 1, "aspectRatio": aspect.ratio()},
            });
            let req = c
                .request(reqwest::Method::POST, &url)
                .map_err(refused)?
                .header("x-goog-api-key", &key)
                .json(&body);
            let v = send_json(req, label, &config.gemini_key_env, max * 2).await?;
            if v.pointer("/predictions/0").is_none() {
                return Err(ToolError::Failed(format!(
                    "{label} returned no image (the prompt may have been filtered by its safety settings)"
                )));
            }
            let bytes =
                decode_b64(v.pointer("/predictions/0/bytesBase64Encoded").and_then(Value::as_str), label)?;
            (bytes, label, model, None)
        }
        ImageProvider::Stability => {
            let label = "Stability AI";
            let c = client(config, policy, &config.stability_url)?;
            let model = config.stability_model.clone();
            let url = join(&config.stability_url, &format!("/v2beta/stable-image/generate/{model}"));
            let boundary = "vana-form-7d3f9a1c5e";
            let mut fields = vec![
                ("prompt", prompt.to_string()),
                ("aspect_ratio", aspect.ratio().to_string()),
                ("output_format", "png".to_string()),
            ];
            if let Some(n) = negative.filter(|n| !n.trim().is_empty()) {
                fields.push(("negative_prompt", n.to_string()));
            }
            let mut form = String::new();
            for (k, v) in &fields {
                form.push_str(&format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                ));
            }
            form.push_str(&format!("--{boundary}--\r\n"));
            let req = c
                .request(reqwest::Method::POST, &url)
                .map_err(refused)?
                .bearer_auth(&key)
                .header("Accept", "application/json")
                .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
                .body(form);
            let v = send_json(req, label, &config.stability_key_env, max * 2).await?;
            if let Some(reason) = v.get("finish_reason").and_then(Value::as_str) {
                if reason != "SUCCESS" {
                    return Err(ToolError::Failed(format!(
                        "{label} did not finish the image (finish_reason {reason})"
                    )));
                }
            }
            let bytes = decode_b64(v.get("image").and_then(Value::as_str), label)?;
            (bytes, label, model, None)
        }
        ImageProvider::Replicate => {
            let label = "Replicate";
            let c = client(config, policy, &config.replicate_url)?;
            let model = config.replicate_model.clone();
            let url = join(&config.replicate_url, &format!("/v1/models/{model}/predictions"));
            let body =
                json!({"input": {"prompt": prompt, "aspect_ratio": aspect.ratio(), "output_format": "png"}});
            let req = c
                .request(reqwest::Method::POST, &url)
                .map_err(refused)?
                .bearer_auth(&key)
                .header("Prefer", "wait")
                .json(&body);
            let mut v = send_json(req, label, &config.replicate_key_env, 1 << 20).await?;
            let deadline = Instant::now() + Duration::from_secs(config.image_timeout_secs.max(1));
            loop {
                match v.get("status").and_then(Value::as_str).unwrap_or("") {
                    "succeeded" => break,
                    "failed" | "canceled" => {
                        let e = v.get("error").map(|e| e.to_string()).unwrap_or_default();
                        return Err(ToolError::Failed(format!("{label}'s prediction failed: {e}")));
                    }
                    _ => {}
                }
                if Instant::now() >= deadline {
                    return Err(ToolError::Failed(format!(
                        "{label}'s prediction did not finish within {} s",
                        config.image_timeout_secs
                    )));
                }
                let get =
                    v.pointer("/urls/get").and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                        ToolError::Failed(format!(
                            "{label}'s prediction is not finished and has no urls.get to poll"
                        ))
                    })?;
                tokio::time::sleep(Duration::from_millis(500)).await;
                let req = c.get(&get).map_err(refused)?.bearer_auth(&key);
                v = send_json(req, label, &config.replicate_key_env, 1 << 20).await?;
            }
            let out = match v.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or_default().to_string(),
                _ => String::new(),
            };
            if out.is_empty() {
                return Err(ToolError::Failed(format!(
                    "{label}'s prediction succeeded but has no output URL"
                )));
            }
            let res =
                c.get(&out).map_err(refused)?.send().await.map_err(|e| {
                    match vana_net::Refusal::find(&e) {
                        Some(r) => ToolError::Blocked(r.to_string()),
                        None => ToolError::Failed(format!("downloading {label}'s image: {e}")),
                    }
                })?;
            if !res.status().is_success() {
                return Err(ToolError::Failed(format!(
                    "downloading {label}'s image answered HTTP {}",
                    res.status().as_u16()
                )));
            }
            (read_limited(res, max, label).await?, label, model, None)
        }
        ImageProvider::Auto | ImageProvider::None => unreachable!("pick resolves these"),
    };
    if bytes.len() as u64 > max {
        return Err(ToolError::Failed(format!(
            "{label} sent more than `[design] max_image_bytes` ({max} bytes)"
        )));
    }
    let mime = sniff(&bytes).ok_or_else(|| {
        ToolError::Failed(format!("{label} sent data that is not a PNG, JPEG or WebP image"))
    })?;
    Ok(Generated { bytes, mime, provider: name(provider), model, revised_prompt: revised })
}
