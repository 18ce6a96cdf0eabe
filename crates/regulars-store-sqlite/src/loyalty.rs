//! Members' loyalty as audiences read it, on SQLite: tiers, lots with points left, active
//! coupons, for some members (a JSON array of ids) or everyone, from one snapshot.

use std::collections::BTreeMap;

use regulars_domain::{Lot, MemberId};
use regulars_store::{LoyaltyCoupon, MemberLoyalty};
use rusqlite::Connection;
use rusqlite::types::Value;

use crate::connections::DbResult;
use crate::points::lot_remaining;
use crate::saved::{date, parsed};

/// `AND column IN (the ids bound as `param`)` when there are ids, else nothing.
fn members_in(column: &str, ids: Option<&str>, param: &str) -> String {
    match ids {
        Some(_) => format!(" AND {column} IN (SELECT value FROM json_each({param}))"),
        None => String::new(),
    }
}

/// The loyalty of the members in `ids` (a JSON array), or everyone's, as of `from`.
pub(crate) fn loyalty_facts(
    conn: &Connection,
    ids: Option<&str>,
    from: &str,
) -> DbResult<Vec<(MemberId, MemberLoyalty)>> {
    let snapshot = conn.unchecked_transaction()?;
    let mut members: BTreeMap<String, MemberLoyalty> = BTreeMap::new();
    // The day binds as `?1` and the ids (when given) after it; a tier has no day.
    let ids_only: Vec<Value> = ids.map(|i| Value::Text(i.to_owned())).into_iter().collect();
    let with_day: Vec<Value> = std::iter::once(Value::Text(from.to_owned()))
        .chain(ids_only.iter().cloned())
        .collect();
    {
        let sql = format!(
            "SELECT member_id, tier FROM member_tiers WHERE TRUE{}",
            members_in("member_id", ids, "?1")
        );
        let mut statement = snapshot.prepare(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(&ids_only))?;
        while let Some(row) = rows.next()? {
            let tier: String = row.get(1)?;
            members.entry(row.get(0)?).or_default().tier = Some(tier);
        }
    }
    {
        let sql = format!(
            concat!(
                "SELECT member_id, seq, remaining, available_on, expires_on FROM (\
                 SELECT c.member_id, c.seq, ",
                lot_remaining!(),
                " AS remaining, c.available_on, c.expires_on FROM points_entries c \
                 WHERE c.points > 0 AND (c.expires_on IS NULL OR c.expires_on > ?1){}) \
                 WHERE remaining > 0 ORDER BY seq"
            ),
            members_in("c.member_id", ids, "?2")
        );
        let mut statement = snapshot.prepare(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(&with_day))?;
        while let Some(row) = rows.next()? {
            let available_on: String = row.get(3)?;
            let expires_on: Option<String> = row.get(4)?;
            let lot = Lot {
                seq: row.get(1)?,
                remaining: row.get(2)?,
                available_on: date(&available_on)?,
                expires_on: expires_on.as_deref().map(date).transpose()?,
            };
            members.entry(row.get(0)?).or_default().lots.push(lot);
        }
    }
    {
        let sql = format!(
            "SELECT member_id, template, valid_from, valid_until FROM coupons \
             WHERE status = 'active' AND valid_until >= ?1{} ORDER BY code",
            members_in("member_id", ids, "?2")
        );
        let mut statement = snapshot.prepare(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(&with_day))?;
        while let Some(row) = rows.next()? {
            let valid_from: String = row.get(2)?;
            let valid_until: String = row.get(3)?;
            let coupon = LoyaltyCoupon {
                template: row.get(1)?,
                valid_from: date(&valid_from)?,
                valid_until: date(&valid_until)?,
            };
            members.entry(row.get(0)?).or_default().coupons.push(coupon);
        }
    }
    snapshot.finish()?;
    members
        .into_iter()
        .map(|(id, loyalty)| Ok((parsed(MemberId::parse(&id))?, loyalty)))
        .collect()
}
