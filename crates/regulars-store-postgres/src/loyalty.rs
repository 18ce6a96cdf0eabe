//! Members' loyalty as audiences read it, on PostgreSQL: tiers, lots with points left, active
//! coupons, for some members (a JSON array of ids) or everyone, from one snapshot.

use std::collections::BTreeMap;

use regulars_domain::{Lot, MemberId};
use regulars_store::{LoyaltyCoupon, MemberLoyalty, StoreResult};
use sqlx::{PgPool, Row as _};

use crate::db_error;
use crate::points::lot_remaining;
use crate::saved::{date, parsed};

/// `AND column IN (the ids bound as `param`)` when there are ids, else nothing.
fn members_in(column: &str, ids: Option<&str>, param: &str) -> String {
    match ids {
        Some(_) => format!(" AND {column} IN (SELECT jsonb_array_elements_text({param}::jsonb))"),
        None => String::new(),
    }
}

/// The loyalty of the members in `ids` (a JSON array), or everyone's, as of `from`.
pub(crate) async fn loyalty_facts(
    pool: &PgPool,
    ids: Option<&str>,
    from: &str,
) -> StoreResult<Vec<(MemberId, MemberLoyalty)>> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let mut members: BTreeMap<String, MemberLoyalty> = BTreeMap::new();
    // The day binds as `$1` and the ids (when given) after it; a tier has no day.
    let tiers = format!(
        "SELECT member_id, tier FROM member_tiers WHERE TRUE{}",
        members_in("member_id", ids, "$1")
    );
    let lots = format!(
        concat!(
            "SELECT member_id, seq, remaining, available_on, expires_on FROM (\
             SELECT c.member_id, c.seq, ",
            lot_remaining!(),
            " AS remaining, c.available_on, c.expires_on FROM points_entries c \
             WHERE c.points > 0 AND (c.expires_on IS NULL OR c.expires_on > $1){}) AS held \
             WHERE remaining > 0 ORDER BY seq"
        ),
        members_in("c.member_id", ids, "$2")
    );
    let coupons = format!(
        "SELECT member_id, template, valid_from, valid_until FROM coupons \
         WHERE status = 'active' AND valid_until >= $1{} ORDER BY code COLLATE \"C\"",
        members_in("member_id", ids, "$2")
    );
    /// `sql` with the day (unless `None`) and then the ids (when given) bound.
    fn bound<'q>(
        sql: &'q str,
        from: Option<&str>,
        ids: Option<&str>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let mut query = sqlx::query(sql);
        if let Some(from) = from {
            query = query.bind(from.to_owned());
        }
        match ids {
            Some(ids) => query.bind(ids.to_owned()),
            None => query,
        }
    }
    for row in bound(&tiers, None, ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?
    {
        let tier: String = row.try_get(1).map_err(db_error)?;
        let member: String = row.try_get(0).map_err(db_error)?;
        members.entry(member).or_default().tier = Some(tier);
    }
    for row in bound(&lots, Some(from), ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?
    {
        let available_on: String = row.try_get(3).map_err(db_error)?;
        let expires_on: Option<String> = row.try_get(4).map_err(db_error)?;
        let lot = Lot {
            seq: row.try_get(1).map_err(db_error)?,
            remaining: row.try_get(2).map_err(db_error)?,
            available_on: date(&available_on)?,
            expires_on: expires_on.as_deref().map(date).transpose()?,
        };
        let member: String = row.try_get(0).map_err(db_error)?;
        members.entry(member).or_default().lots.push(lot);
    }
    for row in bound(&coupons, Some(from), ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?
    {
        let valid_from: String = row.try_get(2).map_err(db_error)?;
        let valid_until: String = row.try_get(3).map_err(db_error)?;
        let coupon = LoyaltyCoupon {
            template: row.try_get(1).map_err(db_error)?,
            valid_from: date(&valid_from)?,
            valid_until: date(&valid_until)?,
        };
        let member: String = row.try_get(0).map_err(db_error)?;
        members.entry(member).or_default().coupons.push(coupon);
    }
    tx.commit().await.map_err(db_error)?;
    members
        .into_iter()
        .map(|(id, loyalty)| Ok((parsed(MemberId::parse(&id))?, loyalty)))
        .collect()
}
