//! Coupons on SQLite: templates, issuing within limits (with the points an exchange costs, in
//! the same transaction), pool codes, redemptions and voids. Every write runs on the one writer
//! connection, so the limits and a coupon's status are read where they are written: two
//! redemptions of one coupon, or two issues past a limit, can never both go through.

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_domain::{CouponCode, CouponTemplate, MemberId, OrderId, TemplateName};
use regulars_store::rows::{json_array, micros};
use regulars_store::{
    Coupon, CouponStats, CouponStatus, CouponStore, IssueOutcome, IssueRequest, PointsOutcome,
    RedeemOutcome, RedeemRequest, Redemption, StoreError, StoreResult, TEMPLATE_COLUMNS,
    TemplateRow,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::saved::{date, parsed, timestamp};

const COUPON_COLUMNS: &str = "code, template, member_id, issue_key, valid_from, valid_until, \
                              credit, status, cause, issued_on, issued_at, points_key";

const REDEMPTION_COLUMNS: &str = "key, code, order_id, discount, day, at";

fn template_row(row: &Row<'_>) -> rusqlite::Result<TemplateRow> {
    Ok(TemplateRow {
        name: row.get(0)?,
        title: row.get(1)?,
        currency: row.get(2)?,
        offer: row.get(3)?,
        amount: row.get(4)?,
        percent: row.get(5)?,
        cap: row.get(6)?,
        threshold: row.get(7)?,
        quantity: row.get(8)?,
        get_quantity: row.get(9)?,
        each_threshold: row.get(10)?,
        sku: row.get(11)?,
        categories: row.get(12)?,
        skus: row.get(13)?,
        stores: row.get(14)?,
        channel: row.get(15)?,
        min_spend: row.get(16)?,
        valid_from: row.get(17)?,
        valid_until: row.get(18)?,
        valid_days: row.get(19)?,
        per_member: row.get(20)?,
        total_limit: row.get(21)?,
        combines_with: row.get(22)?,
        points_cost: row.get(23)?,
        codes: row.get(24)?,
    })
}

fn coupon(row: &Row<'_>) -> DbResult<Coupon> {
    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    Ok(Coupon {
        code: parsed(CouponCode::parse(&text(0)?))?,
        template: parsed(TemplateName::parse(&text(1)?))?,
        member_id: parsed(MemberId::parse(&text(2)?))?,
        issue_key: text(3)?,
        valid_from: date(&text(4)?)?,
        valid_until: date(&text(5)?)?,
        credit: row.get(6)?,
        status: parsed(CouponStatus::parse(&text(7)?))?,
        cause: text(8)?,
        issued_on: date(&text(9)?)?,
        issued_at: timestamp(row.get(10)?)?,
        points_key: row.get(11)?,
    })
}

fn redemption(row: &Row<'_>) -> DbResult<Redemption> {
    let code: String = row.get(1)?;
    let order: String = row.get(2)?;
    let day: String = row.get(4)?;
    Ok(Redemption {
        key: row.get(0)?,
        code: parsed(CouponCode::parse(&code))?,
        order_id: parsed(OrderId::parse(&order))?,
        discount: row.get(3)?,
        day: date(&day)?,
        at: timestamp(row.get(5)?)?,
    })
}

fn coupon_where(conn: &Connection, filter: &str, value: &str) -> DbResult<Vec<Coupon>> {
    let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE {filter}");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([value])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(coupon(row)?);
    }
    Ok(out)
}

fn one_coupon(conn: &Connection, code: &str) -> DbResult<Option<Coupon>> {
    Ok(coupon_where(conn, "code = ?1", code)?.pop())
}

fn templates(conn: &Connection, filter: &str, value: &str) -> DbResult<Vec<CouponTemplate>> {
    let sql =
        format!("SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE {filter} ORDER BY name");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([value], template_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(CouponTemplate::try_from(row?)?);
    }
    Ok(out)
}

fn count(conn: &Connection, sql: &str, values: &[&dyn rusqlite::ToSql]) -> DbResult<i64> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(values, |row| row.get(0))?)
}

/// Issues one coupon inside the writer's transaction (its template and member known).
fn issue_one(tx: &Connection, request: &IssueRequest) -> DbResult<IssueOutcome> {
    if let Some(stored) = coupon_where(tx, "issue_key = ?1", &request.key)?.pop() {
        if stored.template != request.template || stored.member_id != request.member_id {
            return Ok(IssueOutcome::KeyReused);
        }
        return Ok(IssueOutcome::Replayed(stored));
    }
    let template = request.template.as_str();
    let member = request.member_id.as_str();
    let (per_member, total): (Option<i64>, Option<i64>) = tx
        .prepare_cached("SELECT per_member, total_limit FROM coupon_templates WHERE name = ?1")?
        .query_row([template], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if let Some(limit) = per_member {
        let held = count(
            tx,
            "SELECT COUNT(*) FROM coupons \
             WHERE template = ?1 AND member_id = ?2 AND status <> 'voided'",
            &[&template, &member],
        )?;
        if held >= limit {
            return Ok(IssueOutcome::MemberLimit);
        }
    }
    if let Some(limit) = total {
        let issued = count(
            tx,
            "SELECT COUNT(*) FROM coupons WHERE template = ?1 AND status <> 'voided'",
            &[&template],
        )?;
        if issued >= limit {
            return Ok(IssueOutcome::TotalLimit);
        }
    }
    let code = match &request.code {
        Some(code) => {
            let taken = count(
                tx,
                "SELECT (SELECT COUNT(*) FROM coupons WHERE code = ?1) \
                 + (SELECT COUNT(*) FROM coupon_pool_codes WHERE code = ?1)",
                &[&code.as_str()],
            )?;
            if taken > 0 {
                return Ok(IssueOutcome::CodeTaken);
            }
            code.as_str().to_owned()
        }
        None => {
            let next: Option<String> = tx
                .prepare_cached(
                    "SELECT code FROM coupon_pool_codes \
                     WHERE template = ?1 AND issued_key IS NULL ORDER BY seq LIMIT 1",
                )?
                .query_row([template], |row| row.get(0))
                .optional()?;
            let Some(code) = next else {
                return Ok(IssueOutcome::PoolEmpty);
            };
            code
        }
    };
    if let Some(points) = &request.points {
        match crate::points::record_one(tx, points)? {
            PointsOutcome::Recorded(_) | PointsOutcome::Replayed(_) => {}
            PointsOutcome::Short(available) => return Ok(IssueOutcome::Short(available)),
            PointsOutcome::KeyReused => return Ok(IssueOutcome::KeyReused),
        }
    }
    tx.prepare_cached(
        "INSERT INTO coupons (code, template, member_id, issue_key, valid_from, valid_until, \
         credit, status, cause, issued_on, issued_at, points_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        code,
        template,
        member,
        request.key,
        request.valid_from.to_string(),
        request.valid_until.to_string(),
        request.credit,
        request.cause,
        request.day.to_string(),
        micros(request.at),
        request.points.as_ref().map(|p| p.key.as_str()),
    ])?;
    if request.code.is_none() {
        tx.prepare_cached("UPDATE coupon_pool_codes SET issued_key = ?1 WHERE code = ?2")?
            .execute(params![request.key, code])?;
    }
    let issued = one_coupon(tx, &code)?.ok_or_else(|| anyhow::anyhow!("coupon {code} is gone"))?;
    Ok(IssueOutcome::Issued(issued))
}

/// Redeems inside the writer's transaction.
fn redeem_one(tx: &Connection, request: &RedeemRequest) -> DbResult<RedeemOutcome> {
    let code = request.code.as_str();
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM coupon_redemptions WHERE key = ?1");
    let stored = {
        let mut statement = tx.prepare_cached(&sql)?;
        let mut rows = statement.query([&request.key])?;
        match rows.next()? {
            Some(row) => Some(redemption(row)?),
            None => None,
        }
    };
    if let Some(stored) = stored {
        // The discount is worked out from the coupon as it is, which the first use changed.
        let same = stored.code == request.code && stored.order_id == request.order_id;
        return Ok(match (same, one_coupon(tx, code)?) {
            (true, Some(coupon)) => RedeemOutcome::Replayed(stored, coupon),
            _ => RedeemOutcome::KeyReused,
        });
    }
    let Some(coupon) = one_coupon(tx, code)? else {
        return Ok(RedeemOutcome::Unknown);
    };
    if coupon.member_id != request.member_id {
        return Ok(RedeemOutcome::Unknown);
    }
    if !coupon.usable_on(request.day) {
        return Ok(RedeemOutcome::NotUsable(coupon.state_on(request.day)));
    }
    let on_order = count(
        tx,
        "SELECT COUNT(*) FROM coupon_redemptions WHERE code = ?1 AND order_id = ?2",
        &[&code, &request.order_id.as_str()],
    )?;
    if on_order > 0 {
        return Ok(RedeemOutcome::AlreadyOnOrder);
    }
    let offer: String = tx
        .prepare_cached("SELECT offer FROM coupon_templates WHERE name = ?1")?
        .query_row([coupon.template.as_str()], |row| row.get(0))?;
    let credit = if offer == "store_credit" {
        if coupon.credit < request.discount {
            return Ok(RedeemOutcome::CreditShort(coupon.credit));
        }
        coupon.credit - request.discount
    } else {
        coupon.credit
    };
    let status = if offer == "store_credit" && credit > 0 {
        CouponStatus::Active
    } else {
        CouponStatus::Redeemed
    };
    tx.prepare_cached(
        "INSERT INTO coupon_redemptions (key, code, order_id, discount, day, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        request.key,
        code,
        request.order_id.as_str(),
        request.discount,
        request.day.to_string(),
        micros(request.at),
    ])?;
    tx.prepare_cached("UPDATE coupons SET credit = ?1, status = ?2 WHERE code = ?3")?
        .execute(params![credit, status.as_str(), code])?;
    let redeemed = Redemption {
        key: request.key.clone(),
        code: request.code.clone(),
        order_id: request.order_id.clone(),
        discount: request.discount,
        day: request.day,
        at: request.at,
    };
    Ok(RedeemOutcome::Redeemed(
        redeemed,
        Coupon {
            credit,
            status,
            ..coupon
        },
    ))
}

#[async_trait]
impl CouponStore for SqliteStore {
    async fn save_template(&self, template: &CouponTemplate, at: Timestamp) -> StoreResult<()> {
        let r = TemplateRow::from(template);
        self.writer
            .write(move |tx| {
                let updates = TEMPLATE_COLUMNS
                    .split(", ")
                    .skip(1)
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO coupon_templates ({TEMPLATE_COLUMNS}, updated_at) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                     ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26) \
                     ON CONFLICT (name) DO UPDATE SET {updates}, updated_at = excluded.updated_at"
                );
                tx.prepare_cached(&sql)?.execute(params![
                    r.name,
                    r.title,
                    r.currency,
                    r.offer,
                    r.amount,
                    r.percent,
                    r.cap,
                    r.threshold,
                    r.quantity,
                    r.get_quantity,
                    r.each_threshold,
                    r.sku,
                    r.categories,
                    r.skus,
                    r.stores,
                    r.channel,
                    r.min_spend,
                    r.valid_from,
                    r.valid_until,
                    r.valid_days,
                    r.per_member,
                    r.total_limit,
                    r.combines_with,
                    r.points_cost,
                    r.codes,
                    micros(at),
                ])?;
                Ok(())
            })
            .await
    }

    async fn get_template(&self, name: &TemplateName) -> StoreResult<Option<CouponTemplate>> {
        let name = name.to_string();
        self.readers
            .read(move |conn| Ok(templates(conn, "name = ?1", &name)?.pop()))
            .await
    }

    async fn list_templates(&self) -> StoreResult<Vec<CouponTemplate>> {
        self.readers
            .read(move |conn| templates(conn, "?1 = ?1", ""))
            .await
    }

    async fn add_pool_codes(
        &self,
        template: &TemplateName,
        codes: &[CouponCode],
    ) -> StoreResult<u64> {
        let template = template.to_string();
        let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();
        self.writer
            .write(move |tx| {
                let known = count(
                    tx,
                    "SELECT COUNT(*) FROM coupon_templates WHERE name = ?1",
                    &[&template],
                )?;
                if known == 0 {
                    return Err(StoreError::NotFound.into());
                }
                let mut seq = count(
                    tx,
                    "SELECT COALESCE(MAX(seq), 0) FROM coupon_pool_codes WHERE template = ?1",
                    &[&template],
                )?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO coupon_pool_codes (code, template, seq) \
                     SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM coupons WHERE code = ?1) \
                     ON CONFLICT (code) DO NOTHING",
                )?;
                let mut added = 0;
                for code in &codes {
                    seq += 1;
                    added += insert.execute(params![code, template, seq])? as u64;
                }
                Ok(added)
            })
            .await
    }

    async fn issue_coupons(&self, requests: &[IssueRequest]) -> StoreResult<Vec<IssueOutcome>> {
        let requests = requests.to_vec();
        self.writer
            .write(move |tx| {
                let mut templates: Vec<&str> =
                    requests.iter().map(|r| r.template.as_str()).collect();
                templates.sort_unstable();
                templates.dedup();
                let mut members: Vec<&str> =
                    requests.iter().map(|r| r.member_id.as_str()).collect();
                members.sort_unstable();
                members.dedup();
                let known_templates = count(
                    tx,
                    "SELECT COUNT(*) FROM coupon_templates \
                     WHERE name IN (SELECT value FROM json_each(?1))",
                    &[&json_array(templates.iter().copied())],
                )?;
                let known_members = count(
                    tx,
                    "SELECT COUNT(*) FROM members \
                     WHERE member_id IN (SELECT value FROM json_each(?1))",
                    &[&json_array(members.iter().copied())],
                )?;
                if usize::try_from(known_templates).ok() != Some(templates.len())
                    || usize::try_from(known_members).ok() != Some(members.len())
                {
                    return Err(StoreError::NotFound.into());
                }
                requests
                    .iter()
                    .map(|request| issue_one(tx, request))
                    .collect()
            })
            .await
    }

    async fn get_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>> {
        let code = code.to_string();
        self.readers.read(move |conn| one_coupon(conn, &code)).await
    }

    async fn member_coupons(&self, member_id: &MemberId) -> StoreResult<Vec<Coupon>> {
        let member = member_id.to_string();
        self.readers
            .read(move |conn| {
                coupon_where(
                    conn,
                    "member_id = ?1 ORDER BY issued_at DESC, code",
                    &member,
                )
            })
            .await
    }

    async fn redeem_coupons(&self, requests: &[RedeemRequest]) -> StoreResult<Vec<RedeemOutcome>> {
        let requests = requests.to_vec();
        self.writer
            .write(move |tx| {
                // A savepoint, so a refusal undoes the ones before it and nothing else.
                tx.execute_batch("SAVEPOINT redeem_coupons")?;
                let mut outcomes = Vec::with_capacity(requests.len());
                for request in &requests {
                    let outcome = redeem_one(tx, request)?;
                    let taken = outcome.taken();
                    outcomes.push(outcome);
                    if !taken {
                        tx.execute_batch("ROLLBACK TO redeem_coupons")?;
                        break;
                    }
                }
                tx.execute_batch("RELEASE redeem_coupons")?;
                Ok(outcomes)
            })
            .await
    }

    async fn coupon_redemptions(&self, code: &CouponCode) -> StoreResult<Vec<Redemption>> {
        let code = code.to_string();
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {REDEMPTION_COLUMNS} FROM coupon_redemptions WHERE code = ?1 \
                     ORDER BY seq"
                );
                let mut statement = conn.prepare_cached(&sql)?;
                let mut rows = statement.query([&code])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(redemption(row)?);
                }
                Ok(out)
            })
            .await
    }

    async fn void_coupon(
        &self,
        code: &CouponCode,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Option<Coupon>> {
        let code = code.to_string();
        let reason = reason.to_owned();
        self.writer
            .write(move |tx| {
                tx.prepare_cached(
                    "UPDATE coupons SET status = 'voided', void_reason = ?1, voided_at = ?2 \
                     WHERE code = ?3 AND status = 'active'",
                )?
                .execute(params![reason, micros(at), code])?;
                one_coupon(tx, &code)
            })
            .await
    }

    async fn coupon_stats(&self, template: &TemplateName) -> StoreResult<CouponStats> {
        let template = template.to_string();
        self.readers
            .read(move |conn| {
                let snapshot = conn.unchecked_transaction()?;
                let number = |sql: &str| count(&snapshot, sql, &[&template]);
                let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
                Ok(CouponStats {
                    issued: unsigned(number("SELECT COUNT(*) FROM coupons WHERE template = ?1")?),
                    redeemed: unsigned(number(
                        "SELECT COUNT(DISTINCT r.code) FROM coupon_redemptions r \
                         JOIN coupons c ON c.code = r.code WHERE c.template = ?1",
                    )?),
                    voided: unsigned(number(
                        "SELECT COUNT(*) FROM coupons WHERE template = ?1 AND status = 'voided'",
                    )?),
                    discount: number(
                        "SELECT COALESCE(SUM(r.discount), 0) FROM coupon_redemptions r \
                         JOIN coupons c ON c.code = r.code WHERE c.template = ?1",
                    )?,
                    revenue: number(
                        "SELECT COALESCE(SUM(o.amount), 0) FROM orders o \
                         WHERE o.status <> 'cancelled' AND o.order_id IN \
                         (SELECT r.order_id FROM coupon_redemptions r \
                         JOIN coupons c ON c.code = r.code WHERE c.template = ?1)",
                    )?,
                    pool_left: unsigned(number(
                        "SELECT COUNT(*) FROM coupon_pool_codes \
                         WHERE template = ?1 AND issued_key IS NULL",
                    )?),
                })
            })
            .await
    }
}
