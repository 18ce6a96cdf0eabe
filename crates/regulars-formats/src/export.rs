//! What an audience export writes: the member columns a marketer picks, and the ad-audience
//! file ad platforms take for customer-match uploads (e-mails and phones normalised the way
//! each platform asks, then SHA-256 hashed, so no contact leaves in the clear).

use regulars_domain::{Email, MemberProfile, Phone};
use sha2::{Digest, Sha256};

macro_rules! columns {
    ($($variant:ident => $name:literal, $doc:literal;)+) => {
        /// A column of an audience export.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ExportColumn {
            $(#[doc = $doc] $variant,)+
        }

        impl ExportColumn {
            /// Every column, in the default order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The header name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }
    };
}

columns! {
    MemberId => "member_id", "The brand's id.";
    Name => "name", "The member's name.";
    Phone => "phone", "Phone, E.164.";
    Email => "email", "E-mail.";
    LineUserId => "line_user_id", "LINE user id.";
    Gender => "gender", "Gender.";
    Birthday => "birthday", "Birthday, YYYY-MM-DD.";
    Region => "region", "Region.";
    JoinedAt => "joined_at", "When they joined (RFC 3339).";
    HomeStore => "home_store", "Home store id.";
    Rfm => "rfm", "RFM segment now.";
    Rfm8 => "rfm8", "RFM-8 class now.";
    Nesl => "nesl", "NESL label now.";
    Rfim => "rfim", "RFIM segment now.";
    Lifecycle => "lifecycle", "Lifecycle stage now.";
}

impl ExportColumn {
    /// Columns from a comma-separated list of header names.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == name)
                    .ok_or_else(|| {
                        let known: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                        format!("`{name}` is not a column ({})", known.join(", "))
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|columns| {
                if columns.is_empty() {
                    Err("name at least one column".to_owned())
                } else {
                    Ok(columns)
                }
            })
    }

    /// Which model's segment the column holds, as its index in the models' column order
    /// (rfm, rfm8, nesl, rfim, lifecycle).
    pub fn model_index(self) -> Option<usize> {
        match self {
            Self::Rfm => Some(0),
            Self::Rfm8 => Some(1),
            Self::Nesl => Some(2),
            Self::Rfim => Some(3),
            Self::Lifecycle => Some(4),
            _ => None,
        }
    }

    /// The column's value for a profile (empty when unknown); model columns read `segments`.
    pub fn value(self, profile: &MemberProfile, segments: &[String; 5]) -> String {
        fn text<T: ToString>(value: Option<&T>) -> String {
            value.map(ToString::to_string).unwrap_or_default()
        }
        if let Some(at) = self.model_index() {
            return segments[at].clone();
        }
        match self {
            Self::MemberId => profile.member_id.to_string(),
            Self::Name => text(profile.name.as_ref()),
            Self::Phone => profile
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            Self::Email => profile
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            Self::LineUserId => profile
                .line_user_id
                .as_ref()
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            Self::Gender => profile
                .gender
                .map(|g| g.as_str().to_owned())
                .unwrap_or_default(),
            Self::Birthday => text(profile.birthday.as_ref()),
            Self::Region => text(profile.region.as_ref()),
            Self::JoinedAt => text(profile.joined_at.as_ref()),
            Self::HomeStore => text(profile.home_store.as_ref()),
            _ => unreachable!("model columns are read above"),
        }
    }
}

/// An ad platform's customer-match upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdPlatform {
    /// Google Ads Customer Match: columns `Email` and `Phone`; Gmail addresses without the
    /// dots before `@`; phones in E.164 with `+`.
    Google,
    /// Meta custom audiences: columns `email` and `phone`; phones as digits with the country
    /// code and no `+`.
    Meta,
}

impl AdPlatform {
    /// Reads `google` or `meta`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_lowercase().as_str() {
            "google" => Ok(Self::Google),
            "meta" | "facebook" => Ok(Self::Meta),
            other => Err(format!("`{other}` is not an ad platform (google or meta)")),
        }
    }

    /// The header row.
    pub fn header(self) -> [&'static str; 2] {
        match self {
            Self::Google => ["Email", "Phone"],
            Self::Meta => ["email", "phone"],
        }
    }

    /// An e-mail as the platform wants it before hashing: trimmed and lower-cased (and, for
    /// Google, a Gmail address without dots in its local part).
    pub fn normalise_email(self, email: &Email) -> String {
        let email = email.as_str().trim().to_lowercase();
        if self == Self::Google
            && let Some((local, domain)) = email.split_once('@')
            && matches!(domain, "gmail.com" | "googlemail.com")
        {
            return format!("{}@{domain}", local.replace('.', ""));
        }
        email
    }

    /// A phone (stored in E.164) as the platform wants it before hashing.
    pub fn normalise_phone(self, phone: &Phone) -> String {
        match self {
            Self::Google => phone.as_str().to_owned(),
            Self::Meta => phone.as_str().trim_start_matches('+').to_owned(),
        }
    }

    /// A member's row of hashed e-mail and phone (each empty when unknown), or none when the
    /// member has neither.
    pub fn row(self, profile: &MemberProfile) -> Option<[String; 2]> {
        if profile.email.is_none() && profile.phone.is_none() {
            return None;
        }
        Some([
            profile
                .email
                .as_ref()
                .map(|e| sha256_hex(&self.normalise_email(e)))
                .unwrap_or_default(),
            profile
                .phone
                .as_ref()
                .map(|p| sha256_hex(&self.normalise_phone(p)))
                .unwrap_or_default(),
        ])
    }
}

/// A header and rows as CSV (RFC 4180 quoting), with a UTF-8 byte-order mark so spreadsheet
/// programs read Chinese names right.
pub fn to_csv(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let written = std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .try_for_each(|row| writer.write_record(row));
    written.expect("writing CSV to memory cannot fail");
    writer.into_inner().expect("an in-memory CSV flushes")
}

/// The SHA-256 of `text` in lower-case hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use regulars_domain::MemberId;

    use super::*;

    #[test]
    fn sha256_matches_the_published_test_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn each_platform_normalises_contacts_its_own_way_before_hashing() {
        let email = Email::parse(" Mei.Lin@Gmail.com ").unwrap();
        let phone = Phone::parse("0912-345-678").unwrap();
        assert_eq!(
            AdPlatform::Google.normalise_email(&email),
            "meilin@gmail.com"
        );
        assert_eq!(
            AdPlatform::Meta.normalise_email(&email),
            "mei.lin@gmail.com"
        );
        assert_eq!(AdPlatform::Google.normalise_phone(&phone), "+886912345678");
        assert_eq!(AdPlatform::Meta.normalise_phone(&phone), "886912345678");
        let mut profile = MemberProfile::empty(MemberId::parse("M1").unwrap());
        assert_eq!(AdPlatform::Google.row(&profile), None);
        profile.phone = Some(phone);
        let row = AdPlatform::Meta.row(&profile).unwrap();
        assert_eq!(row[0], "");
        assert_eq!(row[1], sha256_hex("886912345678"));
    }

    #[test]
    fn csv_output_quotes_what_needs_quoting_after_a_byte_order_mark() {
        let csv = to_csv(
            &["member_id".to_owned(), "name".to_owned()],
            &[vec!["M1".to_owned(), "林, 小美".to_owned()]],
        );
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "\u{feff}member_id,name\nM1,\"林, 小美\"\n"
        );
    }

    #[test]
    fn a_column_list_is_read_by_header_name_and_an_unknown_one_is_named() {
        assert_eq!(
            ExportColumn::parse_list("member_id, email,nesl").unwrap(),
            [
                ExportColumn::MemberId,
                ExportColumn::Email,
                ExportColumn::Nesl
            ]
        );
        let error = ExportColumn::parse_list("member_id,shoe_size").unwrap_err();
        assert!(error.starts_with("`shoe_size` is not a column"), "{error}");
    }
}
