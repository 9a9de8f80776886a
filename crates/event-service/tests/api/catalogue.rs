//! `GET /api/events`: what the public catalogue shows, its filters, order and pages.

use chrono::{Duration, Utc};
use event_service::domain::Status;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Stack, create, error_fields, in_days, post_empty, stored_event};

/// Five visible events (soonest first: Ongoing Show, Jazz Night, Comedy Hour, Rock Festival,
/// Tech Conf) and four that must stay hidden.
async fn catalogue() -> Stack {
    let stack = Stack::start().await;
    let (org, user) = stack.user("Olive", "Organizer").await;
    let visible = [
        (
            "Jazz Night",
            "Music",
            "Chicago",
            5,
            "Smooth standards all night.",
        ),
        (
            "Comedy Hour",
            "Comedy",
            "CHICAGO",
            10,
            "Jokes with some JAZZ interludes.",
        ),
        ("Rock Festival", "Festival", "Austin", 20, "Loud guitars."),
        (
            "Tech Conf",
            "Conference",
            "Berlin",
            40,
            "Talks about software.",
        ),
    ];
    for (title, category, city, days, description) in visible {
        create(
            &org,
            json!({"title": title, "category": category, "description": description,
                   "venue": {"city": city}, "dateTime": in_days(days)}),
        )
        .await;
    }
    create(
        &org,
        json!({"title": "Draft Gig", "status": "draft", "dateTime": in_days(3)}),
    )
    .await;
    let cancelled = create(
        &org,
        json!({"title": "Cancelled Gig", "dateTime": in_days(4)}),
    )
    .await;
    let res = post_empty(
        &org,
        &format!("/api/events/{}/cancel", cancelled["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(res.status, 200);

    let owner = Uuid::parse_str(user["id"].as_str().unwrap()).unwrap();
    let mut ongoing = stored_event(owner, Status::Published, Utc::now() - Duration::minutes(30));
    ongoing.title = "Ongoing Show".into();
    ongoing.duration = 120;
    let mut finished = stored_event(owner, Status::Published, Utc::now() - Duration::hours(3));
    finished.title = "Finished Show".into();
    let mut inactive = stored_event(owner, Status::Published, Utc::now() + Duration::days(2));
    inactive.title = "Inactive Show".into();
    inactive.is_active = false;
    for e in [ongoing, finished, inactive] {
        stack.store.insert(&e, None).await.unwrap();
    }
    stack
}

async fn titles(stack: &Stack, query: &str) -> Vec<String> {
    let res = stack.anonymous().get(&format!("/api/events{query}")).await;
    assert_eq!(res.status, 200, "{query}: {}", res.text);
    res.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

fn day(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn the_catalogue_shows_published_active_unfinished_events_soonest_first() {
    let stack = catalogue().await;
    let res = stack.anonymous().get("/api/events").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["total"], 5);
    assert_eq!(body["page"], 1);
    assert_eq!(body["limit"], 20);
    assert_eq!(body["totalPages"], 1);
    assert_eq!(
        titles(&stack, "").await,
        [
            "Ongoing Show",
            "Jazz Night",
            "Comedy Hour",
            "Rock Festival",
            "Tech Conf"
        ]
    );
}

#[tokio::test]
async fn each_filter_works_alone_and_ignores_case() {
    let stack = catalogue().await;
    assert_eq!(
        titles(&stack, "?category=music").await,
        ["Ongoing Show", "Jazz Night"]
    );
    assert_eq!(titles(&stack, "?category=COMEDY").await, ["Comedy Hour"]);
    assert_eq!(
        titles(&stack, "?city=chicago").await,
        ["Jazz Night", "Comedy Hour"]
    );
    assert_eq!(titles(&stack, "?city=%20Berlin%20").await, ["Tech Conf"]);
    assert_eq!(titles(&stack, "?city=Chic").await, Vec::<String>::new());
    assert_eq!(
        titles(&stack, "?q=JAZZ").await,
        ["Jazz Night", "Comedy Hour"]
    );
    assert_eq!(titles(&stack, "?q=guitars").await, ["Rock Festival"]);
    assert_eq!(titles(&stack, "?q=100%25").await, Vec::<String>::new());
    assert_eq!(
        titles(&stack, &format!("?from={}", day(7))).await,
        ["Comedy Hour", "Rock Festival", "Tech Conf"]
    );
    assert_eq!(
        titles(&stack, &format!("?to={}", day(15))).await,
        ["Ongoing Show", "Jazz Night", "Comedy Hour"]
    );
    let instant = (Utc::now() + Duration::days(30))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        titles(&stack, &format!("?from={instant}")).await,
        ["Tech Conf"]
    );
}

#[tokio::test]
async fn filters_combine() {
    let stack = catalogue().await;
    assert_eq!(
        titles(&stack, "?category=comedy&city=chicago&q=jazz").await,
        ["Comedy Hour"]
    );
    assert_eq!(
        titles(&stack, "?category=music&city=chicago").await,
        ["Jazz Night"]
    );
    assert_eq!(
        titles(&stack, "?category=music&city=austin").await,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&stack, &format!("?from={}&to={}", day(7), day(25))).await,
        ["Comedy Hour", "Rock Festival"]
    );
    assert_eq!(
        titles(
            &stack,
            &format!("?q=o&from={}&to={}&city=austin", day(1), day(60))
        )
        .await,
        ["Rock Festival"]
    );
    // Empty values are ignored, as an untouched search form sends them.
    assert_eq!(titles(&stack, "?category=&city=&q=").await.len(), 5);
}

#[tokio::test]
async fn pages_split_the_catalogue_without_overlap() {
    let stack = catalogue().await;
    let anon = stack.anonymous();
    let page = |n: u32| {
        let anon = anon.clone();
        async move {
            anon.get(&format!("/api/events?limit=2&page={n}"))
                .await
                .json()
        }
    };
    let (p1, p2, p3, p4) = (page(1).await, page(2).await, page(3).await, page(4).await);
    let names = |p: &serde_json::Value| {
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&p1), ["Ongoing Show", "Jazz Night"]);
    assert_eq!(names(&p2), ["Comedy Hour", "Rock Festival"]);
    assert_eq!(names(&p3), ["Tech Conf"]);
    // Past the end: an empty page that still tells the total.
    assert_eq!(names(&p4), Vec::<String>::new());
    for p in [&p1, &p2, &p3, &p4] {
        assert_eq!(p["total"], 5);
        assert_eq!(p["totalPages"], 3);
        assert_eq!(p["limit"], 2);
    }
    assert_eq!(titles(&stack, "?limit=100").await.len(), 5);
    assert_eq!(titles(&stack, "?limit=1&page=5").await, ["Tech Conf"]);
}

#[tokio::test]
async fn events_at_the_same_time_keep_a_stable_order_across_pages() {
    let (stack, org) = Stack::with_user("Olive", "Organizer").await;
    let at = in_days(5);
    let mut ids = Vec::new();
    for i in 0..4 {
        let e = create(&org, json!({"title": format!("Twin {i}"), "dateTime": at})).await;
        ids.push(e["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    let mut paged = Vec::new();
    for page in 1..=4 {
        let res = stack
            .anonymous()
            .get(&format!("/api/events?limit=1&page={page}"))
            .await;
        paged.push(res.json()["events"][0]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(paged, ids, "ties are broken by id");
}

#[tokio::test]
async fn unknown_or_malformed_parameters_are_a_400_that_names_them() {
    let stack = catalogue().await;
    let anon = stack.anonymous();
    for (query, fields) in [
        ("?limit=0", vec!["limit"]),
        ("?limit=101", vec!["limit"]),
        ("?limit=ten", vec!["limit"]),
        ("?page=0", vec!["page"]),
        ("?page=-1", vec!["page"]),
        ("?category=opera", vec!["category"]),
        ("?from=yesterday", vec!["from"]),
        ("?to=2030-13-01", vec!["to"]),
        ("?sort=price", vec!["sort"]),
        ("?city=a&city=b", vec!["city"]),
        ("?from=2030-05-02&to=2030-05-01", vec!["to"]),
        (
            "?limit=0&page=0&colour=red",
            vec!["colour", "limit", "page"],
        ),
    ] {
        let res = anon.get(&format!("/api/events{query}")).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        assert_eq!(res.code(), "invalid_query", "{query}");
        assert_eq!(error_fields(&res), fields, "{query}");
    }
}
