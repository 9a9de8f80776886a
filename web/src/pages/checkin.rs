//! The scanner at the door (`/events/:id/checkin`), for the event's organizer, an admin or the
//! check-in staff the organizer named: the camera or a typed code, a gate name and entry/exit,
//! a large green / amber / red answer with the holder's name and ticket type, and the live
//! "checked in / sold" counter.
//!
//! Online, every scan goes to the server. Offline (the browser says so, or the server does not
//! answer), the door decides from the event's bundle kept in this browser
//! ([`crate::checkin::offline`]), queues the scans it admitted with their nonces and times, and
//! uploads them in order once the server answers again (the `online` event, and a retry every
//! 20 s), showing what the server made of each.
//!
//! All scans, refreshes and uploads go through one queue of messages, handled one at a time, so
//! no scan overtakes an upload and no scan is uploaded twice at once.

use api_types::checkin::{
    CheckinCounter, CheckinRequest, CheckinResponse, CheckinResult, MAX_GATE_CHARS, ScanDirection,
};
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use futures_util::StreamExt;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::Route;
use crate::api;
use crate::checkin::camera::Camera;
use crate::checkin::offline::{DoorList, QueuedScan, normalize, retry_later};
use crate::checkin::storage;
use crate::format;
use crate::session::RequireLogin;

/// How often a waiting queue is retried, and the bundle refreshed (every third time).
const RETRY_MS: u32 = 20_000;
/// Server answers to uploaded scans kept on screen.
const SYNCED_SHOWN: usize = 20;
/// A code the camera keeps seeing counts once until it has been out of view this long.
const SAME_CODE_MS: f64 = 4_000.0;

#[component]
pub fn CheckinPage(id: String) -> Element {
    rsx! { RequireLogin { Scanner { key: "{id}", id } } }
}

enum Msg {
    Scan(String),
    Upload,
    Refresh,
}

/// The last answer shown.
#[derive(Clone, PartialEq)]
struct Shown {
    answer: CheckinResponse,
    direction: ScanDirection,
    /// Decided here from the bundle, not by the server.
    offline: bool,
}

/// What the server answered to one queued scan.
#[derive(Clone, PartialEq)]
struct Synced {
    queued: QueuedScan,
    answer: Result<CheckinResponse, String>,
}

/// Where the offline list stands.
#[derive(Clone, PartialEq)]
enum ListNote {
    Loading,
    Ready {
        tickets: usize,
        at: DateTime<Utc>,
        stored: bool,
    },
    Missing(String),
}

#[derive(Clone, PartialEq)]
enum CameraState {
    Off,
    Starting,
    On(&'static str),
    Failed(String),
}

/// Everything the door works with; signals, so it is `Copy` into every task.
#[derive(Clone, Copy)]
struct Door {
    event_id: Uuid,
    list: Signal<Option<DoorList>>,
    queue: Signal<Vec<QueuedScan>>,
    /// The browser is online and the server answered the last request.
    online: Signal<bool>,
    shown: Signal<Option<Shown>>,
    /// Answers shown so far: each one is a new box (it flashes in, and tests tell them apart).
    answers: Signal<u32>,
    problem: Signal<Option<String>>,
    synced: Signal<Vec<Synced>>,
    note: Signal<ListNote>,
    gate: Signal<String>,
    direction: Signal<ScanDirection>,
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

impl Door {
    fn show(mut self, shown: Option<Shown>) {
        self.answers += 1;
        self.shown.set(shown);
    }

    fn set_queue(mut self, queue: Vec<QueuedScan>) {
        if !storage::save_queue(self.event_id, &queue) {
            self.problem.set(Some(
                "This browser did not store the queued scans: keep this page open until they are uploaded."
                    .into(),
            ));
        }
        self.queue.set(queue);
    }

    /// Takes in a server answer: the list learns it (and keeps it for offline use).
    fn record(mut self, scan: &CheckinRequest, answer: &CheckinResponse) {
        let mut list = self.list.write();
        if let Some(list) = list.as_mut() {
            list.record(scan, answer);
            storage::save_bundle(&list.to_bundle());
        }
        drop(list);
        self.online.set(true);
    }

    fn went_offline(mut self, e: &api::ApiError) {
        if e.status == 0 || e.status >= 500 {
            self.online.set(false);
        }
    }

    async fn scan(mut self, text: String) {
        let code = normalize(&text);
        if code.is_empty() {
            return;
        }
        let gate = self.gate.peek().trim().to_string();
        let request = CheckinRequest {
            event_id: self.event_id,
            code,
            nonce: api::new_key(),
            scanned_at: Some(format::now()),
            gate: (!gate.is_empty()).then_some(gate),
            direction: *self.direction.peek(),
        };
        if browser_online() {
            // Queued scans were made earlier: they go first.
            if !self.queue.peek().is_empty() {
                self.upload().await;
            }
            if self.queue.peek().is_empty() {
                match api::checkin::scan(&request).await {
                    Ok(answer) => {
                        self.record(&request, &answer);
                        self.problem.set(None);
                        self.show(Some(Shown {
                            answer,
                            direction: request.direction,
                            offline: false,
                        }));
                        return;
                    }
                    Err(e) if !retry_later(e.status) || matches!(e.status, 401 | 403) => {
                        self.show(None);
                        self.problem.set(Some(refusal(&e)));
                        return;
                    }
                    Err(e) => self.went_offline(&e),
                }
            }
        } else {
            self.online.set(false);
        }
        self.decide_here(request);
    }

    /// Decides from the bundle and queues an admitted scan.
    fn decide_here(mut self, request: CheckinRequest) {
        let decided = self
            .list
            .peek()
            .as_ref()
            .map(|list| list.decide(&self.queue.peek(), &request));
        let Some((answer, queued)) = decided else {
            self.show(None);
            self.problem.set(Some(
                "The server cannot be reached and this browser has no offline list for this event yet: open this page once while online."
                    .into(),
            ));
            return;
        };
        if let Some(queued) = queued {
            let mut queue = self.queue.peek().clone();
            queue.push(queued);
            self.set_queue(queue);
        }
        self.show(Some(Shown {
            answer,
            direction: request.direction,
            offline: true,
        }));
    }

    /// Uploads the queue in order until it is empty or the server stops answering.
    async fn upload(mut self) {
        loop {
            let Some(head) = self.queue.peek().first().cloned() else {
                return;
            };
            let answer = match api::checkin::scan(&head.scan).await {
                Ok(answer) => {
                    self.record(&head.scan, &answer);
                    Ok(answer)
                }
                Err(e) if retry_later(e.status) => {
                    self.went_offline(&e);
                    if matches!(e.status, 401 | 403) {
                        self.problem
                            .set(Some(format!("The queued scans wait: {}", refusal(&e))));
                    }
                    return;
                }
                Err(e) => Err(e.message),
            };
            let queue: Vec<QueuedScan> = self.queue.peek().iter().skip(1).cloned().collect();
            self.set_queue(queue);
            let mut synced = self.synced.write();
            synced.insert(
                0,
                Synced {
                    queued: head,
                    answer,
                },
            );
            synced.truncate(SYNCED_SHOWN);
        }
    }

    async fn refresh(mut self) {
        if !browser_online() {
            self.online.set(false);
            return;
        }
        match api::checkin::bundle(&self.event_id.to_string()).await {
            Ok(bundle) => {
                let stored = storage::save_bundle(&bundle);
                let mut fresh = DoorList::new(&bundle);
                if let Some(old) = self.list.peek().as_ref() {
                    fresh.keep_counter_of(old);
                }
                self.note.set(ListNote::Ready {
                    tickets: fresh.len(),
                    at: fresh.generated_at(),
                    stored,
                });
                self.list.set(Some(fresh));
                self.online.set(true);
            }
            Err(e) if retry_later(e.status) && !matches!(e.status, 401 | 403) => {
                self.went_offline(&e)
            }
            Err(e) => {
                self.online.set(true);
                self.note.set(ListNote::Missing(refusal(&e)));
            }
        }
    }
}

/// What a refused request means at the door.
fn refusal(e: &api::ApiError) -> String {
    match e.status {
        401 => "Your session has ended: log in again.".into(),
        403 | 404 => "Only the event's organizer, an admin or the check-in staff the organizer named can scan its tickets.".into(),
        _ => e.message.clone(),
    }
}

/// Colour, headline and what it means for the person at the door.
fn verdict(result: CheckinResult, direction: ScanDirection) -> (&'static str, &'static str) {
    match (result, direction) {
        (CheckinResult::Ok, ScanDirection::Entry) => ("ok", "Valid: let them in"),
        (CheckinResult::Ok, ScanDirection::Exit) => ("ok", "Exit recorded"),
        (CheckinResult::AlreadyCheckedIn, _) => ("amber", "Already checked in"),
        (CheckinResult::Cancelled, _) => ("red", "Cancelled ticket"),
        (CheckinResult::Refunded, _) => ("red", "Refunded ticket"),
        (CheckinResult::NotPaid, _) => ("red", "Not paid"),
        (CheckinResult::WrongEvent, _) => ("red", "Ticket for another event"),
        (CheckinResult::Invalid, _) => ("red", "Not a valid ticket"),
    }
}

/// What the server made of a scan uploaded later.
fn uploaded(result: CheckinResult, direction: ScanDirection) -> &'static str {
    match (result, direction) {
        (CheckinResult::Ok, ScanDirection::Entry) => "checked in",
        (CheckinResult::Ok, ScanDirection::Exit) => "exit recorded",
        (CheckinResult::AlreadyCheckedIn, _) => "already checked in",
        (CheckinResult::Cancelled, _) => "cancelled ticket",
        (CheckinResult::Refunded, _) => "refunded ticket",
        (CheckinResult::NotPaid, _) => "not paid",
        (CheckinResult::WrongEvent, _) => "ticket for another event",
        (CheckinResult::Invalid, _) => "not a valid ticket",
    }
}

fn result_name(result: CheckinResult) -> &'static str {
    match result {
        CheckinResult::Ok => "ok",
        CheckinResult::AlreadyCheckedIn => "already_checked_in",
        CheckinResult::Cancelled => "cancelled",
        CheckinResult::Refunded => "refunded",
        CheckinResult::NotPaid => "not_paid",
        CheckinResult::WrongEvent => "wrong_event",
        CheckinResult::Invalid => "invalid",
    }
}

/// Keeps `online` in step with the browser's `online`/`offline` events for as long as the page
/// lives; coming back online uploads the queue and refreshes the list.
fn watch_connection(door: Door, scanner: Coroutine<Msg>) {
    spawn(async move {
        let (tx, mut rx) = futures_channel::mpsc::unbounded::<bool>();
        let Some(window) = web_sys::window() else {
            return;
        };
        let up = tx.clone();
        let on_online = Closure::<dyn FnMut()>::new(move || {
            let _ = up.unbounded_send(true);
        });
        let on_offline = Closure::<dyn FnMut()>::new(move || {
            let _ = tx.unbounded_send(false);
        });
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        let _listening = Listeners {
            window,
            on_online,
            on_offline,
        };
        let mut online = door.online;
        while let Some(up) = rx.next().await {
            online.set(up);
            if up {
                scanner.send(Msg::Upload);
                scanner.send(Msg::Refresh);
            }
        }
    });
}

/// Removes the window listeners when the page goes away.
struct Listeners {
    window: web_sys::Window,
    on_online: Closure<dyn FnMut()>,
    on_offline: Closure<dyn FnMut()>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener_with_callback("online", self.on_online.as_ref().unchecked_ref());
        let _ = self.window.remove_event_listener_with_callback(
            "offline",
            self.on_offline.as_ref().unchecked_ref(),
        );
    }
}

#[component]
fn Scanner(id: String) -> Element {
    let event_id = Uuid::parse_str(&id).ok();
    let Some(event_id) = event_id else {
        return rsx! {
            section { class: "page",
                h1 { "Scanner not found" }
                p { "There is no event {id}." }
                Link { class: "btn btn-primary", to: Route::home(), "Browse events" }
            }
        };
    };
    let door = Door {
        event_id,
        list: use_signal(|| storage::load_bundle(event_id).map(|b| DoorList::new(&b))),
        queue: use_signal(|| storage::load_queue(event_id)),
        online: use_signal(browser_online),
        shown: use_signal(|| None),
        answers: use_signal(|| 0),
        problem: use_signal(|| None),
        synced: use_signal(Vec::new),
        note: use_signal(|| ListNote::Loading),
        gate: use_signal(storage::load_gate),
        direction: use_signal(|| ScanDirection::Entry),
    };
    let scanner = use_coroutine(move |mut rx: UnboundedReceiver<Msg>| async move {
        while let Some(msg) = rx.next().await {
            match msg {
                Msg::Scan(text) => door.scan(text).await,
                Msg::Upload => door.upload().await,
                Msg::Refresh => door.refresh().await,
            }
        }
    });
    use_hook(move || {
        if let Some(list) = door.list.peek().as_ref() {
            let mut note = door.note;
            note.set(ListNote::Ready {
                tickets: list.len(),
                at: list.generated_at(),
                stored: true,
            });
        }
        scanner.send(Msg::Refresh);
        scanner.send(Msg::Upload);
        watch_connection(door, scanner);
        spawn(async move {
            for round in 1u32.. {
                gloo_timers::future::TimeoutFuture::new(RETRY_MS).await;
                if !browser_online() {
                    continue;
                }
                if !door.queue.peek().is_empty() {
                    scanner.send(Msg::Upload);
                }
                if round % 3 == 0 || !*door.online.peek() {
                    scanner.send(Msg::Refresh);
                }
            }
        });
    });

    let event_for_title = id.clone();
    let event = use_resource(move || {
        let id = event_for_title.clone();
        async move { api::events::get_one(&id).await.ok() }
    });
    let title = event.read().clone().flatten().map(|e| e.title);
    format::set_title(&format!(
        "Check-in · {}",
        title.as_deref().unwrap_or("Scanner")
    ));

    let mut typed = use_signal(String::new);
    let submit = move |e: FormEvent| {
        e.prevent_default();
        let text = typed.peek().trim().to_string();
        if !text.is_empty() {
            scanner.send(Msg::Scan(text));
            typed.set(String::new());
        }
        format::focus("checkin-code");
    };

    let queued = door.queue.read().len();
    let online = (door.online)();
    let counter: Option<CheckinCounter> = door
        .list
        .read()
        .as_ref()
        .map(|l| l.counter(&door.queue.read()))
        .or_else(|| door.shown.read().as_ref().map(|s| s.answer.counter));
    let connection = match (online, queued) {
        (true, 0) => "Online".to_string(),
        (true, n) => format!("Online, uploading {n} queued"),
        (false, n) => format!("Offline, {n} queued"),
    };
    let mut gate = door.gate;
    let mut direction = door.direction;

    rsx! {
        section { class: "page checkin",
            nav { class: "breadcrumbs", aria_label: "Breadcrumb",
                Link { to: Route::EventDetail { id: id.clone() }, "{title.clone().unwrap_or_else(|| \"Event\".into())}" }
                " / " span { "Check-in" }
            }
            div { class: "page-head",
                h1 { id: "checkin-title", "Check-in" }
                span { class: if online { "connection connection-online" } else { "connection connection-offline" },
                    role: "status", "data-testid": "checkin-connection", "data-online": "{online}", "{connection}" }
            }
            div { class: "checkin-grid",
                div {
                    Verdict { key: "{(door.answers)()}", shown: (door.shown)(), seq: (door.answers)() }
                    if let Some(p) = (door.problem)() {
                        p { class: "alert alert-error", role: "alert", "data-testid": "checkin-problem", "{p}" }
                    }
                    form { class: "card checkin-manual", onsubmit: submit, autocomplete: "off",
                        div { class: "field",
                            label { r#for: "checkin-code", "Ticket code" }
                            div { class: "checkin-code-row",
                                input { id: "checkin-code", r#type: "text", value: "{typed}", "data-testid": "checkin-code",
                                    autocapitalize: "characters", spellcheck: "false", placeholder: "ABCDE-FGHJK-MNPQR-STUVW",
                                    aria_describedby: "checkin-code-hint",
                                    oninput: move |e: FormEvent| typed.set(e.value()) }
                                button { class: "btn btn-primary", r#type: "submit", "data-testid": "checkin-submit", "Check" }
                            }
                            p { id: "checkin-code-hint", class: "field-hint", "Type the code printed under the QR code, or paste a scanned one." }
                        }
                        div { class: "grid-2",
                            div { class: "field",
                                label { r#for: "checkin-gate", "Gate" }
                                input { id: "checkin-gate", r#type: "text", value: "{gate}", maxlength: "{MAX_GATE_CHARS}",
                                    placeholder: "North gate", "data-testid": "checkin-gate",
                                    oninput: move |e: FormEvent| { storage::save_gate(e.value().trim()); gate.set(e.value()); } }
                            }
                            fieldset { class: "field",
                                legend { class: "label-like", "Direction" }
                                label { class: "radio",
                                    input { r#type: "radio", name: "checkin-direction", "data-testid": "checkin-entry",
                                        checked: direction() == ScanDirection::Entry,
                                        onchange: move |_| direction.set(ScanDirection::Entry) }
                                    "Entry"
                                }
                                label { class: "radio",
                                    input { r#type: "radio", name: "checkin-direction", "data-testid": "checkin-exit",
                                        checked: direction() == ScanDirection::Exit,
                                        onchange: move |_| direction.set(ScanDirection::Exit) }
                                    "Exit"
                                }
                            }
                        }
                    }
                }
                div {
                    section { class: "card checkin-counter", aria_labelledby: "checkin-counter-h",
                        h2 { id: "checkin-counter-h", class: "h3", "Checked in / sold" }
                        p { class: "checkin-counter-figure", "data-testid": "checkin-counter", aria_live: "polite",
                            match counter {
                                Some(c) => rsx! { "{c.checked_in} / {c.sold}" },
                                None => rsx! { "–" },
                            }
                        }
                        ListStatus { note: (door.note)() }
                    }
                    CameraPanel { scanner }
                }
            }
            SyncedScans { synced: (door.synced)() }
        }
    }
}

#[component]
fn Verdict(shown: Option<Shown>, seq: u32) -> Element {
    let Some(s) = shown else {
        return rsx! {
            div { class: "checkin-result checkin-idle", "data-testid": "checkin-result", "data-result": "", "data-scan": "{seq}",
                p { class: "checkin-verdict", "Ready to scan" }
                p { "Point the camera at a ticket's QR code, or type its code below." }
            }
        };
    };
    let (colour, headline) = verdict(s.answer.result, s.direction);
    let a = s.answer;
    rsx! {
        div { class: "checkin-result checkin-{colour}", role: "status", aria_live: "assertive",
            "data-testid": "checkin-result", "data-result": result_name(a.result), "data-scan": "{seq}",
            p { class: "checkin-verdict", "data-testid": "checkin-verdict", "{headline}" }
            if let Some(name) = a.holder_name.clone() {
                p { class: "checkin-holder", "data-testid": "checkin-holder", "{name}" }
            }
            p { class: "checkin-details",
                if let Some(t) = a.ticket_type.clone() {
                    span { "data-testid": "checkin-ticket-type", "{t}" }
                    if a.code.is_some() { " · " }
                }
                if let Some(c) = a.code.clone() {
                    code { "{c}" }
                }
            }
            if let Some(first) = a.first_check_in.clone() {
                p { "data-testid": "checkin-first",
                    "First checked in {format::short_when(&first.at)}"
                    if let Some(g) = first.gate { " at {g}" }
                }
            }
            if s.offline {
                p { class: "checkin-offline-note", "data-testid": "checkin-offline-note",
                    if a.result.admits() { "Decided offline from the kept list; queued for upload (the holder's name comes with the server's answer)." } else { "Decided offline from the kept list." }
                }
            }
        }
    }
}

#[component]
fn ListStatus(note: ListNote) -> Element {
    rsx! {
        p { class: "muted", "data-testid": "checkin-list",
            match note {
                ListNote::Loading => rsx! { "Downloading the offline list…" },
                ListNote::Ready { tickets, at, stored } => rsx! {
                    "Offline list: {tickets} tickets, as of {format::short_when(&at)}"
                    if !stored { " (not stored in this browser: it lasts while the page is open)" }
                    "."
                },
                ListNote::Missing(why) => rsx! { "No offline list: {why}" },
            }
        }
    }
}

#[component]
fn CameraPanel(scanner: Coroutine<Msg>) -> Element {
    let mut state = use_signal(|| CameraState::Off);
    let mut task = use_signal(|| None::<dioxus::core::Task>);
    let start = move |_| {
        if task.peek().is_some() {
            return;
        }
        state.set(CameraState::Starting);
        let running = spawn(async move {
            let video = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("checkin-video"))
                .and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok());
            let Some(video) = video else {
                state.set(CameraState::Failed("The video element is missing.".into()));
                task.set(None);
                return;
            };
            let camera = match Camera::start(video).await {
                Ok(c) => c,
                Err(why) => {
                    state.set(CameraState::Failed(why));
                    task.set(None);
                    return;
                }
            };
            state.set(CameraState::On(camera.reader_name()));
            let mut last: Option<(String, f64)> = None;
            loop {
                if let Some(text) = camera.read().await {
                    let at = format::now_millis();
                    let repeat = last
                        .as_ref()
                        .is_some_and(|(seen, when)| *seen == text && at - when < SAME_CODE_MS);
                    if !repeat {
                        scanner.send(Msg::Scan(text.clone()));
                    }
                    last = Some((text, at));
                }
                gloo_timers::future::TimeoutFuture::new(camera.pause_ms()).await;
            }
        });
        task.set(Some(running));
    };
    let stop = move |_| {
        if let Some(t) = task.take() {
            t.cancel();
        }
        state.set(CameraState::Off);
    };
    let current = state();
    let running = matches!(current, CameraState::Starting | CameraState::On(_));
    rsx! {
        section { class: "card checkin-camera", aria_labelledby: "checkin-camera-h",
            h2 { id: "checkin-camera-h", class: "h3", "Camera" }
            video { id: "checkin-video", class: if running { "checkin-video" } else { "checkin-video hidden" },
                autoplay: true, muted: true, playsinline: "true", aria_label: "Camera view" }
            p { class: "muted", "data-testid": "camera-state",
                match current {
                    CameraState::Off => rsx! { "The camera is off." },
                    CameraState::Starting => rsx! { "Starting the camera…" },
                    CameraState::On(reader) => rsx! { "Hold a ticket's QR code in view; read by {reader}." },
                    CameraState::Failed(why) => rsx! { span { class: "field-error", "{why}" } },
                }
            }
            if running {
                button { class: "btn btn-ghost", r#type: "button", "data-testid": "camera-stop", onclick: stop, "Stop camera" }
            } else {
                button { class: "btn btn-secondary", r#type: "button", "data-testid": "camera-start", onclick: start, "Start camera" }
            }
        }
    }
}

#[component]
fn SyncedScans(synced: Vec<Synced>) -> Element {
    if synced.is_empty() {
        return rsx! {};
    }
    rsx! {
        section { class: "card", aria_labelledby: "checkin-synced-h",
            h2 { id: "checkin-synced-h", class: "h3", "Uploaded offline scans" }
            ul { class: "synced-list", "data-testid": "checkin-synced",
                for s in synced {
                    SyncedRow { key: "{s.queued.scan.nonce}", synced: s }
                }
            }
        }
    }
}

#[component]
fn SyncedRow(synced: Synced) -> Element {
    let q = synced.queued;
    let when = q
        .scan
        .scanned_at
        .map(|t| format::short_when(&t))
        .unwrap_or_default();
    let gate = q
        .scan
        .gate
        .clone()
        .map(|g| format!(" at {g}"))
        .unwrap_or_default();
    match synced.answer {
        Ok(a) => {
            let (colour, _) = verdict(a.result, q.scan.direction);
            let headline = uploaded(a.result, q.scan.direction);
            let name = a.holder_name.clone().unwrap_or_default();
            rsx! {
                li { class: "synced synced-{colour}", "data-testid": "synced-scan", "data-result": result_name(a.result),
                    code { "{q.code}" } " scanned {when}{gate}; the server says " strong { "{headline}" }
                    if !name.is_empty() { " · {name}" }
                    if let Some(first) = a.first_check_in {
                        " (first in {format::short_when(&first.at)}"
                        if let Some(g) = first.gate { " at {g}" }
                        ")"
                    }
                }
            }
        }
        Err(why) => rsx! {
            li { class: "synced synced-red", "data-testid": "synced-scan", "data-result": "error",
                code { "{q.code}" } " scanned {when}{gate}: not uploaded ({why})"
            }
        },
    }
}
