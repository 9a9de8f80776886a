//! Formatting and small browser helpers shared by the views.

use std::fmt;

use api_types::orders::OrderLineView;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use wasm_bindgen::JsValue;

/// `$25.50` from 2550 cents (integer arithmetic only).
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let units = abs / 100;
    let cents = abs % 100;
    let mut grouped = String::new();
    let digits = units.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let symbol = match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    };
    match symbol {
        Some(s) => format!("{sign}{s}{grouped}.{cents:02}"),
        None => format!("{sign}{grouped}.{cents:02} {currency}"),
    }
}

/// Whole amounts without their `.00` (`$150`, `$12.50`): for chart axes.
pub fn money_short(minor: i64, currency: &str) -> String {
    let full = money(minor, currency);
    if minor % 100 == 0 {
        full.replacen(".00", "", 1)
    } else {
        full
    }
}

/// "2 × General, 1 × VIP".
pub fn lines(lines: &[OrderLineView]) -> String {
    lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.ticket_type.name))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn price(minor: i64, currency: &str) -> String {
    if minor == 0 {
        "Free".into()
    } else {
        money(minor, currency)
    }
}

fn date(iso: &str) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_str(iso))
}

fn options(pairs: &[(&str, &str)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

const DATE_TIME: [(&str, &str); 6] = [
    ("weekday", "short"),
    ("year", "numeric"),
    ("month", "short"),
    ("day", "numeric"),
    ("hour", "numeric"),
    ("minute", "2-digit"),
];

/// An instant the services sent, in the browser's time zone with the `DATE_TIME` parts from
/// `from` on (through the browser's clock functions, not chrono's formatting, which the bundle
/// then does not carry).
fn instant(t: &DateTime<Utc>, from: usize) -> String {
    js_date(t)
        .to_locale_string("en-US", &options(&DATE_TIME[from..]))
        .into()
}

fn js_date(t: &DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64))
}

/// "Sat, Jun 7, 2030, 7:30 PM": an instant the services sent, in the browser's time zone.
pub fn when(t: &DateTime<Utc>) -> String {
    instant(t, 0)
}

/// `2030-06-07T19:30:00.000Z`, for `<time datetime>`.
pub fn iso(t: &DateTime<Utc>) -> String {
    js_date(t).to_iso_string().into()
}

/// "Jun 7, 2030, 7:30 PM" (no weekday: for tables).
pub fn short_when(t: &DateTime<Utc>) -> String {
    instant(t, 1)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "May 1" (a calendar day, no time zone involved).
pub fn day(d: NaiveDate) -> String {
    format!("{} {}", MONTHS[d.month0() as usize], d.day())
}

/// "May 1, 2030".
pub fn day_long(d: NaiveDate) -> String {
    format!("{}, {}", day(d), d.year())
}

pub fn millis(iso: &str) -> f64 {
    date(iso).get_time()
}

pub fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// Now, by the browser's clock. `Utc::now()` is no use here: chrono reads the system clock,
/// which wasm32-unknown-unknown does not have (it panics).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(now_millis() as i64).unwrap_or_default()
}

/// `14:05` for a remaining time; `0:00` once past.
pub fn countdown(ms: f64) -> String {
    let secs = (ms / 1000.0).ceil().max(0.0) as u64;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A `datetime-local` value (local time, no zone) as RFC 3339 in UTC, through the browser's clock.
pub fn local_input_to_rfc3339(v: &str) -> Option<String> {
    if v.trim().is_empty() {
        return None;
    }
    let d = date(v.trim());
    if d.get_time().is_nan() {
        return None;
    }
    Some(d.to_iso_string().into())
}

/// An instant as a `datetime-local` value in the browser's zone.
pub fn local_input(t: &DateTime<Utc>) -> String {
    let d = js_date(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The filters of the events page, kept in the URL (`/?category=Music&city=Austin&q=jazz&page=2`).
///
/// The router percent-decodes the whole query before handing it over, so values are written
/// with `+` for spaces and anything else unusual encoded twice; one decode by the router and one
/// here give the value back whatever it holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventsQuery {
    pub category: String,
    pub city: String,
    pub q: String,
    pub page: u32,
}

fn encode_value(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%25{b:02X}")),
        }
    }
    out
}

fn decode_value(v: &str) -> String {
    let v = v.replace('+', " ");
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl From<&str> for EventsQuery {
    fn from(query: &str) -> Self {
        let mut q = EventsQuery {
            page: 1,
            ..Default::default()
        };
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode_value(v);
            match k {
                "category" => q.category = v,
                "city" => q.city = v,
                "q" => q.q = v,
                "page" => q.page = v.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        q
    }
}

impl fmt::Display for EventsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (k, v) in [
            ("category", &self.category),
            ("city", &self.city),
            ("q", &self.q),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", encode_value(v.trim())));
            }
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        f.write_str(&parts.join("&"))
    }
}

const RETURN_KEY: &str = "ticketing.returnTo";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Remembers the page the user is on, so login can bring them back.
pub fn remember_path(path: &str) {
    if let Some(s) = session_storage() {
        let _ = s.set_item(RETURN_KEY, path);
    }
}

/// Where to go after signing in (and forgets it).
pub fn take_return_to() -> String {
    let path = session_storage()
        .and_then(|s| {
            let v = s.get_item(RETURN_KEY).ok().flatten();
            let _ = s.remove_item(RETURN_KEY);
            v
        })
        .unwrap_or_else(|| "/".into());
    // Only paths of this site.
    if path.starts_with('/') && !path.starts_with("//") {
        path
    } else {
        "/".into()
    }
}

/// Moves keyboard focus to the element with `id` (after a view change), for screen readers and
/// keyboard users.
pub fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

pub fn set_title(title: &str) {
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        d.set_title(&format!("{title} · Tickets"));
    }
}

/// Luhn check of a card number's digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Parses a price typed by a person into cents: at most two decimals, no sign.
pub fn parse_price(v: &str) -> Result<i64, &'static str> {
    let v = v.trim();
    if v.is_empty() {
        return Err("Price is required.");
    }
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err("Enter a price like 25 or 25.50.");
    }
    if frac.len() > 2 {
        return Err("At most two decimals.");
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| "Price is too large.")?
    };
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or("Price is too large.")?;
    if cents > 100_000_000 {
        return Err("Price must be between 0 and 1000000.");
    }
    Ok(cents)
}
