//! The HTTP routes of the auth service.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::openapi::ErrorBody;
use platform::{ApiError, Role, StoreError, ValidatedJson};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::app::AppState;
use crate::domain::{Email, Password, PersonName, User, rules};
use crate::error::AuthError;
use crate::openapi::{MessageResponse, UserResponse, VerifyResponse};
use crate::passwords;
use crate::session::{self, Session};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/verify", get(verify))
        .route("/api/auth/openapi.json", get(crate::openapi::serve))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RegisterBody {
    /// Trimmed and lower-cased; at most 254 characters.
    #[serde(default)]
    #[validate(custom(function = "rules::email"))]
    #[schema(required = true, format = "email", example = "ada@example.com")]
    email: String,
    /// 8 to 72 bytes (bcrypt's limit).
    #[serde(default)]
    #[validate(custom(function = "rules::password"))]
    #[schema(required = true, format = Password, min_length = 8)]
    password: String,
    /// 1 to 100 characters once trimmed.
    #[serde(default)]
    #[validate(custom(function = "rules::name"))]
    #[schema(required = true, min_length = 1, max_length = 100, example = "Ada")]
    first_name: String,
    /// 1 to 100 characters once trimmed.
    #[serde(default)]
    #[validate(custom(function = "rules::name"))]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 100,
        example = "Lovelace"
    )]
    last_name: String,
}

#[derive(Deserialize, Validate, ToSchema)]
struct LoginBody {
    #[serde(default)]
    #[validate(length(min = 1, message = "Email is required."))]
    #[schema(required = true, min_length = 1, example = "ada@example.com")]
    email: String,
    #[serde(default)]
    #[validate(length(min = 1, message = "Password is required."))]
    #[schema(required = true, format = Password, min_length = 1)]
    password: String,
}

type SignedIn = (
    StatusCode,
    [(header::HeaderName, String); 1],
    Json<serde_json::Value>,
);

fn field(name: &str) -> impl Fn(&'static str) -> AuthError + '_ {
    move |message| ApiError::field(name, message).into()
}

/// Create an account and sign in
///
/// The new account has the role `user`. The answer starts a session: it sets the `sid` cookie.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Account created and signed in.", body = UserResponse,
            headers(("Set-Cookie" = String, description = "The new session: `sid=...; Path=/; Max-Age=...; HttpOnly; SameSite=Lax` (plus `Secure` when `COOKIE_SECURE` is set)."))),
        (status = 400, description = "`malformed_json`: the body is not JSON.", body = ErrorBody),
        (status = 409, description = "`email_taken`: an account with this email exists (also in `fields.email`).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `fields` names every invalid field (`email`, `password`, `firstName`, `lastName`); `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    ValidatedJson(body): ValidatedJson<RegisterBody>,
) -> Result<SignedIn, AuthError> {
    let email = Email::parse(&body.email).map_err(field("email"))?;
    let password = Password::parse(&body.password).map_err(field("password"))?;
    let first_name = PersonName::parse(&body.first_name).map_err(field("firstName"))?;
    let last_name = PersonName::parse(&body.last_name).map_err(field("lastName"))?;

    // Cheap early answer; the unique index still decides races.
    if state.store.user_by_email(email.as_str()).await?.is_some() {
        return Err(AuthError::EmailTaken);
    }
    let hash = passwords::hash(password, state.config.bcrypt_cost).await?;
    let now = platform::time::now();
    let user = User {
        id: Uuid::new_v4(),
        email: email.as_str().to_string(),
        first_name: first_name.into_string(),
        last_name: last_name.into_string(),
        role: Role::User,
        is_active: true,
        last_login: Some(now),
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_user(&user, &hash).await {
        Err(StoreError::Duplicate(_)) => return Err(AuthError::EmailTaken),
        other => other?,
    }
    let cookie = start_session(&state, user.id).await?;
    tracing::info!(user_id = %user.id, "account registered");
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": user })),
    ))
}

/// Sign in
///
/// Every sign-in issues a new session id; a session cookie the request brought is deleted.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in.", body = UserResponse,
            headers(("Set-Cookie" = String, description = "The new session: `sid=...; Path=/; Max-Age=...; HttpOnly; SameSite=Lax` (plus `Secure` when `COOKIE_SECURE` is set)."))),
        (status = 400, description = "`malformed_json`: the body is not JSON.", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: unknown email or wrong password (not told apart).", body = ErrorBody),
        (status = 403, description = "`account_disabled`: the account has been disabled.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `email` or `password` is empty; `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ValidatedJson(body): ValidatedJson<LoginBody>,
) -> Result<SignedIn, AuthError> {
    let found = match Email::parse(&body.email) {
        Ok(email) => state.store.user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    // Unknown accounts are checked against a dummy hash so they take as long as real ones.
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let password_ok = passwords::verify(body.password, hash).await?;
    let user = match found {
        Some((user, _)) if password_ok => user,
        _ => return Err(AuthError::InvalidCredentials),
    };
    if !user.is_active {
        return Err(AuthError::AccountDisabled);
    }
    // A new id on every sign-in; the one the browser brought (if any) dies, so a planted
    // session id is never promoted to an authenticated one.
    if let Some(old) = presented_token(&state, &headers) {
        state
            .store
            .delete_session(&session::hash_token(old))
            .await?;
    }
    let now = platform::time::now();
    state.store.record_login(user.id, now).await?;
    let cookie = start_session(&state, user.id).await?;
    let user = User {
        last_login: Some(now),
        updated_at: now,
        ..user
    };
    Ok((
        StatusCode::OK,
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": user })),
    ))
}

/// Sign out
///
/// Deletes the session the cookie names (if any) and clears the cookie; succeeds without a
/// session too.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    security((), ("cookieAuth" = [])),
    responses(
        (status = 200, description = "Signed out.", body = MessageResponse,
            headers(("Set-Cookie" = String, description = "Clears `sid` (`Max-Age=0`)."))),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AuthError> {
    if let Some(token) = presented_token(&state, &headers) {
        state
            .store
            .delete_session(&session::hash_token(token))
            .await?;
    }
    Ok((
        [(header::SET_COOKIE, session::removal(&state.config))],
        Json(json!({ "message": "Signed out." })),
    ))
}

/// The signed-in account
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = "auth",
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The account behind the session.", body = UserResponse),
        (status = 401, description = "`unauthorized`: no session, or it expired or was deleted.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AuthError> {
    let user = current_user(&state, &headers).await?;
    Ok(Json(json!({ "user": user })))
}

/// Who a session cookie belongs to (for the other services)
///
/// The other services forward the caller's `Cookie` header here to learn who is calling.
#[utoipa::path(
    get,
    path = "/api/auth/verify",
    tag = "auth",
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The session is alive; its user.", body = VerifyResponse),
        (status = 401, description = "`unauthorized`: no session, or it expired or was deleted.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AuthError> {
    let user = current_user(&state, &headers).await?;
    Ok(Json(json!({ "user": user.verified() })))
}

fn presented_token<'h>(state: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::token_from_header(h, &state.config.cookie_name))
}

async fn start_session(state: &AppState, user_id: Uuid) -> Result<String, AuthError> {
    let token = session::new_token();
    let now = platform::time::now();
    let lifetime = chrono::Duration::from_std(state.config.session_max_age)
        .map_err(|e| AuthError::Internal(e.into()))?;
    state
        .store
        .insert_session(&Session {
            token_hash: session::hash_token(&token),
            user_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
        })
        .await?;
    Ok(session::cookie(&state.config, &token))
}

/// How stale `last_seen_at` may get before a request refreshes it; saves a write per request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The active user behind the request's session cookie.
async fn current_user(state: &AppState, headers: &HeaderMap) -> Result<User, AuthError> {
    let token = presented_token(state, headers).ok_or(AuthError::Unauthenticated)?;
    let token_hash = session::hash_token(token);
    let (session, user) = state
        .store
        .session_with_user(&token_hash)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let now = platform::time::now();
    if !session.is_alive(now, state.config.session_idle) || !user.is_active {
        state.store.delete_session(&token_hash).await?;
        return Err(AuthError::Unauthenticated);
    }
    if now - session.last_seen_at > TOUCH_EVERY {
        state.store.touch_session(&token_hash, now).await?;
    }
    Ok(user)
}
