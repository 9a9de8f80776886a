//! The numbers of an event's summary for its organizer, computed once from its stock and every
//! one of its orders ([`Sale`]): orders by status, gross, refunded and net money, sales per day.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use platform::money::{Currency, Money};
use uuid::Uuid;

use crate::order::OrderStatus;
use crate::sales::Sale;
use crate::store::{EventStock, EventTicket, Stock};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: u64,
    pub confirmed: u64,
    pub cancelled: u64,
    pub refunded: u64,
}

/// The paid orders of one day (UTC), refunded ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySales {
    pub date: NaiveDate,
    pub orders: u64,
    pub tickets: u64,
    pub amount: Money,
}

/// The organizer's view of an event's sales.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub event_id: Uuid,
    pub currency: Currency,
    /// Capacity, sold, held and available per ticket type, in the catalogue's order.
    pub ticket_types: Vec<Stock>,
    pub orders_by_status: StatusCounts,
    /// Every order that was paid, refunded or not.
    pub gross: Money,
    pub refunded: Money,
    /// `gross - refunded`.
    pub net: Money,
    /// Ascending by date; days without a sale are left out.
    pub sales_per_day: Vec<DaySales>,
    pub check_ins: CheckIns,
}

/// Tickets that entered at the door, each counted once at its first entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckIns {
    pub total: u64,
    /// Every ticket type of the stock, in its order, zeros included.
    pub by_ticket_type: Vec<(String, u64)>,
    /// By gate name, no gate first.
    pub by_gate: Vec<(Option<String>, u64)>,
    /// By the start of the minute (UTC), ascending.
    pub per_minute: Vec<(DateTime<Utc>, u64)>,
}

/// The check-ins among `tickets` of the event whose stock is `stock`.
pub fn check_ins(stock: &[Stock], tickets: &[EventTicket]) -> CheckIns {
    let mut by_type: Vec<(String, u64)> =
        stock.iter().map(|s| (s.ticket_type.clone(), 0)).collect();
    let mut by_gate: BTreeMap<Option<String>, u64> = BTreeMap::new();
    let mut per_minute: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
    let mut total = 0;
    for (ticket, first) in tickets
        .iter()
        .filter_map(|t| t.check_in.as_ref().map(|c| (t, c)))
    {
        total += 1;
        match by_type
            .iter_mut()
            .find(|(name, _)| *name == ticket.ticket_type)
        {
            Some((_, n)) => *n += 1,
            None => by_type.push((ticket.ticket_type.clone(), 1)),
        }
        *by_gate.entry(first.first_gate.clone()).or_default() += 1;
        let minute = first
            .first_at
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or(first.first_at);
        *per_minute.entry(minute).or_default() += 1;
    }
    CheckIns {
        total,
        by_ticket_type: by_type,
        by_gate: by_gate.into_iter().collect(),
        per_minute: per_minute.into_iter().collect(),
    }
}

/// The summary of an event from its stock, every one of its orders and every one of its tickets.
pub fn summarize(event: &EventStock, sales: &[Sale], tickets: &[EventTicket]) -> Summary {
    let currency = event.event.currency;
    let money = |minor: i64| Money::from_minor_units(minor, currency);
    let mut counts = StatusCounts::default();
    let (mut gross, mut refunded) = (0_i64, 0_i64);
    let mut days: BTreeMap<NaiveDate, (u64, u64, i64)> = BTreeMap::new();
    for sale in sales {
        match sale.status {
            OrderStatus::Pending => counts.pending += 1,
            OrderStatus::Confirmed => counts.confirmed += 1,
            OrderStatus::Cancelled => counts.cancelled += 1,
            OrderStatus::Refunded => counts.refunded += 1,
        }
        if let Some(paid_at) = sale.paid_at {
            let amount = sale.total.minor_units();
            gross = gross.saturating_add(amount);
            let day = days.entry(paid_at.date_naive()).or_default();
            day.0 += 1;
            day.1 += u64::from(sale.tickets);
            day.2 = day.2.saturating_add(amount);
        }
        if let Some(back) = sale.refunded {
            refunded = refunded.saturating_add(back.minor_units());
        }
    }
    Summary {
        event_id: event.event.id,
        currency,
        ticket_types: event.stock.clone(),
        orders_by_status: counts,
        gross: money(gross),
        refunded: money(refunded),
        net: money(gross.saturating_sub(refunded)),
        sales_per_day: days
            .into_iter()
            .map(|(date, (orders, tickets, amount))| DaySales {
                date,
                orders,
                tickets,
                amount: money(amount),
            })
            .collect(),
        check_ins: check_ins(&event.stock, tickets),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::store::{EventInfo, EventStatus};

    fn usd(minor: i64) -> Money {
        Money::from_minor_units(minor, Currency::USD)
    }

    fn sale(status: OrderStatus, total: i64, tickets: u32, paid: Option<DateTime<Utc>>) -> Sale {
        Sale {
            status,
            total: usd(total),
            tickets,
            paid_at: paid,
            refunded: None,
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_summary_counts_orders_by_status_and_paid_money_by_day_with_refunds_apart() {
        let event_id = Uuid::new_v4();
        let stock = vec![Stock {
            ticket_type: "General".into(),
            price: usd(2500),
            capacity: 100,
            sold: 3,
            held: 2,
        }];
        let event = EventStock {
            event: EventInfo {
                id: event_id,
                title: "Rust Fest".into(),
                date_time: at(30, 18),
                status: EventStatus::Published,
                version: 1,
                currency: Currency::USD,
                ticket_types: Vec::new(),
                organizer_id: None,
                refund_policy: Default::default(),
                waitlist_enabled: true,
            },
            stock: stock.clone(),
        };
        let mut refunded = sale(OrderStatus::Refunded, 5000, 2, Some(at(2, 9)));
        refunded.refunded = Some(usd(5000));
        let sales = [
            sale(OrderStatus::Confirmed, 2500, 1, Some(at(2, 23))),
            refunded,
            sale(OrderStatus::Confirmed, 5000, 2, Some(at(1, 0))),
            // Cancelled after payment, refund still on its way: sold, nothing back yet.
            sale(OrderStatus::Cancelled, 7500, 3, Some(at(3, 12))),
            sale(OrderStatus::Cancelled, 2500, 1, None),
            sale(OrderStatus::Pending, 5000, 2, None),
        ];
        let s = summarize(&event, &sales, &[]);
        assert_eq!((s.event_id, s.currency), (event_id, Currency::USD));
        assert_eq!(s.ticket_types, stock);
        assert_eq!(
            s.orders_by_status,
            StatusCounts {
                pending: 1,
                confirmed: 2,
                cancelled: 2,
                refunded: 1
            }
        );
        assert_eq!(
            (s.gross, s.refunded, s.net),
            (usd(20_000), usd(5000), usd(15_000))
        );
        let day = |d: u32, orders, tickets, amount| DaySales {
            date: NaiveDate::from_ymd_opt(2030, 3, d).unwrap(),
            orders,
            tickets,
            amount: usd(amount),
        };
        assert_eq!(
            s.sales_per_day,
            [day(1, 1, 2, 5000), day(2, 2, 3, 7500), day(3, 1, 3, 7500)]
        );
        let per_day: i64 = s.sales_per_day.iter().map(|d| d.amount.minor_units()).sum();
        assert_eq!(per_day, s.gross.minor_units());
        assert_eq!(s.check_ins.total, 0);
        assert_eq!(s.check_ins.by_ticket_type, [("General".to_string(), 0)]);
    }

    #[test]
    fn check_ins_are_counted_per_ticket_type_gate_and_minute_of_the_first_entry() {
        use crate::order::CustomerInfo;
        use crate::store::TicketCheckin;
        let stock = ["General", "VIP"].map(|name| Stock {
            ticket_type: name.into(),
            price: usd(100),
            capacity: 10,
            sold: 3,
            held: 0,
        });
        let ticket = |ticket_type: &str, first: Option<(u32, u32, Option<&str>)>| EventTicket {
            code: "C".into(),
            ticket_type: ticket_type.into(),
            void: false,
            order_id: Uuid::nil(),
            booking_reference: "TK-1".into(),
            order_status: OrderStatus::Confirmed,
            holder: CustomerInfo {
                first_name: "A".into(),
                last_name: "B".into(),
                email: "a@example.com".into(),
                phone: None,
            },
            check_in: first.map(|(minute, second, gate)| TicketCheckin {
                first_at: Utc
                    .with_ymd_and_hms(2030, 3, 30, 19, minute, second)
                    .unwrap(),
                first_gate: gate.map(str::to_string),
                inside: false,
            }),
        };
        let tickets = [
            ticket("General", Some((1, 10, Some("North")))),
            ticket("General", Some((1, 59, Some("South")))),
            ticket("VIP", Some((3, 0, Some("North")))),
            ticket("VIP", Some((3, 30, None))),
            ticket("General", None),
        ];
        let c = check_ins(&stock, &tickets);
        assert_eq!(c.total, 4);
        assert_eq!(
            c.by_ticket_type,
            [("General".to_string(), 2), ("VIP".to_string(), 2)]
        );
        assert_eq!(
            c.by_gate,
            [
                (None, 1),
                (Some("North".into()), 2),
                (Some("South".into()), 1)
            ]
        );
        let minute = |m| Utc.with_ymd_and_hms(2030, 3, 30, 19, m, 0).unwrap();
        assert_eq!(c.per_minute, [(minute(1), 2), (minute(3), 2)]);
    }
}
