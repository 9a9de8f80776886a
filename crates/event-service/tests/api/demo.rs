//! The demo catalogue behind `DEMO_DATA=true`.

use chrono::Utc;
use event_service::config::DemoOrganizer;
use event_service::store::{EventStore, SqliteStore};
use platform::money::Currency;
use uuid::Uuid;

use crate::support::{Stack, catalog_messages, stored_event};

fn organizer() -> DemoOrganizer {
    DemoOrganizer {
        id: Uuid::new_v4(),
        name: "Demo Organizer".into(),
        email: "organizer@demo.local".into(),
    }
}

#[tokio::test]
async fn demo_data_fills_the_catalogue_and_is_announced_on_the_broker() {
    let demo = organizer();
    let owner = demo.id;
    let stack = Stack::start_with(|c| event_service::EventConfig {
        demo: Some(demo),
        ..c
    })
    .await;
    let res = stack.anonymous().get("/api/events?limit=100").await;
    let body = res.json();
    let total = body["total"].as_u64().unwrap();
    assert!(total >= 12, "only {total} demo events");
    let events = body["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["createdBy"] == owner.to_string()));
    assert!(
        events
            .iter()
            .all(|e| e["organizer"]["email"] == "organizer@demo.local")
    );
    assert!(
        events
            .iter()
            .all(|e| e["ticketTypes"].as_array().unwrap().len() >= 2)
    );
    let categories: std::collections::HashSet<_> =
        events.iter().map(|e| e["category"].to_string()).collect();
    assert!(categories.len() >= 5);
    // Every demo event is bookable elsewhere, so each is announced.
    catalog_messages(&stack.js, total).await;
}

#[tokio::test]
async fn demo_data_is_loaded_only_into_an_empty_store() {
    let store = SqliteStore::in_memory().unwrap();
    let now = Utc::now();
    let added = event_service::demo::seed(&store, &organizer(), Currency::USD, now)
        .await
        .unwrap();
    assert!(added >= 12);
    assert_eq!(store.count().await.unwrap(), added as u64);
    assert_eq!(store.outbox().pending(1000).await.unwrap().len(), added);
    assert_eq!(
        event_service::demo::seed(&store, &organizer(), Currency::USD, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.count().await.unwrap(), added as u64);

    let real = SqliteStore::in_memory().unwrap();
    real.insert(
        &stored_event(Uuid::new_v4(), event_service::domain::Status::Draft, now),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        event_service::demo::seed(&real, &organizer(), Currency::USD, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(real.count().await.unwrap(), 1);
}
