//! The simulated payment gateway. Ordinary payments are approved with the configured probability
//! (the seed's 90 %); the documented test cards and PayPal test accounts always get the same
//! answer, so tests and demos are deterministic:
//!
//! | instrument | answer |
//! |---|---|
//! | card `4242 4242 4242 4242`, `5555 5555 5555 4444` | approved |
//! | card `4000 0000 0000 0002` | declined, `card_declined` |
//! | card `4000 0000 0000 9995` | declined, `insufficient_funds` |
//! | PayPal `anything@approve.test` | approved |
//! | PayPal `anything@decline.test` | declined, `paypal_declined` |
//!
//! Refunds always succeed.

use rand::Rng;
use uuid::Uuid;

use crate::card::TestCard;
use crate::domain::GatewayResponse;
use crate::input::Instrument;

/// The gateway's decision on a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub approved: bool,
    pub response: GatewayResponse,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Decision {
    Approve,
    Decline(&'static str, &'static str),
    Random,
}

#[derive(Debug, Clone)]
pub struct Gateway {
    success_rate: f64,
}

impl Gateway {
    /// `success_rate` is clamped to 0..=1.
    pub fn new(success_rate: f64) -> Self {
        Self {
            success_rate: if success_rate.is_nan() {
                0.0
            } else {
                success_rate.clamp(0.0, 1.0)
            },
        }
    }

    fn decision(instrument: &Instrument) -> Decision {
        match instrument {
            Instrument::Card { number, .. } => match number.test_card() {
                Some(TestCard::AlwaysApproved) => Decision::Approve,
                Some(TestCard::AlwaysDeclined) => {
                    Decision::Decline("card_declined", "Your card was declined.")
                }
                Some(TestCard::InsufficientFunds) => {
                    Decision::Decline("insufficient_funds", "Your card has insufficient funds.")
                }
                None => Decision::Random,
            },
            Instrument::Paypal { email } if email.ends_with("@approve.test") => Decision::Approve,
            Instrument::Paypal { email } if email.ends_with("@decline.test") => {
                Decision::Decline("paypal_declined", "PayPal declined the payment.")
            }
            Instrument::Paypal { .. } => Decision::Random,
        }
    }

    /// Asks the (simulated) gateway to take the money.
    pub fn charge(&self, instrument: &Instrument) -> Charge {
        const APPROVED: (bool, &str, &str) = (true, "approved", "Payment approved.");
        let (approved, code, message) = match Self::decision(instrument) {
            Decision::Approve => APPROVED,
            Decision::Decline(code, message) => (false, code, message),
            Decision::Random if rand::rng().random_bool(self.success_rate) => APPROVED,
            Decision::Random => match instrument {
                Instrument::Paypal { .. } => {
                    (false, "paypal_declined", "PayPal declined the payment.")
                }
                Instrument::Card { .. } => (false, "card_declined", "Your card was declined."),
            },
        };
        Charge {
            approved,
            response: GatewayResponse {
                // Declined attempts get an id too, as real gateways give one.
                transaction_id: format!("txn_{}", Uuid::new_v4().simple()),
                response_code: code.into(),
                response_message: message.into(),
            },
        }
    }
}

/// Returns a payment's money (simulated: always succeeds at once) and gives the refund's id.
pub fn refund() -> String {
    format!("re_{}", Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{CardNumber, Expiry};

    fn card(number: &str) -> Instrument {
        Instrument::Card {
            number: CardNumber::parse(number).unwrap(),
            expiry: Expiry {
                month: 12,
                year: 2099,
            },
            holder: "Ada".into(),
        }
    }

    #[test]
    fn test_cards_get_the_same_answer_whatever_the_success_rate() {
        for rate in [0.0, 0.5, 1.0] {
            let g = Gateway::new(rate);
            for _ in 0..20 {
                assert!(g.charge(&card("4242424242424242")).approved);
                let declined = g.charge(&card("4000000000000002"));
                assert!(!declined.approved);
                assert_eq!(declined.response.response_code, "card_declined");
                assert_eq!(
                    g.charge(&card("4000000000009995")).response.response_code,
                    "insufficient_funds"
                );
            }
        }
    }

    #[test]
    fn ordinary_payments_follow_the_success_rate() {
        let always = Gateway::new(1.0);
        let never = Gateway::new(0.0);
        let paypal = Instrument::Paypal {
            email: "ada@example.com".into(),
        };
        for _ in 0..20 {
            assert!(always.charge(&card("4111111111111111")).approved);
            assert!(!never.charge(&card("4111111111111111")).approved);
            assert!(always.charge(&paypal).approved);
            assert!(!never.charge(&paypal).approved);
        }
        let approve = Instrument::Paypal {
            email: "ada@approve.test".into(),
        };
        assert!(never.charge(&approve).approved);
    }
}
