//! The body of `POST /api/payment/process`, checked at the edge and turned into a
//! [`PaymentRequest`] that holds no full card number and no CVC.
//!
//! Every field is read as loose JSON first, so a value of the wrong type becomes a field error
//! with our message instead of a serde message (which would quote the value, card number
//! included, back to the client and into logs).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use validator::{Validate, ValidateEmail, ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::card::{CardNumber, Expiry, ExpiryError, check_cvc};
use crate::domain::{PaymentDetails, PaymentMethod};

/// The raw body. Deliberately without `Debug`: it holds the card number and CVC. Read from any
/// JSON value, so even a body that is not an object (a bare card number, say) is answered by our
/// own message rather than a serde message quoting it.
#[derive(Deserialize, Default)]
#[serde(from = "Value")]
pub struct ProcessBody {
    order_id: Option<Value>,
    payment_method: Option<Value>,
    payment_details: Option<Value>,
    not_an_object: bool,
}

impl From<Value> for ProcessBody {
    fn from(value: Value) -> Self {
        match value {
            Value::Object(mut fields) => {
                let mut take = |name: &str| fields.remove(name).filter(|v| !v.is_null());
                ProcessBody {
                    order_id: take("orderId"),
                    payment_method: take("paymentMethod"),
                    payment_details: take("paymentDetails"),
                    not_an_object: false,
                }
            }
            _ => ProcessBody {
                not_an_object: true,
                ..ProcessBody::default()
            },
        }
    }
}

/// A checked payment request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub order_id: Uuid,
    pub method: PaymentMethod,
    pub instrument: Instrument,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instrument {
    Card {
        number: CardNumber,
        expiry: Expiry,
        holder: String,
    },
    Paypal {
        email: String,
    },
}

impl Instrument {
    /// What the payment record keeps.
    pub fn details(&self) -> PaymentDetails {
        match self {
            Instrument::Card { number, .. } => PaymentDetails::Card {
                last4: number.last4().to_string(),
                brand: number.brand(),
            },
            Instrument::Paypal { email } => PaymentDetails::Paypal {
                email: email.clone(),
            },
        }
    }
}

impl PaymentRequest {
    /// Identifies the request for `Idempotency-Key` comparisons: a SHA-256 over the order, the
    /// method and the card's *storable* data (brand, last 4, expiry, holder) or the PayPal email.
    /// The full number and the CVC are left out on purpose: a plain hash over them could be
    /// brute-forced back into the card number from the stored last 4 digits.
    pub fn fingerprint(&self) -> String {
        let instrument = match &self.instrument {
            Instrument::Card {
                number,
                expiry,
                holder,
            } => serde_json::json!({
                "brand": number.brand().as_str(),
                "last4": number.last4(),
                "expiry": format!("{:02}/{}", expiry.month, expiry.year),
                "holder": holder,
            }),
            Instrument::Paypal { email } => serde_json::json!({ "email": email }),
        };
        let canonical = serde_json::json!([
            "v1",
            self.order_id.to_string(),
            self.method.as_str(),
            instrument
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn invalid(message: impl Into<Cow<'static, str>>) -> ValidationError {
    ValidationError::new("invalid").with_message(message.into())
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim)
}

/// A whole number given as a JSON number or a numeric string (`"07"`).
fn whole(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A required whole number that fits `T`: `missing` when the field is absent, `wrong` when it is
/// not a whole number or does not fit.
fn whole_within<T: TryFrom<i64>>(
    value: Option<&Value>,
    missing: &'static str,
    wrong: &'static str,
) -> Result<T, &'static str> {
    let n = value.ok_or(missing)?;
    whole(n).and_then(|n| T::try_from(n).ok()).ok_or(wrong)
}

/// The first present field of `names` (the seed's clients spell some fields differently).
fn field<'a>(details: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| details.get(*n))
        .filter(|v| !v.is_null())
}

impl ProcessBody {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<PaymentRequest, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.not_an_object {
            errors.add(
                "body",
                invalid("Send a JSON object with orderId, paymentMethod and paymentDetails."),
            );
            return Err(errors);
        }

        let order_id = match self.order_id.as_ref().and_then(text) {
            None | Some("") => {
                errors.add("order_id", invalid("Enter the order to pay."));
                None
            }
            Some(raw) => match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add("order_id", invalid("This is not an order id."));
                    None
                }
            },
        };

        let method = match self.payment_method.as_ref().and_then(text) {
            None | Some("") => {
                errors.add(
                    "payment_method",
                    invalid("Choose a payment method: credit_card, debit_card or paypal."),
                );
                None
            }
            Some(raw) => match PaymentMethod::parse(raw) {
                Some(m) => Some(m),
                None => {
                    errors.add(
                        "payment_method",
                        invalid("Unknown payment method; use credit_card, debit_card or paypal."),
                    );
                    None
                }
            },
        };

        let instrument = match (method, self.payment_details.as_ref()) {
            (_, None) => {
                errors.add("payment_details", invalid("Enter the payment details."));
                None
            }
            (_, Some(v)) if !v.is_object() => {
                errors.add(
                    "payment_details",
                    invalid("The payment details must be an object."),
                );
                None
            }
            // Without a valid method there is no telling which details are needed.
            (None, Some(_)) => None,
            (Some(method), Some(v)) => {
                let empty = Map::new();
                let details = v.as_object().unwrap_or(&empty);
                match parse_instrument(method, details, now) {
                    Ok(i) => Some(i),
                    Err(nested) => {
                        errors.0.insert(
                            Cow::Borrowed("payment_details"),
                            ValidationErrorsKind::Struct(Box::new(nested)),
                        );
                        None
                    }
                }
            }
        };

        match (order_id, method, instrument) {
            (Some(order_id), Some(method), Some(instrument)) if errors.is_empty() => {
                Ok(PaymentRequest {
                    order_id,
                    method,
                    instrument,
                })
            }
            _ => Err(errors),
        }
    }
}

fn parse_instrument(
    method: PaymentMethod,
    details: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Instrument, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if !method.is_card() {
        let email = field(details, &["email", "paypalEmail"])
            .and_then(text)
            .unwrap_or("")
            .to_lowercase();
        if email.is_empty() {
            errors.add("email", invalid("Enter the email of your PayPal account."));
        } else if email.len() > 254 || !email.validate_email() {
            errors.add("email", invalid("Enter a valid email address."));
        }
        return if errors.is_empty() {
            Ok(Instrument::Paypal { email })
        } else {
            Err(errors)
        };
    }

    let number = match field(details, &["cardNumber", "number"]) {
        None => Err("Enter the card number."),
        Some(Value::String(s)) => CardNumber::parse(s),
        Some(_) => Err("Send the card number as a string."),
    };
    let number = number
        .map_err(|m| errors.add("card_number", invalid(m)))
        .ok();

    let month: Option<u32> = whole_within(
        field(details, &["expiryMonth", "expMonth"]),
        "Enter the expiry month.",
        "The expiry month is 1 to 12.",
    )
    .map_err(|m| errors.add("expiry_month", invalid(m)))
    .ok();
    let year: Option<i32> = whole_within(
        field(details, &["expiryYear", "expYear"]),
        "Enter the expiry year.",
        "Enter the expiry year, e.g. 2029.",
    )
    .map_err(|m| errors.add("expiry_year", invalid(m)))
    .ok();
    let expiry = match (month, year) {
        (Some(m), Some(y)) => match Expiry::parse(m, y, now) {
            Ok(e) => Some(e),
            Err(ExpiryError::Month(msg)) => {
                errors.add("expiry_month", invalid(msg));
                None
            }
            Err(ExpiryError::Year(msg)) => {
                errors.add("expiry_year", invalid(msg));
                None
            }
        },
        _ => None,
    };

    let cvc = match field(details, &["cvc", "cvv"]) {
        None => Err("Enter the security code (CVC)."),
        Some(Value::String(s)) => check_cvc(s),
        Some(_) => Err("Send the security code (CVC) as a string."),
    };
    if let Err(m) = cvc {
        errors.add("cvc", invalid(m));
    }

    let holder = field(details, &["cardholderName", "cardHolderName", "nameOnCard"])
        .and_then(text)
        .unwrap_or("")
        .to_string();
    match holder.chars().count() {
        0 => errors.add("cardholder_name", invalid("Enter the name on the card.")),
        1..=100 => {}
        _ => errors.add(
            "cardholder_name",
            invalid("The name on the card is at most 100 characters."),
        ),
    }

    match (number, expiry) {
        (Some(number), Some(expiry)) if errors.is_empty() => Ok(Instrument::Card {
            number,
            expiry,
            holder,
        }),
        _ => Err(errors),
    }
}

/// Lets `ValidatedJson` answer 422 with every field error at once; the handler parses again to
/// get the typed request (cheap, and keeps the raw body out of any long-lived value).
impl Validate for ProcessBody {
    fn validate(&self) -> Result<(), ValidationErrors> {
        self.parse(Utc::now()).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<PaymentRequest, platform::FieldErrors> {
        let body: ProcessBody = serde_json::from_value(body).unwrap();
        body.parse(Utc::now())
            .map_err(|e| platform::extract::field_errors(&e))
    }

    fn card(number: &str) -> Value {
        json!({
            "orderId": Uuid::nil().to_string(),
            "paymentMethod": "credit_card",
            "paymentDetails": {
                "cardNumber": number, "expiryMonth": 12, "expiryYear": 2099 - 60,
                "cvc": "123", "cardholderName": "Ada Lovelace"
            }
        })
    }

    #[test]
    fn a_valid_card_payment_keeps_only_last4_and_brand() {
        let req = parse(card("4242 4242 4242 4242")).unwrap();
        assert_eq!(req.method, PaymentMethod::CreditCard);
        let PaymentDetails::Card { last4, brand } = req.instrument.details() else {
            panic!("not a card");
        };
        assert_eq!(last4, "4242");
        assert_eq!(brand.as_str(), "visa");
        assert!(!format!("{req:?}").contains("4242424242424242"));
    }

    #[test]
    fn each_invalid_card_field_is_named() {
        let errors = parse(json!({
            "orderId": "nope",
            "paymentMethod": "debit_card",
            "paymentDetails": {"cardNumber": "4242424242424241", "expiryMonth": 13, "expiryYear": 2030, "cvc": "12"}
        }))
        .unwrap_err();
        for f in [
            "orderId",
            "paymentDetails.cardNumber",
            "paymentDetails.expiryMonth",
            "paymentDetails.cvc",
            "paymentDetails.cardholderName",
        ] {
            assert!(errors.contains_key(f), "{f} missing in {errors:?}");
        }
    }

    #[test]
    fn an_unknown_method_and_a_paypal_payment_without_email_are_refused() {
        let errors =
            parse(json!({"orderId": Uuid::nil(), "paymentMethod": "cash", "paymentDetails": {}}))
                .unwrap_err();
        assert!(errors.contains_key("paymentMethod"), "{errors:?}");
        let errors =
            parse(json!({"orderId": Uuid::nil(), "paymentMethod": "paypal", "paymentDetails": {}}))
                .unwrap_err();
        assert!(errors.contains_key("paymentDetails.email"), "{errors:?}");
        let ok = parse(json!({"orderId": Uuid::nil(), "paymentMethod": "paypal", "paymentDetails": {"email": " Ada@Example.com "}}))
            .unwrap();
        assert_eq!(
            ok.instrument,
            Instrument::Paypal {
                email: "ada@example.com".into()
            }
        );
    }

    #[test]
    fn a_card_number_of_the_wrong_type_is_not_echoed_back() {
        let errors = parse(json!({
            "orderId": Uuid::nil(), "paymentMethod": "credit_card",
            "paymentDetails": {"cardNumber": 4242424242424242u64, "expiryMonth": "12", "expiryYear": "39", "cvc": "123", "cardholderName": "A"}
        }))
        .unwrap_err();
        let text = format!("{errors:?}");
        assert!(!text.contains("4242424242424242"), "{text}");
        assert!(errors.contains_key("paymentDetails.cardNumber"));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_without_quoting_it() {
        let errors = parse(json!(4242424242424242u64)).unwrap_err();
        assert!(errors.contains_key("body"), "{errors:?}");
        assert!(!format!("{errors:?}").contains("4242"));
    }

    #[test]
    fn the_fingerprint_changes_with_the_card_but_not_with_spacing() {
        let a = parse(card("4242 4242 4242 4242")).unwrap().fingerprint();
        let b = parse(card("4242424242424242")).unwrap().fingerprint();
        let c = parse(card("4000 0000 0000 0002")).unwrap().fingerprint();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
