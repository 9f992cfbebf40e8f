//! `[design]` in `vana.toml`: which image provider `generate_image` uses, where each provider
//! is (base URLs are operator configuration: a test points them at a local server), which model,
//! and the environment variables holding the keys (keys never live in the file).

/// Which image service `generate_image` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageProvider {
    /// The first provider whose key is set, in the order OpenAI, Gemini, Stability, Replicate.
    #[default]
    Auto,
    /// OpenAI Images (`POST /v1/images/generations`).
    Openai,
    /// Google Imagen through the Gemini API (`:predict`).
    Gemini,
    /// Stability AI (`POST /v2beta/stable-image/generate/{model}`).
    Stability,
    /// Replicate (`POST /v1/models/{owner}/{name}/predictions`).
    Replicate,
    /// Image generation off.
    None,
}

/// `[design]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DesignConfig {
    /// The image provider (default `auto`).
    pub image_provider: ImageProvider,
    /// OpenAI's API base URL.
    pub openai_url: String,
    /// OpenAI image model.
    pub openai_model: String,
    /// Environment variable holding the OpenAI key.
    pub openai_key_env: String,
    /// The Gemini API base URL.
    pub gemini_url: String,
    /// Imagen model.
    pub gemini_model: String,
    /// Environment variable holding the Gemini key.
    pub gemini_key_env: String,
    /// Stability AI's API base URL.
    pub stability_url: String,
    /// Stability model: `core`, `ultra` or `sd3`.
    pub stability_model: String,
    /// Environment variable holding the Stability key.
    pub stability_key_env: String,
    /// Replicate's API base URL.
    pub replicate_url: String,
    /// Replicate model, `owner/name`.
    pub replicate_model: String,
    /// Environment variable holding the Replicate token.
    pub replicate_key_env: String,
    /// How long one image may take, seconds.
    pub image_timeout_secs: u64,
    /// The largest image accepted from a provider, bytes.
    pub max_image_bytes: u64,
}

impl Default for DesignConfig {
    fn default() -> Self {
        DesignConfig {
            image_provider: ImageProvider::Auto,
            openai_url: "https://api.openai.com".into(),
            openai_model: "gpt-image-1".into(),
            openai_key_env: "OPENAI_API_KEY".into(),
            gemini_url: "https://generativelanguage.googleapis.com".into(),
            gemini_model: "imagen-4.0-generate-001".into(),
            gemini_key_env: "GEMINI_API_KEY".into(),
            stability_url: "https://api.stability.ai".into(),
            stability_model: "core".into(),
            stability_key_env: "STABILITY_API_KEY".into(),
            replicate_url: "https://api.replicate.com".into(),
            replicate_model: "black-forest-labs/flux-schnell".into(),
            replicate_key_env: "REPLICATE_API_TOKEN".into(),
            image_timeout_secs: 120,
            max_image_bytes: 20 * 1024 * 1024,
        }
    }
}
