//! Changes to an account that its sessions must feel at once, wherever they are checked: the
//! store is changed, then the account's record in the sessions bucket.

use platform::{Role, StoreError};
use uuid::Uuid;

use crate::state::AppState;

/// Gives an account a role; its sessions carry the new role everywhere within a second.
pub async fn set_role(state: &AppState, id: Uuid, role: Role) -> Result<(), StoreError> {
    state
        .store
        .set_role(id, role, platform::time::now())
        .await?;
    state.records.account_changed(id).await;
    Ok(())
}

/// Enables or disables an account; a disabled account's sessions stop working everywhere within
/// a second.
pub async fn set_active(state: &AppState, id: Uuid, active: bool) -> Result<(), StoreError> {
    state
        .store
        .set_active(id, active, platform::time::now())
        .await?;
    state.records.account_changed(id).await;
    Ok(())
}
