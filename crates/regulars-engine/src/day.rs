//! Civil days as small integers: the engine's unit of time.

use jiff::civil::Date;

/// A civil date in the brand's zone as a count of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

const EPOCH: Date = Date::constant(1970, 1, 1);

impl Day {
    /// The day of a civil date.
    pub fn from_date(date: Date) -> Self {
        Self((date - EPOCH).get_days())
    }

    /// The civil date of this day.
    pub fn to_date(self) -> Date {
        EPOCH
            .checked_add(jiff::Span::new().days(i64::from(self.0)))
            .unwrap_or(EPOCH)
    }

    /// Days from `earlier` to `self`.
    pub fn since(self, earlier: Self) -> i32 {
        self.0 - earlier.0
    }

    /// The first day of the `n`-day window ending on `self` (`[self − (n−1), self]`).
    pub fn window_start(self, n: i32) -> Self {
        Self(self.0 - (n - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_dates() {
        let date = Date::constant(2026, 11, 22);
        assert_eq!(Day::from_date(date).to_date(), date);
        assert_eq!(Day::from_date(Date::constant(1970, 1, 2)), Day(1));
        assert_eq!(Day(10).window_start(365), Day(-354));
    }
}
