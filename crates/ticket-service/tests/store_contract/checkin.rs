//! The door's part of the ticket store contract that tells a scan decided now from the replay
//! of a nonce answered before (what the check-in counter counts once).

use super::*;
use ticket_service::store::Scanned;

pub(super) async fn a_scan_is_decided_once_and_every_later_scan_with_its_nonce_is_a_replay(
    store: Arc<dyn TicketStore>,
) {
    let (id, _, codes) = paid_tickets(&store, 2).await;
    let first = store
        .scan(&scan(id, &codes[0], "n-once", now(), "North"))
        .await
        .unwrap();
    let Scanned::Decided(answer) = first else {
        panic!("not decided: {first:?}")
    };
    assert_eq!(answer.result, CheckinResult::Ok);
    // The same nonce again, even from another gate: the first answer, as a replay.
    let again = store
        .scan(&scan(id, &codes[0], "n-once", now(), "South"))
        .await
        .unwrap();
    assert_eq!(again, Scanned::Replayed(answer));

    // Scanners racing with one nonce (a queue uploaded twice at once): one decides, the others
    // replay its answer, and the ticket is checked in once.
    let scans = (0..12).map(|i| {
        let store = store.clone();
        let s = scan(id, &codes[1], "n-race", now(), &format!("gate {i}"));
        tokio::spawn(async move { store.scan(&s).await.unwrap() })
    });
    let scanned: Vec<Scanned> = futures::future::join_all(scans)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let decided: Vec<&Scanned> = scanned
        .iter()
        .filter(|s| matches!(s, Scanned::Decided(_)))
        .collect();
    assert_eq!(decided.len(), 1, "{scanned:?}");
    let Scanned::Decided(answer) = decided[0].clone() else {
        unreachable!()
    };
    assert_eq!(answer.result, CheckinResult::Ok);
    assert!(
        scanned.iter().all(|s| s.clone().into_answer() == answer),
        "{scanned:?}"
    );
    assert_eq!(checked_in_rows(&outbox_rows(&store).await), 2);
}
