//! Queue passes: what the waiting room hands a visitor once their place is admitted, and what
//! booking asks for while an event's queue is on. Signed with the ticket service's pass key
//! (Ed25519, like ticket codes), so any replica can check a pass without asking the others.
//!
//! Text form: `P1.<payload>.<signature>`, both base64url without padding; the payload is
//! `event id (16) | user id (16) | pass id (16) | expires at, Unix seconds (8, big-endian)`.
//! The signature covers a domain tag of its own followed by the payload, so neither a ticket
//! code nor anything else signed with the same key passes as a queue pass.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use uuid::Uuid;

/// What the first part of every pass says: format version 1.
pub const PREFIX: &str = "P1";
const DOMAIN: &[u8] = b"ticketing/queue-pass/v1\0";
const PAYLOAD_LEN: usize = 56;

/// What a pass asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassClaim {
    pub event_id: Uuid,
    pub user_id: Uuid,
    /// One booking per pass id: the booking records it as used.
    pub pass_id: Uuid,
    /// Unix seconds after which the pass is refused.
    pub expires_at: i64,
}

/// Why a text is not a valid pass for the booking at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassRefusal {
    /// Not `P1.<payload>.<signature>` with a well-formed payload.
    Malformed,
    /// Forged, or altered after signing.
    BadSignature,
    /// Genuine, but for another event or another visitor.
    NotYours,
    Expired,
}

/// The key passes are signed and checked with, made from 32 secret bytes that every replica of
/// the ticket service shares.
pub struct PassKey {
    key: SigningKey,
}

impl PassKey {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&secret),
        }
    }

    pub fn sign(&self, claim: &PassClaim) -> String {
        let payload = encode(claim);
        let signature = self.key.sign(&signed_bytes(&payload));
        crate::signed_text(PREFIX, &payload, &signature)
    }

    /// The claim of a genuine, unexpired pass of this visitor for this event.
    pub fn verify(
        &self,
        text: &str,
        event_id: Uuid,
        user_id: Uuid,
        now_secs: i64,
    ) -> Result<PassClaim, PassRefusal> {
        let (claim, payload, signature) = parts(text)?;
        let public: VerifyingKey = self.key.verifying_key();
        public
            .verify(&signed_bytes(&payload), &signature)
            .map_err(|_| PassRefusal::BadSignature)?;
        if claim.event_id != event_id || claim.user_id != user_id {
            return Err(PassRefusal::NotYours);
        }
        if claim.expires_at <= now_secs {
            return Err(PassRefusal::Expired);
        }
        Ok(claim)
    }
}

fn parts(text: &str) -> Result<(PassClaim, Vec<u8>, Signature), PassRefusal> {
    let (payload, signature) = crate::signed_parts(text, PREFIX).ok_or(PassRefusal::Malformed)?;
    let claim = decode(&payload).ok_or(PassRefusal::Malformed)?;
    Ok((claim, payload, signature))
}

fn signed_bytes(payload: &[u8]) -> Vec<u8> {
    [DOMAIN, payload].concat()
}

fn encode(c: &PassClaim) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAYLOAD_LEN);
    out.extend_from_slice(c.event_id.as_bytes());
    out.extend_from_slice(c.user_id.as_bytes());
    out.extend_from_slice(c.pass_id.as_bytes());
    out.extend_from_slice(&c.expires_at.to_be_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<PassClaim> {
    if bytes.len() != PAYLOAD_LEN {
        return None;
    }
    let uuid = |at: usize| Uuid::from_slice(&bytes[at..at + 16]).ok();
    Some(PassClaim {
        event_id: uuid(0)?,
        user_id: uuid(16)?,
        pass_id: uuid(32)?,
        expires_at: i64::from_be_bytes(bytes[48..56].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const EVENT: Uuid = Uuid::from_u128(0xe1);
    const USER: Uuid = Uuid::from_u128(0xa1);

    fn claim() -> PassClaim {
        PassClaim {
            event_id: EVENT,
            user_id: USER,
            pass_id: Uuid::from_u128(0x9a55),
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_signed_pass_is_accepted_for_its_visitor_and_event_until_it_expires() {
        let key = PassKey::from_secret([7; 32]);
        let pass = key.sign(&claim());
        assert!(pass.starts_with("P1."), "{pass}");
        assert_eq!(key.verify(&pass, EVENT, USER, 999), Ok(claim()));
        assert_eq!(
            key.verify(&pass, EVENT, USER, 1_000),
            Err(PassRefusal::Expired)
        );
        let other = Uuid::from_u128(0xb2);
        assert_eq!(
            key.verify(&pass, other, USER, 0),
            Err(PassRefusal::NotYours)
        );
        assert_eq!(
            key.verify(&pass, EVENT, other, 0),
            Err(PassRefusal::NotYours)
        );
    }

    #[test]
    fn a_pass_of_another_key_or_altered_or_garbled_is_refused() {
        let key = PassKey::from_secret([7; 32]);
        let foreign = PassKey::from_secret([8; 32]).sign(&claim());
        assert_eq!(
            key.verify(&foreign, EVENT, USER, 0),
            Err(PassRefusal::BadSignature)
        );

        let pass = key.sign(&claim());
        let (head, sig) = pass.rsplit_once('.').unwrap();
        let mut longer = claim();
        longer.expires_at = 9_999;
        let payload = URL_SAFE_NO_PAD.encode(encode(&longer));
        let altered = format!("{PREFIX}.{payload}.{sig}");
        assert_eq!(
            key.verify(&altered, EVENT, USER, 0),
            Err(PassRefusal::BadSignature)
        );
        for garbled in [
            "",
            "P1",
            "P1.x.y",
            &format!("T1.{}", &head[3..]),
            &format!("{pass}.x"),
        ] {
            assert_eq!(
                key.verify(garbled, EVENT, USER, 0),
                Err(PassRefusal::Malformed),
                "{garbled}"
            );
        }
    }

    #[test]
    fn a_ticket_code_signed_with_the_same_secret_is_not_a_pass() {
        let ticket = crate::EventKey::from_secret(1, [7; 32]).sign(EVENT, "ABCDE", "GA");
        let as_pass = ticket.replacen("T1", PREFIX, 1);
        assert_ne!(
            PassKey::from_secret([7; 32]).verify(&as_pass, EVENT, USER, 0),
            Ok(claim())
        );
    }
}
