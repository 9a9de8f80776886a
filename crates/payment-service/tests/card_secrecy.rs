//! Card numbers and CVCs never reach the database, the logs or an error message. Its own test
//! binary, because it installs a global log subscriber that captures everything at debug level
//! (trace for this service and the platform).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use payment_service::store::SqliteStore;
use payment_service::testing::stack;
use serde_json::json;

const PAN: &str = "4242424242424242";
const PAN_SPACED: &str = "4242 4242 4242 4242";
const BAD_PAN: &str = "4242424242424241";
const CVC: &str = "7391";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Capture {
    static LOGS: OnceLock<Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,payment_service=trace,platform=trace,tower_http=trace",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        capture
    })
}

/// The places a leaked CVC would show up: as a JSON string or a logged field value. (A bare
/// search would also hit random hex in ids.)
fn cvc_leaks(text: &str) -> bool {
    [
        format!("\"{CVC}\""),
        format!("={CVC}"),
        format!(": {CVC}"),
        format!(":{CVC}"),
    ]
    .iter()
    .any(|needle| text.contains(needle.as_str()))
}

fn contains_pan(text: &str) -> bool {
    [PAN, PAN_SPACED, BAD_PAN].iter().any(|p| text.contains(p))
}

#[tokio::test]
async fn no_card_number_or_cvc_is_stored_logged_or_echoed() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("payment.db");
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let s = stack().store(store).start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;

    let details = |number: serde_json::Value| {
        json!({
            "cardNumber": number, "expiryMonth": 12, "expiryYear": 2040,
            "cvc": CVC, "cardholderName": "Ada Lovelace"
        })
    };
    let body = |number: serde_json::Value| json!({"orderId": order.order_id, "paymentMethod": "credit_card", "paymentDetails": details(number)});

    // Refused requests: a typo, a number sent as a JSON number, a malformed body.
    let mut answers = Vec::new();
    for bad in [json!(BAD_PAN), json!(4242424242424242u64)] {
        let res = buyer.pay(&body(bad)).await;
        assert_eq!(res.status, 422, "{}", res.text);
        answers.push(res.text);
    }
    let bare = buyer.pay(&json!(4242424242424242u64)).await;
    assert_eq!(bare.status, 422, "{}", bare.text);
    answers.push(bare.text);
    let truncated = format!(
        r#"{{"orderId":"{}","paymentMethod":"credit_card","paymentDetails":{{"cardNumber":"{PAN}","cvc":"{CVC}""#,
        order.order_id
    );
    let res = buyer
        .pay_with(|r| r.header("content-type", "application/json").body(truncated))
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    answers.push(res.text);

    // A payment that goes through.
    let res = buyer.pay(&body(json!(PAN_SPACED))).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let payment = res.json()["payment"].clone();
    assert_eq!(
        payment["paymentDetails"],
        json!({"cardLast4": "4242", "cardBrand": "visa"})
    );
    answers.push(res.text);
    s.wait_for_events(order.order_id, "payments.completed", 1)
        .await;

    for answer in &answers {
        assert!(
            !contains_pan(answer),
            "a card number in an answer: {answer}"
        );
        assert!(!cvc_leaks(answer), "the CVC in an answer: {answer}");
    }

    // Every byte SQLite wrote: the database file and its write-ahead log.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("4242"), "the last 4 digits are kept");
    assert!(!contains_pan(&stored), "a card number in the database");
    assert!(!cvc_leaks(&stored), "the CVC in the database");

    // What reached the broker.
    for event in s.events_for(order.order_id).await {
        let text = serde_json::to_string(&event.envelope).unwrap();
        assert!(!contains_pan(&text) && !cvc_leaks(&text), "{text}");
    }

    let captured = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        captured.contains("payment settled"),
        "the logs were captured"
    );
    assert!(!contains_pan(&captured), "a card number in the logs");
    assert!(!cvc_leaks(&captured), "the CVC in the logs");
}
