//! Referrals on PostgreSQL: codes and referrals. Recording a referral locks the referrer's and
//! the referee's member rows first (in id order), so the cap per referrer is counted where the
//! referral is written; the unique device index refuses a device's second referral even when
//! two arrive at once for different referrers.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId, ReferralCode, ReferralStatus};
use regulars_store::rows::micros;
use regulars_store::{Referral, ReferralOutcome, ReferralStore, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::points::lock_members;
use crate::saved::{date, parsed, timestamp};
use crate::{PostgresStore, db_error};

const REFERRAL_COLUMNS: &str =
    "referee_id, referrer_id, code, device_id, status, note, order_id, referred_on, settled_on, at";

fn referral(row: &PgRow) -> StoreResult<Referral> {
    let text = |name: &str| -> StoreResult<String> { row.try_get(name).map_err(db_error) };
    let order: Option<String> = row.try_get("order_id").map_err(db_error)?;
    let settled: Option<String> = row.try_get("settled_on").map_err(db_error)?;
    Ok(Referral {
        referee: parsed(MemberId::parse(&text("referee_id")?))?,
        referrer: parsed(MemberId::parse(&text("referrer_id")?))?,
        code: parsed(ReferralCode::parse(&text("code")?))?,
        device_id: row.try_get("device_id").map_err(db_error)?,
        status: parsed(ReferralStatus::parse(&text("status")?))?,
        note: row.try_get("note").map_err(db_error)?,
        order_id: order
            .as_deref()
            .map(|o| parsed(OrderId::parse(o)))
            .transpose()?,
        referred_on: date(&text("referred_on")?)?,
        settled_on: settled.as_deref().map(date).transpose()?,
        at: timestamp(row.try_get("at").map_err(db_error)?)?,
    })
}

async fn one_referral(conn: &mut PgConnection, referee: &str) -> StoreResult<Option<Referral>> {
    let sql = format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE referee_id = $1");
    let row = sqlx::query(&sql)
        .bind(referee)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    row.as_ref().map(referral).transpose()
}

#[async_trait]
impl ReferralStore for PostgresStore {
    async fn referral_code(&self, member_id: &MemberId) -> StoreResult<Option<ReferralCode>> {
        let code: Option<String> =
            sqlx::query_scalar("SELECT code FROM referral_codes WHERE member_id = $1")
                .bind(member_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        code.as_deref()
            .map(|c| parsed(ReferralCode::parse(c)))
            .transpose()
    }

    async fn claim_referral_code(
        &self,
        member_id: &MemberId,
        code: &ReferralCode,
        at: Timestamp,
    ) -> StoreResult<Option<ReferralCode>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_members(&mut tx, std::iter::once(member_id.as_str())).await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT code FROM referral_codes WHERE member_id = $1")
                .bind(member_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        let claimed = if let Some(existing) = existing {
            Some(existing)
        } else {
            let inserted = sqlx::query(
                "INSERT INTO referral_codes (member_id, code, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(member_id.as_str())
            .bind(code.as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            (inserted.rows_affected() == 1).then(|| code.to_string())
        };
        tx.commit().await.map_err(db_error)?;
        claimed
            .as_deref()
            .map(|c| parsed(ReferralCode::parse(c)))
            .transpose()
    }

    async fn code_owner(&self, code: &ReferralCode) -> StoreResult<Option<MemberId>> {
        let member: Option<String> =
            sqlx::query_scalar("SELECT member_id FROM referral_codes WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        member
            .as_deref()
            .map(|m| parsed(MemberId::parse(m)))
            .transpose()
    }

    async fn record_referral(&self, referral: &Referral, cap: u32) -> StoreResult<ReferralOutcome> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_members(
            &mut tx,
            [referral.referrer.as_str(), referral.referee.as_str()].into_iter(),
        )
        .await?;
        if let Some(existing) = one_referral(&mut tx, referral.referee.as_str()).await? {
            return Ok(ReferralOutcome::Exists(existing));
        }
        let made: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND status <> 'rejected'",
        )
        .bind(referral.referrer.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if made >= i64::from(cap) {
            return Ok(ReferralOutcome::CapReached);
        }
        let sql = format!(
            "INSERT INTO referrals ({REFERRAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        );
        let inserted = sqlx::query(&sql)
            .bind(referral.referee.as_str())
            .bind(referral.referrer.as_str())
            .bind(referral.code.as_str())
            .bind(&referral.device_id)
            .bind(referral.status.as_str())
            .bind(&referral.note)
            .bind(referral.order_id.as_ref().map(OrderId::as_str))
            .bind(referral.referred_on.to_string())
            .bind(referral.settled_on.map(|d| d.to_string()))
            .bind(micros(referral.at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if inserted.rows_affected() == 0 {
            // The referee is locked and had none, so the device index refused it.
            return Ok(ReferralOutcome::DeviceUsed);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(ReferralOutcome::Recorded(referral.clone()))
    }

    async fn referral(&self, referee: &MemberId) -> StoreResult<Option<Referral>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        one_referral(&mut conn, referee.as_str()).await
    }

    async fn referrals_by(&self, referrer: &MemberId) -> StoreResult<Vec<Referral>> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE referrer_id = $1 \
             ORDER BY at DESC, referee_id COLLATE \"C\""
        );
        let rows = sqlx::query(&sql)
            .bind(referrer.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(referral).collect()
    }

    async fn open_referrals(
        &self,
        after: Option<&MemberId>,
        limit: u32,
    ) -> StoreResult<Vec<Referral>> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals \
             WHERE status IN ('pending', 'qualified') AND referee_id COLLATE \"C\" > $1 \
             ORDER BY referee_id COLLATE \"C\" LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after.map_or("", MemberId::as_str))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(referral).collect()
    }

    async fn update_referral(
        &self,
        referee: &MemberId,
        status: ReferralStatus,
        note: Option<&str>,
        order_id: Option<&OrderId>,
        settled_on: Option<Date>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE referrals SET status = $2, note = $3, order_id = $4, settled_on = $5 \
             WHERE referee_id = $1 AND status IN ('pending', 'qualified')",
        )
        .bind(referee.as_str())
        .bind(status.as_str())
        .bind(note)
        .bind(order_id.map(OrderId::as_str))
        .bind(settled_on.map(|d| d.to_string()))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
