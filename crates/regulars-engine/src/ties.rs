//! Members in id order: the tie-break of rank-based bins (§3.3, `qcut(rank(method="first"))`
//! with ties broken by member id). The engine knows members by index only, so whoever holds the
//! ids lends them to every call that places members; value and fixed bins never ask.

use std::cmp::Ordering;

/// The ids of the engine's members, by index.
pub trait MemberIds: Sync {
    /// How member `a`'s id compares with member `b`'s (byte order of the text).
    fn cmp_ids(&self, a: u32, b: u32) -> Ordering;
    /// Member `member`'s id, for explanations.
    fn id(&self, member: u32) -> String;
}

/// Ids held in index order; panics on an index past the end, which would be a caller's bug.
impl<T: AsRef<str> + Sync> MemberIds for Vec<T> {
    fn cmp_ids(&self, a: u32, b: u32) -> Ordering {
        self[a as usize].as_ref().cmp(self[b as usize].as_ref())
    }

    fn id(&self, member: u32) -> String {
        self[member as usize].as_ref().to_owned()
    }
}

/// Members whose ids sort as their indexes do (a table built in id order, as generated data
/// is); an id is shown as `#index`.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexOrder;

impl MemberIds for IndexOrder {
    fn cmp_ids(&self, a: u32, b: u32) -> Ordering {
        a.cmp(&b)
    }

    fn id(&self, member: u32) -> String {
        format!("#{member}")
    }
}
