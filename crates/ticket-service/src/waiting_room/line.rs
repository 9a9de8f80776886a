//! The rules of the waiting room, pure: who stands where, and who is admitted when.
//!
//! Visitors who join before `onSaleAt` draw a random 64-bit number; once the sale opens their
//! places are the ranks of the draws, so arriving early or asking many times gives no edge (a
//! visitor has one entry, and one draw). Visitors who join later queue behind every early
//! arrival, in the order the broker stored their entries. Admission is computed, not pushed:
//! `admitPerMinute` places are let in per minute from `onSaleAt`, so place `p` is admitted once
//! `p <= admitPerMinute * minutes since onSaleAt`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::event_status::EventStatus;

/// Early places are drawn this long after `onSaleAt`, so an early join that was still on its
/// way to the broker at `onSaleAt` is part of the draw on every replica.
pub const DRAW_GRACE: Duration = Duration::seconds(2);

/// How a visitor arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Before `onSaleAt`, with the random draw that becomes the place.
    Early { draw: u64 },
    /// After `onSaleAt`: behind every early arrival, in arrival order.
    Late,
}

/// Whether a visitor joining at `now` arrives early, drawing `draw`.
pub fn arrival(now: DateTime<Utc>, on_sale_at: DateTime<Utc>, draw: u64) -> Arrival {
    if now < on_sale_at {
        Arrival::Early { draw }
    } else {
        Arrival::Late
    }
}

/// One event's queue as the broker stored it: every entry in the order they were stored.
#[derive(Debug, Default)]
pub struct Line {
    /// (draw, visitor), sorted when `sorted`; ties (one in 2^64) go by visitor id.
    early: Vec<(u64, Uuid)>,
    early_members: HashSet<Uuid>,
    sorted: bool,
    early_rank: HashMap<Uuid, u64>,
    late: Vec<Uuid>,
    late_index: HashMap<Uuid, u64>,
}

impl Line {
    /// Adds a stored entry; a visitor already in line keeps the place they have.
    pub fn add(&mut self, visitor: Uuid, arrival: Arrival) {
        if self.contains(visitor) {
            return;
        }
        match arrival {
            Arrival::Early { draw } => {
                self.early_members.insert(visitor);
                self.early.push((draw, visitor));
                self.sorted = false;
            }
            Arrival::Late => {
                self.late_index.insert(visitor, self.late.len() as u64);
                self.late.push(visitor);
            }
        }
    }

    pub fn contains(&self, visitor: Uuid) -> bool {
        self.late_index.contains_key(&visitor) || self.early_members.contains(&visitor)
    }

    /// How many visitors are in line.
    pub fn visitors(&self) -> usize {
        self.early.len() + self.late.len()
    }

    /// The visitor's place (1 is first) at `now`; `None` when not in line, or an early arrival
    /// before the draw.
    pub fn position(
        &mut self,
        visitor: Uuid,
        on_sale_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        if let Some(i) = self.late_index.get(&visitor) {
            return Some(self.early.len() as u64 + i + 1);
        }
        if now < on_sale_at + DRAW_GRACE {
            return None;
        }
        if !self.sorted {
            self.early.sort_unstable();
            self.early_rank = self
                .early
                .iter()
                .enumerate()
                .map(|(i, (_, v))| (*v, i as u64 + 1))
                .collect();
            self.sorted = true;
        }
        self.early_rank.get(&visitor).copied()
    }
}

/// How many places are admitted at `now`: none before `onSaleAt`, then `per_minute` a minute.
pub fn admitted_so_far(on_sale_at: DateTime<Utc>, per_minute: u32, now: DateTime<Utc>) -> u64 {
    let elapsed_ms = (now - on_sale_at).num_milliseconds();
    if elapsed_ms <= 0 {
        return 0;
    }
    (elapsed_ms as u128 * u128::from(per_minute) / 60_000) as u64
}

/// When place `position` is admitted.
pub fn admitted_at(on_sale_at: DateTime<Utc>, per_minute: u32, position: u64) -> DateTime<Utc> {
    let per_minute = u128::from(per_minute.max(1));
    // The first millisecond at which admitted_so_far reaches `position`.
    let ms = (u128::from(position) * 60_000).div_ceil(per_minute);
    on_sale_at + Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2))
}

/// Seconds until place `position` is admitted, rounded up; 0 once it is.
pub fn wait_secs(
    on_sale_at: DateTime<Utc>,
    per_minute: u32,
    position: u64,
    now: DateTime<Utc>,
) -> u64 {
    let ms = (admitted_at(on_sale_at, per_minute, position) - now).num_milliseconds();
    if ms <= 0 {
        0
    } else {
        (ms as u64).div_ceil(1000)
    }
}

/// Whether an event's on-sale is over at `now`: it was cancelled, or it started (the moment
/// booking stops, see `booking::bookable`). Its queue then admits nobody to anything, so its
/// entries, settings and used passes are kept for nothing. A draft is not over: it may still
/// be published with its queue.
pub fn sale_over(status: EventStatus, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == EventStatus::Cancelled || starts_at <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sale_is_over_once_its_event_is_cancelled_or_has_started() {
        let starts = at(3600);
        assert!(!sale_over(EventStatus::Published, starts, at(0)));
        assert!(!sale_over(EventStatus::Draft, starts, at(0)));
        assert!(sale_over(EventStatus::Cancelled, starts, at(0)));
        assert!(sale_over(EventStatus::Published, starts, starts));
        assert!(sale_over(EventStatus::Published, starts, at(7200)));
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + secs, 0).unwrap()
    }

    fn visitor(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn early_arrivals_are_placed_by_their_draws_once_drawn_not_by_when_they_came() {
        // Given three early arrivals, the first with the highest draw
        let opens = at(0);
        let mut line = Line::default();
        line.add(visitor(1), arrival(at(-300), opens, 900));
        line.add(visitor(2), arrival(at(-200), opens, 100));
        line.add(visitor(3), arrival(at(-1), opens, 500));
        // When asked before the draw, then after it
        assert_eq!(line.position(visitor(1), opens, at(1)), None);
        let after = opens + DRAW_GRACE;
        // Then the places are the ranks of the draws
        assert_eq!(line.position(visitor(2), opens, after), Some(1));
        assert_eq!(line.position(visitor(3), opens, after), Some(2));
        assert_eq!(line.position(visitor(1), opens, after), Some(3));
    }

    #[test]
    fn late_arrivals_queue_behind_every_early_one_in_arrival_order() {
        let opens = at(0);
        let mut line = Line::default();
        line.add(visitor(10), arrival(at(5), opens, 1));
        line.add(visitor(1), arrival(at(-5), opens, 7));
        line.add(visitor(11), arrival(at(6), opens, 0));
        line.add(visitor(2), arrival(at(-4), opens, 3));
        // A late arrival knows its place at once, counting the early ones ahead.
        assert_eq!(line.position(visitor(10), opens, at(5)), Some(3));
        assert_eq!(line.position(visitor(11), opens, at(60)), Some(4));
        assert_eq!(line.position(visitor(2), opens, at(60)), Some(1));
        assert_eq!(line.visitors(), 4);
    }

    #[test]
    fn joining_again_keeps_the_first_place() {
        let opens = at(0);
        let mut line = Line::default();
        line.add(visitor(1), Arrival::Early { draw: 5 });
        line.add(visitor(2), Arrival::Early { draw: 9 });
        line.add(visitor(2), Arrival::Early { draw: 1 });
        line.add(visitor(1), Arrival::Late);
        assert_eq!(line.visitors(), 2);
        assert_eq!(line.position(visitor(2), opens, at(10)), Some(2));
        assert_eq!(line.position(visitor(3), opens, at(10)), None);
    }

    #[test]
    fn places_are_admitted_at_the_configured_rate_from_the_opening() {
        let opens = at(0);
        assert_eq!(admitted_so_far(opens, 60, at(-10)), 0);
        assert_eq!(admitted_so_far(opens, 60, at(0)), 0);
        assert_eq!(admitted_so_far(opens, 60, at(1)), 1);
        assert_eq!(admitted_so_far(opens, 60, at(90)), 90);
        assert_eq!(admitted_so_far(opens, 600, at(90)), 900);
        // Place p is admitted exactly when the count reaches it.
        for p in [1, 7, 59, 60, 61, 1_000] {
            let when = admitted_at(opens, 60, p);
            assert_eq!(admitted_so_far(opens, 60, when), p);
            assert_eq!(
                admitted_so_far(opens, 60, when - Duration::milliseconds(1)),
                p - 1
            );
        }
    }

    #[test]
    fn the_wait_counts_down_to_zero_at_admission() {
        let opens = at(0);
        assert_eq!(wait_secs(opens, 60, 30, at(-10)), 40);
        assert_eq!(wait_secs(opens, 60, 30, at(29)), 1);
        assert_eq!(wait_secs(opens, 60, 30, at(30)), 0);
        assert_eq!(wait_secs(opens, 60, 30, at(31)), 0);
        assert_eq!(wait_secs(opens, 120, 3, opens), 2);
    }
}
