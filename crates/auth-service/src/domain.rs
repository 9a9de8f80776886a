//! Parsed inputs (a value of these types is valid by construction) and the account.

use std::fmt;

use serde::Serialize;
use validator::ValidateEmail;

/// An account, as stored and as clients see it (the password hash lives only in the store layer).
pub use api_types::auth::User;

/// A trimmed, lower-cased, syntactically valid e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Email is required.");
        }
        if email.len() > 254 || !email.validate_email() {
            return Err("Enter a valid email address.");
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Passwords people pick first; bundled so the check needs no network.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|common| common == lower)
}

/// A password of enough characters, not a well-known one, that bcrypt can hash without silently
/// truncating it.
pub struct Password(String);

impl Password {
    /// Counted in characters (a person's idea of length), not bytes.
    pub const MIN_CHARS: usize = 8;
    /// bcrypt ignores everything past 72 bytes.
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err("Password must be at least 8 characters.");
        }
        if raw.len() > Self::MAX_BYTES {
            return Err("Password must be at most 72 bytes (bcrypt's limit).");
        }
        if is_common(raw) {
            return Err("This password is too common; choose another.");
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A first or last name: 1 to 100 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err("This name is required."),
            1..=100 => Ok(PersonName(name.to_string())),
            _ => Err("This name must be at most 100 characters."),
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in ["", "   ", "ada", "ada@", "@example.com", "a b@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_password_needs_8_characters_and_at_most_72_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("1234567x").is_ok());
        assert!(Password::parse(&"x".repeat(72)).is_ok());
        let err = Password::parse(&"x".repeat(73)).unwrap_err();
        assert!(err.contains("72 bytes"));
        // 24 three-byte characters are 72 bytes; 25 are too many.
        assert!(Password::parse(&"€".repeat(24)).is_ok());
        assert!(Password::parse(&"€".repeat(25)).is_err());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // Two emoji are 8 bytes but two characters.
        let err = Password::parse("😀😀").unwrap_err();
        assert!(err.contains("8 characters"));
        assert!(
            Password::parse("ééééééé").is_err(),
            "7 characters, 14 bytes"
        );
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[test]
    fn the_most_common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password",
            "12345678",
            "Password1",
            "QWERTYUIOP",
            "iloveyou",
        ] {
            let err = Password::parse(common).unwrap_err();
            assert!(err.contains("too common"), "{common:?}: {err}");
        }
        assert!(Password::parse("correct-horse").is_ok());
    }

    #[test]
    fn a_name_is_trimmed_and_limited_to_100_characters() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().into_string(), "Ada");
        assert!(PersonName::parse("  ").is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert!(PersonName::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let p = Password::parse("hunter22hunter").unwrap();
        assert!(!format!("{p:?}").contains("hunter"));
    }
}
