//! The organizer's back office of one event, as the ticket service shows it:
//! `GET /api/tickets/events/{id}/orders` (a page of orders), `GET /api/tickets/events/{id}/summary`
//! (seats, orders by status, revenue, sales per day) and the body of
//! `POST /api/tickets/orders/{id}/refund`.
//!
//! Revenue is in exact integer minor units; the one decimal amount (`totalAmount`) is written
//! beside its `*Minor` twin as on every order answer.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::orders::{OrderLineView, OrderStatus};

/// Orders per page when the request names no `limit`.
pub const DEFAULT_ORDERS_PER_PAGE: u32 = 20;
/// The largest `limit` a request may ask for.
pub const MAX_ORDERS_PER_PAGE: u32 = 100;
/// The longest refund reason kept with the order, in characters.
pub const MAX_REFUND_REASON_CHARS: usize = 500;

// One order as its event's organizer sees it: who bought what, and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventOrderView {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "TK-7KQ2M9XD"))]
    pub booking_reference: String,
    /// First and last name of the buyer as given with the booking.
    #[cfg_attr(feature = "openapi", schema(example = "Grace Hopper"))]
    pub buyer_name: String,
    #[cfg_attr(feature = "openapi", schema(example = "grace@example.org"))]
    pub buyer_email: String,
    pub lines: Vec<OrderLineView>,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 51.0))]
    pub total_amount: serde_json::Number,
    #[cfg_attr(feature = "openapi", schema(example = 5100))]
    pub total_amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    /// When the order was confirmed by its payment; null while unpaid.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub paid_at: Option<DateTime<Utc>>,
    /// When its payment was refunded; null unless refunded.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub refunded_at: Option<DateTime<Utc>>,
}

impl EventOrderView {
    /// Seats over all lines.
    pub fn seat_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

// A page of an event's orders, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventOrdersResponse {
    pub orders: Vec<EventOrderView>,
    /// Orders matching the filters, over all pages.
    pub total: u64,
    /// 1-based.
    pub page: u32,
    pub limit: u32,
}

impl EventOrdersResponse {
    /// How many pages the matching orders fill; at least one, so "page 1 of 1" reads right for
    /// an empty list.
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(u64::from(self.limit.max(1))).max(1)
    }
}

// Seats, orders and revenue of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    pub event_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub ticket_types: Vec<TicketTypeSales>,
    pub orders_by_status: OrdersByStatus,
    /// Totals of every order that was paid, refunded ones included.
    #[cfg_attr(feature = "openapi", schema(example = 15300))]
    pub gross_minor: i64,
    /// Sum of the refunds.
    #[cfg_attr(feature = "openapi", schema(example = 5100))]
    pub refunded_minor: i64,
    /// `grossMinor - refundedMinor`.
    #[cfg_attr(feature = "openapi", schema(example = 10200))]
    pub net_minor: i64,
    /// Paid orders per UTC day of payment, oldest first; days without sales are left out.
    pub sales_per_day: Vec<DaySales>,
    /// Tickets that entered at the door (each counted once, at its first entry).
    #[serde(default)]
    pub check_ins: CheckinSummary,
}

/// Who came in: tickets checked in, by ticket type, by gate and by minute of their first entry
/// (the earliest scan, offline scans included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckinSummary {
    pub checked_in: u64,
    /// Every ticket type of the event, in the catalogue's order, zeros included.
    pub by_ticket_type: Vec<TicketTypeCheckins>,
    /// Gates by name; scans without a gate under `null`, first.
    pub by_gate: Vec<GateCheckins>,
    /// Oldest first; minutes without a check-in are left out.
    pub per_minute: Vec<MinuteCheckins>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeCheckins {
    #[cfg_attr(feature = "openapi", schema(example = "General"))]
    pub ticket_type: String,
    pub checked_in: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateCheckins {
    #[cfg_attr(feature = "openapi", schema(required = true, example = "North gate"))]
    pub gate: Option<String>,
    pub checked_in: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MinuteCheckins {
    /// The start of the minute (UTC).
    pub minute: DateTime<Utc>,
    pub checked_in: u64,
}

impl EventSummary {
    /// The sales from the first day with a sale to the last, every day in between present (with
    /// zeros where nothing sold): the series a chart draws. Empty without sales.
    pub fn sales_every_day(&self) -> Vec<DaySales> {
        let mut days = self.sales_per_day.clone();
        days.sort_by_key(|d| d.date);
        let mut out: Vec<DaySales> = Vec::with_capacity(days.len());
        for day in days {
            if let Some(last) = out.last() {
                let mut next = last.date.checked_add_days(Days::new(1));
                while let Some(date) = next.filter(|d| *d < day.date) {
                    out.push(DaySales::none_on(date));
                    next = date.checked_add_days(Days::new(1));
                }
            }
            out.push(day);
        }
        out
    }
}

// Seats of one ticket type: sold to confirmed orders, held by pending ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketTypeSales {
    #[cfg_attr(feature = "openapi", schema(example = "General"))]
    pub name: String,
    pub capacity: u32,
    pub sold: u32,
    pub held: u32,
    /// `capacity - sold - held`.
    pub available: u32,
}

// How many of the event's orders are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrdersByStatus {
    pub pending: u64,
    pub confirmed: u64,
    pub cancelled: u64,
    pub refunded: u64,
}

impl OrdersByStatus {
    /// The count of one status.
    pub fn of(&self, status: OrderStatus) -> u64 {
        match status {
            OrderStatus::Pending => self.pending,
            OrderStatus::Confirmed => self.confirmed,
            OrderStatus::Cancelled => self.cancelled,
            OrderStatus::Refunded => self.refunded,
        }
    }

    /// Counts one more order of `status`.
    pub fn record(&mut self, status: OrderStatus) {
        let count = match status {
            OrderStatus::Pending => &mut self.pending,
            OrderStatus::Confirmed => &mut self.confirmed,
            OrderStatus::Cancelled => &mut self.cancelled,
            OrderStatus::Refunded => &mut self.refunded,
        };
        *count += 1;
    }

    pub fn total(&self) -> u64 {
        self.pending + self.confirmed + self.cancelled + self.refunded
    }
}

// What sold on one UTC day (by the time of payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DaySales {
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "2030-05-01"))]
    pub date: NaiveDate,
    /// Orders paid that day.
    pub orders: u64,
    /// Seats of those orders.
    pub tickets: u64,
    /// Sum of their totals.
    pub amount_minor: i64,
}

impl DaySales {
    /// A day without sales.
    pub fn none_on(date: NaiveDate) -> Self {
        DaySales {
            date,
            orders: 0,
            tickets: 0,
            amount_minor: 0,
        }
    }
}

// The body of an organizer's refund of one order. The reason is a note kept with the order, at
// most `MAX_REFUND_REASON_CHARS` characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 500, example = "Double booking; agreed by phone")
    )]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::LineTicketType;
    use serde_json::json;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn day(text: &str, orders: u64, amount_minor: i64) -> DaySales {
        DaySales {
            date: date(text),
            orders,
            tickets: orders * 2,
            amount_minor,
        }
    }

    fn summary(sales_per_day: Vec<DaySales>) -> EventSummary {
        EventSummary {
            event_id: Uuid::nil(),
            currency: "EUR".into(),
            ticket_types: vec![TicketTypeSales {
                name: "General".into(),
                capacity: 50,
                sold: 4,
                held: 2,
                available: 44,
            }],
            orders_by_status: OrdersByStatus {
                pending: 1,
                confirmed: 2,
                cancelled: 3,
                refunded: 4,
            },
            gross_minor: 15300,
            refunded_minor: 5100,
            net_minor: 10200,
            sales_per_day,
            check_ins: Default::default(),
        }
    }

    #[test]
    fn a_summary_is_written_in_camel_case_with_plain_dates_and_reads_back_the_same() {
        let s = summary(vec![day("2030-05-01", 1, 5100)]);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["ordersByStatus"]["refunded"], 4);
        assert_eq!(v["ticketTypes"][0]["available"], 44);
        assert_eq!(v["grossMinor"], 15300);
        assert_eq!(v["netMinor"], 10200);
        assert_eq!(
            v["salesPerDay"][0],
            json!({"date": "2030-05-01", "orders": 1, "tickets": 2, "amountMinor": 5100})
        );
        assert_eq!(serde_json::from_value::<EventSummary>(v).unwrap(), s);
    }

    #[test]
    fn every_day_between_the_first_and_the_last_sale_is_in_the_series() {
        let s = summary(vec![day("2030-05-03", 2, 200), day("2030-04-29", 1, 100)]);
        let days = s.sales_every_day();
        let dates: Vec<String> = days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(
            dates,
            [
                "2030-04-29",
                "2030-04-30",
                "2030-05-01",
                "2030-05-02",
                "2030-05-03"
            ]
        );
        assert_eq!(days[1], DaySales::none_on(date("2030-04-30")));
        assert_eq!(days[4].amount_minor, 200);
        assert_eq!(days.iter().map(|d| d.amount_minor).sum::<i64>(), 300);
    }

    #[test]
    fn no_sales_make_an_empty_series_and_one_day_a_series_of_one() {
        assert!(summary(Vec::new()).sales_every_day().is_empty());
        let one = summary(vec![day("2030-05-01", 1, 5100)]).sales_every_day();
        assert_eq!(one, vec![day("2030-05-01", 1, 5100)]);
    }

    #[test]
    fn orders_are_counted_per_status() {
        let mut counts = OrdersByStatus::default();
        for s in [
            OrderStatus::Confirmed,
            OrderStatus::Refunded,
            OrderStatus::Confirmed,
            OrderStatus::Pending,
        ] {
            counts.record(s);
        }
        assert_eq!(counts.of(OrderStatus::Confirmed), 2);
        assert_eq!(counts.of(OrderStatus::Refunded), 1);
        assert_eq!(counts.of(OrderStatus::Cancelled), 0);
        assert_eq!(counts.total(), 4);
    }

    fn order_row() -> EventOrderView {
        let at: DateTime<Utc> = "2030-05-01T19:30:00Z".parse().unwrap();
        EventOrderView {
            id: Uuid::nil(),
            booking_reference: "TK-7KQ2M9XD".into(),
            buyer_name: "Grace Hopper".into(),
            buyer_email: "grace@example.org".into(),
            lines: vec![OrderLineView {
                ticket_type: LineTicketType {
                    name: "General".into(),
                    price: "25.5".parse().unwrap(),
                },
                quantity: 2,
                subtotal: "51".parse().unwrap(),
            }],
            total_amount: "51".parse().unwrap(),
            total_amount_minor: 5100,
            currency: "USD".into(),
            status: OrderStatus::Confirmed,
            created_at: at,
            paid_at: Some(at),
            refunded_at: None,
        }
    }

    #[test]
    fn an_order_row_writes_its_missing_refund_time_as_null_and_reads_back_the_same() {
        let page = EventOrdersResponse {
            orders: vec![order_row()],
            total: 1,
            page: 1,
            limit: 20,
        };
        let v = serde_json::to_value(&page).unwrap();
        let row = &v["orders"][0];
        assert_eq!(row["buyerEmail"], "grace@example.org");
        assert_eq!(row["totalAmount"], 51);
        assert_eq!(row["paidAt"], "2030-05-01T19:30:00Z");
        assert_eq!(row["refundedAt"], serde_json::Value::Null);
        assert_eq!(row["lines"][0]["ticketType"]["name"], "General");
        assert_eq!(page.orders[0].seat_count(), 2);
        assert_eq!(
            serde_json::from_value::<EventOrdersResponse>(v).unwrap(),
            page
        );
    }

    #[test]
    fn the_page_count_rounds_up_and_an_empty_list_is_one_page() {
        let page = |total, limit| EventOrdersResponse {
            orders: Vec::new(),
            total,
            page: 1,
            limit,
        };
        assert_eq!(page(0, 20).page_count(), 1);
        assert_eq!(page(20, 20).page_count(), 1);
        assert_eq!(page(41, 20).page_count(), 3);
        assert_eq!(page(5, 0).page_count(), 5);
    }

    #[test]
    fn a_refund_request_may_leave_the_reason_out() {
        let none: RefundRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(none.reason, None);
        assert_eq!(serde_json::to_string(&none).unwrap(), "{}");
        let some: RefundRequest = serde_json::from_value(json!({"reason": "Sick"})).unwrap();
        assert_eq!(some.reason.as_deref(), Some("Sick"));
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_documented_reason_limit_and_date_format_are_the_ones_used() {
        use utoipa::PartialSchema;
        let body = serde_json::to_value(RefundRequest::schema()).unwrap();
        assert_eq!(
            body["properties"]["reason"]["maxLength"],
            MAX_REFUND_REASON_CHARS
        );
        let day = serde_json::to_value(DaySales::schema()).unwrap();
        assert_eq!(day["properties"]["date"]["format"], "date");
    }
}
