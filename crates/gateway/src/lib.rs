//! The web gateway on :3000: serves the browser app and proxies `/api/*` to the services, so the
//! session cookie is first-party and the browser needs no CORS.

mod config;
mod proxy;

use axum::Router;
use axum::routing::any;
use platform::health::Readiness;
use tower_http::services::{ServeDir, ServeFile};

pub use config::GatewayConfig;
use proxy::Proxy;

/// The landing page served until a web bundle is built.
const PLACEHOLDER: &str = include_str!("placeholder.html");

pub fn router(config: &GatewayConfig) -> Router {
    let proxy = Proxy::new(config);
    let api = Router::new()
        .route("/api/{*rest}", any(proxy::forward))
        .with_state(proxy);
    let readiness = Readiness::new("gateway");
    let app = platform::http::finish(api, readiness);
    let index = config.web_dist.join("index.html");
    if index.is_file() {
        // Unknown paths get index.html so the app's router handles deep links on reload.
        app.fallback_service(ServeDir::new(&config.web_dist).fallback(ServeFile::new(index)))
    } else {
        tracing::info!(dir = %config.web_dist.display(), "no web bundle found, serving the API overview page");
        app.route(
            "/",
            axum::routing::get(|| async { axum::response::Html(PLACEHOLDER) }),
        )
    }
}

pub async fn run(config: GatewayConfig) -> anyhow::Result<()> {
    let listener = platform::http::bind(config.http.addr).await?;
    tracing::info!(addr = %config.http.addr, "gateway listening");
    platform::http::serve(listener, router(&config), platform::shutdown::signal()).await?;
    Ok(())
}
