//! An event's orders as its organizer asks for them, as pure rules: which orders a back-office
//! search finds and how a page of them is asked for; and what of an order the summary counts.
//! The stores only filter by these rules and hand over the rows ([`crate::summary`] adds them up).

use chrono::{DateTime, Utc};
use platform::money::Money;

use crate::order::{Order, OrderStatus};

/// The text a back-office search looks in: the buyer's name, email and the booking reference,
/// lower-cased, one per line (so a search does not run from one into the next). Stored with the
/// order, so both stores match it the same way: a plain substring of it.
pub fn search_text(order: &Order) -> String {
    let c = &order.customer;
    format!(
        "{} {}\n{}\n{}",
        c.first_name, c.last_name, c.email, order.booking_reference
    )
    .to_lowercase()
}

/// What a search for `q` looks for in [`search_text`]; `None` when it asks for nothing.
fn search_term(q: &str) -> Option<String> {
    let term = q.trim().to_lowercase();
    (!term.is_empty()).then_some(term)
}

/// A page of an event's orders, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Lower-cased; matches a substring of [`search_text`].
    pub search: Option<String>,
    /// From 1.
    pub page: u32,
    /// 1 to [`OrderQuery::MAX_LIMIT`].
    pub limit: u32,
}

impl OrderQuery {
    pub const DEFAULT_LIMIT: u32 = api_types::back_office::DEFAULT_ORDERS_PER_PAGE;
    pub const MAX_LIMIT: u32 = api_types::back_office::MAX_ORDERS_PER_PAGE;

    /// The query a request asks for: page 1 and [`Self::DEFAULT_LIMIT`] unless given, the limit
    /// at most [`Self::MAX_LIMIT`], a blank search none.
    pub fn new(
        status: Option<OrderStatus>,
        q: Option<&str>,
        page: Option<u32>,
        limit: Option<u32>,
    ) -> Self {
        Self {
            status,
            search: q.and_then(search_term),
            page: page.unwrap_or(1).max(1),
            limit: limit
                .unwrap_or(Self::DEFAULT_LIMIT)
                .clamp(1, Self::MAX_LIMIT),
        }
    }

    /// Orders to skip before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }

    /// Whether `order` (of the event) is one this query finds, page aside: the stores' filters
    /// say the same, this is the rule they follow.
    pub fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| s == order.status)
            && self
                .search
                .as_ref()
                .is_none_or(|term| search_text(order).contains(term.as_str()))
    }
}

/// One page of orders and how many the query finds in all.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub total: u64,
}

/// One order as the summary counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub status: OrderStatus,
    pub total: Money,
    /// Seats of the order.
    pub tickets: u32,
    pub paid_at: Option<DateTime<Utc>>,
    /// What came back of it, once refunded.
    pub refunded: Option<Money>,
}

#[cfg(test)]
mod tests {
    use platform::money::Currency;
    use uuid::Uuid;

    use super::*;
    use crate::order::{CustomerInfo, OrderLine};

    fn usd(minor: i64) -> Money {
        Money::from_minor_units(minor, Currency::USD)
    }

    fn order(first: &str, last: &str, email: &str, reference: &str) -> Order {
        let lines = vec![OrderLine::new("General".into(), usd(2500), 2).unwrap()];
        Order {
            booking_reference: reference.into(),
            customer: CustomerInfo {
                first_name: first.into(),
                last_name: last.into(),
                email: email.into(),
                phone: None,
            },
            ..crate::order::sample(Uuid::new_v4(), lines, platform::time::now())
        }
    }

    #[test]
    fn a_search_finds_the_name_email_or_reference_whatever_the_case() {
        let o = order("Zoë", "O'Brien, Jr.", "zoe@Example.com", "TK-7Q4M9XK2");
        for q in [
            "zoë",
            "ZOË O'BRIEN",
            "brien, jr",
            "@example.COM",
            "tk-7q4m",
            "  9xk2 ",
        ] {
            assert!(
                OrderQuery::new(None, Some(q), None, None).matches(&o),
                "{q}"
            );
        }
        for q in ["zoe o", "jr. zoe", "TK-0000"] {
            assert!(
                !OrderQuery::new(None, Some(q), None, None).matches(&o),
                "{q}"
            );
        }
    }

    #[test]
    fn a_blank_search_finds_everything_and_a_status_filter_only_that_status() {
        let o = order("Ada", "Lovelace", "ada@example.com", "TK-AAAA");
        let blank = OrderQuery::new(None, Some("   "), None, None);
        assert_eq!(blank.search, None);
        assert!(blank.matches(&o));
        assert!(OrderQuery::new(Some(OrderStatus::Pending), None, None, None).matches(&o));
        assert!(!OrderQuery::new(Some(OrderStatus::Refunded), None, None, None).matches(&o));
    }

    #[test]
    fn pages_start_at_one_with_twenty_orders_and_never_more_than_a_hundred() {
        let q = OrderQuery::new(None, None, None, None);
        assert_eq!((q.page, q.limit, q.offset()), (1, 20, 0));
        let q = OrderQuery::new(None, None, Some(3), Some(50));
        assert_eq!((q.page, q.limit, q.offset()), (3, 50, 100));
        let q = OrderQuery::new(None, None, Some(0), Some(1000));
        assert_eq!((q.page, q.limit), (1, 100));
        assert_eq!(OrderQuery::new(None, None, None, Some(0)).limit, 1);
    }
}
