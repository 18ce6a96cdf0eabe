//! Contact points: phone numbers normalised to E.164 (Taiwanese local forms understood),
//! e-mail addresses and LINE user ids.

use std::fmt;

/// A phone number in E.164 form (`+886912345678`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Normalises a phone number. Taiwanese local forms (`0912-345-678`, `(02) 2345-6789`,
    /// `886912345678`) become `+886…`; other countries must be written with `+` and their code.
    pub fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim();
        let has_plus = text.starts_with('+');
        let mut digits = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' | '+' => {}
                _ => return Err(format!("`{text}` is not a phone number")),
            }
        }
        if text.matches('+').count() > usize::from(has_plus) || (has_plus && !text.starts_with('+'))
        {
            return Err(format!("`{text}` is not a phone number"));
        }
        let e164 = if has_plus {
            digits
        } else if let Some(national) = digits.strip_prefix('0') {
            if national.starts_with('0') {
                return Err(format!(
                    "`{text}` has an international prefix; write it as +<country code>…"
                ));
            }
            format!("886{national}")
        } else if digits.starts_with("886") {
            digits
        } else {
            return Err(format!(
                "`{text}` has no country code (write +<country code>… or a Taiwanese number starting with 0)"
            ));
        };
        if let Some(national) = e164.strip_prefix("886") {
            let national = national.strip_prefix('0').unwrap_or(national);
            let valid = match national.as_bytes().first() {
                // Mobile: 09xx-xxx-xxx, nine digits after the trunk 0.
                Some(b'9') => national.len() == 9,
                // Landlines: area code and number, eight or nine digits after the trunk 0.
                Some(b'2'..=b'8') => (8..=9).contains(&national.len()),
                _ => false,
            };
            if !valid {
                return Err(format!("`{text}` is not a valid Taiwanese number"));
            }
            return Ok(Self(format!("+886{national}")));
        }
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(format!("`{text}` is not a valid international number"));
        }
        Ok(Self(format!("+{e164}")))
    }

    /// The E.164 text, with its leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, trimmed and lower-cased, with a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates the address's shape (one `@`, a dotted domain, no spaces, at most 254 characters).
    pub fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim().to_lowercase();
        let invalid = || format!("`{}` is not an e-mail address", value.trim());
        if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(invalid());
        }
        Ok(Self(text))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A LINE user id as the Messaging API gives it: `U` and 32 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineUserId(String);

impl LineUserId {
    /// Validates a LINE user id.
    pub fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim();
        let valid = text.len() == 33
            && text.starts_with('U')
            && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(format!(
                "`{text}` is not a LINE user id (U followed by 32 hexadecimal digits)"
            ));
        }
        Ok(Self(format!("U{}", text[1..].to_ascii_lowercase())))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn taiwanese_local_forms_become_e164() {
        for text in [
            "0912-345-678",
            "0912345678",
            "0912 345 678",
            "+886 912 345 678",
            "+886-0912-345-678",
            "886912345678",
        ] {
            assert_eq!(
                Phone::parse(text).unwrap().as_str(),
                "+886912345678",
                "{text}"
            );
        }
        assert_eq!(
            Phone::parse("(02) 2345-6789").unwrap().as_str(),
            "+886223456789"
        );
        assert_eq!(
            Phone::parse("07-123-4567").unwrap().as_str(),
            "+88671234567"
        );
    }

    #[test]
    fn other_countries_need_their_code() {
        assert_eq!(
            Phone::parse("+81 90-1234-5678").unwrap().as_str(),
            "+819012345678"
        );
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("0912-345").is_err());
        assert!(Phone::parse("phone").is_err());
        assert!(Phone::parse("00886912345678").is_err());
        assert!(Phone::parse("09+12345678").is_err());
    }

    #[test]
    fn emails_are_lowercased_and_shape_checked() {
        assert_eq!(
            Email::parse(" Amy@Example.COM ").unwrap().as_str(),
            "amy@example.com"
        );
        for bad in [
            "amy", "amy@", "@x.tw", "a@b", "a b@c.tw", "a@@c.tw", "a@c..tw",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn line_user_ids_have_their_fixed_shape() {
        let id = "U4af4980629e2d4d6a5a1b2c3d4e5f6a7";
        assert_eq!(LineUserId::parse(id).unwrap().as_str(), id);
        assert!(LineUserId::parse("U123").is_err());
    }

    proptest! {
        #[test]
        fn phone_parsing_never_panics_and_yields_e164(text in "[0-9 +()\\-]{0,24}") {
            if let Ok(phone) = Phone::parse(&text) {
                prop_assert!(phone.as_str().starts_with('+'));
                prop_assert!(phone.as_str()[1..].bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
