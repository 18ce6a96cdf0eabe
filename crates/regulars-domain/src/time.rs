//! Reading instants and civil dates as brands write them: RFC 3339 instants, local date-times
//! and bare dates, the local forms taken in a given time zone.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// Parses an instant: an RFC 3339 instant (`2024-03-01T09:30:00+08:00`, `…Z`), an instant with a
/// compact offset (`2024-03-01 09:30:00 +0800`, as Shopify writes them), a local date-time
/// (`2024-03-01 09:30`, `2024/03/01 09:30:00`) or a date (`2024-03-01`, the start of that day);
/// local forms are taken in `zone`.
pub fn parse_instant(value: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err("is empty".to_owned());
    }
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    let normalized = normalize_date_separators(text);
    if let Ok(instant) = normalized.parse::<Timestamp>() {
        return Ok(instant);
    }
    for format in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z"] {
        if let Ok(instant) =
            jiff::fmt::strtime::parse(format, &normalized).and_then(|parsed| parsed.to_timestamp())
        {
            return Ok(instant);
        }
    }
    let local = if let Ok(datetime) = normalized.parse::<DateTime>() {
        datetime
    } else if let Ok(date) = normalized.parse::<Date>() {
        date.to_datetime(jiff::civil::Time::midnight())
    } else {
        return Err(format!(
            "`{text}` is not a date or time (use 2024-03-01, 2024-03-01 09:30 or an RFC 3339 instant)"
        ));
    };
    local
        .to_zoned(zone.clone())
        .map(|zoned| zoned.timestamp())
        .map_err(|error| format!("`{text}` cannot be placed in the time zone: {error}"))
}

/// Parses a civil date (`2024-03-01` or `2024/03/01`).
pub fn parse_date(value: &str) -> Result<Date, String> {
    let text = value.trim();
    normalize_date_separators(text)
        .parse::<Date>()
        .map_err(|_| format!("`{text}` is not a date (use 2024-03-01)"))
}

/// `2024/3/1 9:30` → `2024-03-01 9:30`: slashes and one-digit months or days in the date part.
fn normalize_date_separators(text: &str) -> String {
    let (date_part, rest) = match text.find([' ', 'T']) {
        Some(idx) => text.split_at(idx),
        None => (text, ""),
    };
    if !date_part.contains('/') {
        return text.to_owned();
    }
    let pieces: Vec<&str> = date_part.split('/').collect();
    if pieces.len() != 3 {
        return text.to_owned();
    }
    format!("{}-{:0>2}-{:0>2}{rest}", pieces[0], pieces[1], pieces[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taipei() -> TimeZone {
        TimeZone::get("Asia/Taipei").unwrap()
    }

    #[test]
    fn every_written_form_names_the_same_instant() {
        let zone = taipei();
        let expected: Timestamp = "2024-03-01T01:30:00Z".parse().unwrap();
        for text in [
            "2024-03-01T09:30:00+08:00",
            "2024-03-01T01:30:00Z",
            "2024-03-01 09:30:00 +0800",
            "2024-03-01 09:30",
            "2024-03-01T09:30:00",
            "2024/03/01 09:30:00",
            "2024/3/1 09:30",
        ] {
            assert_eq!(parse_instant(text, &zone).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn a_bare_date_is_the_start_of_that_local_day() {
        let instant = parse_instant("2024-03-01", &taipei()).unwrap();
        assert_eq!(
            instant,
            "2024-02-29T16:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn nonsense_is_refused_with_the_forms_we_accept() {
        let error = parse_instant("yesterday", &taipei()).unwrap_err();
        assert!(error.contains("is not a date or time"), "{error}");
        assert!(parse_instant("2024-02-30", &taipei()).is_err());
        assert!(parse_date("2024-13-01").is_err());
        assert_eq!(parse_date("1990/7/4").unwrap().to_string(), "1990-07-04");
    }
}
