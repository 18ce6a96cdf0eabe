//! Referrals on SQLite: codes and referrals, each written on the one writer connection, so the
//! cap per referrer and the device rule are counted where the referral is written and two
//! referrals can never both slip past them.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId, ReferralCode, ReferralStatus};
use regulars_store::rows::micros;
use regulars_store::{Referral, ReferralOutcome, ReferralStore, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::saved::{date, parsed, timestamp};

const REFERRAL_COLUMNS: &str =
    "referee_id, referrer_id, code, device_id, status, note, order_id, referred_on, settled_on, at";

fn referral(row: &Row<'_>) -> DbResult<Referral> {
    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    let order: Option<String> = row.get(6)?;
    let settled: Option<String> = row.get(8)?;
    Ok(Referral {
        referee: parsed(MemberId::parse(&text(0)?))?,
        referrer: parsed(MemberId::parse(&text(1)?))?,
        code: parsed(ReferralCode::parse(&text(2)?))?,
        device_id: row.get(3)?,
        status: parsed(ReferralStatus::parse(&text(4)?))?,
        note: row.get(5)?,
        order_id: order
            .as_deref()
            .map(OrderId::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        referred_on: date(&text(7)?)?,
        settled_on: settled.as_deref().map(date).transpose()?,
        at: timestamp(row.get(9)?)?,
    })
}

fn referrals_where(conn: &Connection, clause: &str, arg: &str) -> DbResult<Vec<Referral>> {
    let sql = format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE {clause}");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([arg])?;
    let mut referrals = Vec::new();
    while let Some(row) = rows.next()? {
        referrals.push(referral(row)?);
    }
    Ok(referrals)
}

fn one_referral(conn: &Connection, referee: &str) -> DbResult<Option<Referral>> {
    Ok(referrals_where(conn, "referee_id = ?1", referee)?.pop())
}

#[async_trait]
impl ReferralStore for SqliteStore {
    async fn referral_code(&self, member_id: &MemberId) -> StoreResult<Option<ReferralCode>> {
        let member = member_id.to_string();
        self.readers
            .read(move |conn| {
                let code: Option<String> = conn
                    .prepare_cached("SELECT code FROM referral_codes WHERE member_id = ?1")?
                    .query_row([&member], |row| row.get(0))
                    .optional()?;
                code.as_deref()
                    .map(|c| parsed(ReferralCode::parse(c)))
                    .transpose()
            })
            .await
    }

    async fn claim_referral_code(
        &self,
        member_id: &MemberId,
        code: &ReferralCode,
        at: Timestamp,
    ) -> StoreResult<Option<ReferralCode>> {
        let (member, code) = (member_id.to_string(), code.to_string());
        let claimed = self
            .writer
            .write(move |tx| {
                let known: i64 = tx
                    .prepare_cached("SELECT COUNT(*) FROM members WHERE member_id = ?1")?
                    .query_row([&member], |row| row.get(0))?;
                if known == 0 {
                    return Err(StoreError::NotFound.into());
                }
                let existing: Option<String> = tx
                    .prepare_cached("SELECT code FROM referral_codes WHERE member_id = ?1")?
                    .query_row([&member], |row| row.get(0))
                    .optional()?;
                if let Some(existing) = existing {
                    return Ok(Some(existing));
                }
                let inserted = tx
                    .prepare_cached(
                        "INSERT INTO referral_codes (member_id, code, created_at) \
                         VALUES (?1, ?2, ?3) ON CONFLICT (code) DO NOTHING",
                    )?
                    .execute(params![member, code, micros(at)])?;
                Ok((inserted == 1).then_some(code))
            })
            .await?;
        claimed
            .as_deref()
            .map(|code| {
                ReferralCode::parse(code).map_err(|e| StoreError::Other(anyhow::anyhow!(e)))
            })
            .transpose()
    }

    async fn code_owner(&self, code: &ReferralCode) -> StoreResult<Option<MemberId>> {
        let code = code.to_string();
        self.readers
            .read(move |conn| {
                let member: Option<String> = conn
                    .prepare_cached("SELECT member_id FROM referral_codes WHERE code = ?1")?
                    .query_row([&code], |row| row.get(0))
                    .optional()?;
                member
                    .as_deref()
                    .map(|m| parsed(MemberId::parse(m)))
                    .transpose()
            })
            .await
    }

    async fn record_referral(&self, referral: &Referral, cap: u32) -> StoreResult<ReferralOutcome> {
        let referral = referral.clone();
        self.writer
            .write(move |tx| {
                if let Some(existing) = one_referral(tx, referral.referee.as_str())? {
                    return Ok(ReferralOutcome::Exists(existing));
                }
                let made: i64 = tx
                    .prepare_cached(
                        "SELECT COUNT(*) FROM referrals \
                         WHERE referrer_id = ?1 AND status <> 'rejected'",
                    )?
                    .query_row([referral.referrer.as_str()], |row| row.get(0))?;
                if made >= i64::from(cap) {
                    return Ok(ReferralOutcome::CapReached);
                }
                if let Some(device) = &referral.device_id {
                    let used: i64 = tx
                        .prepare_cached("SELECT COUNT(*) FROM referrals WHERE device_id = ?1")?
                        .query_row([device], |row| row.get(0))?;
                    if used > 0 {
                        return Ok(ReferralOutcome::DeviceUsed);
                    }
                }
                tx.prepare_cached(&format!(
                    "INSERT INTO referrals ({REFERRAL_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?
                .execute(params![
                    referral.referee.as_str(),
                    referral.referrer.as_str(),
                    referral.code.as_str(),
                    referral.device_id,
                    referral.status.as_str(),
                    referral.note,
                    referral.order_id.as_ref().map(OrderId::as_str),
                    referral.referred_on.to_string(),
                    referral.settled_on.map(|d| d.to_string()),
                    micros(referral.at),
                ])?;
                Ok(ReferralOutcome::Recorded(referral))
            })
            .await
    }

    async fn referral(&self, referee: &MemberId) -> StoreResult<Option<Referral>> {
        let referee = referee.to_string();
        self.readers
            .read(move |conn| one_referral(conn, &referee))
            .await
    }

    async fn referrals_by(&self, referrer: &MemberId) -> StoreResult<Vec<Referral>> {
        let referrer = referrer.to_string();
        self.readers
            .read(move |conn| {
                referrals_where(
                    conn,
                    "referrer_id = ?1 ORDER BY at DESC, referee_id",
                    &referrer,
                )
            })
            .await
    }

    async fn open_referrals(
        &self,
        after: Option<&MemberId>,
        limit: u32,
    ) -> StoreResult<Vec<Referral>> {
        let after = after.map_or_else(String::new, ToString::to_string);
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {REFERRAL_COLUMNS} FROM referrals \
                     WHERE status IN ('pending', 'qualified') AND referee_id > ?1 \
                     ORDER BY referee_id LIMIT {limit}"
                );
                let mut statement = conn.prepare_cached(&sql)?;
                let mut rows = statement.query([&after])?;
                let mut referrals = Vec::new();
                while let Some(row) = rows.next()? {
                    referrals.push(referral(row)?);
                }
                Ok(referrals)
            })
            .await
    }

    async fn update_referral(
        &self,
        referee: &MemberId,
        status: ReferralStatus,
        note: Option<&str>,
        order_id: Option<&OrderId>,
        settled_on: Option<Date>,
    ) -> StoreResult<()> {
        let referee = referee.to_string();
        let note = note.map(str::to_owned);
        let order = order_id.map(ToString::to_string);
        self.writer
            .write(move |tx| {
                tx.prepare_cached(
                    "UPDATE referrals SET status = ?2, note = ?3, order_id = ?4, settled_on = ?5 \
                     WHERE referee_id = ?1 AND status IN ('pending', 'qualified')",
                )?
                .execute(params![
                    referee,
                    status.as_str(),
                    note,
                    order,
                    settled_on.map(|d| d.to_string()),
                ])?;
                Ok(())
            })
            .await
    }
}
