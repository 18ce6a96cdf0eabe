//! The API's routes, one module per resource.

mod audiences;
mod coupons;
mod facts;
mod members;
mod points;
mod referrals;
mod segments;
mod system;
mod tiers;
mod wallet;

pub(crate) use audiences::routes as audiences;
pub(crate) use coupons::routes as coupons;
pub(crate) use facts::routes as facts;
pub(crate) use members::routes as members;
pub(crate) use points::routes as points;
pub use points::{expiring_view, warning_view};
pub(crate) use referrals::routes as referrals;
pub(crate) use segments::routes as segments;
pub(crate) use system::{metrics, routes as system};
pub use tiers::member_tier_view;
pub(crate) use tiers::routes as tiers;
pub(crate) use wallet::routes as wallet;
pub use wallet::wallet_view;

/// A member id from a path: one that cannot be an id names no member (`not_found`).
pub(crate) fn member_in_path(text: &str) -> Result<regulars_domain::MemberId, crate::ApiError> {
    regulars_domain::MemberId::parse(text).map_err(|_| member_not_found(text))
}

/// `not_found` for a member.
pub(crate) fn member_not_found(id: &str) -> crate::ApiError {
    crate::ApiError::new(
        regulars_api_types::ErrorCode::NotFound,
        format!("member {id} not found"),
    )
}

/// One page of member ids sorted by id: up to `limit` after `after`, and the id to pass as
/// `after` for the next page (none on the last).
pub(crate) fn page_of<T: AsRef<str> + ToString>(
    ids: &[T],
    after: Option<&str>,
    limit: usize,
) -> (Vec<String>, Option<String>) {
    let start = after.map_or(0, |after| ids.partition_point(|id| id.as_ref() <= after));
    let page: Vec<String> = ids[start..]
        .iter()
        .take(limit)
        .map(ToString::to_string)
        .collect();
    let next_after = (start + page.len() < ids.len())
        .then(|| page.last().cloned())
        .flatten();
    (page, next_after)
}
