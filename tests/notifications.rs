//! Mail end to end: a buyer books and pays through the gateway, the real ticket and payment
//! services publish their facts, and the notification service mails a real SMTP server.

use std::time::Duration;

use e2e::{APPROVED_CARD, DECLINED_CARD, System, book, card_body, order_becomes};
use mail_parser::{MessageParser, MimeHeaders};
use platform::testing::eventually;

#[tokio::test]
async fn a_buyer_who_pays_after_a_decline_gets_the_notice_and_one_confirmation_with_the_tickets() {
    let system = System::start().await;
    let organizer = system.sign_up("Olga").await;
    let event = system
        .create_event(&organizer, &[("General", 30.0, 100)])
        .await;
    let buyer = system.sign_up("Bruno").await;
    let email = buyer.get("/api/auth/me").await.json()["user"]["email"]
        .as_str()
        .unwrap()
        .to_string();
    let booking = book(&buyer, event, 2).await;
    let order_id = booking["orderId"].as_str().unwrap();
    for card in [DECLINED_CARD, APPROVED_CARD] {
        let res = buyer
            .post(
                "/api/payment/process",
                &card_body(order_id.parse().unwrap(), card),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let order = order_becomes(&buyer, order_id, "confirmed").await;

    eventually("the decline notice and the confirmation", || async {
        (system.smtp.received().len() >= 2).then_some(())
    })
    .await;
    // Anything sent twice would have arrived by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = system.smtp.received();
    let subjects: Vec<String> = mails
        .iter()
        .map(|r| {
            let m = MessageParser::default().parse(&r.data).unwrap();
            m.subject().unwrap().to_string()
        })
        .collect();
    assert_eq!(mails.len(), 2, "{subjects:?}");
    assert!(mails.iter().all(|r| r.to == [email.clone()]));
    assert!(subjects[0].starts_with("Payment declined"), "{subjects:?}");

    let confirmation = MessageParser::default().parse(&mails[1].data).unwrap();
    assert!(subjects[1].contains("Night of Tests"), "{subjects:?}");
    let text = confirmation.body_text(0).unwrap();
    for ticket in order["issuedTickets"].as_array().unwrap() {
        let code = ticket["code"].as_str().unwrap();
        assert!(
            text.contains(code),
            "the ticket {code} is in the mail: {text}"
        );
    }
    let images = confirmation
        .parts
        .iter()
        .filter(|p| p.content_type().is_some_and(|c| c.ctype() == "image"))
        .count();
    assert_eq!(images, 2, "one QR code per ticket");
    let ics = confirmation
        .attachments()
        .find(|p| p.attachment_name() == Some("event.ics"))
        .expect("a calendar file");
    assert!(
        std::str::from_utf8(ics.contents())
            .unwrap()
            .contains("SUMMARY:Night of Tests")
    );

    // The buyer finds both in their list, through the gateway.
    let listed = buyer.get("/api/notifications/mine").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let body = listed.json();
    let kinds: Vec<&str> = body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"order_confirmed") && kinds.contains(&"payment_declined"));
}
