//! The brand's own identifiers for its facts, validated once: 1 to 64 characters, trimmed,
//! no control characters.

use std::fmt;

/// The longest identifier we accept, in characters.
const MAX_ID_CHARS: usize = 64;

fn validate_id(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("is empty".to_owned());
    }
    if trimmed.chars().count() > MAX_ID_CHARS {
        return Err(format!("longer than {MAX_ID_CHARS} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("contains control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

macro_rules! external_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates an identifier as the brand sent it.
            pub fn parse(value: &str) -> Result<Self, String> {
                validate_id(value).map(Self)
            }

            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

external_id!(
    /// A member's id in the brand's own systems.
    MemberId
);
external_id!(
    /// A store's (or online shop's) id.
    StoreId
);
external_id!(
    /// An order's id.
    OrderId
);
external_id!(
    /// A return's id.
    ReturnId
);
external_id!(
    /// An interaction's id; derived from its content when the source has none.
    InteractionId
);
external_id!(
    /// A behaviour event's id; derived from its content when the source has none.
    EventId
);
external_id!(
    /// A product's stock-keeping unit.
    Sku
);

/// A stable id for a fact that came without one: `prefix` and a 64-bit FNV-1a hash of its
/// canonical fields, so sending the same fact again yields the same id.
pub fn derived_id(prefix: &str, parts: &[&str]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{prefix}{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_trimmed_and_bounded() {
        assert_eq!(MemberId::parse("  M001 ").unwrap().as_str(), "M001");
        assert_eq!(MemberId::parse("   ").unwrap_err(), "is empty");
        assert!(MemberId::parse(&"x".repeat(65)).is_err());
        assert!(OrderId::parse("a\u{0}b").is_err());
    }

    #[test]
    fn derived_ids_depend_only_on_their_parts() {
        let a = derived_id("i_", &["M1", "2024-01-01T00:00:00Z", "line"]);
        assert_eq!(a, derived_id("i_", &["M1", "2024-01-01T00:00:00Z", "line"]));
        assert_ne!(a, derived_id("i_", &["M1", "2024-01-01T00:00:00Z", "web"]));
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(derived_id("", &["ab", "c"]), derived_id("", &["a", "bc"]));
    }
}
