//! The notification service against a real nats-server and a real SMTP server (the sink of
//! `notification_service::testing`): facts published as the other services publish them, mail
//! read back as the SMTP server received it and parsed as a mail client would.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, EventLike};
use mail_parser::{Message, MessageParser, MimeHeaders};
use notification_service::domain::{MailKey, MailState};
use notification_service::testing::{
    Answer, Received, Stack, event_published, facts, order_created, stack,
};
use platform::consumer::{HandleError, Outcome};
use platform::testing::eventually;
use uuid::Uuid;

fn in_minutes(m: i64) -> DateTime<Utc> {
    platform::time::now() + chrono::Duration::minutes(m)
}

fn in_days(d: i64) -> DateTime<Utc> {
    "2030-03-17T18:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(d)
}

fn parse(r: &Received) -> Message<'_> {
    MessageParser::default()
        .parse(&r.data)
        .expect("a readable message")
}

/// Waits until the sink holds `n` messages, then a little longer to catch any extra one.
async fn received(stack: &Stack, n: usize) -> Vec<Received> {
    stack.sink.wait_for(n).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.sink.received()
}

/// Waits for mail and returns the one message the sink received; `what` names a second one.
async fn the_only_mail(stack: &Stack, what: &str) -> Received {
    let mut mails = received(stack, 1).await;
    assert_eq!(mails.len(), 1, "{what}");
    mails.remove(0)
}

fn png_parts<'a>(m: &'a Message<'a>) -> Vec<&'a mail_parser::MessagePart<'a>> {
    m.parts
        .iter()
        .filter(|p| {
            p.content_type()
                .is_some_and(|c| c.ctype() == "image" && c.subtype() == Some("png"))
        })
        .collect()
}

#[tokio::test]
async fn a_paid_order_gets_one_confirmation_with_a_qr_code_per_ticket_and_a_calendar_file() {
    let s = stack().start().await;
    let (_, order) = s.booking("Ada@Example.com", 2).await;
    s.publish(&facts::confirmed(&order)).await;

    let mail = the_only_mail(&s, "exactly one mail").await;
    assert_eq!(mail.to, ["ada@example.com"]);
    let m = parse(&mail);
    let subject = m.subject().unwrap();
    assert!(
        subject.contains("Jazz Night") && subject.contains(&order.booking_reference),
        "{subject}"
    );
    let text = m.body_text(0).unwrap();
    assert!(text.contains("Hello Ada"), "{text}");
    assert!(
        text.contains("51.00 USD"),
        "the total in the event's currency: {text}"
    );
    let html = m.body_html(0).unwrap();

    let qr = png_parts(&m);
    assert_eq!(qr.len(), 2, "one QR code per ticket");
    for part in &qr {
        let cid = part.content_id().expect("an inline image has a Content-ID");
        assert!(html.contains(&format!("cid:{cid}")), "the HTML shows {cid}");
        let png = png::Decoder::new(std::io::Cursor::new(part.contents()));
        assert!(png.read_info().is_ok(), "a decodable PNG");
    }
    let confirmed = notification_service::testing::order_confirmed(&order);
    for t in &confirmed.tickets {
        assert!(text.contains(&t.code) || html.contains(&t.code));
    }

    let ics = m
        .attachments()
        .find(|p| p.attachment_name() == Some("event.ics"))
        .expect("a calendar attachment");
    let calendar: Calendar = std::str::from_utf8(ics.contents())
        .unwrap()
        .parse()
        .expect("a valid iCalendar file");
    let vevent = calendar.events().next().expect("one VEVENT");
    assert_eq!(vevent.get_summary(), Some("Jazz Night"));
    assert_eq!(vevent.get_location(), Some("Blue Room, Chicago"));
    assert_eq!(
        vevent.get_start(),
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(in_days(0))))
    );
    assert!(!html.contains("4242"), "no card data");
}

#[tokio::test]
async fn a_declined_payment_tells_the_buyer_until_when_the_seats_are_held() {
    let s = stack().start().await;
    let event = event_published("Jazz Night", in_days(0));
    let expires = "2031-01-02T10:30:00Z".parse().unwrap();
    let order = order_created(&event, Uuid::now_v7(), "ada@example.com", 1, expires);
    s.publish(&facts::published(&event)).await;
    s.publish(&facts::created(&order)).await;
    s.publish(&facts::declined(&order)).await;

    let mail = the_only_mail(&s, "one mail per decline").await;
    let m = parse(&mail);
    assert!(m.subject().unwrap().contains("declined"));
    let text = m.body_text(0).unwrap();
    assert!(text.contains("Your card was declined."), "{text}");
    assert!(
        text.contains("Thursday 2 January 2031, 10:30 UTC"),
        "the hold's deadline: {text}"
    );
}

#[tokio::test]
async fn cancelling_an_event_tells_every_holder_once() {
    let s = stack().start().await;
    let event = event_published("Jazz Night", in_days(0));
    s.publish(&facts::published(&event)).await;
    let ada1 = order_created(&event, Uuid::now_v7(), "ada@example.com", 1, in_minutes(15));
    let ada2 = order_created(&event, ada1.user_id, "ada@example.com", 2, in_minutes(15));
    let bob = order_created(&event, Uuid::now_v7(), "bob@example.com", 1, in_minutes(15));
    let unpaid = order_created(&event, Uuid::now_v7(), "cy@example.com", 1, in_minutes(15));
    for o in [&ada1, &ada2, &bob] {
        s.publish(&facts::created(o)).await;
        s.publish(&facts::confirmed(o)).await;
    }
    s.publish(&facts::created(&unpaid)).await;
    received(&s, 3).await;

    // As the ticket service reacts: the paid orders are cancelled (and refunded later), the
    // pending one is cancelled.
    s.publish(&facts::cancelled_event(&event)).await;
    for o in [&ada1, &ada2, &bob, &unpaid] {
        s.publish(&facts::cancelled(o, CancelReason::EventCancelled))
            .await;
    }
    let mails = received(&s, 6).await;
    let notices: Vec<&Received> = mails[3..]
        .iter()
        .filter(|r| {
            parse(r)
                .subject()
                .unwrap()
                .starts_with("Cancelled: Jazz Night")
        })
        .collect();
    let mut to: Vec<&str> = notices.iter().map(|r| r.to[0].as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        ["ada@example.com", "bob@example.com"],
        "one notice per holder"
    );
    let ada = parse(
        notices
            .iter()
            .find(|r| r.to[0] == "ada@example.com")
            .unwrap(),
    )
    .body_text(0)
    .unwrap()
    .to_string();
    assert!(ada.contains(&ada1.booking_reference) && ada.contains(&ada2.booking_reference));
    let to_cy: Vec<&Received> = mails
        .iter()
        .filter(|r| r.to[0] == "cy@example.com")
        .collect();
    assert_eq!(
        to_cy.len(),
        1,
        "the unpaid order hears that it is cancelled"
    );
    assert_eq!(
        mails.len(),
        6,
        "nothing else: {:?}",
        mails
            .iter()
            .map(|r| parse(r).subject().unwrap().to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_same_fact_handled_twice_sends_one_mail() {
    let s = stack().without_background().start().await;
    let (_, order) = s.booking("ada@example.com", 2).await;
    let confirmed = facts::confirmed(&order);
    assert_eq!(s.apply(&confirmed).await.unwrap(), Outcome::Applied);
    assert_eq!(s.apply(&confirmed).await.unwrap(), Outcome::Duplicate);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.sink.received().len(), 1);
}

#[tokio::test]
async fn mails_held_back_while_the_smtp_server_is_down_arrive_once_it_is_back() {
    let mut s = stack().start().await;
    let (_, order) = s.booking("ada@example.com", 2).await;
    s.sink.stop();
    let confirmed = facts::confirmed(&order);
    s.publish(&confirmed).await;

    let key = MailKey {
        fact_id: confirmed.id.to_string(),
        recipient: "ada@example.com".into(),
    };
    // Recorded, and tried at least once without success.
    eventually("the mail recorded and not sent", || async {
        let unsent = s
            .state
            .store
            .unsent(Some(&key.fact_id), platform::time::now(), 10)
            .await
            .unwrap();
        unsent
            .iter()
            .any(|m| m.key == key && m.state == MailState::Pending)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(s.sink.received().is_empty());

    s.sink.restart().await;
    the_only_mail(&s, "sent once it was back, and only once").await;
}

#[tokio::test]
async fn a_recipient_the_server_refuses_for_good_dead_letters_the_fact_with_its_answer() {
    let s = stack().without_background().start().await;
    s.sink.answer_recipients(Answer::Refuse);
    let (_, order) = s.booking("gone@example.com", 1).await;
    match s.apply(&facts::confirmed(&order)).await {
        Err(HandleError::Poison(reason)) => assert!(reason.contains("550"), "{reason}"),
        other => panic!("expected a poison message, got {other:?}"),
    }
    // Never tried again.
    s.sink.answer_recipients(Answer::Accept);
    assert_eq!(notification_service::sweep(&s.state).await.unwrap().sent, 0);
    assert!(s.sink.received().is_empty());
}

#[tokio::test]
async fn without_an_smtp_url_each_mail_is_a_readable_eml_file() {
    let s = stack().files().without_background().start().await;
    let (_, order) = s.booking("ada@example.com", 2).await;
    s.apply(&facts::confirmed(&order)).await.unwrap();

    let dir = s.dir.path().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let raw = std::fs::read(&files[0]).unwrap();
    let m = MessageParser::default()
        .parse(&raw)
        .expect("a readable .eml");
    assert!(m.subject().unwrap().contains("Jazz Night"));
    assert_eq!(png_parts(&m).len(), 2);
    assert!(s.sink.received().is_empty());
}

#[tokio::test]
async fn a_hold_about_to_expire_gets_one_reminder_unless_it_was_paid() {
    let s = stack().without_background().start().await;
    let event = event_published("Jazz Night", in_days(0));
    let unpaid = order_created(&event, Uuid::now_v7(), "ada@example.com", 1, in_minutes(3));
    let paid = order_created(&event, Uuid::now_v7(), "bob@example.com", 1, in_minutes(3));
    let later = order_created(&event, Uuid::now_v7(), "cy@example.com", 1, in_minutes(14));
    s.apply(&facts::published(&event)).await.unwrap();
    for o in [&unpaid, &paid, &later] {
        s.apply(&facts::created(o)).await.unwrap();
    }
    s.apply(&facts::confirmed(&paid)).await.unwrap();
    let confirmations = s.sink.received().len();

    let first = notification_service::sweep(&s.state).await.unwrap();
    let second = notification_service::sweep(&s.state).await.unwrap();
    assert_eq!((first.reminders, second.reminders), (1, 0));
    let mails = s.sink.received();
    assert_eq!(mails.len(), confirmations + 1);
    let reminder = mails.last().unwrap();
    assert_eq!(reminder.to, ["ada@example.com"]);
    assert!(parse(reminder).subject().unwrap().contains("held until"));
}

#[tokio::test]
async fn an_event_moved_to_another_date_tells_its_ticket_holders() {
    let s = stack().without_background().start().await;
    let (event, order) = s.booking("ada@example.com", 1).await;
    s.apply(&facts::confirmed(&order)).await.unwrap();

    // A new description alone is no news; a new date is.
    let mut renamed = event.clone();
    renamed.version = 2;
    renamed.details.category = "Jazz".into();
    s.apply(&facts::updated(&renamed)).await.unwrap();
    let mut moved = renamed.clone();
    moved.version = 3;
    moved.details.date_time = in_days(7);
    s.apply(&facts::updated(&moved)).await.unwrap();

    let mails = s.sink.received();
    assert_eq!(mails.len(), 2);
    let m = parse(&mails[1]);
    assert!(m.subject().unwrap().starts_with("Changed: Jazz Night"));
    let text = m.body_text(0).unwrap();
    assert!(
        text.contains("Sunday 24 March 2030") && text.contains("Sunday 17 March 2030"),
        "{text}"
    );
}

#[tokio::test]
async fn old_facts_feed_the_projection_without_mailing_their_past() {
    let s = stack().without_background().start().await;
    let (_, order) = s.booking("ada@example.com", 1).await;
    let mut old = facts::confirmed(&order);
    old.time = platform::time::now() - chrono::Duration::days(2);
    assert_eq!(s.apply(&old).await.unwrap(), Outcome::Applied);
    assert!(s.sink.received().is_empty());
    let projected = s.state.store.order(order.order_id).await.unwrap().unwrap();
    assert!(projected.paid);
}

#[tokio::test]
async fn a_buyer_lists_the_mails_sent_to_them_and_nobody_elses() {
    let s = stack().without_background().start().await;
    let (ada, ada_id) = s.user("ada@example.com").await;
    let (bob, _) = s.user("bob@example.com").await;
    let event = event_published("Jazz Night", in_days(0));
    let order = order_created(&event, ada_id, "ada@example.com", 1, in_minutes(15));
    s.apply(&facts::published(&event)).await.unwrap();
    s.apply(&facts::created(&order)).await.unwrap();
    s.apply(&facts::declined(&order)).await.unwrap();
    s.apply(&facts::confirmed(&order)).await.unwrap();

    let res = ada.get("/api/notifications/mine").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let list = res.json()["notifications"].as_array().unwrap().clone();
    let kinds: Vec<&str> = list.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["order_confirmed", "payment_declined"],
        "newest first"
    );
    assert_eq!(list[0]["recipient"], "ada@example.com");
    assert!(list[0]["subject"].as_str().unwrap().contains("Jazz Night"));
    assert!(list[0]["sentAt"].is_string());

    let res = bob.get("/api/notifications/mine").await;
    assert_eq!(res.json()["notifications"], serde_json::json!([]));
    let anonymous = platform::testing::TestClient::new(s.http.url());
    let res = anonymous.get("/api/notifications/mine").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "unauthorized");
}

#[tokio::test]
async fn a_refused_confirmation_is_parked_on_the_consumers_dead_letter_subject_with_the_reason() {
    let s = stack().start().await;
    s.sink.answer_recipients(Answer::Refuse);
    let (_, order) = s.booking("gone@example.com", 1).await;
    let confirmed = facts::confirmed(&order);
    s.publish(&confirmed).await;

    let (subject, reason, payload) = eventually("a dead letter", || async {
        let mut stream = s.js.get_stream("DEAD_LETTERS").await.ok()?;
        let last = stream.info().await.ok()?.state.last_sequence;
        let m = stream.get_raw_message(last).await.ok()?;
        let reason = m.headers.get("Dlq-Reason")?.as_str().to_string();
        Some((m.subject.to_string(), reason, m.payload.clone()))
    })
    .await;
    assert_eq!(subject, "dlq.notification-orders");
    assert!(reason.contains("550"), "{reason}");
    let parked: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(parked["id"], confirmed.id.to_string());
    assert!(s.sink.received().is_empty());
}

#[tokio::test]
async fn a_waitlist_offer_tells_the_buyer_what_is_held_for_them_and_until_when() {
    let s = stack().start().await;
    let event = event_published("Jazz Night", in_days(0));
    // Known before the offer arrives (another consumer), so the mail can say where and when.
    s.apply(&facts::published(&event)).await.unwrap();
    let expires = "2031-01-02T10:30:00Z".parse().unwrap();
    let offer = facts::waitlist_offered(&event, "Grace@Example.com", 2, expires);
    s.publish(&offer).await;
    s.publish(&offer).await;

    let mail = the_only_mail(&s, "one mail per offer").await;
    assert_eq!(mail.to, ["grace@example.com"]);
    let m = parse(&mail);
    let subject = m.subject().unwrap();
    assert!(
        subject.contains("Jazz Night") && subject.contains("10:30 UTC"),
        "{subject}"
    );
    let text = m.body_text(0).unwrap();
    assert!(text.contains("2 \"General\" ticket(s)"), "{text}");
    assert!(
        text.contains("Thursday 2 January 2031, 10:30 UTC"),
        "{text}"
    );
    assert!(
        text.contains("Blue Room"),
        "the event as the catalogue has it: {text}"
    );
}

#[tokio::test]
async fn a_cancellation_tells_each_closed_waitlist_entry_once_whether_it_held_an_offer() {
    let s = stack().start().await;
    let event = event_published("Jazz Night", in_days(0));
    s.apply(&facts::published(&event)).await.unwrap();
    s.apply(&facts::cancelled_event(&event)).await.unwrap();
    // One entry held an offer, one was waiting; each close is redelivered.
    let offer = facts::waitlist_closed(&event, "Grace@Example.com", 2, true);
    let waiting = facts::waitlist_closed(&event, "bob@example.com", 1, false);
    for closed in [&offer, &waiting, &offer, &waiting] {
        s.publish(closed).await;
    }

    let mails = received(&s, 2).await;
    assert_eq!(mails.len(), 2, "one mail per closed entry");
    let to = |who: &str| {
        let r = mails.iter().find(|r| r.to == [who]).expect(who);
        let m = parse(r);
        (
            m.subject().unwrap().to_string(),
            m.body_text(0).unwrap().to_string(),
        )
    };
    let (subject, text) = to("grace@example.com");
    assert!(
        subject.contains("no longer held") && subject.contains("Jazz Night"),
        "{subject}"
    );
    assert!(
        text.contains("2 \"General\" ticket(s) for Jazz Night held for you are withdrawn: the event was cancelled"),
        "{text}"
    );
    let (subject, text) = to("bob@example.com");
    assert!(subject.contains("waitlist place ended"), "{subject}");
    assert!(
        text.contains("Jazz Night was cancelled; your place on the waitlist for 1 \"General\" ticket(s) has ended"),
        "{text}"
    );
    assert!(!text.contains("withdrawn"), "{text}");
    // The handler has recorded each close: one more delivery is a duplicate.
    assert_eq!(s.apply(&offer).await.unwrap(), Outcome::Duplicate);
}
