//! When booking opens and the waiting room of the on-sale: `onSaleAt` and `queue` on create and
//! PATCH, checked, shown in every answer and carried in the catalogue facts.

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use contracts::Envelope;
use contracts::catalog::{EventPublished, EventUpdated};
use serde_json::json;

use crate::support::{
    Stack, catalog_messages, create, edit, error_fields, event_body, event_path as path,
};

/// Two days from now to the second (the events of these tests start in ten).
fn in_two_days() -> DateTime<Utc> {
    DateTime::from_timestamp((Utc::now() + Duration::days(2)).timestamp(), 0).unwrap()
}

fn written(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn an_event_is_on_sale_at_once_without_a_queue_unless_its_organizer_sets_one() {
    let (stack, client) = Stack::with_user("Quinn", "Queue").await;
    let plain = create(&client, json!({})).await;
    assert_eq!(plain["onSaleAt"], json!(null));
    assert_eq!(
        plain["queue"],
        json!({"enabled": false, "admitPerMinute": 100})
    );

    let opens = in_two_days();
    let in_paris = opens.with_timezone(&FixedOffset::east_opt(2 * 3600).unwrap());
    let on_sale = json!({
        "onSaleAt": in_paris.to_rfc3339(),
        "queue": {"enabled": true, "admitPerMinute": 250},
    });
    let queued = create(&client, on_sale).await;
    assert_eq!(queued["onSaleAt"], written(opens));
    assert_eq!(
        queued["queue"],
        json!({"enabled": true, "admitPerMinute": 250})
    );
    let shown = stack.anonymous().get(&path(&queued)).await.json();
    assert_eq!(shown["event"]["queue"]["admitPerMinute"], 250);

    let msgs = catalog_messages(&stack.js, 2).await;
    let fact: Envelope<EventPublished> = serde_json::from_slice(&msgs[1].payload).unwrap();
    assert_eq!(fact.data.details.sale.on_sale_at, Some(opens));
    assert!(fact.data.details.sale.queue.enabled);
    assert_eq!(fact.data.details.sale.queue.admit_per_minute, 250);
}

#[tokio::test]
async fn the_organizer_changes_the_queue_field_by_field_and_clears_the_opening() {
    let (stack, client) = Stack::with_user("Quinn", "Queue").await;
    let event = create(&client, json!({"onSaleAt": written(in_two_days())})).await;

    let on = edit(&client, &event, json!({"queue": {"enabled": true}})).await;
    assert_eq!(on["queue"], json!({"enabled": true, "admitPerMinute": 100}));
    let slower = edit(&client, &event, json!({"queue": {"admitPerMinute": 30}})).await;
    assert_eq!(
        slower["queue"],
        json!({"enabled": true, "admitPerMinute": 30})
    );
    // The queue counts from the opening: it cannot go while the queue is on.
    let res = client.patch(&path(&event), &json!({"onSaleAt": ""})).await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(error_fields(&res), ["queue.enabled"]);
    let off = json!({"onSaleAt": "", "queue": {"enabled": false}});
    assert_eq!(edit(&client, &event, off).await["onSaleAt"], json!(null));

    let msgs = catalog_messages(&stack.js, 4).await;
    let last: Envelope<EventUpdated> = serde_json::from_slice(&msgs[3].payload).unwrap();
    assert_eq!(last.data.details.sale.on_sale_at, None);
    assert!(!last.data.details.sale.queue.enabled);
}

#[tokio::test]
async fn a_bad_opening_or_rate_is_refused_with_the_field_named() {
    let (_stack, client) = Stack::with_user("Val", "Idator").await;
    let cases = [
        (json!({"onSaleAt": "tomorrow"}), "onSaleAt"),
        // Not before the event starts.
        (
            json!({"onSaleAt": written(Utc::now() + Duration::days(11))}),
            "onSaleAt",
        ),
        (json!({"queue": {"enabled": true}}), "queue.enabled"),
        (
            json!({"onSaleAt": written(in_two_days()), "queue": {"admitPerMinute": 0}}),
            "queue.admitPerMinute",
        ),
        (
            json!({"queue": {"admitPerMinute": 100_001}}),
            "queue.admitPerMinute",
        ),
    ];
    for (changes, field) in cases {
        let res = client
            .post("/api/events", &event_body(changes.clone()))
            .await;
        assert_eq!(res.status, 422, "{changes}: {}", res.text);
        assert_eq!(error_fields(&res), [field], "{changes}");
    }
}

#[tokio::test]
async fn the_waitlist_is_on_until_the_organizer_turns_it_off_and_the_facts_say_so() {
    let (stack, client) = Stack::with_user("Wes", "Waiter").await;
    let event = create(&client, json!({})).await;
    assert_eq!(event["waitlistEnabled"], true);
    let closed = create(&client, json!({"waitlistEnabled": false})).await;
    assert_eq!(closed["waitlistEnabled"], false);

    let closed_later = edit(&client, &event, json!({"waitlistEnabled": false})).await;
    assert_eq!(closed_later["waitlistEnabled"], false);
    // A change that leaves it out keeps it.
    let renamed = edit(&client, &event, json!({"title": "Still closed"})).await;
    assert_eq!(renamed["waitlistEnabled"], false);
    let shown = stack.anonymous().get(&path(&event)).await.json();
    assert_eq!(shown["event"]["waitlistEnabled"], false);

    let msgs = catalog_messages(&stack.js, 4).await;
    let published: Envelope<EventPublished> = serde_json::from_slice(&msgs[0].payload).unwrap();
    assert!(published.data.details.waitlist_enabled);
    let updated: Envelope<EventUpdated> = serde_json::from_slice(&msgs[2].payload).unwrap();
    assert!(!updated.data.details.waitlist_enabled);
    // A fact from before the switch existed reads as on.
    let mut old = serde_json::to_value(&updated.data).unwrap();
    old.as_object_mut().unwrap().remove("waitlistEnabled");
    let old: EventUpdated = serde_json::from_value(old).unwrap();
    assert!(old.details.waitlist_enabled);
}
