//! The check-in staff of one event, on its dashboard: the people (by email) the organizer lets
//! scan tickets at the door. Staff can scan and see who came in, never revenue or refunds.

use api_types::checkin::StaffMember;
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::in_flight;
use crate::format;
use crate::session::{signed_in_answer, to_login};

#[component]
pub fn CheckinStaff(event_id: String) -> Element {
    let id = event_id.clone();
    let mut staff = use_resource(move || {
        let id = id.clone();
        async move { api::checkin::staff(&id).await }
    });
    let mut email = use_signal(String::new);
    let busy = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let id_for_add = event_id.clone();
    let add = move |e: FormEvent| {
        e.prevent_default();
        let id = id_for_add.clone();
        async move {
            let address = email.peek().trim().to_string();
            if address.is_empty() {
                return;
            }
            let result = in_flight(busy, error, api::checkin::add_staff(&id, &address)).await;
            match result {
                Ok(list) => {
                    email.set(String::new());
                    staff.set(Some(Ok(list)));
                }
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let field_error = error().map(|e| e.field("email").unwrap_or(e.message));
    let scanner_path = Route::CheckinPage {
        id: event_id.clone(),
    }
    .to_string();
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let scanner_url = format!("{origin}{scanner_path}");
    rsx! {
        section { class: "card", aria_labelledby: "staff-h", "data-testid": "checkin-staff",
            h2 { id: "staff-h", class: "h3", "Check-in staff" }
            p { class: "muted", "People you name here can open the check-in scanner of this event with their own account. They see who comes in, not revenue or refunds." }
            p { "Send them the scanner's address: "
                Link { to: Route::CheckinPage { id: event_id.clone() }, "data-testid": "staff-scanner-link", "{scanner_url}" }
            }
            {signed_in_answer(staff, "Loading the staff…", |list| if list.is_empty() {
                rsx! {
                    p { "data-testid": "staff-empty", "No check-in staff yet: only you (and admins) can scan." }
                }
            } else {
                rsx! {
                    ul { class: "staff-list",
                        for m in list.clone() {
                            StaffRow { key: "{m.email}", event_id: event_id.clone(), member: m,
                                on_removed: move |list| staff.set(Some(Ok(list))) }
                        }
                    }
                }
            })}
            form { class: "staff-form", onsubmit: add,
                div { class: "field",
                    label { r#for: "staff-email", "Email of a person to add" }
                    input { id: "staff-email", r#type: "email", value: "{email}", "data-testid": "staff-email",
                        autocomplete: "off", aria_invalid: if field_error.is_some() { "true" } else { "false" },
                        aria_describedby: "staff-email-error",
                        oninput: move |e: FormEvent| email.set(e.value()) }
                }
                button { class: "btn btn-primary", r#type: "submit", disabled: busy(), "data-testid": "staff-add",
                    if busy() { "Adding…" } else { "Add" } }
            }
            if let Some(m) = field_error.clone() {
                p { class: "field-error", id: "staff-email-error", role: "alert", "data-testid": "staff-error", "{m}" }
            }
        }
    }
}

#[component]
fn StaffRow(
    event_id: String,
    member: StaffMember,
    on_removed: EventHandler<Vec<StaffMember>>,
) -> Element {
    let busy = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let email = member.email.clone();
    let remove = move |_| {
        let id = event_id.clone();
        let email = email.clone();
        async move {
            let result = in_flight(busy, error, api::checkin::remove_staff(&id, &email)).await;
            match result {
                Ok(list) => on_removed.call(list),
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => error.set(Some(e)),
            }
        }
    };
    rsx! {
        li { "data-testid": "staff-member", "data-email": "{member.email}",
            span { strong { "{member.email}" } br {} span { class: "muted", "added {format::short_when(&member.added_at)}" } }
            button { class: "btn btn-danger btn-small", r#type: "button", disabled: busy(), "data-testid": "staff-remove",
                aria_label: "Remove {member.email}", onclick: remove, "Remove" }
            if let Some(e) = error() {
                span { class: "field-error", role: "alert", "{e.message}" }
            }
        }
    }
}
