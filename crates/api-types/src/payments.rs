//! Payments as the payment service shows them (the seed's payment document in camelCase, money as
//! an exact JSON number plus its integer minor units), and the body that asks for one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::orders::{CancelReason, OrderStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    CreditCard,
    DebitCard,
    Paypal,
}

crate::named_values!(PaymentMethod {
    CreditCard => "credit_card",
    DebitCard => "debit_card",
    Paypal => "paypal",
});

impl PaymentMethod {
    /// Paid with card details (`paymentDetails` is a [`CardInput`]).
    pub fn is_card(self) -> bool {
        matches!(self, PaymentMethod::CreditCard | PaymentMethod::DebitCard)
    }
}

/// `pending -> processing -> completed | failed`, and `completed -> refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Recorded; the gateway has not been asked yet.
    Pending,
    /// The gateway is being asked.
    Processing,
    Completed,
    Failed,
    /// A completed payment whose money went back (its order was cancelled).
    Refunded,
}

crate::named_values!(PaymentStatus {
    Pending => "pending",
    Processing => "processing",
    Completed => "completed",
    Failed => "failed",
    Refunded => "refunded",
});

/// Card schemes recognised from the leading digits (the IIN ranges the schemes publish).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    #[serde(rename = "diners")]
    DinersClub,
    Jcb,
    UnionPay,
    Unknown,
}

impl CardBrand {
    pub const ALL: [CardBrand; 8] = [
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Discover,
        CardBrand::DinersClub,
        CardBrand::Jcb,
        CardBrand::UnionPay,
        CardBrand::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
            CardBrand::DinersClub => "diners",
            CardBrand::Jcb => "jcb",
            CardBrand::UnionPay => "unionpay",
            CardBrand::Unknown => "unknown",
        }
    }

    /// A scheme this code does not know is `unknown`, not an error.
    pub fn parse(s: &str) -> CardBrand {
        match s {
            "visa" => CardBrand::Visa,
            "mastercard" => CardBrand::Mastercard,
            "amex" => CardBrand::Amex,
            "discover" => CardBrand::Discover,
            "diners" => CardBrand::DinersClub,
            "jcb" => CardBrand::Jcb,
            "unionpay" => CardBrand::UnionPay,
            _ => CardBrand::Unknown,
        }
    }
}

impl std::fmt::Display for CardBrand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the (simulated) gateway answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponseView {
    #[cfg_attr(feature = "openapi", schema(example = "txn_0f3c2b7d9a8e4c1b"))]
    pub transaction_id: String,
    /// `approved`, or why it was declined: `card_declined`, `insufficient_funds`,
    /// `paypal_declined`, ...
    #[cfg_attr(feature = "openapi", schema(example = "approved"))]
    pub response_code: String,
    #[cfg_attr(feature = "openapi", schema(example = "Payment approved."))]
    pub response_message: String,
}

/// What is kept of the instrument: never the full card number or the CVC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum DetailsView {
    #[serde(rename_all = "camelCase")]
    Card {
        #[cfg_attr(feature = "openapi", schema(example = "4242"))]
        card_last4: String,
        card_brand: CardBrand,
    },
    #[serde(rename_all = "camelCase")]
    Paypal {
        #[cfg_attr(feature = "openapi", schema(format = "email"))]
        paypal_email: String,
    },
}

/// The refund of a completed payment whose order was no longer open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    pub transaction_id: String,
    /// As published in `payments.refunded`, e.g. `order_not_pending`.
    #[cfg_attr(feature = "openapi", schema(example = "order_not_pending"))]
    pub reason: String,
    /// Why the order was cancelled, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_cancel_reason: Option<CancelReason>,
    pub refunded_at: DateTime<Utc>,
}

/// A payment as clients see it (the seed's document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub user_id: Uuid,
    /// The exact amount as the shortest decimal number (`25.5`).
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 25.5))]
    pub amount: serde_json::Number,
    /// The same amount in minor units (cents).
    #[cfg_attr(feature = "openapi", schema(example = 2550))]
    pub amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub payment_method: PaymentMethod,
    pub status: PaymentStatus,
    /// `null` until the gateway has answered.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub gateway_response: Option<GatewayResponseView>,
    pub payment_details: DetailsView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The answer of `POST /api/payment/process`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessResponse {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Payment completed. Your tickets are being issued.")
    )]
    pub message: String,
    pub payment: PaymentView,
    pub order: ProcessOrder,
}

/// The order as the payment service knows it: still `pending` right after a payment, since the
/// ticket service confirms it asynchronously.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessOrder {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<OrderStatus>,
}

/// The answer of `GET /api/payment/status/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    pub payment: PaymentView,
    /// The order's current status, `null` if the order is unknown here.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order_status: Option<OrderStatus>,
}

/// The answer of `GET /api/payment/orders/{order_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderPayments {
    pub order_id: Uuid,
    pub order_status: OrderStatus,
    /// Oldest first.
    pub payments: Vec<PaymentView>,
}

/// The body of `POST /api/payment/process`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProcessRequest {
    /// The pending order to pay (from `POST /api/tickets/book`).
    pub order_id: Uuid,
    pub payment_method: PaymentMethod,
    /// A card for `credit_card` and `debit_card`, a PayPal account for `paypal`.
    pub payment_details: PaymentDetailsInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PaymentDetailsInput {
    Card(CardInput),
    Paypal(PaypalInput),
}

/// A card. The number and the CVC are checked and dropped: never stored, logged, published or
/// echoed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CardInput {
    /// 12 to 19 digits passing the Luhn check; spaces and dashes allowed. Also read as `number`.
    #[cfg_attr(feature = "openapi", schema(example = "4242 4242 4242 4242"))]
    pub card_number: String,
    /// 1 to 12, a number or a numeric string. Also read as `expMonth`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 12, example = 12))]
    pub expiry_month: i64,
    /// Four digits, this year or later (a card is valid through the end of its month), a number
    /// or a numeric string. Also read as `expYear`.
    #[cfg_attr(feature = "openapi", schema(example = 2030))]
    pub expiry_year: i64,
    /// 3 or 4 digits. Also read as `cvv`.
    #[cfg_attr(feature = "openapi", schema(example = "123"))]
    pub cvc: String,
    /// 1 to 100 characters. Also read as `cardHolderName` or `nameOnCard`.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, example = "Ada Lovelace")
    )]
    pub cardholder_name: String,
}

/// Never shows the card number or the CVC.
impl std::fmt::Debug for CardInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardInput")
            .field("expiry_month", &self.expiry_month)
            .field("expiry_year", &self.expiry_year)
            .field("cardholder_name", &self.cardholder_name)
            .finish_non_exhaustive()
    }
}

/// A PayPal account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaypalInput {
    /// Also read as `paypalEmail`.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "email", max_length = 254, example = "ada@approve.test")
    )]
    pub email: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_brands_are_written_as_their_names() {
        for b in CardBrand::ALL {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
            assert_eq!(CardBrand::parse(b.as_str()), b);
        }
    }

    #[test]
    fn the_kept_details_are_told_apart_by_their_fields() {
        let card: DetailsView =
            serde_json::from_str(r#"{"cardLast4":"4242","cardBrand":"visa"}"#).unwrap();
        assert_eq!(
            card,
            DetailsView::Card {
                card_last4: "4242".into(),
                card_brand: CardBrand::Visa
            }
        );
        let paypal = DetailsView::Paypal {
            paypal_email: "ada@approve.test".into(),
        };
        assert_eq!(
            serde_json::to_string(&paypal).unwrap(),
            r#"{"paypalEmail":"ada@approve.test"}"#
        );
    }

    #[test]
    fn a_card_body_is_written_as_the_service_reads_it_and_never_debug_printed() {
        let body = ProcessRequest {
            order_id: Uuid::nil(),
            payment_method: PaymentMethod::CreditCard,
            payment_details: PaymentDetailsInput::Card(CardInput {
                card_number: "4242424242424242".into(),
                expiry_month: 12,
                expiry_year: 2030,
                cvc: "123".into(),
                cardholder_name: "Ada Lovelace".into(),
            }),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["paymentMethod"], "credit_card");
        assert_eq!(json["paymentDetails"]["cardNumber"], "4242424242424242");
        assert_eq!(json["paymentDetails"]["expiryMonth"], 12);
        let shown = format!("{body:?}");
        assert!(!shown.contains("4242") && !shown.contains("cvc"));
    }
}
