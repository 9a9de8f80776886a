//! Who is signed in, shared by every page (the seed's AuthContext).

use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiResult};
use crate::components::{ErrorBox, Loading};
use api_types::auth::User;

#[derive(Clone, Copy)]
pub struct Session {
    /// `None` until `/api/auth/me` answered.
    pub checked: Signal<bool>,
    pub user: Signal<Option<User>>,
}

impl Session {
    pub fn signed_in(&self, user: User) {
        let mut u = self.user;
        u.set(Some(user));
    }

    pub fn signed_out(&self) {
        let mut u = self.user;
        u.set(None);
    }
}

pub fn use_session_provider() -> Session {
    let checked = use_signal(|| false);
    let user = use_signal(|| None::<User>);
    let session = use_context_provider(|| Session { checked, user });
    use_hook(move || {
        let mut checked = session.checked;
        let mut user = session.user;
        spawn(async move {
            if let Ok(u) = api::auth::me().await {
                user.set(Some(u));
            }
            checked.set(true);
        });
    });
    session
}

pub fn use_session() -> Session {
    use_context::<Session>()
}

/// Sends the user to the login page (remembering this page), e.g. after a 401.
pub fn to_login() {
    let session = try_consume_context::<Session>();
    if let Some(s) = session {
        s.signed_out();
    }
    navigator().push(Route::Login {});
}

/// Renders `children` only for a signed-in user; everyone else is sent to login.
#[component]
pub fn RequireLogin(children: Element) -> Element {
    let session = use_session();
    let checked = (session.checked)();
    let signed_in = session.user.read().is_some();
    use_effect(move || {
        if (session.checked)() && session.user.read().is_none() {
            to_login();
        }
    });
    if !checked || !signed_in {
        return rsx! { Loading { label: "Checking your session…" } };
    }
    rsx! { {children} }
}

/// What a signed-in page shows for an answer it loads: a spinner while it comes (`loading`), the
/// login page once the session has gone, the error with a retry when it failed, else `content`.
pub fn signed_in_answer<T: 'static>(
    mut answer: Resource<ApiResult<T>>,
    loading: &str,
    content: impl FnOnce(&T) -> Element,
) -> Element {
    match &*answer.read() {
        None => rsx! { Loading { label: loading.to_string() } },
        Some(Err(e)) if e.is_unauthorized() => {
            to_login();
            rsx! {}
        }
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| answer.restart() } },
        Some(Ok(value)) => content(value),
    }
}
