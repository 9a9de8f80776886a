//! Throttling of password guesses and sign-ups: the rule is pure ([`Window`]); [`Throttle`] only
//! keeps one window per key (an account's email or a client address) in memory.
//!
//! In memory, per process, by choice: a restart forgets the counts and each auth instance counts
//! on its own, which bounds guessing to `limit x instances` per window. It needs no store round
//! trip on the hot path and cannot fill a database with attacker-chosen keys; windows that are
//! over are dropped as the map grows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per `window`, counted from the first event of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    /// A limit nobody reaches (tests that sign up thousands of buyers from one address).
    pub const NONE: Limit = Limit {
        max: u32::MAX,
        window: Duration::from_secs(1),
    };
}

/// What a throttle says about the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused until the window ends, `retry_after` from now.
    Refused {
        retry_after: Duration,
    },
}

/// The events counted for one key since `started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub started: Instant,
    pub count: u32,
}

impl Window {
    fn is_over(&self, limit: Limit, now: Instant) -> bool {
        now >= self.started + limit.window
    }

    /// May one more attempt go ahead?
    pub fn verdict(window: Option<&Window>, limit: Limit, now: Instant) -> Verdict {
        match window {
            Some(w) if !w.is_over(limit, now) && w.count >= limit.max => Verdict::Refused {
                retry_after: w.started + limit.window - now,
            },
            _ => Verdict::Allowed,
        }
    }

    /// The window after one more event: a window that is over starts afresh.
    pub fn record(window: Option<Window>, limit: Limit, now: Instant) -> Window {
        match window {
            Some(w) if !w.is_over(limit, now) => Window {
                count: w.count.saturating_add(1),
                ..w
            },
            _ => Window {
                started: now,
                count: 1,
            },
        }
    }
}

/// Windows kept before the ones that are over get swept.
const SWEEP_ABOVE: usize = 10_000;

/// One limit, one window per key.
#[derive(Debug)]
pub struct Throttle {
    limit: Limit,
    windows: Mutex<HashMap<String, Window>>,
}

impl Throttle {
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, key: &str) -> Verdict {
        let windows = self.windows.lock().expect("throttle lock");
        Window::verdict(windows.get(key), self.limit, Instant::now())
    }

    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("throttle lock");
        if windows.len() >= SWEEP_ABOVE {
            let limit = self.limit;
            windows.retain(|_, w| !w.is_over(limit, now));
        }
        let next = Window::record(windows.get(key).copied(), self.limit, now);
        windows.insert(key.to_string(), next);
    }

    /// Forgets `key` (an account that signed in successfully).
    pub fn clear(&self, key: &str) {
        self.windows.lock().expect("throttle lock").remove(key);
    }
}

/// The first refusal among `verdicts`, with the longest wait.
pub fn strictest(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts
        .into_iter()
        .fold(Verdict::Allowed, |acc, v| match (acc, v) {
            (Verdict::Allowed, v) => v,
            (a, Verdict::Allowed) => a,
            (Verdict::Refused { retry_after: a }, Verdict::Refused { retry_after: b }) => {
                Verdict::Refused {
                    retry_after: a.max(b),
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        max: 3,
        window: Duration::from_secs(900),
    };

    fn after(n: u32, start: Instant) -> Option<Window> {
        (0..n).fold(None, |w, _| Some(Window::record(w, LIMIT, start)))
    }

    #[test]
    fn attempts_below_the_limit_are_allowed() {
        let t0 = Instant::now();
        let w = after(2, t0);
        assert_eq!(Window::verdict(w.as_ref(), LIMIT, t0), Verdict::Allowed);
        assert_eq!(Window::verdict(None, LIMIT, t0), Verdict::Allowed);
    }

    #[test]
    fn the_attempt_after_the_limit_is_refused_until_the_window_ends() {
        let t0 = Instant::now();
        let w = after(3, t0);
        let later = t0 + Duration::from_secs(100);
        assert_eq!(
            Window::verdict(w.as_ref(), LIMIT, later),
            Verdict::Refused {
                retry_after: Duration::from_secs(800)
            }
        );
    }

    #[test]
    fn once_the_window_is_over_attempts_are_allowed_and_counted_afresh() {
        let t0 = Instant::now();
        let w = after(3, t0);
        let end = t0 + LIMIT.window;
        assert_eq!(Window::verdict(w.as_ref(), LIMIT, end), Verdict::Allowed);
        assert_eq!(Window::record(w, LIMIT, end).count, 1);
        assert_eq!(Window::record(w, LIMIT, end).started, end);
    }

    #[test]
    fn the_strictest_verdict_wins() {
        let refused = |s| Verdict::Refused {
            retry_after: Duration::from_secs(s),
        };
        assert_eq!(
            strictest([Verdict::Allowed, Verdict::Allowed]),
            Verdict::Allowed
        );
        assert_eq!(strictest([Verdict::Allowed, refused(5)]), refused(5));
        assert_eq!(strictest([refused(9), refused(5)]), refused(9));
    }

    #[test]
    fn a_cleared_key_starts_again_and_other_keys_are_untouched() {
        let throttle = Throttle::new(Limit {
            max: 1,
            window: Duration::from_secs(60),
        });
        throttle.record("a");
        throttle.record("b");
        assert!(matches!(throttle.check("a"), Verdict::Refused { .. }));
        throttle.clear("a");
        assert_eq!(throttle.check("a"), Verdict::Allowed);
        assert!(matches!(throttle.check("b"), Verdict::Refused { .. }));
    }
}
