//! Live availability: server-sent events from the ticket service
//! (`/api/tickets/events/:id/availability/stream`), falling back to polling the plain endpoint
//! every 5 s when the stream fails.

use dioxus::prelude::*;
use futures_channel::mpsc;
use futures_util::StreamExt;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use api_types::orders::Availability;

use crate::api;

/// How the page currently learns about changes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LiveMode {
    Connecting,
    Streaming,
    Polling,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub availability: Signal<Option<Availability>>,
    pub mode: Signal<LiveMode>,
}

/// Closes the stream when the page goes away (the task that owns it is dropped).
pub(crate) struct StreamGuard {
    source: EventSource,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.source.close();
    }
}

pub(crate) enum Msg {
    Data(String),
    Failed,
}

/// Opens a server-sent event stream whose messages (and failure) arrive on `tx`; it closes when
/// the guard is dropped.
pub(crate) fn open(url: &str, tx: mpsc::UnboundedSender<Msg>) -> Option<StreamGuard> {
    let source = EventSource::new(url).ok()?;
    let data_tx = tx.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            let _ = data_tx.unbounded_send(Msg::Data(text));
        }
    });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let _ = tx.unbounded_send(Msg::Failed);
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(StreamGuard {
        source,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// Availability of `event_id`, kept current for as long as the calling component lives.
pub fn use_live_availability(event_id: String) -> Live {
    let mut availability = use_signal(|| None::<Availability>);
    let mut mode = use_signal(|| LiveMode::Connecting);
    use_hook(move || {
        spawn(async move {
            let (tx, mut rx) = mpsc::unbounded();
            let guard = open(&api::tickets::availability_stream_url(&event_id), tx);
            if guard.is_some() {
                while let Some(msg) = rx.next().await {
                    match msg {
                        Msg::Data(text) => {
                            if let Ok(a) = serde_json::from_str::<Availability>(&text) {
                                availability.set(Some(a));
                                mode.set(LiveMode::Streaming);
                            }
                        }
                        Msg::Failed => break,
                    }
                }
            }
            drop(guard);
            mode.set(LiveMode::Polling);
            loop {
                if let Ok(a) = api::tickets::availability(&event_id).await {
                    availability.set(Some(a));
                }
                gloo_timers::future::TimeoutFuture::new(5_000).await;
            }
        });
    });
    Live { availability, mode }
}
