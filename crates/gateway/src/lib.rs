//! The web gateway on :3000: serves the browser app and proxies `/api/*` to the services, so the
//! session cookie is first-party and the browser needs no CORS.

mod config;
mod headers;
mod path;
mod proxy;

use axum::Router;
use axum::routing::any;
use platform::health::Readiness;
use tower_http::services::{ServeDir, ServeFile};

pub use config::GatewayConfig;
use proxy::Proxy;

/// The landing page served until a web bundle is built, and its style sheet (a file: the CSP
/// allows no inline style).
const PLACEHOLDER: &str = include_str!("placeholder.html");
const PLACEHOLDER_CSS: &str = include_str!("placeholder.css");

pub fn router(config: &GatewayConfig) -> Router {
    let proxy = Proxy::new(config);
    let api = Router::new()
        .route("/api/{*rest}", any(proxy::forward))
        .with_state(proxy);
    let readiness = Readiness::new("gateway");
    let app = platform::http::finish(api, readiness);
    let index = config.web_dist.join("index.html");
    let app = if index.is_file() {
        // Unknown paths get index.html so the app's router handles deep links on reload.
        app.fallback_service(ServeDir::new(&config.web_dist).fallback(ServeFile::new(index)))
    } else {
        tracing::info!(dir = %config.web_dist.display(), "no web bundle found, serving the API overview page");
        app.route(
            "/",
            axum::routing::get(|| async { axum::response::Html(PLACEHOLDER) }),
        )
        .route(
            "/placeholder.css",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/css")],
                    PLACEHOLDER_CSS,
                )
            }),
        )
    };
    // The path is normalised before any routing: an outer router hands every request to `app`.
    Router::new()
        .fallback_service(app)
        .layer(axum::middleware::from_fn(path::normalise_request))
        .layer(axum::middleware::from_fn(headers::secure))
}

pub async fn run(config: GatewayConfig) -> anyhow::Result<()> {
    let listener = platform::http::bind(config.http.addr).await?;
    tracing::info!(addr = %config.http.addr, "gateway listening");
    platform::http::serve(listener, router(&config), platform::shutdown::signal()).await?;
    Ok(())
}
