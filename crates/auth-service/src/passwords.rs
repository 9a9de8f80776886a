//! bcrypt hashing, always off the async runtime: at cost 12 one hash takes a quarter of a second.

use crate::domain::Password;
use crate::error::AuthError;

pub async fn hash(password: Password, cost: u32) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password.expose(), cost))
        .await
        .map_err(|e| AuthError::Internal(e.into()))?
        .map_err(|e| AuthError::Internal(e.into()))
}

/// Verifies `candidate` against `hash`. Callers without a real hash pass the dummy one, so an
/// unknown email costs the same time as a wrong password.
pub async fn verify(candidate: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || bcrypt::verify(candidate, &hash).unwrap_or(false))
        .await
        .map_err(|e| AuthError::Internal(e.into()))
}
