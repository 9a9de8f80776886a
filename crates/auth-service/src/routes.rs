//! The HTTP routes of the auth service.

use api_types::auth::{
    LoginBody, MessageResponse, RegisterBody, UserResponse, VerifiedUser, VerifyResponse,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::client_address::ClientAddress;
use platform::extract::Json as JsonBody;
use platform::openapi::{BodyRejected, ErrorBody, InternalError, MalformedJson};
use platform::{ApiError, FieldErrors, Role, StoreError};
use uuid::Uuid;

use crate::domain::{Email, Password, PersonName, User};
use crate::error::{AuthError, SessionRequired};
use crate::passwords;
use crate::session::{self, Session};
use crate::state::AppState;
use crate::throttle::{self, Verdict};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/verify", get(verify))
}

type SignedIn = (
    StatusCode,
    [(header::HeaderName, String); 1],
    Json<UserResponse>,
);

/// The parsed value, or `None` with the rule's message recorded against `field`.
fn checked<T>(errors: &mut FieldErrors, field: &str, parsed: Result<T, &'static str>) -> Option<T> {
    parsed
        .map_err(|message| errors.entry(field.into()).or_default().push(message.into()))
        .ok()
}

/// A registration's fields, each checked by its own rule; one answer names every bad field.
fn registration(
    body: &RegisterBody,
) -> Result<(Email, Password, PersonName, PersonName), AuthError> {
    let mut errors = FieldErrors::new();
    let email = checked(&mut errors, "email", Email::parse(&body.email));
    let password = checked(&mut errors, "password", Password::parse(&body.password));
    let first_name = checked(
        &mut errors,
        "firstName",
        PersonName::parse(&body.first_name),
    );
    let last_name = checked(&mut errors, "lastName", PersonName::parse(&body.last_name));
    match (email, password, first_name, last_name) {
        (Some(email), Some(password), Some(first), Some(last)) => {
            Ok((email, password, first, last))
        }
        _ => Err(ApiError::validation(errors).into()),
    }
}

/// Both fields must be there; whether they match an account is decided by signing in.
fn credentials_given(body: &LoginBody) -> Result<(), AuthError> {
    let mut errors = FieldErrors::new();
    let required = |value: &str, message: &'static str| match value {
        "" => Err(message),
        _ => Ok(()),
    };
    checked(
        &mut errors,
        "email",
        required(&body.email, "Email is required."),
    );
    checked(
        &mut errors,
        "password",
        required(&body.password, "Password is required."),
    );
    match errors.is_empty() {
        true => Ok(()),
        false => Err(ApiError::validation(errors).into()),
    }
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
        MalformedJson,
        (status = 409, description = "`email_taken`: an account with this email exists (also in `fields.email`).", body = ErrorBody),
        BodyRejected,
        (status = 422, description = "`validation_failed`: `fields` names every invalid field (`email`, `password`, `firstName`, `lastName`); `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many sign-ups from this client address (`REGISTRATIONS_PER_ADDRESS` per `REGISTRATION_WINDOW_SECS`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until sign-ups from this address are accepted again."))),
        InternalError,
    )
)]
async fn register(
    State(state): State<AppState>,
    client: ClientAddress,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<SignedIn, AuthError> {
    let per_address = &state.throttles.registrations_per_address;
    allowed(per_address.check(&client.key()))?;
    let (email, password, first_name, last_name) = registration(&body)?;
    per_address.record(&client.key());

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
    let user_id = user.id;
    let answer = signed_in(&state, StatusCode::CREATED, user).await?;
    tracing::info!(%user_id, "account registered");
    Ok(answer)
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
        MalformedJson,
        (status = 401, description = "`invalid_credentials`: unknown email or wrong password (not told apart).", body = ErrorBody),
        (status = 403, description = "`account_disabled`: the account has been disabled.", body = ErrorBody),
        BodyRejected,
        (status = 422, description = "`validation_failed`: `email` or `password` is empty; `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins for this account or from this client address (`LOGIN_MAX_FAILURES_PER_ACCOUNT` / `LOGIN_MAX_FAILURES_PER_ADDRESS` per `LOGIN_THROTTLE_WINDOW_SECS`); the password is not checked.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until sign-ins are accepted again."))),
        InternalError,
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<SignedIn, AuthError> {
    credentials_given(&body)?;
    let email = Email::parse(&body.email);
    // Throttled before bcrypt runs: a refused guess costs the server nothing and tells nothing.
    let account = match &email {
        Ok(email) => email.to_string(),
        Err(_) => body.email.trim().to_lowercase(),
    };
    let address = client.key();
    let throttles = &state.throttles;
    allowed(throttle::strictest([
        throttles.login_per_account.check(&account),
        throttles.login_per_address.check(&address),
    ]))?;
    let found = match email {
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
        _ => {
            throttles.login_per_account.record(&account);
            throttles.login_per_address.record(&address);
            return Err(AuthError::InvalidCredentials);
        }
    };
    throttles.login_per_account.clear(&account);
    if !user.is_active {
        return Err(AuthError::AccountDisabled);
    }
    // A new id on every sign-in; the one the browser brought (if any) dies, so a planted
    // session id is never promoted to an authenticated one.
    if let Some(old) = presented_token(&state, &headers) {
        end_session(&state, &session::hash_token(old)).await?;
    }
    let now = platform::time::now();
    state.store.record_login(user.id, now).await?;
    let user = User {
        last_login: Some(now),
        updated_at: now,
        ..user
    };
    signed_in(&state, StatusCode::OK, user).await
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
        InternalError,
    )
)]
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AuthError> {
    if let Some(token) = presented_token(&state, &headers) {
        end_session(&state, &session::hash_token(token)).await?;
    }
    Ok((
        [(header::SET_COOKIE, session::removal(&state.config))],
        Json(MessageResponse {
            message: "Signed out.".into(),
        }),
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
        SessionRequired,
    )
)]
async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<UserResponse>, AuthError> {
    let user = current_user(&state, &headers).await?;
    Ok(Json(UserResponse { user }))
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
        SessionRequired,
    )
)]
async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<VerifyResponse>, AuthError> {
    let user = current_user(&state, &headers).await?;
    Ok(Json(VerifyResponse {
        user: VerifiedUser::from(&user),
    }))
}

fn allowed(verdict: Verdict) -> Result<(), AuthError> {
    match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { retry_after } => Err(AuthError::TooManyAttempts { retry_after }),
    }
}

fn presented_token<'h>(state: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::token_from_header(h, &state.config.cookie_name))
}

/// Starts a session for `user` and answers with it: the session cookie and the account, as
/// registering and signing in both do.
async fn signed_in(
    state: &AppState,
    status: StatusCode,
    user: User,
) -> Result<SignedIn, AuthError> {
    let cookie = start_session(state, user.id).await?;
    Ok((
        status,
        [(header::SET_COOKIE, cookie)],
        Json(UserResponse { user }),
    ))
}

async fn start_session(state: &AppState, user_id: Uuid) -> Result<String, AuthError> {
    let token = session::new_token();
    let now = platform::time::now();
    let lifetime = chrono::Duration::from_std(state.config.session_max_age)
        .map_err(|e| AuthError::Internal(e.into()))?;
    let token_hash = session::hash_token(&token);
    state
        .store
        .insert_session(&Session {
            token_hash: token_hash.clone(),
            user_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetime,
        })
        .await?;
    state.records.publish(&token_hash, user_id);
    Ok(session::cookie(&state.config, &token))
}

/// Deletes a session here and in the copies the other services check against.
async fn end_session(state: &AppState, token_hash: &str) -> Result<(), AuthError> {
    state.store.delete_session(token_hash).await?;
    state.records.remove(token_hash).await;
    Ok(())
}

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
        end_session(state, &token_hash).await?;
        return Err(AuthError::Unauthenticated);
    }
    if session.needs_touch(now, state.config.session_idle) {
        state.store.touch_session(&token_hash, now).await?;
    }
    // Another service asking means its copy lacks the session or wants it refreshed.
    state.records.publish(&token_hash, user.id);
    Ok(user)
}
