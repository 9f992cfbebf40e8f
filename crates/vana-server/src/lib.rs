//! VANA's HTTP face: Google ADK's API server (wire-compatible), OpenAI-compatible chat,
//! server-sent events, API-key authentication and limits, the Host/Origin/content-type guard
//! against cross-site use, the audit log, Prometheus metrics,
//! the live dashboard data and alerts, the OpenAPI document with Swagger UI, the embedded
//! web UI, and the mount point of the MCP server.
//!
//! Start it with [`serve`] (or build the [`router`] over an [`AppState`]).

pub mod adk;
pub mod adk_dev;
pub mod alerts;
pub mod audit_log;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod graph;
pub mod guard;
pub mod keys;
pub mod mcp_caller;
pub mod metrics;
pub mod observe;
pub mod openai;
pub mod openapi;
pub mod otlp;
pub mod state;
pub mod timeparse;
pub mod traces;
pub mod ui;

pub use error::ApiError;
pub use keys::{create_key, CreatedKey, KeyVerifier};
pub use state::{AppState, McpHealth, McpStatusSource, ServerOptions, Shared};

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use vana_app::App;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `--no-auth` on an address other machines can reach.
    #[error("refusing to run without authentication on {0}: bind a loopback address (127.0.0.1 or ::1) or drop --no-auth and use API keys (`vana keys create NAME`)")]
    NoAuthOnPublicBind(std::net::SocketAddr),
    /// `[telemetry] otlp_endpoint` is not a collector URL.
    #[error("{0}")]
    Telemetry(String),
    /// Listening or serving failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Every route over a state.
pub fn router(state: Shared) -> Router {
    let sessions = "/apps/{app}/users/{user}/sessions";
    let artifacts = "/apps/{app}/users/{user}/sessions/{session}/artifacts";
    let mut protected: Router<Shared> = Router::new();
    let mut public: Router<Shared> = Router::new();
    // `/metrics` needs a key like the API unless `[metrics] public = true`.
    if state.app.config.metrics.public {
        public = public.route("/metrics", get(dashboard::metrics));
    } else {
        protected = protected.route("/metrics", get(dashboard::metrics));
    }
    let protected: Router<Shared> = protected
        .route(sessions, get(adk::list_sessions).post(adk::create_session))
        .route(
            &format!("{sessions}/{{session}}"),
            get(adk::get_session)
                .post(adk::create_session_with_id)
                .delete(adk::delete_session)
                .patch(adk::update_session),
        )
        .route("/apps/{app}/users/{user}/memory", axum::routing::patch(adk::patch_memory))
        .route("/apps/{app}/app-info", get(adk::app_info))
        .route("/version", get(adk::version))
        .route("/config/telemetry", get(adk::telemetry).post(adk::set_telemetry))
        .route(&format!("{sessions}/{{session}}/approvals/{{call_id}}"), post(adk::approve))
        .route(artifacts, get(adk::artifact_names).post(adk::artifact_save))
        .route(&format!("{artifacts}/{{name}}/versions/metadata"), get(adk::artifact_versions_metadata))
        .route(
            &format!("{artifacts}/{{name}}/versions/{{version}}/metadata"),
            get(adk::artifact_version_metadata),
        )
        .route(&format!("{artifacts}/{{name}}"), get(adk::artifact_get).delete(adk::artifact_delete))
        .route(&format!("{artifacts}/{{name}}/versions"), get(adk::artifact_versions))
        .route(&format!("{artifacts}/{{name}}/versions/{{version}}"), get(adk::artifact_version))
        .route("/run", post(adk::run))
        .route("/run_sse", post(adk::run_sse))
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/models", get(openai::models))
        .route("/list-apps", get(adk::list_apps))
        .route("/api/agents", get(adk::agents))
        .route("/api/dashboard", get(dashboard::dashboard))
        .route("/api/dashboard/stream", get(dashboard::dashboard_stream))
        .route("/audit", get(dashboard::audit))
        .route("/api/audit", get(dashboard::audit))
        .route("/api/me", get(auth::me))
        .merge(adk_dev::routes())
        .route_layer(from_fn_with_state(state.clone(), auth::authenticate));
    let public: Router<Shared> = public
        .route("/healthz", get(dashboard::healthz))
        .route("/health", get(adk::health))
        .route("/readyz", get(dashboard::readyz))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/", get(ui::index))
        .route("/ui", get(ui::index))
        .route("/ui/", get(ui::index))
        .route("/ui/{*path}", get(ui::ui));
    // The document of this server (whether keys are needed, and for `/metrics`), served as
    // written: utoipa's model would drop the JSON Schema keywords it does not know.
    let openapi_doc = openapi::document_for(!state.options.no_auth, state.app.config.metrics.public);
    let docs: Router<Shared> = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", openapi_doc)
        .into();
    let mut app = public.merge(protected).merge(docs);
    // ---- MCP mount point: VANA's MCP server (vana-mcp, streamable HTTP) at /mcp, behind the
    // same authentication as the API; each request acts as its key's user (mcp_caller). The app
    // is its backend (tools, agents, runners, guardrails, audit log).
    if !state.options.no_mcp {
        let backend: std::sync::Arc<dyn vana_mcp::server::Backend> = state.app.clone();
        let mcp: Router<Shared> = Router::new()
            // The guard below checks `Host` for every route, /mcp included.
            .route_service("/mcp", vana_mcp::server::http_router_behind_host_check(backend))
            .layer(from_fn_with_state(mcp_caller::Sessions::default(), mcp_caller::attach))
            .layer(from_fn_with_state(state.clone(), auth::authenticate));
        app = app.merge(mcp);
    }
    let limit = state.app.config.server.max_body_bytes;
    // The guard wraps every route (the MCP mount and the fallback included); requests it
    // refuses are still counted by `track`.
    app.fallback(ui::fallback)
        .layer(axum::middleware::from_fn(openai::openai_errors))
        .layer(from_fn_with_state(state.clone(), guard::guard))
        .layer(from_fn_with_state(state.clone(), auth::track))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(app: App, listener: TcpListener, options: ServerOptions) -> Result<(), ServerError> {
    serve_with_shutdown(app, listener, options, shutdown_signal()).await
}

/// Serves until `shutdown` completes. Refuses `no_auth` on a non-loopback address.
pub async fn serve_with_shutdown(
    app: App,
    listener: TcpListener,
    mut options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr()?;
    options.bind = Some(addr);
    if options.no_auth && !addr.ip().is_loopback() {
        return Err(ServerError::NoAuthOnPublicBind(addr));
    }
    otlp::traces_url(&app.config.telemetry.otlp_endpoint).map_err(ServerError::Telemetry)?;
    let state = AppState::new(app, options);
    let ticker = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let mcp = state.options.mcp_status.as_ref().map(|s| s.health()).unwrap_or_default();
                state.alerts.evaluate(&state.metrics, &mcp);
            }
        })
    };
    let result = axum::serve(listener, router(state.clone())).with_graceful_shutdown(shutdown).await;
    ticker.abort();
    state.audit.flush().await;
    if let Some(x) = &state.otlp {
        x.flush(Duration::from_secs(5)).await;
    }
    Ok(result?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
