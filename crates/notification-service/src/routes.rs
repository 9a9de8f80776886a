//! The HTTP route of the notification service.

use api_types::notifications::{NotificationView, NotificationsResponse};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use platform::AuthUser;
use platform::openapi::SessionErrors;

use crate::domain::MailState;
use crate::error::NotificationError;
use crate::state::AppState;

/// The most a caller gets back: the latest mails are the ones worth listing.
const LIMIT: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/notifications/mine", get(mine))
}

/// The mails sent to the caller
///
/// Newest first, at most 100: what each was about, its subject, the address and when it left.
/// Mails not sent yet (the SMTP server is away) appear once they are.
#[utoipa::path(
    get,
    path = "/api/notifications/mine",
    tag = "notifications",
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The caller's mails, newest first.", body = NotificationsResponse),
        SessionErrors,
    )
)]
async fn mine(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<NotificationsResponse>, NotificationError> {
    let mails = state.store.sent_to(user.id, LIMIT).await?;
    let notifications = mails
        .into_iter()
        .filter_map(|m| match m.state {
            MailState::Sent { at, subject } => Some(NotificationView {
                kind: m.kind,
                subject,
                recipient: m.key.recipient,
                sent_at: at,
            }),
            _ => None,
        })
        .collect();
    Ok(Json(NotificationsResponse { notifications }))
}
