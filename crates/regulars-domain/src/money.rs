//! Money as an integer count of minor units with its ISO 4217 currency; never a float.

use std::fmt;

/// An ISO 4217 currency code, three uppercase ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// New Taiwan dollar, the default.
    pub const TWD: Self = Self(*b"TWD");

    /// Validates a currency code; lower case is accepted and upper-cased.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let bytes = value.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!("`{value}` is not a three-letter currency code"));
        }
        Ok(Self([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217).
    pub fn exponent(self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::TWD
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount already in minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Parses an amount written in major units (`123.45`, `1,200`, `-3`), refusing more decimal
    /// places than the currency has and anything that is not a plain decimal number.
    pub fn parse_major(value: &str, currency: Currency) -> Result<Self, String> {
        let text = value.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let digits: String = digits.chars().filter(|c| *c != ',').collect();
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (digits.as_str(), ""),
        };
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
            return Err(format!("`{text}` is not a number"));
        }
        let exponent = currency.exponent();
        if fraction.len() > exponent as usize {
            return Err(format!(
                "`{text}` has more than {exponent} decimal places for {currency}"
            ));
        }
        let scale = 10_i64.pow(exponent);
        let too_large = || format!("`{text}` is too large");
        let whole_value: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        let mut fraction_value: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| too_large())?
        };
        fraction_value *= 10_i64.pow(exponent - fraction.len() as u32);
        let minor = whole_value
            .checked_mul(scale)
            .and_then(|v| v.checked_add(fraction_value))
            .ok_or_else(too_large)?;
        Ok(Self::from_minor(
            if negative { -minor } else { minor },
            currency,
        ))
    }

    /// Like [`Money::parse_major`], refusing negative amounts.
    pub fn parse_major_non_negative(value: &str, currency: Currency) -> Result<Self, String> {
        let money = Self::parse_major(value, currency)?;
        if money.minor < 0 {
            return Err(format!("`{}` is negative", value.trim()));
        }
        Ok(money)
    }

    /// A non-negative amount already in minor units.
    pub fn non_negative_minor(minor: i64, currency: Currency) -> Result<Self, String> {
        if minor < 0 {
            return Err(format!("{minor} is negative"));
        }
        Ok(Self::from_minor(minor, currency))
    }

    /// The amount in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Major units with exactly the currency's decimals, without the code: `123.45`.
    pub fn to_major(&self) -> String {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exponent as usize
        )
    }
}

impl fmt::Display for Money {
    /// Major units with exactly the currency's decimals, then the code: `123.45 TWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn major_units_become_minor_units_by_the_currency_exponent() {
        let twd = Currency::TWD;
        assert_eq!(Money::parse_major("123.45", twd).unwrap().minor(), 12345);
        assert_eq!(Money::parse_major("123.4", twd).unwrap().minor(), 12340);
        assert_eq!(Money::parse_major("1,200", twd).unwrap().minor(), 120_000);
        assert_eq!(Money::parse_major(".5", twd).unwrap().minor(), 50);
        assert_eq!(Money::parse_major("-3", twd).unwrap().minor(), -300);
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse_major("500", jpy).unwrap().minor(), 500);
        assert!(Money::parse_major("500.5", jpy).is_err());
    }

    #[test]
    fn non_numbers_and_overflow_are_refused_with_a_reason() {
        let twd = Currency::TWD;
        assert_eq!(
            Money::parse_major("12a", twd).unwrap_err(),
            "`12a` is not a number"
        );
        assert!(Money::parse_major("", twd).is_err());
        assert!(Money::parse_major(".", twd).is_err());
        assert!(Money::parse_major("1.234", twd).is_err());
        assert!(Money::parse_major("99999999999999999999", twd).is_err());
        assert_eq!(
            Money::parse_major_non_negative("-1", twd).unwrap_err(),
            "`-1` is negative"
        );
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(minor in -10_000_000_000_i64..10_000_000_000) {
            let money = Money::from_minor(minor, Currency::TWD);
            let shown = money.to_string();
            let number = shown.trim_end_matches(" TWD");
            prop_assert_eq!(Money::parse_major(number, Currency::TWD).unwrap(), money);
        }

        #[test]
        fn parse_major_never_panics(text in ".{0,40}") {
            let _ = Money::parse_major(&text, Currency::TWD);
        }
    }
}
