//! Exact money. Amounts live as integer minor units (cents); JSON numbers are read from their
//! decimal text, never through f64 arithmetic, and written back as the shortest decimal
//! (`2550` minor units -> `25.5`). Every supported currency has two decimals.

use std::fmt;

/// The largest price accepted: 1,000,000.00.
pub const MAX_MINOR_UNITS: i64 = 100_000_000;

/// An ISO 4217 code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.trim().to_ascii_uppercase();
        match <[u8; 3]>::try_from(code.as_bytes()) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Currency(bytes)),
            _ => Err("expected a three-letter ISO 4217 code such as USD"),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter the price as a number, e.g. 25.50.")]
    Malformed,
    #[error("A price cannot be negative.")]
    Negative,
    #[error("A price can have at most two decimals.")]
    TooManyDecimals,
    #[error("A price can be at most 1000000.")]
    TooLarge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    minor_units: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor_units(minor_units: i64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    /// A price given as a JSON number, e.g. `25.5`.
    pub fn from_json(number: &serde_json::Number, currency: Currency) -> Result<Self, MoneyError> {
        Ok(Self::from_minor_units(
            parse_minor_units(&number.to_string())?,
            currency,
        ))
    }

    pub fn minor_units(&self) -> i64 {
        self.minor_units
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Always two decimals: `25.50`.
    pub fn decimal(&self) -> String {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The shortest JSON number with this value: `25.5`, `25`, `0.05`.
    pub fn to_json(&self) -> serde_json::Number {
        let text = self.decimal();
        let short = text.trim_end_matches('0').trim_end_matches('.');
        short
            .parse()
            .expect("a decimal with at most two fraction digits is a JSON number")
    }
}

/// Parses a non-negative decimal (`25`, `25.5`, `25.50`, `2.55e1`) into exact hundredths.
pub fn parse_minor_units(text: &str) -> Result<i64, MoneyError> {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => {
            let exp: i32 = unsigned[at + 1..]
                .parse()
                .map_err(|_| MoneyError::Malformed)?;
            (&unsigned[..at], exp)
        }
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(MoneyError::Malformed);
    }
    // value = digits * 10^-scale
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    if negative {
        return Err(MoneyError::Negative);
    }
    let trailing_zeros = (digits.len() - significant.len()) as i64;
    let scale = frac_part.len() as i64 - i64::from(exponent) - trailing_zeros;
    if scale > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    // minor units = significant * 10^(2 - scale)
    let shift = 2 - scale;
    if significant.len() as i64 + shift > 10 {
        return Err(MoneyError::TooLarge);
    }
    let minor = significant
        .parse::<i64>()
        .map_err(|_| MoneyError::TooLarge)?
        * 10_i64.pow(shift as u32);
    if minor > MAX_MINOR_UNITS {
        return Err(MoneyError::TooLarge);
    }
    Ok(minor)
}

impl Money {
    /// The amount as events carry it.
    pub fn to_price(&self) -> contracts::catalog::Price {
        contracts::catalog::Price {
            minor_units: self.minor_units,
            decimal: self.decimal(),
            currency: self.currency.to_string(),
        }
    }

    /// `self * n`, or `None` on overflow.
    pub fn times(&self, n: u32) -> Option<Money> {
        Some(Money::from_minor_units(
            self.minor_units.checked_mul(i64::from(n))?,
            self.currency,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_number(text: &str) -> serde_json::Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn decimal_text_is_parsed_into_exact_cents() {
        for (text, cents) in [
            ("0", 0),
            ("25", 2500),
            ("25.5", 2550),
            ("25.50", 2550),
            ("25.500", 2550),
            ("0.1", 10),
            ("0.07", 7),
            ("19.99", 1999),
            ("2.55e1", 2550),
            ("1E2", 10000),
            ("1000000", MAX_MINOR_UNITS),
            ("-0", 0),
        ] {
            assert_eq!(parse_minor_units(text), Ok(cents), "{text}");
        }
    }

    #[test]
    fn negative_overprecise_oversized_and_malformed_prices_are_rejected() {
        assert_eq!(parse_minor_units("-1"), Err(MoneyError::Negative));
        assert_eq!(
            parse_minor_units("25.555"),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(parse_minor_units("0.001"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_minor_units("1e-3"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_minor_units("1000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(parse_minor_units("1e300"), Err(MoneyError::TooLarge));
        assert_eq!(
            parse_minor_units("99999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        for bad in ["", ".", "abc", "1.2.3", "1e", "0x10", "1,5"] {
            assert_eq!(
                parse_minor_units(bad),
                Err(MoneyError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn json_numbers_are_read_without_float_rounding() {
        let usd = Currency::USD;
        // 0.1 + 0.2 style traps: each literal maps to its exact cents.
        assert_eq!(
            Money::from_json(&json_number("0.1"), usd)
                .unwrap()
                .minor_units(),
            10
        );
        assert_eq!(
            Money::from_json(&json_number("0.29"), usd)
                .unwrap()
                .minor_units(),
            29
        );
        assert_eq!(
            Money::from_json(&json_number("1.15"), usd)
                .unwrap()
                .minor_units(),
            115
        );
        assert_eq!(
            Money::from_json(&json_number("25"), usd)
                .unwrap()
                .minor_units(),
            2500
        );
        assert_eq!(
            Money::from_json(&json_number("25.505"), usd),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Money::from_json(&json_number("-5"), usd),
            Err(MoneyError::Negative)
        );
    }

    #[test]
    fn money_is_written_as_the_shortest_json_number() {
        let m = |c| Money::from_minor_units(c, Currency::USD);
        assert_eq!(serde_json::to_string(&m(2550).to_json()).unwrap(), "25.5");
        assert_eq!(serde_json::to_string(&m(2500).to_json()).unwrap(), "25");
        assert_eq!(serde_json::to_string(&m(5).to_json()).unwrap(), "0.05");
        assert_eq!(serde_json::to_string(&m(0).to_json()).unwrap(), "0");
        assert_eq!(serde_json::to_string(&m(1999).to_json()).unwrap(), "19.99");
        assert_eq!(m(2550).decimal(), "25.50");
        assert_eq!(m(7).decimal(), "0.07");
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert_eq!(Currency::parse(" eur ").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert!(Currency::parse("").is_err());
    }
}
