//! Signed ticket codes. A ticket's QR code carries its code, its event and its ticket type,
//! signed with the event's Ed25519 key, so a scanner holding the event's public key can tell a
//! genuine ticket from a forged or altered one without asking the server.
//!
//! Text form: `T1.<payload>.<signature>`, both parts base64url without padding. The payload is
//! binary and length-prefixed (about 50 bytes for a typical ticket, so the whole code stays near
//! 160 characters and fits a small QR code):
//!
//! ```text
//! key version (1) | event id (16) | code length (1) | code | ticket type length (1) | ticket type
//! ```
//!
//! The signature covers a domain tag followed by the payload, so a signature made for anything
//! else with the same key can never pass as a ticket. Each event has its own key pair; the key
//! version names which of the event's keys signed, so a rotated-in key leaves codes signed by
//! the older one valid for as long as the scanner still lists it.
//!
//! The ticket's plain code (`ABCDE-FGHJK-MNPQR-STUVW`) stays what a person types at the door; the
//! signed form is what cameras read.

pub mod pass;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use uuid::Uuid;

/// What the first part of every signed code says: format version 1.
pub const PREFIX: &str = "T1";
/// Signed before the payload: signatures are bound to this use.
const DOMAIN: &[u8] = b"ticketing/ticket-code/v1\0";
/// Longest plain code or ticket type name a payload can hold (one length byte each).
pub const MAX_FIELD_BYTES: usize = 255;

/// What a signed code asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClaim {
    pub key_version: u8,
    pub event_id: Uuid,
    pub code: String,
    pub ticket_type: String,
}

/// Why a text is not a genuine signed code. Scanners show all of these as `invalid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not `T1.<payload>.<signature>` with valid base64url and a well-formed payload.
    Malformed,
    /// The key version is not one the verifier knows for this event.
    UnknownKey,
    /// The signature does not match: forged, or altered after signing.
    BadSignature,
}

/// An event's key pair, made from 32 secret bytes (the ticket service draws them at random and
/// keeps them in its store).
pub struct EventKey {
    version: u8,
    key: SigningKey,
}

impl EventKey {
    pub fn from_secret(version: u8, secret: [u8; 32]) -> Self {
        Self {
            version,
            key: SigningKey::from_bytes(&secret),
        }
    }

    pub fn version(&self) -> u8 {
        self.version
    }

    /// The public half, as scanners receive it: 32 bytes in base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }

    /// The signed code of one ticket. Ed25519 is deterministic: the same ticket always gets
    /// the same code, so it can be computed whenever a ticket is shown instead of stored.
    ///
    /// Panics if the plain code or the ticket type is longer than [`MAX_FIELD_BYTES`]; the
    /// ticket service makes 23-character codes and limits ticket type names far below that.
    pub fn sign(&self, event_id: Uuid, code: &str, ticket_type: &str) -> String {
        let payload = encode_payload(self.version, event_id, code, ticket_type);
        let signature = self.key.sign(&signed_bytes(&payload));
        signed_text(PREFIX, &payload, &signature)
    }
}

/// A public key as the bundle carries it (base64url of 32 bytes), ready to verify with.
pub fn public_key(encoded: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(encoded).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Whether a scanned text looks like a signed code at all (rather than a typed plain code).
pub fn is_signed(text: &str) -> bool {
    text.starts_with("T1.")
}

/// Reads a signed code without checking its signature: which event and key it names. A scanner
/// uses this to pick the key; nothing it says is to be trusted before [`verify`].
pub fn read(text: &str) -> Result<TicketClaim, Invalid> {
    parts(text).map(|(claim, _, _)| claim)
}

/// Checks a signed code against the event's public keys (`key_of(version)`), returning what it
/// asserts when genuine. The caller still checks that the claimed event is the one at the door.
pub fn verify(
    text: &str,
    key_of: impl Fn(u8) -> Option<VerifyingKey>,
) -> Result<TicketClaim, Invalid> {
    let (claim, payload, signature) = parts(text)?;
    let key = key_of(claim.key_version).ok_or(Invalid::UnknownKey)?;
    key.verify(&signed_bytes(&payload), &signature)
        .map_err(|_| Invalid::BadSignature)?;
    Ok(claim)
}

fn parts(text: &str) -> Result<(TicketClaim, Vec<u8>, Signature), Invalid> {
    let (payload, signature) = signed_parts(text, PREFIX).ok_or(Invalid::Malformed)?;
    let claim = decode_payload(&payload).ok_or(Invalid::Malformed)?;
    Ok((claim, payload, signature))
}

/// `<prefix>.<payload>.<signature>`, the text form of everything this crate signs.
fn signed_text(prefix: &str, payload: &[u8], signature: &Signature) -> String {
    format!(
        "{prefix}.{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// The payload and signature of a text of the form [`signed_text`] writes with `prefix`.
fn signed_parts(text: &str, prefix: &str) -> Option<(Vec<u8>, Signature)> {
    let mut split = text.trim().split('.');
    let (Some(p), Some(payload), Some(signature), None) =
        (split.next(), split.next(), split.next(), split.next())
    else {
        return None;
    };
    if p != prefix {
        return None;
    }
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
    Some((payload, Signature::from_bytes(&signature)))
}

fn signed_bytes(payload: &[u8]) -> Vec<u8> {
    [DOMAIN, payload].concat()
}

fn encode_payload(version: u8, event_id: Uuid, code: &str, ticket_type: &str) -> Vec<u8> {
    let field = |s: &str| -> u8 {
        u8::try_from(s.len())
            .unwrap_or_else(|_| panic!("a ticket code field is at most {MAX_FIELD_BYTES} bytes"))
    };
    let mut out = Vec::with_capacity(19 + code.len() + ticket_type.len());
    out.push(version);
    out.extend_from_slice(event_id.as_bytes());
    out.push(field(code));
    out.extend_from_slice(code.as_bytes());
    out.push(field(ticket_type));
    out.extend_from_slice(ticket_type.as_bytes());
    out
}

fn decode_payload(bytes: &[u8]) -> Option<TicketClaim> {
    let (&key_version, rest) = bytes.split_first()?;
    let (event_id, rest) = rest.split_at_checked(16)?;
    let (code, rest) = length_prefixed(rest)?;
    let (ticket_type, rest) = length_prefixed(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some(TicketClaim {
        key_version,
        event_id: Uuid::from_slice(event_id).ok()?,
        code,
        ticket_type,
    })
}

fn length_prefixed(bytes: &[u8]) -> Option<(String, &[u8])> {
    let (&len, rest) = bytes.split_first()?;
    let (field, rest) = rest.split_at_checked(len as usize)?;
    Some((String::from_utf8(field.to_vec()).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: Uuid = Uuid::from_u128(0x7e57);

    fn key(version: u8, seed: u8) -> EventKey {
        EventKey::from_secret(version, [seed; 32])
    }

    fn keys(list: &[&EventKey]) -> impl Fn(u8) -> Option<VerifyingKey> {
        let list: Vec<(u8, VerifyingKey)> = list
            .iter()
            .map(|k| (k.version(), public_key(&k.public_key()).unwrap()))
            .collect();
        move |v| list.iter().find(|(kv, _)| *kv == v).map(|(_, k)| *k)
    }

    #[test]
    fn a_signed_code_verifies_and_says_what_was_signed() {
        let k = key(1, 7);
        let signed = k.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "VIP Lounge");
        assert!(is_signed(&signed));
        let claim = verify(&signed, keys(&[&k])).unwrap();
        assert_eq!(
            claim,
            TicketClaim {
                key_version: 1,
                event_id: EVENT,
                code: "ABCDE-FGHJK-MNPQR-STUVW".into(),
                ticket_type: "VIP Lounge".into(),
            }
        );
        assert_eq!(read(&signed).unwrap(), claim);
    }

    #[test]
    fn signing_the_same_ticket_twice_gives_the_same_code() {
        let k = key(1, 7);
        assert_eq!(
            k.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General"),
            k.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General")
        );
    }

    #[test]
    fn a_typical_signed_code_stays_short_enough_for_a_small_qr_code() {
        let signed = key(1, 7).sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General Admission");
        assert!(signed.len() < 200, "{} characters", signed.len());
    }

    #[test]
    fn a_code_signed_with_another_key_is_refused() {
        let forged = key(1, 9).sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General");
        assert_eq!(
            verify(&forged, keys(&[&key(1, 7)])),
            Err(Invalid::BadSignature)
        );
    }

    #[test]
    fn an_altered_payload_is_refused() {
        let k = key(1, 7);
        let signed = k.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General");
        let (_, rest) = signed.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        // Same signature, upgraded ticket type.
        let payload = encode_payload(1, EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "VIP");
        let altered = format!("T1.{}.{signature}", URL_SAFE_NO_PAD.encode(payload));
        assert_eq!(verify(&altered, keys(&[&k])), Err(Invalid::BadSignature));
    }

    #[test]
    fn a_code_of_a_retired_key_is_refused_and_a_listed_older_key_still_works() {
        let old = key(1, 7);
        let new = key(2, 8);
        let signed = old.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General");
        assert!(verify(&signed, keys(&[&old, &new])).is_ok());
        assert_eq!(verify(&signed, keys(&[&new])), Err(Invalid::UnknownKey));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let k = key(1, 7);
        let good = k.sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General");
        for text in [
            "",
            "T1",
            "T1..",
            "T1.AAAA.BBBB",
            "T2.x.y",
            "ABCDE-FGHJK-MNPQR-STUVW",
            &format!("{good}.extra"),
            &good[..good.len() - 3],
            "T1.!!!.???",
        ] {
            assert!(
                matches!(verify(text, keys(&[&k])), Err(Invalid::Malformed)),
                "{text:?}"
            );
        }
        // A payload whose length prefixes run past its end.
        let short = format!(
            "T1.{}.{}",
            URL_SAFE_NO_PAD.encode([1u8; 20]),
            "A".repeat(86)
        );
        assert_eq!(read(&short), Err(Invalid::Malformed));
    }
}
