//! The browser app of the ticketing platform: Dioxus 0.7 with its router, served by the gateway
//! on :3000 (which proxies `/api/*` to the services).
//!
//! `api` is the only module that talks to the services; `pages` are the views, `components` the
//! pieces they share.

mod api;
mod chart;
mod checkin;
mod components;
mod format;
mod live;
mod model;
mod pages;
mod session;

use dioxus::prelude::*;

use format::EventsQuery;
use pages::checkin::CheckinPage;
use pages::create_event::{CreateEvent, EditEvent};
use pages::event_dashboard::EventDashboard;
use pages::event_detail::EventDetail;
use pages::events::Events;
use pages::login::{Login, Register};
use pages::my_events::MyEvents;
use pages::my_orders::MyOrders;
use pages::order::OrderPage;
use pages::waiting_room::WaitingRoom;
use session::use_session;

#[derive(Routable, Clone, PartialEq, Debug)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/?:..query")]
        Events { query: EventsQuery },
        #[route("/events/new")]
        CreateEvent {},
        #[route("/events/:id")]
        EventDetail { id: String },
        #[route("/events/:id/edit")]
        EditEvent { id: String },
        #[route("/events/:id/queue")]
        WaitingRoom { id: String },
        #[route("/events/:id/checkin")]
        CheckinPage { id: String },
        #[route("/orders/:id")]
        OrderPage { id: String },
        #[route("/my/events")]
        MyEvents {},
        #[route("/my/events/:id")]
        EventDashboard { id: String },
        #[route("/my/orders")]
        MyOrders {},
        #[route("/login")]
        Login {},
        #[route("/register")]
        Register {},
        #[route("/:..segments")]
        NotFound { segments: Vec<String> },
}

impl Route {
    pub fn home() -> Route {
        Route::Events {
            query: EventsQuery {
                page: 1,
                ..Default::default()
            },
        }
    }
}

fn main() {
    dioxus::launch(App);
}

#[component]
fn App() -> Element {
    session::use_session_provider();
    use_hook(|| {
        // The static "Loading…" line of index.html.
        if let Some(boot) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("boot"))
        {
            boot.remove();
        }
    });
    rsx! { Router::<Route> {} }
}

#[component]
fn Shell() -> Element {
    let route = use_route::<Route>();
    let path = route.to_string();
    let is_auth_page = matches!(route, Route::Login {} | Route::Register {});
    // Remember the last page that is not login/register: login returns there.
    use_effect(use_reactive!(|path, is_auth_page| {
        if !is_auth_page {
            format::remember_path(&path);
        }
    }));
    rsx! {
        a { class: "skip-link", href: "#main-content", "Skip to content" }
        Header {}
        main { id: "main-content", class: "container", tabindex: "-1",
            Outlet::<Route> {}
        }
        footer { class: "site-footer container",
            p { "Tickets — an open-source event ticketing platform. Payments are simulated; no real money moves." }
        }
    }
}

#[component]
fn Header() -> Element {
    let session = use_session();
    let user = session.user.read().clone();
    let mut busy = use_signal(|| false);
    // `active_class` compares the link's address, `/?` (the route always writes the `?` of its
    // query), with the current one, `/` or `/?category=…`: they never match. Mark "Events" on
    // every list page (any filter) by the route instead.
    let on_events = matches!(use_route::<Route>(), Route::Events { .. });
    let logout = move |_| async move {
        busy.set(true);
        let _ = api::auth::logout().await;
        session.signed_out();
        busy.set(false);
        navigator().push(Route::home());
    };
    rsx! {
        header { class: "site-header",
            div { class: "container header-inner",
                Link { class: "brand", to: Route::home(), "Tickets" }
                nav { aria_label: "Main",
                    ul { class: "nav-list",
                        li { Link { to: Route::home(), class: if on_events { "active" } else { "" },
                            aria_current: if on_events { "page" } else { "false" }, "Events" } }
                        if user.is_some() {
                            li { Link { to: Route::CreateEvent {}, active_class: "active", "Create event" } }
                            li { Link { to: Route::MyEvents {}, active_class: "active", "My events" } }
                            li { Link { to: Route::MyOrders {}, active_class: "active", "My orders" } }
                        }
                    }
                }
                div { class: "account",
                    if let Some(u) = user {
                        span { class: "who", "data-testid": "user-name", "{u.full_name()}" }
                        button { class: "btn btn-ghost", r#type: "button", disabled: busy(), onclick: logout, "Log out" }
                    } else if (session.checked)() {
                        Link { class: "btn btn-ghost", to: Route::Login {}, "Log in" }
                        Link { class: "btn btn-primary", to: Route::Register {}, "Sign up" }
                    }
                }
            }
        }
    }
}

#[component]
fn NotFound(segments: Vec<String>) -> Element {
    format::set_title("Not found");
    rsx! {
        section { class: "page",
            h1 { "Page not found" }
            p { "There is nothing at /{segments.join(\"/\")}." }
            Link { class: "btn btn-primary", to: Route::home(), "Browse events" }
        }
    }
}
