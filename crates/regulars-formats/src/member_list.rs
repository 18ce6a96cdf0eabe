//! The member-list CSV (`docs/import-format.md`): members named one per row by `member_id`,
//! `phone` or `email`, for static audiences and batches of manual tags.

use std::io::Read;

use regulars_domain::{Email, MemberId, MemberList, Phone};

/// Why a list cannot be read: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {field}: {reason}")]
pub struct MemberListError {
    /// The line, from 1.
    pub line: u64,
    /// The column (`member_id`, `phone`, `email`, or `file` when the CSV itself is broken).
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

/// The columns a list names members by, in the order a row's first non-empty one is taken.
const COLUMNS: [&str; 3] = ["member_id", "phone", "email"];

/// Reads a member list. With a header row naming `member_id`, `phone` or `email` (other columns
/// are ignored), each row names its member by the first of those columns it fills; without one,
/// the first column of every row is a member id. Empty rows are skipped and a byte-order mark is
/// allowed; the first bad value stops the reading.
pub fn read_member_list(reader: impl Read) -> Result<MemberList, MemberListError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    // Which record column holds each of COLUMNS; headerless files use the first as ids.
    let mut columns: [Option<usize>; 3] = [Some(0), None, None];
    let mut list = MemberList::default();
    for (at, record) in reader.records().enumerate() {
        let line = at as u64 + 1;
        let record = record.map_err(|e| MemberListError {
            line,
            field: "file",
            reason: e.to_string(),
        })?;
        if at == 0 {
            let header: Vec<String> = record
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
                .collect();
            let named = COLUMNS.map(|name| header.iter().position(|h| h == name));
            if named.iter().any(Option::is_some) {
                columns = named;
                continue;
            }
        }
        let filled = COLUMNS.iter().zip(columns).find_map(|(name, column)| {
            let value = record.get(column?)?.trim_start_matches('\u{feff}').trim();
            (!value.is_empty()).then_some((*name, value))
        });
        let Some((field, value)) = filled else {
            continue;
        };
        let refused = |reason: String| MemberListError {
            line,
            field,
            reason,
        };
        match field {
            "member_id" => list.ids.push(MemberId::parse(value).map_err(refused)?),
            "phone" => list.phones.push(Phone::parse(value).map_err(refused)?),
            _ => list.emails.push(Email::parse(value).map_err(refused)?),
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<MemberList, MemberListError> {
        read_member_list(text.as_bytes())
    }

    #[test]
    fn a_headerless_file_names_members_by_id_in_its_first_column() {
        let list = read("\u{feff}M1,anything\n\nM2\n").unwrap();
        assert_eq!(
            list,
            MemberList {
                ids: vec![
                    MemberId::parse("M1").unwrap(),
                    MemberId::parse("M2").unwrap()
                ],
                ..MemberList::default()
            }
        );
    }

    #[test]
    fn each_row_names_its_member_by_the_first_of_id_phone_and_email_it_fills() {
        let list =
            read("Name,Email,Phone,member_id\nAmy,amy@example.com,0912-345-678,\nBo,BO@example.com,,\nCai,,,M3\n")
                .unwrap();
        assert_eq!(list.ids, [MemberId::parse("M3").unwrap()]);
        assert_eq!(list.phones, [Phone::parse("+886912345678").unwrap()]);
        assert_eq!(list.emails, [Email::parse("bo@example.com").unwrap()]);
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let error = read("email\nok@example.com\nnot an address\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(error.field, "email");
        assert_eq!(
            error.to_string(),
            "line 3: email: `not an address` is not an e-mail address"
        );
    }
}
