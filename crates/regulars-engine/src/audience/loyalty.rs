//! The loyalty facts audiences read: each member's tier (as a rank among the brand's levels),
//! their points lots with what each has left, and their coupons neither used up nor voided.
//!
//! A member has few of these and they change together (a points operation, a coupon issued or
//! redeemed, a tier evaluated), so a change replaces the member's loyalty facts whole: the new
//! rows wait beside the shared columns until [`super::AudienceTable::compact`] folds them in.
//! Time moves them without a change: a lot counts from its first spendable day until it
//! expires, a coupon inside its days, both read against the evaluated day.

use std::collections::HashMap;

use crate::Day;

/// A member's loyalty as the builder and changes take it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceLoyalty {
    /// The tier's name, or `None` before the member is first evaluated (the lowest level).
    pub tier: Option<String>,
    /// Points lots with something left.
    pub lots: Vec<AudienceLot>,
    /// Coupons neither used up nor voided.
    pub coupons: Vec<AudienceCoupon>,
}

/// One lot of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudienceLot {
    /// The first day it may be spent (before it, the points are pending).
    pub available_on: Day,
    /// The first day it no longer counts, if it expires.
    pub expires_on: Option<Day>,
    /// The points it has left.
    pub remaining: i64,
}

/// One coupon not used up or voided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceCoupon {
    /// Its template's name.
    pub template: String,
    /// Its first day.
    pub valid_from: Day,
    /// Its last day.
    pub valid_until: Day,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LotRow {
    pub(crate) available_on: i32,
    /// `i32::MAX` when it does not expire.
    pub(crate) expires_on: i32,
    pub(crate) remaining: i64,
}

impl LotRow {
    pub(crate) fn of(lot: &AudienceLot) -> Self {
        Self {
            available_on: lot.available_on.0,
            expires_on: lot.expires_on.map_or(i32::MAX, |d| d.0),
            remaining: lot.remaining,
        }
    }

    /// May be spent on `day`.
    pub(crate) fn spendable(&self, day: i32) -> bool {
        self.available_on <= day && day < self.expires_on
    }

    /// Earned but not spendable yet on `day`.
    pub(crate) fn pending(&self, day: i32) -> bool {
        day < self.available_on && day < self.expires_on
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct CouponRow {
    pub(crate) template: u32,
    pub(crate) valid_from: i32,
    pub(crate) valid_until: i32,
}

impl CouponRow {
    /// Usable on `day`.
    pub(crate) fn usable(&self, day: i32) -> bool {
        self.valid_from <= day && day <= self.valid_until
    }
}

/// The rank of a member whose tier is not one of the brand's levels: no tier test holds.
pub(crate) const UNRANKED: u8 = u8::MAX;

/// Rows per member, member-major, with the rows of members changed since kept aside.
#[derive(Debug, Clone)]
pub(crate) struct Ragged<T> {
    start: Vec<u32>,
    rows: Vec<T>,
    changed: HashMap<u32, Vec<T>, foldhash::fast::FixedState>,
}

impl<T> Default for Ragged<T> {
    fn default() -> Self {
        Self {
            start: vec![0],
            rows: Vec::new(),
            changed: HashMap::default(),
        }
    }
}

impl<T: Copy> Ragged<T> {
    /// Appends the next member's rows.
    pub(crate) fn push(&mut self, rows: impl IntoIterator<Item = T>) {
        self.rows.extend(rows);
        self.start
            .push(u32::try_from(self.rows.len()).expect("fewer than 2^32 rows"));
    }

    /// Member `m`'s rows.
    pub(crate) fn get(&self, m: usize) -> &[T] {
        if !self.changed.is_empty()
            && let Some(rows) = self.changed.get(&(m as u32))
        {
            return rows;
        }
        &self.rows[self.start[m] as usize..self.start[m + 1] as usize]
    }

    /// Replaces member `m`'s rows.
    pub(crate) fn set(&mut self, m: usize, rows: Vec<T>) {
        self.changed.insert(m as u32, rows);
    }

    /// Folds the changed members' rows into the shared columns.
    pub(crate) fn compact(&mut self) {
        if self.changed.is_empty() {
            return;
        }
        let members = self.start.len() - 1;
        let mut start = Vec::with_capacity(self.start.len());
        let mut rows = Vec::with_capacity(self.rows.len() + self.changed.len());
        start.push(0);
        for m in 0..members {
            rows.extend_from_slice(self.get(m));
            start.push(u32::try_from(rows.len()).expect("fewer than 2^32 rows"));
        }
        self.start = start;
        self.rows = rows;
        self.changed = HashMap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::Ragged;

    #[test]
    fn a_changed_member_reads_their_new_rows_before_and_after_compaction() {
        let mut ragged: Ragged<u8> = Ragged::default();
        ragged.push([1, 2]);
        ragged.push([]);
        ragged.push([3]);
        ragged.set(1, vec![7, 8, 9]);
        ragged.set(0, vec![]);
        assert_eq!(
            (ragged.get(0), ragged.get(1), ragged.get(2)),
            (&[][..], &[7, 8, 9][..], &[3][..])
        );
        ragged.compact();
        assert!(ragged.changed.is_empty());
        assert_eq!(
            (ragged.get(0), ragged.get(1), ragged.get(2)),
            (&[][..], &[7, 8, 9][..], &[3][..])
        );
    }
}
