//! Orders and what hangs off them. How an order moves between statuses is decided in
//! [`crate::lifecycle`]; this module only holds the data.

use chrono::{DateTime, Utc};
use platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use api_types::orders::{CancelReason, CustomerInfo, IssuedTicket, OrderStatus};

/// One ticket type of an order, priced when it was booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub ticket_type: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub subtotal: Money,
}

impl OrderLine {
    /// `quantity` seats at `unit_price`; `None` when the subtotal does not fit.
    pub fn new(ticket_type: String, unit_price: Money, quantity: u32) -> Option<Self> {
        Some(Self {
            subtotal: unit_price.times(quantity)?,
            ticket_type,
            quantity,
            unit_price,
        })
    }
}

/// The sum of the lines' subtotals; `None` when it does not fit or a line is priced in another
/// currency.
pub fn total(lines: &[OrderLine], currency: Currency) -> Option<Money> {
    let mut minor: i64 = 0;
    for line in lines {
        if line.subtotal.currency() != currency {
            return None;
        }
        minor = minor.checked_add(line.subtotal.minor_units())?;
    }
    Some(Money::from_minor_units(minor, currency))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Uuid,
    /// Snapshot at booking time, for order lists.
    pub event_title: String,
    pub event_date_time: DateTime<Utc>,
    pub booking_reference: String,
    pub status: OrderStatus,
    pub cancel_reason: Option<CancelReason>,
    pub lines: Vec<OrderLine>,
    /// In the order's currency, as every line.
    pub total_amount: Money,
    pub customer: CustomerInfo,
    /// The completed payment that confirmed the order.
    pub payment_id: Option<Uuid>,
    pub failed_payments: u32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was confirmed; kept after a refund, so the sale still counts on its day.
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Set when the confirming payment came back (status `refunded`).
    pub refund: Option<Refund>,
}

impl Order {
    pub fn currency(&self) -> Currency {
        self.total_amount.currency()
    }

    pub fn seat_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

/// Money returned for a paid order that was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub amount: Money,
    pub refunded_at: DateTime<Utc>,
    /// The order's cancel reason: `event_cancelled`, `organizer_refund` or `buyer_refund`.
    pub reason: CancelReason,
}

/// What a payment fact said about the order. Serialized as its name, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    Completed,
    Failed,
    Refunded,
}

api_types::named_values!(AttemptStatus {
    Completed => "completed",
    Failed => "failed",
    Refunded => "refunded",
});

/// A payment result as recorded on the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAttempt {
    pub payment_id: Uuid,
    /// `completed`, `failed` or `refunded`.
    #[schema(value_type = String, example = "failed")]
    pub status: AttemptStatus,
    #[schema(required = true, example = "card_declined")]
    pub response_code: Option<String>,
    #[schema(required = true)]
    pub response_message: Option<String>,
    pub at: DateTime<Utc>,
}

/// An order with everything that hangs off it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderDetails {
    pub order: Order,
    pub attempts: Vec<PaymentAttempt>,
    pub tickets: Vec<IssuedTicket>,
}

/// A pending order of `lines` as a booking makes it at `at`, held for 15 minutes: for tests.
#[cfg(any(test, feature = "testing"))]
pub fn sample(event_id: Uuid, lines: Vec<OrderLine>, at: DateTime<Utc>) -> Order {
    let currency = lines
        .first()
        .map_or(Currency::USD, |l| l.subtotal.currency());
    Order {
        id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        event_id,
        event_title: "Rust Fest".into(),
        event_date_time: at + chrono::Duration::days(30),
        booking_reference: crate::codes::booking_reference(),
        status: OrderStatus::Pending,
        cancel_reason: None,
        total_amount: total(&lines, currency).expect("sample amounts fit"),
        lines,
        customer: CustomerInfo::sample(),
        payment_id: None,
        failed_payments: 0,
        expires_at: at + chrono::Duration::minutes(15),
        created_at: at,
        updated_at: at,
        paid_at: None,
        cancelled_at: None,
        refund: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor_units(minor, Currency::USD)
    }

    #[test]
    fn a_line_costs_its_quantity_times_its_unit_price_and_an_order_the_sum_of_its_lines() {
        let general = OrderLine::new("General".into(), usd(2550), 2).unwrap();
        let vip = OrderLine::new("VIP".into(), usd(10_000), 1).unwrap();
        assert_eq!(general.subtotal, usd(5100));
        assert_eq!(total(&[general, vip], Currency::USD), Some(usd(15_100)));
        assert_eq!(total(&[], Currency::USD), Some(usd(0)));
    }

    #[test]
    fn amounts_that_do_not_fit_or_mix_currencies_have_no_total() {
        assert!(OrderLine::new("General".into(), usd(i64::MAX / 2), 3).is_none());
        let huge = OrderLine::new("General".into(), usd(i64::MAX - 1), 1).unwrap();
        assert!(total(&[huge.clone(), huge], Currency::USD).is_none());
        let eur = Currency::parse("EUR").unwrap();
        let line = OrderLine::new("General".into(), Money::from_minor_units(100, eur), 1).unwrap();
        assert!(total(&[line], Currency::USD).is_none());
    }

    #[test]
    fn attempt_statuses_are_written_and_read_as_their_names() {
        for s in AttemptStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(AttemptStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AttemptStatus::parse("pending"), None);
    }
}
