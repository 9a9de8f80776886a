//! The waiting room of an on-sale: the visitor joins, watches their place, the estimated wait
//! and a progress bar (live over server-sent events, polling every 5 s if the stream fails), and
//! once admitted is sent to the event page, which books with the pass kept here.

use api_types::queue::QueueStatus;
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use futures_channel::mpsc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{ErrorBox, Loading};
use crate::format;
use crate::live::{Msg, open};
use crate::session::to_login;

/// How far the line has moved towards the visitor, in percent: admitted places over theirs.
pub fn progress_percent(position: Option<u64>, admitted_so_far: u64) -> u8 {
    match position {
        None => 0,
        Some(0) => 100,
        Some(p) => (admitted_so_far.min(p) * 100 / p) as u8,
    }
}

/// The estimated wait in words.
pub fn wait_text(secs: Option<u64>) -> String {
    match secs {
        None => "Your place is drawn when the sale opens.".into(),
        Some(0) => "It's your turn.".into(),
        Some(s) if s < 60 => "Less than a minute.".into(),
        Some(s) if s < 3_600 => format!("About {} min.", s.div_ceil(60)),
        Some(s) => format!("About {} h {} min.", s / 3_600, (s % 3_600) / 60),
    }
}

/// A pass as kept in the tab's `sessionStorage` until it expires.
#[derive(Serialize, Deserialize)]
struct KeptPass {
    pass: String,
    expires_at: DateTime<Utc>,
}

fn pass_key(event_id: &str) -> String {
    format!("queue.{event_id}.pass")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn keep_pass(event_id: &str, status: &QueueStatus) {
    if let (Some(pass), Some(expires_at), Some(s)) =
        (&status.pass, status.pass_expires_at, storage())
    {
        let kept = KeptPass {
            pass: pass.clone(),
            expires_at,
        };
        if let Ok(text) = serde_json::to_string(&kept) {
            let _ = s.set_item(&pass_key(event_id), &text);
        }
    }
}

fn kept_pass(event_id: &str) -> Option<KeptPass> {
    let text = storage()?.get_item(&pass_key(event_id)).ok().flatten()?;
    serde_json::from_str::<KeptPass>(&text)
        .ok()
        .filter(|k| k.expires_at > format::now())
}

/// The pass booking sends, while it is good.
pub fn stored_pass(event_id: &str) -> Option<String> {
    kept_pass(event_id).map(|k| k.pass)
}

/// On the event page of an on-sale with a waiting room: the way in, or the pass in hand.
#[component]
pub fn QueueNotice(event_id: String) -> Element {
    match kept_pass(&event_id) {
        Some(k) => rsx! {
            p { class: "notice", "data-testid": "queue-pass",
                "You're through the waiting room: book before {format::when(&k.expires_at)}."
            }
        },
        None => rsx! {
            p { class: "notice", "data-testid": "queue-notice",
                "This on-sale has a waiting room: join the queue and book when it's your turn. "
                Link { class: "btn btn-primary", to: Route::WaitingRoom { id: event_id.clone() }, "Join the queue" }
            }
        },
    }
}

#[component]
pub fn WaitingRoom(id: String) -> Element {
    format::set_title("Waiting room");
    let mut status = use_signal(|| None::<Result<QueueStatus, ApiError>>);
    let event_id = id.clone();
    use_hook(move || {
        spawn(async move {
            let joined = api::tickets::join_queue(&event_id).await;
            if let Err(e) = &joined
                && e.is_unauthorized()
            {
                to_login();
                return;
            }
            let ok = joined.is_ok();
            status.set(Some(joined));
            if !ok {
                return;
            }
            let (tx, mut rx) = mpsc::unbounded();
            let guard = open(&api::tickets::queue_stream_url(&event_id), tx);
            if guard.is_some() {
                while let Some(Msg::Data(text)) = rx.next().await {
                    if let Ok(s) = serde_json::from_str::<QueueStatus>(&text) {
                        status.set(Some(Ok(s)));
                    }
                }
            }
            drop(guard);
            loop {
                gloo_timers::future::TimeoutFuture::new(5_000).await;
                if let Ok(s) = api::tickets::queue_place(&event_id).await {
                    status.set(Some(Ok(s)));
                }
            }
        });
    });
    let event_id = id.clone();
    use_effect(move || {
        if let Some(Ok(s)) = &*status.read()
            && s.admitted
        {
            keep_pass(&event_id, s);
            navigator().push(Route::EventDetail {
                id: event_id.clone(),
            });
        }
    });
    let read = status.read();
    match &*read {
        None => rsx! { Loading { label: "Joining the queue…" } },
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone() } },
        Some(Ok(s)) => {
            let percent = progress_percent(s.position, s.admitted_so_far);
            let place = s
                .position
                .map_or_else(|| "to be drawn".to_string(), |p| format!("#{p}"));
            rsx! {
                section { class: "page waiting-room card", aria_labelledby: "queue-h",
                    h1 { id: "queue-h", "Waiting room" }
                    p { "Tickets go on sale at "
                        time { datetime: format::iso(&s.on_sale_at), "{format::when(&s.on_sale_at)}" }
                        ". Everyone who arrived before then got a random place; keep this page open." }
                    dl { class: "facts", aria_live: "polite",
                        div { dt { "Your place" } dd { "data-testid": "queue-position", "{place}" } }
                        div { dt { "Estimated wait" } dd { "data-testid": "queue-wait", "{wait_text(s.estimated_wait_secs)}" } }
                        div { dt { "Let in so far" } dd { "{s.admitted_so_far}" } }
                    }
                    // A native bar: no inline style, which the site's CSP does not allow.
                    label { r#for: "queue-progress", "Your way to the front: {percent}%" }
                    progress { id: "queue-progress", class: "queue-progress", value: "{percent}", max: "100" }
                    Link { to: Route::EventDetail { id: id.clone() }, "Back to the event" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_as_the_admitted_count_reaches_the_place() {
        assert_eq!(progress_percent(None, 50), 0);
        assert_eq!(progress_percent(Some(200), 0), 0);
        assert_eq!(progress_percent(Some(200), 50), 25);
        assert_eq!(progress_percent(Some(200), 500), 100);
    }

    #[test]
    fn the_wait_reads_in_minutes_or_hours() {
        assert_eq!(wait_text(Some(0)), "It's your turn.");
        assert_eq!(wait_text(Some(59)), "Less than a minute.");
        assert_eq!(wait_text(Some(61)), "About 2 min.");
        assert_eq!(wait_text(Some(3_700)), "About 1 h 1 min.");
        assert!(wait_text(None).contains("drawn"));
    }
}
