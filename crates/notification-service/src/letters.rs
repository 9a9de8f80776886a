//! A [`Mail`] written out as a MIME message: the kind's templates (plain text and HTML
//! alternatives), the QR code of each ticket as an inline image the HTML refers to by
//! `cid:`, and for a confirmation the event's `.ics`. No card data ever reaches a letter: the
//! facts it is built from carry none.

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use contracts::catalog::Price;
use contracts::orders::OrderLine;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{EventRecord, Mail, MailKey};
use crate::{calendar, qr, templates};

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Qr(#[from] qr::QrError),
    #[error("message: {0}")]
    Message(String),
}

#[derive(Serialize)]
struct TicketContext<'a> {
    #[serde(rename = "ticketType")]
    ticket_type: &'a str,
    code: &'a str,
    /// What the QR code carries: the signed code when the ticket has one.
    #[serde(skip)]
    qr: &'a str,
    /// The inline image's Content-ID.
    cid: String,
}

/// What the templates see.
#[derive(Serialize)]
struct Context<'a> {
    name: &'a str,
    first_name: &'a str,
    event: Option<&'a EventRecord>,
    previous: Option<&'a EventRecord>,
    booking_references: &'a [String],
    lines: &'a [OrderLine],
    total: Option<&'a Price>,
    tickets: Vec<TicketContext<'a>>,
    expires_at: Option<DateTime<Utc>>,
    cancel_reason: Option<&'static str>,
    amount: Option<&'a Price>,
    decline_message: Option<&'a str>,
    event_title: Option<&'a str>,
    ticket_type: Option<&'a str>,
    quantity: Option<u32>,
    offer_withdrawn: bool,
}

/// The same id for every send of the same mail, so a mail client shows a repeat (after a crash
/// between sending and recording it) as one message.
pub fn message_id(key: &MailKey) -> String {
    let digest = Sha256::digest(format!("{}\n{}", key.fact_id, key.recipient));
    format!("<{}@ticketing>", hex::encode(&digest[..16]))
}

/// The subject and the complete message of `mail`, from `from`.
pub fn compose(
    mail: &Mail,
    from: &Mailbox,
    now: DateTime<Utc>,
) -> Result<(String, Message), ComposeError> {
    let l = &mail.letter;
    let context = Context {
        name: &l.name,
        first_name: &l.first_name,
        event: l.event.as_ref(),
        previous: l.previous.as_ref(),
        booking_references: &l.booking_references,
        lines: &l.lines,
        total: l.total.as_ref(),
        tickets: l
            .tickets
            .iter()
            .enumerate()
            .map(|(i, t)| TicketContext {
                ticket_type: &t.ticket_type,
                code: &t.code,
                qr: t.qr_payload(),
                cid: format!("ticket-{}@ticketing", i + 1),
            })
            .collect(),
        expires_at: l.expires_at,
        cancel_reason: l.cancel_reason.map(|r| r.as_str()),
        amount: l.amount.as_ref(),
        decline_message: l.decline_message.as_deref(),
        event_title: l.event_title.as_deref(),
        ticket_type: l.ticket_type.as_deref(),
        quantity: l.quantity,
        offer_withdrawn: l.offer_withdrawn,
    };
    let texts = templates::render(mail.kind, &context)?;

    let mut related = MultiPart::related().multipart(MultiPart::alternative_plain_html(
        texts.text.clone(),
        texts.html.clone(),
    ));
    for t in &context.tickets {
        related = related
            .singlepart(Attachment::new_inline(t.cid.clone()).body(qr::png(t.qr)?, png_type()));
    }
    let mut body = MultiPart::mixed().multipart(related);
    if let (NotificationKind::OrderConfirmed, Some(event), Some(order_id)) =
        (mail.kind, &l.event, l.order_id)
    {
        let reference = l.booking_references.first().map_or("", String::as_str);
        body = body.singlepart(calendar_part(calendar::ics(
            event, order_id, reference, now,
        )));
    }

    let to = Mailbox::new(
        Some(l.name.clone()).filter(|n| !n.trim().is_empty()),
        mail.key
            .recipient
            .parse()
            .map_err(|e| ComposeError::Message(format!("recipient: {e}")))?,
    );
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(texts.subject.clone())
        .message_id(Some(message_id(&mail.key)))
        .date(now.into())
        .multipart(body)
        .map_err(|e| ComposeError::Message(e.to_string()))?;
    Ok((texts.subject, message))
}

fn png_type() -> ContentType {
    ContentType::parse("image/png").expect("a valid content type")
}

fn calendar_part(ics: String) -> SinglePart {
    Attachment::new("event.ics".into()).body(
        ics,
        ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
            .expect("a valid content type"),
    )
}

#[cfg(test)]
mod tests {
    use contracts::orders::OrderTicket;
    use mail_parser::{MessageParser, MimeHeaders};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{Letter, MailState};

    #[test]
    fn a_signed_ticket_shows_its_code_and_carries_the_signed_code_in_its_qr_code() {
        let mail = Mail {
            key: MailKey {
                fact_id: "f".into(),
                recipient: "ada@example.com".into(),
            },
            user_id: Uuid::nil(),
            kind: NotificationKind::OrderConfirmed,
            letter: Letter {
                name: "Ada Lovelace".into(),
                first_name: "Ada".into(),
                booking_references: vec!["TK-1".into()],
                tickets: vec![OrderTicket {
                    ticket_type: "General".into(),
                    code: "KQ7MX-4PN2R".into(),
                    signed_code: Some("v1.KQ7MX-4PN2R.signature".into()),
                }],
                ..Letter::default()
            },
            state: MailState::Pending,
            created_at: Utc::now(),
        };
        let from: Mailbox = "Ticketing <t@ticketing.test>".parse().unwrap();
        let (_, message) = compose(&mail, &from, Utc::now()).unwrap();
        let raw = message.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert!(parsed.body_text(0).unwrap().contains("KQ7MX-4PN2R"));
        let image = parsed
            .parts
            .iter()
            .find(|p| p.content_type().is_some_and(|c| c.ctype() == "image"))
            .expect("the QR code");
        assert_eq!(
            image.contents(),
            qr::png("v1.KQ7MX-4PN2R.signature").unwrap()
        );
        assert_ne!(image.contents(), qr::png("KQ7MX-4PN2R").unwrap());
    }
}
