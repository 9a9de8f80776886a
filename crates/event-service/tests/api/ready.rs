//! `/health` and `/ready`: the store and NATS are checked.

use std::time::Duration;

use crate::support::Stack;

#[tokio::test]
async fn ready_checks_the_store_and_nats_and_fails_when_nats_is_down() {
    let mut stack = Stack::start().await;
    let anon = stack.anonymous();
    assert_eq!(anon.get("/health").await.status, 200);
    let res = anon.get("/ready").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["checks"]["store"]["status"], "ok");
    assert_eq!(res.json()["checks"]["nats"]["status"], "ok");

    stack.nats.stop();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let res = anon.get("/ready").await;
        if res.status == 503 {
            assert_eq!(res.json()["checks"]["nats"]["status"], "down");
            assert_eq!(res.json()["checks"]["store"]["status"], "ok");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still ready without NATS"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The public catalogue keeps working without the broker.
    assert_eq!(anon.get("/api/events").await.status, 200);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_json_error_shape() {
    let stack = Stack::start().await;
    let anon = stack.anonymous();
    let res = anon.get("/api/nothing-here").await;
    assert_eq!((res.status, res.code().as_str()), (404, "not_found"));
    let res = anon.send(anon.http.delete(anon.url("/api/events"))).await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (405, "method_not_allowed")
    );
}
