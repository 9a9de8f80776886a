//! Wiring: the service's parts, the router, start-up tasks and the server.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use platform::background::Background;
use platform::health::Readiness;
use platform::service::Service;
use platform::{Role, StoreError};
use uuid::Uuid;

use crate::config::AuthConfig;
use crate::domain::{Email, Password, User};
use crate::passwords;
use crate::records::SessionRecords;
use crate::state::{AppState, Throttles};
use crate::store::{self, AuthStore};
use crate::{openapi, routes};

pub struct App {
    pub state: AppState,
    pub config: AuthConfig,
}

impl App {
    /// Starts the purge of dead sessions every ten minutes (MongoDB also expires them by TTL
    /// index); [`Background::stop`] (or dropping it) stops it.
    pub fn spawn_background(&self) -> Background {
        Background::new().every(
            "session purge",
            Duration::from_secs(600),
            self.state.clone(),
            |state| Box::pin(purge_sessions(state)),
        )
    }
}

/// Opens the configured store and prepares the service.
pub async fn build(config: AuthConfig) -> anyhow::Result<App> {
    let store = store::open(&config.base.store).await?;
    build_with_store(config, store).await
}

pub async fn build_with_store(
    config: AuthConfig,
    store: Arc<dyn AuthStore>,
) -> anyhow::Result<App> {
    let dummy =
        Password::parse(&crate::session::new_token()[..32]).expect("32 chars is a valid password");
    let dummy_hash = passwords::hash(dummy, config.bcrypt_cost).await?;
    let records = match &config.nats_url {
        Some(url) => SessionRecords::start(url, store.clone(), config.session_idle),
        None => SessionRecords::disabled(),
    };
    let state = AppState {
        records,
        store,
        config: Arc::new(config.clone()),
        dummy_hash: dummy_hash.into(),
        throttles: Arc::new(Throttles::new(&config)),
    };
    if let Some(admin) = &config.admin {
        ensure_admin(&state, &admin.email, &admin.password).await?;
    }
    Ok(App { state, config })
}

impl Service for AppState {
    fn routes() -> Router<AppState> {
        routes::router().merge(platform::openapi::route(openapi::PATH, &openapi::openapi()))
    }

    fn readiness(&self) -> Readiness {
        Readiness::new("auth-service").store_of(self.store.clone(), |s| s.ping())
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(config: AuthConfig) -> anyhow::Result<()> {
    let addr = config.base.http.addr;
    let app = build(config).await?;
    platform::service::serve(addr, app.state.clone(), app.spawn_background()).await
}

/// Deletes expired and idle sessions; returns how many.
pub async fn purge_sessions(state: &AppState) -> Result<u64, StoreError> {
    let now = platform::time::now();
    let idle =
        chrono::Duration::from_std(state.config.session_idle).unwrap_or(chrono::Duration::MAX);
    let purged = state.store.purge_sessions(now, now - idle).await?;
    if purged > 0 {
        tracing::info!(purged, "expired sessions deleted");
    }
    Ok(purged)
}

/// Creates the configured admin account, or promotes an existing account with that email.
async fn ensure_admin(state: &AppState, email: &str, password: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("ADMIN_EMAIL: {m}"))?;
    let now = platform::time::now();
    if let Some((user, _)) = state.store.user_by_email(email.as_str()).await? {
        if user.role != Role::Admin {
            crate::accounts::set_role(state, user.id, Role::Admin).await?;
            tracing::info!(%email, "existing account promoted to admin");
        }
        return Ok(());
    }
    let password = Password::parse(password).map_err(|m| anyhow::anyhow!("ADMIN_PASSWORD: {m}"))?;
    let hash = passwords::hash(password, state.config.bcrypt_cost).await?;
    let admin = User {
        id: Uuid::new_v4(),
        email: email.as_str().to_string(),
        first_name: "Admin".into(),
        last_name: "User".into(),
        role: Role::Admin,
        is_active: true,
        last_login: None,
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_user(&admin, &hash).await {
        Ok(()) | Err(StoreError::Duplicate(_)) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(%email, "admin account created");
    Ok(())
}
