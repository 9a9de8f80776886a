//! Card data at the edge. A [`CardNumber`] is checked (digits, length, Luhn) while the full
//! number is in hand and then keeps only what may be stored: the last four digits, the brand and
//! whether it is one of the gateway's documented test cards. The CVC is checked and dropped.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

/// The scheme of a card is a word of the API; which digits mean which scheme is decided here.
pub use api_types::payments::CardBrand;

/// The scheme of a card number, from its leading digits (the IIN ranges the schemes publish).
fn brand_of(digits: &str) -> CardBrand {
    let prefix = |n: usize| -> u32 { digits[..n.min(digits.len())].parse().unwrap_or(0) };
    match (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6)) {
        (4, ..) => CardBrand::Visa,
        (_, 34 | 37, ..) => CardBrand::Amex,
        (_, 51..=55, ..) | (_, _, _, 2221..=2720, _) => CardBrand::Mastercard,
        (_, 65, ..) | (_, _, 644..=649, ..) | (_, _, _, 6011, _) => CardBrand::Discover,
        (_, 62, ..) => CardBrand::UnionPay,
        (_, _, _, 3528..=3589, _) => CardBrand::Jcb,
        (_, 36 | 38 | 39, ..) | (_, _, 300..=305, ..) => CardBrand::DinersClub,
        _ => CardBrand::Unknown,
    }
}

/// The simulated gateway's documented test cards (the numbers Stripe documents for the same
/// purpose), so tests and demos get a deterministic answer whatever the success rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestCard {
    /// `4242 4242 4242 4242`, `5555 5555 5555 4444`: always approved.
    AlwaysApproved,
    /// `4000 0000 0000 0002`: always declined (`card_declined`).
    AlwaysDeclined,
    /// `4000 0000 0000 9995`: always declined (`insufficient_funds`).
    InsufficientFunds,
}

impl TestCard {
    fn of(digits: &str) -> Option<TestCard> {
        match digits {
            "4242424242424242" | "5555555555554444" => Some(TestCard::AlwaysApproved),
            "4000000000000002" => Some(TestCard::AlwaysDeclined),
            "4000000000009995" => Some(TestCard::InsufficientFunds),
            _ => None,
        }
    }
}

/// A valid card number reduced to what may be kept. There is no way to get the full number back.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    last4: String,
    brand: CardBrand,
    test: Option<TestCard>,
}

impl CardNumber {
    /// Spaces and dashes between digit groups are allowed.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty() {
            return Err("Enter the card number.");
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("A card number has digits only.");
        }
        if !(12..=19).contains(&digits.len()) {
            return Err("A card number has 12 to 19 digits.");
        }
        if !luhn_valid(&digits) {
            return Err("This card number is not valid; check it for typing mistakes.");
        }
        Ok(Self {
            last4: digits[digits.len() - 4..].to_string(),
            brand: brand_of(&digits),
            test: TestCard::of(&digits),
        })
    }

    pub fn last4(&self) -> &str {
        &self.last4
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    pub fn test_card(&self) -> Option<TestCard> {
        self.test
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({} ****{})", self.brand, self.last4)
    }
}

/// The Luhn (mod 10) check digit test every card number passes.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The last month a card is valid in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u32,
    pub year: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryError {
    Month(&'static str),
    Year(&'static str),
}

impl Expiry {
    /// `year` may have two digits (`29` is 2029). A card is valid through the end of its expiry
    /// month, so it is expired only once that month is over.
    pub fn parse(month: u32, year: i32, now: DateTime<Utc>) -> Result<Self, ExpiryError> {
        if !(1..=12).contains(&month) {
            return Err(ExpiryError::Month("The expiry month is 1 to 12."));
        }
        let year = match year {
            0..=99 => 2000 + year,
            1000..=9999 => year,
            _ => return Err(ExpiryError::Year("Enter the expiry year, e.g. 2029.")),
        };
        if (year, month) < (now.year(), now.month()) {
            return Err(ExpiryError::Year("This card has expired."));
        }
        if year > now.year() + 20 {
            return Err(ExpiryError::Year(
                "This expiry year is too far in the future.",
            ));
        }
        Ok(Self { month, year })
    }
}

/// Checks a card verification code: 3 or 4 digits. It is never kept.
pub fn check_cvc(raw: &str) -> Result<(), &'static str> {
    let cvc = raw.trim();
    if cvc.is_empty() {
        return Err("Enter the security code (CVC).");
    }
    if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err("The security code (CVC) has 3 or 4 digits.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i32, month: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(year, month, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn valid_numbers_pass_the_luhn_check_and_typos_do_not() {
        for ok in [
            "4242424242424242",
            "4000000000000002",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "79927398713",
        ] {
            assert!(luhn_valid(ok), "{ok}");
        }
        for bad in ["4242424242424241", "4000000000000001", "79927398710"] {
            assert!(!luhn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn a_card_number_keeps_only_its_last_four_digits_and_brand() {
        let card = CardNumber::parse("4242 4242-4242 4242").unwrap();
        assert_eq!(card.last4(), "4242");
        assert_eq!(card.brand(), CardBrand::Visa);
        assert_eq!(card.test_card(), Some(TestCard::AlwaysApproved));
        let debug = format!("{card:?}");
        assert!(!debug.contains("42424242"), "{debug}");
    }

    #[test]
    fn brands_are_recognised_from_the_leading_digits() {
        for (number, brand) in [
            ("4111111111111111", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2223003122003222", CardBrand::Mastercard),
            ("378282246310005", CardBrand::Amex),
            ("6011111111111117", CardBrand::Discover),
            ("3566002020360505", CardBrand::Jcb),
            ("30569309025904", CardBrand::DinersClub),
            ("6200000000000005", CardBrand::UnionPay),
        ] {
            assert_eq!(
                CardNumber::parse(number).unwrap().brand(),
                brand,
                "{number}"
            );
        }
    }

    #[test]
    fn malformed_card_numbers_are_refused_with_a_reason() {
        assert!(CardNumber::parse("").is_err());
        assert!(CardNumber::parse("4242abcd42424242").is_err());
        assert!(CardNumber::parse("42424242").is_err());
        assert!(CardNumber::parse("4242424242424241").is_err());
    }

    #[test]
    fn a_card_is_valid_through_the_end_of_its_expiry_month() {
        let now = at(2030, 6);
        assert!(Expiry::parse(6, 2030, now).is_ok());
        assert!(Expiry::parse(6, 30, now).is_ok());
        assert!(Expiry::parse(1, 2031, now).is_ok());
        assert_eq!(
            Expiry::parse(5, 2030, now),
            Err(ExpiryError::Year("This card has expired."))
        );
        assert!(matches!(
            Expiry::parse(13, 2031, now),
            Err(ExpiryError::Month(_))
        ));
        assert!(matches!(
            Expiry::parse(0, 2031, now),
            Err(ExpiryError::Month(_))
        ));
        assert!(matches!(
            Expiry::parse(1, 2099, now),
            Err(ExpiryError::Year(_))
        ));
    }

    #[test]
    fn a_cvc_has_three_or_four_digits() {
        assert!(check_cvc("123").is_ok());
        assert!(check_cvc("1234").is_ok());
        for bad in ["", "12", "12345", "12a", "1 3"] {
            assert!(check_cvc(bad).is_err(), "{bad:?}");
        }
    }
}
