//! Login and registration. After either, the user goes back to the page they were on.

use api_types::auth::{LoginBody, RegisterBody, User};
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError, ApiResult};
use crate::components::in_flight;
use crate::format;
use crate::pages::event_detail::TextField;
use crate::session::{Session, use_session};

fn go_back() {
    let to = format::take_return_to();
    navigator().replace(to);
}

/// Waits for a login or registration: signed in and back where the user was, or the refusal
/// shown (and focused at `error_id`).
async fn sign_in(
    call: impl Future<Output = ApiResult<User>>,
    session: Session,
    busy: Signal<bool>,
    mut error: Signal<Option<ApiError>>,
    error_id: &str,
) {
    let result = in_flight(busy, error, call).await;
    match result {
        Ok(user) => {
            session.signed_in(user);
            go_back();
        }
        Err(e) => {
            error.set(Some(e));
            format::focus(error_id);
        }
    }
}

#[component]
pub fn Login() -> Element {
    format::set_title("Log in");
    let session = use_session();
    let email = use_signal(String::new);
    let password = use_signal(String::new);
    let error = use_signal(|| None::<ApiError>);
    let mut missing = use_signal(Vec::<&'static str>::new);
    let busy = use_signal(|| false);

    let submit = move |e: FormEvent| {
        e.prevent_default();
        async move {
            let mut m = Vec::new();
            if email.peek().trim().is_empty() {
                m.push("email");
            }
            if password.peek().is_empty() {
                m.push("password");
            }
            missing.set(m.clone());
            if let Some(first) = m.first() {
                format::focus(&format!("login-{first}"));
                return;
            }
            let body = LoginBody {
                email: email.peek().trim().to_string(),
                password: password.peek().clone(),
            };
            sign_in(api::auth::login(&body), session, busy, error, "login-error").await;
        }
    };
    let err = error();
    let field = |name: &'static str, label: &str| -> Option<String> {
        if missing().contains(&name) {
            return Some(format!("{label} is required."));
        }
        err.as_ref().and_then(|e| e.field(name))
    };

    rsx! {
        section { class: "page auth-page",
            form { class: "card auth-card", onsubmit: submit, novalidate: true, aria_labelledby: "login-h",
                h1 { id: "login-h", "Log in" }
                div { id: "login-error", tabindex: "-1", aria_live: "assertive",
                    if let Some(e) = err.as_ref().filter(|e| e.fields.is_empty()) {
                        div { class: "alert alert-error", role: "alert", p { "{e.message}" } }
                    }
                }
                TextField { id: "login-email", label: "Email", value: email, kind: "email", autocomplete: "email", required: true, error: field("email", "Email") }
                TextField { id: "login-password", label: "Password", value: password, kind: "password", autocomplete: "current-password", required: true, error: field("password", "Password") }
                button { class: "btn btn-primary btn-block", r#type: "submit", disabled: busy(), if busy() { "Logging in…" } else { "Log in" } }
                p { class: "switch", "New here? " Link { to: Route::Register {}, "Create an account" } }
            }
        }
    }
}

/// The auth service's rule for a first or last name: given, and at most 100 characters.
fn name_problem(name: &str, missing: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        Some(missing.to_string())
    } else if name.chars().count() > 100 {
        Some("At most 100 characters.".to_string())
    } else {
        None
    }
}

#[component]
pub fn Register() -> Element {
    format::set_title("Sign up");
    let session = use_session();
    let first = use_signal(String::new);
    let last = use_signal(String::new);
    let email = use_signal(String::new);
    let password = use_signal(String::new);
    let error = use_signal(|| None::<ApiError>);
    let mut client = use_signal(Vec::<(&'static str, String)>::new);
    let busy = use_signal(|| false);

    let submit = move |e: FormEvent| {
        e.prevent_default();
        async move {
            // The auth service's rules.
            let mut c = Vec::new();
            for (field, name, missing) in [
                ("firstName", first, "Enter your first name."),
                ("lastName", last, "Enter your last name."),
            ] {
                if let Some(problem) = name_problem(&name.peek(), missing) {
                    c.push((field, problem));
                }
            }
            let em = email.peek().trim().to_string();
            if em.is_empty() {
                c.push(("email", "Email is required.".to_string()));
            } else if !em.contains('@')
                || em.starts_with('@')
                || em.ends_with('@')
                || em.contains(' ')
            {
                c.push(("email", "Enter a valid email address.".to_string()));
            }
            // Characters for the minimum (as the auth service counts), bytes for bcrypt's limit.
            let pw_chars = password.peek().chars().count();
            let pw_len = password.peek().len();
            if pw_chars < 8 {
                c.push((
                    "password",
                    "Password must be at least 8 characters.".to_string(),
                ));
            } else if pw_len > 72 {
                c.push(("password", "Password must be at most 72 bytes.".to_string()));
            }
            client.set(c.clone());
            if let Some((first, _)) = c.first() {
                format::focus(&format!("reg-{first}"));
                return;
            }
            let body = RegisterBody {
                email: em.clone(),
                password: password.peek().clone(),
                first_name: first.peek().trim().to_string(),
                last_name: last.peek().trim().to_string(),
            };
            sign_in(
                api::auth::register(&body),
                session,
                busy,
                error,
                "reg-error",
            )
            .await;
        }
    };
    let err = error();
    let field = |name: &'static str| -> Option<String> {
        client()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
            .or_else(|| err.as_ref().and_then(|e| e.field(name)))
    };

    rsx! {
        section { class: "page auth-page",
            form { class: "card auth-card", onsubmit: submit, novalidate: true, aria_labelledby: "reg-h",
                h1 { id: "reg-h", "Create your account" }
                div { id: "reg-error", tabindex: "-1", aria_live: "assertive",
                    if let Some(e) = err.as_ref() {
                        div { class: "alert alert-error", role: "alert", p { "{e.message}" }
                            if e.code == "email_taken" || e.status == 409 {
                                p { Link { to: Route::Login {}, "Log in instead" } }
                            }
                        }
                    }
                }
                div { class: "grid-2",
                    TextField { id: "reg-firstName", label: "First name", value: first, autocomplete: "given-name", required: true, error: field("firstName") }
                    TextField { id: "reg-lastName", label: "Last name", value: last, autocomplete: "family-name", required: true, error: field("lastName") }
                }
                TextField { id: "reg-email", label: "Email", value: email, kind: "email", autocomplete: "email", required: true, error: field("email") }
                TextField { id: "reg-password", label: "Password", value: password, kind: "password", autocomplete: "new-password", required: true,
                    hint: "At least 8 characters.".to_string(), error: field("password") }
                button { class: "btn btn-primary btn-block", r#type: "submit", disabled: busy(), "data-testid": "register",
                    if busy() { "Creating account…" } else { "Sign up" } }
                p { class: "switch", "Already have an account? " Link { to: Route::Login {}, "Log in" } }
            }
        }
    }
}
