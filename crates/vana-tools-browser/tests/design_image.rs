//! `generate_image` against local servers speaking each provider's documented wire format
//! (OpenAI Images, Gemini/Imagen `:predict`, Stability v2beta multipart, Replicate predictions
//! with polling): the request each provider would receive is checked, the image comes back as
//! a PNG artifact and a workspace file; plus the errors: no provider, a refused key, an output
//! URL the outbound policy refuses (and that server gets no request).
//!
//! One test function: the keys are environment variables, set once before anything runs.

mod design_env;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use base64::Engine;
use design_env::{png_pixel, png_size, Env};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use vana_core::ToolError;
use vana_tools_browser::design::ImageProvider;
use vana_tools_browser::DesignConfig;

/// A solid `w`x`h` PNG of one colour.
fn solid_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        let mut wr = e.write_header().unwrap();
        let data: Vec<u8> = (0..w * h).flat_map(|_| rgb).collect();
        wr.write_image_data(&data).unwrap();
    }
    out
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(String, String, Value)>>>);

impl Log {
    fn push(&self, path: &str, auth: &str, body: Value) {
        self.0.lock().unwrap().push((path.to_string(), auth.to_string(), body));
    }
    fn take(&self) -> Vec<(String, String, Value)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[derive(Clone)]
struct S {
    log: Log,
    base: Arc<Mutex<String>>,
    /// Where Replicate's output points (the same server unless a test changes it).
    output: Arc<Mutex<String>>,
}

fn header(h: &HeaderMap, k: &str) -> String {
    h.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn openai(State(s): State<S>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    s.log.push("/v1/images/generations", &header(&h, "authorization"), body.clone());
    if header(&h, "authorization") != "Bearer sk-openai-test" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
            ),
        )
            .into_response();
    }
    Json(json!({"created": 1, "data": [{"b64_json": b64(&solid_png(16, 16, [255, 0, 0])), "revised_prompt": format!("A red square: {}", body["prompt"].as_str().unwrap_or(""))}]})).into_response()
}

async fn gemini(
    State(s): State<S>,
    Path(model): Path<String>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    s.log.push(&format!("/v1beta/models/{model}"), &header(&h, "x-goog-api-key"), body);
    if !model.ends_with(":predict") {
        return (StatusCode::NOT_FOUND, "no such method").into_response();
    }
    Json(json!({"predictions": [{"bytesBase64Encoded": b64(&solid_png(16, 9, [0, 255, 0])), "mimeType": "image/png"}]})).into_response()
}

async fn stability(State(s): State<S>, Path(model): Path<String>, h: HeaderMap, body: String) -> Response {
    // The multipart form's fields, by name.
    let boundary = header(&h, "content-type").split("boundary=").nth(1).unwrap_or_default().to_string();
    let mut fields = serde_json::Map::new();
    for part in body.split(&format!("--{boundary}")) {
        if let Some((head, value)) = part.split_once("\r\n\r\n") {
            if let Some(name) = head.split("name=\"").nth(1).and_then(|n| n.split('"').next()) {
                fields.insert(name.into(), json!(value.trim_end_matches("\r\n")));
            }
        }
    }
    fields.insert("_accept".into(), json!(header(&h, "accept")));
    fields.insert(
        "_content_type".into(),
        json!(header(&h, "content-type").split(';').next().unwrap_or_default()),
    );
    s.log.push(
        &format!("/v2beta/stable-image/generate/{model}"),
        &header(&h, "authorization"),
        Value::Object(fields),
    );
    Json(json!({"image": b64(&solid_png(9, 16, [0, 0, 255])), "finish_reason": "SUCCESS", "seed": 42}))
        .into_response()
}

async fn replicate_create(
    State(s): State<S>,
    Path((owner, name)): Path<(String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut b = body;
    b["_prefer"] = json!(header(&h, "prefer"));
    s.log.push(&format!("/v1/models/{owner}/{name}/predictions"), &header(&h, "authorization"), b);
    let base = s.base.lock().unwrap().clone();
    (StatusCode::CREATED, Json(json!({"id": "p1", "status": "starting", "output": null, "urls": {"get": format!("{base}/v1/predictions/p1")}}))).into_response()
}

async fn replicate_get(State(s): State<S>, h: HeaderMap) -> Response {
    s.log.push("/v1/predictions/p1", &header(&h, "authorization"), Value::Null);
    let out = s.output.lock().unwrap().clone();
    Json(json!({"id": "p1", "status": "succeeded", "output": [out]})).into_response()
}

async fn serve(ip: &str) -> (String, S) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let s = S {
        log: Log::default(),
        base: Arc::new(Mutex::new(base.clone())),
        output: Arc::new(Mutex::new(format!("{base}/files/out.png"))),
    };
    let log = s.log.clone();
    let app = axum::Router::new()
        .route("/v1/images/generations", post(openai))
        .route("/v1beta/models/{model}", post(gemini))
        .route("/v2beta/stable-image/generate/{model}", post(stability))
        .route("/v1/models/{owner}/{name}/predictions", post(replicate_create))
        .route("/v1/predictions/p1", get(replicate_get))
        .route(
            "/files/out.png",
            get(move || {
                let log = log.clone();
                async move {
                    log.push("/files/out.png", "", Value::Null);
                    ([("content-type", "image/png")], solid_png(12, 12, [255, 255, 0]))
                }
            }),
        )
        .with_state(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, s)
}

fn config(base: &str, provider: ImageProvider) -> DesignConfig {
    DesignConfig {
        image_provider: provider,
        openai_url: base.into(),
        openai_key_env: "VANA_DESIGN_TEST_OPENAI".into(),
        gemini_url: base.into(),
        gemini_key_env: "VANA_DESIGN_TEST_GEMINI".into(),
        stability_url: base.into(),
        stability_key_env: "VANA_DESIGN_TEST_STABILITY".into(),
        replicate_url: format!("{base}/"),
        replicate_key_env: "VANA_DESIGN_TEST_REPLICATE".into(),
        image_timeout_secs: 20,
        ..DesignConfig::default()
    }
}

fn artifact(o: &vana_core::ToolOutput) -> Vec<u8> {
    assert_eq!(o.artifacts.len(), 1, "{}", o.response);
    assert_eq!(o.artifacts[0].mime_type, "image/png");
    base64::engine::general_purpose::STANDARD.decode(&o.artifacts[0].data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_is_spoken_in_its_wire_format_and_missing_keys_say_which_to_set() {
    // No key set yet: a clear error naming every variable that enables a provider.
    for k in [
        "VANA_DESIGN_TEST_OPENAI",
        "VANA_DESIGN_TEST_GEMINI",
        "VANA_DESIGN_TEST_STABILITY",
        "VANA_DESIGN_TEST_REPLICATE",
    ] {
        std::env::remove_var(k);
    }
    let (base, s) = serve("127.0.0.1").await;
    // The default policy refuses loopback for the model's URLs; the configured base URL is the
    // operator's and is allowed.
    let policy = vana_net::OutboundPolicy::default();
    let env = Env::new(policy.clone(), config(&base, ImageProvider::Auto));
    let e = env.err("s", "generate_image", json!({"prompt": "a red square"})).await;
    assert!(matches!(e, ToolError::Unavailable(_)), "{e:?}");
    let msg = e.to_string();
    for k in [
        "VANA_DESIGN_TEST_OPENAI",
        "VANA_DESIGN_TEST_GEMINI",
        "VANA_DESIGN_TEST_STABILITY",
        "VANA_DESIGN_TEST_REPLICATE",
        "render_svg",
    ] {
        assert!(msg.contains(k), "{msg}");
    }
    // The defaults name the real variables.
    let plain = Env::new(
        policy.clone(),
        DesignConfig { openai_key_env: "VANA_DESIGN_TEST_UNSET_1".into(), ..DesignConfig::default() },
    );
    let msg = plain.err("s", "generate_image", json!({"prompt": "x"})).await.to_string();
    assert!(
        msg.contains("GEMINI_API_KEY")
            && msg.contains("STABILITY_API_KEY")
            && msg.contains("REPLICATE_API_TOKEN"),
        "{msg}"
    );
    let env_chosen = Env::new(policy.clone(), config(&base, ImageProvider::Stability));
    let msg = env_chosen.err("s", "generate_image", json!({"prompt": "x"})).await.to_string();
    assert!(
        msg.contains("image_provider = \"stability\"") && msg.contains("VANA_DESIGN_TEST_STABILITY"),
        "{msg}"
    );
    let off = Env::new(policy.clone(), config(&base, ImageProvider::None));
    assert!(off
        .err("s", "generate_image", json!({"prompt": "x"}))
        .await
        .to_string()
        .contains("image generation is off"));
    assert!(s.log.take().is_empty(), "no provider was called");

    std::env::set_var("VANA_DESIGN_TEST_OPENAI", "sk-openai-test");
    std::env::set_var("VANA_DESIGN_TEST_GEMINI", "gm-test");
    std::env::set_var("VANA_DESIGN_TEST_STABILITY", "sk-stab-test");
    std::env::set_var("VANA_DESIGN_TEST_REPLICATE", "r8-test");

    // Bad input changes nothing and calls nobody.
    let e = env.err("s", "generate_image", json!({"prompt": "   "})).await;
    assert!(e.to_string().contains("field `prompt`"), "{e}");
    let e = env.err("s", "generate_image", json!({"prompt": "x".repeat(5000)})).await;
    assert!(e.to_string().contains("at most 4000"), "{e}");
    let e = env.err("s", "generate_image", json!({"prompt": "x", "save_as": "../../etc/evil.png"})).await;
    assert!(matches!(e, ToolError::Blocked(_) | ToolError::InvalidArgs(_)), "{e:?}");
    assert!(s.log.take().is_empty());

    // OpenAI (auto picks it: its key is set first in the order).
    let o = env.out("s", "generate_image", json!({"prompt": "a red square", "aspect": "landscape"})).await;
    let png = artifact(&o);
    assert_eq!(png_size(&png), (16, 16));
    assert_eq!(png_pixel(&png, 3, 3), [255, 0, 0, 255]);
    assert_eq!(o.response["provider"], "openai");
    assert_eq!(o.response["revised_prompt"], "A red square: a red square");
    assert_eq!(env.read("s", o.response["saved_as"].as_str().unwrap()), png);
    let log = s.log.take();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, "Bearer sk-openai-test");
    assert_eq!(
        log[0].2,
        json!({"model": "gpt-image-1", "prompt": "a red square", "n": 1, "size": "1536x1024"})
    );

    // Gemini / Imagen.
    let env = Env::new(policy.clone(), config(&base, ImageProvider::Gemini));
    let o =
        env.out("s", "generate_image", json!({"prompt": "a green field", "save_as": "art/field.png"})).await;
    assert_eq!(png_size(&artifact(&o)), (16, 9));
    assert_eq!(o.response["saved_as"], "art/field.png");
    assert_eq!(png_pixel(&env.read("s", "art/field.png"), 0, 0), [0, 255, 0, 255]);
    let log = s.log.take();
    assert_eq!(log[0].0, "/v1beta/models/imagen-4.0-generate-001:predict");
    assert_eq!(log[0].1, "gm-test");
    assert_eq!(
        log[0].2,
        json!({"instances": [{"prompt": "a green field"}], "parameters": {"sampleCount": 1, "aspectRatio": "1:1"}})
    );

    // Stability (multipart/form-data).
    let env = Env::new(policy.clone(), config(&base, ImageProvider::Stability));
    let o = env
        .out(
            "s",
            "generate_image",
            json!({"prompt": "a blue tower", "negative_prompt": "people", "aspect": "portrait"}),
        )
        .await;
    assert_eq!(png_size(&artifact(&o)), (9, 16));
    let log = s.log.take();
    assert_eq!(log[0].0, "/v2beta/stable-image/generate/core");
    assert_eq!(log[0].1, "Bearer sk-stab-test");
    assert_eq!(
        log[0].2,
        json!({"prompt": "a blue tower", "aspect_ratio": "9:16", "output_format": "png", "negative_prompt": "people",
               "_accept": "application/json", "_content_type": "multipart/form-data"})
    );

    // Replicate: create, poll urls.get, download the output.
    let env = Env::new(policy.clone(), config(&base, ImageProvider::Replicate));
    let o = env.out("s", "generate_image", json!({"prompt": "a yellow sun"})).await;
    let png = artifact(&o);
    assert_eq!(png_size(&png), (12, 12));
    assert_eq!(png_pixel(&png, 1, 1), [255, 255, 0, 255]);
    let log = s.log.take();
    let paths: Vec<&str> = log.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/models/black-forest-labs/flux-schnell/predictions", "/v1/predictions/p1", "/files/out.png"]
    );
    assert_eq!(log[0].1, "Bearer r8-test");
    assert_eq!(
        log[0].2,
        json!({"input": {"prompt": "a yellow sun", "aspect_ratio": "1:1", "output_format": "png"}, "_prefer": "wait"})
    );

    // An output URL on another address is checked by the outbound policy: refused, and that
    // server gets no request.
    let (other, other_s) = serve("127.0.0.2").await;
    *s.output.lock().unwrap() = format!("{other}/files/out.png");
    let e = env.err("s", "generate_image", json!({"prompt": "a yellow sun"})).await;
    assert!(matches!(e, ToolError::Blocked(_)) && e.to_string().contains("127.0.0.2"), "{e:?}");
    assert!(other_s.log.take().is_empty(), "the refused address received a request");
    s.log.take();

    // A refused key: the provider's message and the variable to fix.
    std::env::set_var("VANA_DESIGN_TEST_OPENAI", "sk-wrong");
    let env = Env::new(policy, config(&base, ImageProvider::Openai));
    let e = env.err("s", "generate_image", json!({"prompt": "x"})).await;
    let msg = e.to_string();
    assert!(
        msg.contains("HTTP 401")
            && msg.contains("VANA_DESIGN_TEST_OPENAI")
            && msg.contains("Incorrect API key"),
        "{msg}"
    );
}
