//! What every service's shared state offers the platform, written once.

#[doc(hidden)]
pub use axum::extract::FromRef;

/// Gives a service's state (a struct with the fields `auth: AuthClient` and
/// `relay_wake: Arc<Notify>`) what every service needs of it: [`crate::AuthUser`] and
/// [`crate::MaybeAuthUser`] find the auth client in it, and `wake_relay()` nudges the outbox relay
/// after a commit that wrote to the outbox. `service_state!(State, without_outbox)` is for a
/// service that publishes nothing (no `relay_wake`).
#[macro_export]
macro_rules! service_state {
    ($state:ty) => {
        impl $state {
            /// Wakes the outbox relay after a commit that wrote to the outbox.
            pub fn wake_relay(&self) {
                self.relay_wake.notify_one();
            }
        }

        $crate::service_state!($state, without_outbox);
    };
    // A service that publishes nothing: only the session extractor's access to the auth client.
    ($state:ty, without_outbox) => {
        impl $crate::state::FromRef<$state> for $crate::AuthClient {
            fn from_ref(state: &$state) -> $crate::AuthClient {
                state.auth.clone()
            }
        }
    };
}
