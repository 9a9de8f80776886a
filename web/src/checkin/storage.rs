//! What the scanner keeps in the browser's `localStorage`, per event: the check-in bundle (with
//! the server's later answers folded in) and the queue of scans admitted offline; and the gate
//! name, which a device keeps whatever event it scans.
//!
//! Storage failures (private mode, quota) leave the scanner working for this page's lifetime:
//! a write that fails is reported, a read that fails reads as nothing kept.

use api_types::checkin::CheckinBundle;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::offline::QueuedScan;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = storage()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Whether the value was stored.
fn save<T: Serialize>(key: &str, value: &T) -> bool {
    let (Some(s), Ok(text)) = (storage(), serde_json::to_string(value)) else {
        return false;
    };
    s.set_item(key, &text).is_ok()
}

fn bundle_key(event: Uuid) -> String {
    format!("checkin.{event}.bundle")
}

fn queue_key(event: Uuid) -> String {
    format!("checkin.{event}.queue")
}

const GATE_KEY: &str = "checkin.gate";

pub fn load_bundle(event: Uuid) -> Option<CheckinBundle> {
    load(&bundle_key(event)).filter(|b: &CheckinBundle| b.event_id == event)
}

pub fn save_bundle(bundle: &CheckinBundle) -> bool {
    save(&bundle_key(bundle.event_id), bundle)
}

pub fn load_queue(event: Uuid) -> Vec<QueuedScan> {
    load(&queue_key(event)).unwrap_or_default()
}

pub fn save_queue(event: Uuid, queue: &[QueuedScan]) -> bool {
    save(&queue_key(event), &queue)
}

pub fn load_gate() -> String {
    storage()
        .and_then(|s| s.get_item(GATE_KEY).ok().flatten())
        .unwrap_or_default()
}

pub fn save_gate(gate: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(GATE_KEY, gate);
    }
}
