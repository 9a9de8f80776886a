//! An event's check-in staff: the people (by email) its organizer named to scan tickets at the
//! door. The rules are pure; the store keeps the list with a version, written back only while
//! the version is the one read, together with `catalog.events.staff_changed` carrying the whole
//! new list. The ticket service keeps the newest list it heard of and lets a signed-in user whose
//! email is on it scan, see the bundle and the attendee list (never revenue nor refunds).
//!
//! Emails are compared lower-cased: the session's email (as the auth service verifies it) is the
//! one compared, so staff need an account with that email, made before or after being named.

use chrono::{DateTime, Utc};
use platform::FieldErrors;
use validator::ValidateEmail;

/// Most people an event may name.
pub const MAX_STAFF: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEntry {
    /// Lower-cased.
    pub email: String,
    pub added_at: DateTime<Utc>,
}

/// The event's list and its version: 0 before anyone was named, then one more per change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub version: u64,
    pub members: Vec<StaffEntry>,
}

impl Roster {
    pub fn emails(&self) -> Vec<String> {
        self.members.iter().map(|m| m.email.clone()).collect()
    }
}

/// Why a change of the list is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRefusal {
    /// The list has [`MAX_STAFF`] people already.
    Full,
    /// Removing someone who is not on the list.
    NotOnList,
}

/// The email as stored and compared: trimmed and lower-cased; a field error if it is none.
pub fn email(raw: &str) -> Result<String, FieldErrors> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || !email.validate_email() {
        let mut fields = FieldErrors::new();
        fields
            .entry("email".into())
            .or_default()
            .push("A valid email address.".into());
        return Err(fields);
    }
    Ok(email)
}

/// The list with `email` added at `now`, or `None` when it is on the list already (nothing to
/// change).
pub fn add(
    roster: &Roster,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<Roster>, StaffRefusal> {
    if roster.members.iter().any(|m| m.email == email) {
        return Ok(None);
    }
    if roster.members.len() >= MAX_STAFF {
        return Err(StaffRefusal::Full);
    }
    let mut next = roster.clone();
    next.version += 1;
    next.members.push(StaffEntry {
        email: email.to_string(),
        added_at: now,
    });
    Ok(Some(next))
}

/// The list without `email`.
pub fn remove(roster: &Roster, email: &str) -> Result<Roster, StaffRefusal> {
    if !roster.members.iter().any(|m| m.email == email) {
        return Err(StaffRefusal::NotOnList);
    }
    let mut next = roster.clone();
    next.version += 1;
    next.members.retain(|m| m.email != email);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased_and_anything_else_is_refused() {
        assert_eq!(email("  Door@Example.ORG ").unwrap(), "door@example.org");
        assert!(email("not an email").unwrap_err().contains_key("email"));
    }

    #[test]
    fn given_an_empty_list_when_someone_is_added_twice_then_the_second_changes_nothing() {
        let one = add(&Roster::default(), "a@x.org", now()).unwrap().unwrap();
        assert_eq!(
            (one.version, one.emails()),
            (1, vec!["a@x.org".to_string()])
        );
        assert_eq!(add(&one, "a@x.org", now()), Ok(None));
    }

    #[test]
    fn given_a_full_list_when_one_more_is_added_then_it_is_refused() {
        let mut roster = Roster::default();
        for i in 0..MAX_STAFF {
            roster = add(&roster, &format!("p{i}@x.org"), now())
                .unwrap()
                .unwrap();
        }
        assert_eq!(add(&roster, "late@x.org", now()), Err(StaffRefusal::Full));
    }

    #[test]
    fn given_a_list_when_someone_is_removed_then_the_version_grows_and_an_unknown_one_is_refused() {
        let roster = add(&Roster::default(), "a@x.org", now()).unwrap().unwrap();
        let removed = remove(&roster, "a@x.org").unwrap();
        assert_eq!((removed.version, removed.members.len()), (2, 0));
        assert_eq!(remove(&removed, "a@x.org"), Err(StaffRefusal::NotOnList));
    }
}
