//! Coupons on PostgreSQL: templates, issuing within limits (with the points an exchange costs, in
//! the same transaction), pool codes, redemptions and voids. Issuing locks the templates' rows
//! and then the members' (each in name order), redeeming the coupon's row, so the limits and a
//! coupon's status are read where they are written: two redemptions of one coupon, or two
//! issues past a limit, can never both go through.

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_domain::{CouponCode, CouponTemplate, MemberId, OrderId, TemplateName};
use regulars_store::rows::{json_array, micros};
use regulars_store::{
    Coupon, CouponStats, CouponStatus, CouponStore, IssueOutcome, IssueRequest, PointsOutcome,
    RedeemOutcome, RedeemRequest, Redemption, StoreError, StoreResult, TEMPLATE_COLUMNS,
    TemplateRow,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::saved::{date, timestamp};
use crate::{PostgresStore, db_error};

const COUPON_COLUMNS: &str = "code, template, member_id, issue_key, valid_from, valid_until, \
                              credit, status, cause, issued_on, issued_at, points_key";

const REDEMPTION_COLUMNS: &str = "key, code, order_id, discount, day, at";

fn invalid(e: String) -> StoreError {
    StoreError::Other(anyhow::anyhow!(e))
}

fn template_row(row: &PgRow) -> StoreResult<TemplateRow> {
    macro_rules! get {
        ($name:literal) => {
            row.try_get($name).map_err(db_error)?
        };
    }
    Ok(TemplateRow {
        name: get!("name"),
        title: get!("title"),
        currency: get!("currency"),
        offer: get!("offer"),
        amount: get!("amount"),
        percent: get!("percent"),
        cap: get!("cap"),
        threshold: get!("threshold"),
        quantity: get!("quantity"),
        get_quantity: get!("get_quantity"),
        each_threshold: get!("each_threshold"),
        sku: get!("sku"),
        categories: get!("categories"),
        skus: get!("skus"),
        stores: get!("stores"),
        channel: get!("channel"),
        min_spend: get!("min_spend"),
        valid_from: get!("valid_from"),
        valid_until: get!("valid_until"),
        valid_days: get!("valid_days"),
        per_member: get!("per_member"),
        total_limit: get!("total_limit"),
        combines_with: get!("combines_with"),
        points_cost: get!("points_cost"),
        codes: get!("codes"),
    })
}

fn coupon(row: &PgRow) -> StoreResult<Coupon> {
    let text = |name: &str| -> StoreResult<String> { row.try_get(name).map_err(db_error) };
    Ok(Coupon {
        code: CouponCode::parse(&text("code")?).map_err(invalid)?,
        template: TemplateName::parse(&text("template")?).map_err(invalid)?,
        member_id: MemberId::parse(&text("member_id")?).map_err(invalid)?,
        issue_key: text("issue_key")?,
        valid_from: date(&text("valid_from")?)?,
        valid_until: date(&text("valid_until")?)?,
        credit: row.try_get("credit").map_err(db_error)?,
        status: CouponStatus::parse(&text("status")?).map_err(invalid)?,
        cause: text("cause")?,
        issued_on: date(&text("issued_on")?)?,
        issued_at: timestamp(row.try_get("issued_at").map_err(db_error)?)?,
        points_key: row.try_get("points_key").map_err(db_error)?,
    })
}

fn redemption(row: &PgRow) -> StoreResult<Redemption> {
    let text = |name: &str| -> StoreResult<String> { row.try_get(name).map_err(db_error) };
    Ok(Redemption {
        key: text("key")?,
        code: CouponCode::parse(&text("code")?).map_err(invalid)?,
        order_id: OrderId::parse(&text("order_id")?).map_err(invalid)?,
        discount: row.try_get("discount").map_err(db_error)?,
        day: date(&text("day")?)?,
        at: timestamp(row.try_get("at").map_err(db_error)?)?,
    })
}

async fn coupons_where(
    conn: &mut PgConnection,
    filter: &str,
    value: &str,
) -> StoreResult<Vec<Coupon>> {
    let sql = format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE {filter}");
    let rows = sqlx::query(&sql)
        .bind(value)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(coupon).collect()
}

async fn one_coupon(conn: &mut PgConnection, code: &str) -> StoreResult<Option<Coupon>> {
    Ok(coupons_where(conn, "code = $1", code).await?.pop())
}

async fn count(conn: &mut PgConnection, sql: &str, values: &[&str]) -> StoreResult<i64> {
    let mut query = sqlx::query_scalar::<_, i64>(sql);
    for value in values {
        query = query.bind(*value);
    }
    query.fetch_one(&mut *conn).await.map_err(db_error)
}

/// Issues one coupon inside the transaction (its template and member locked).
async fn issue_one(conn: &mut PgConnection, request: &IssueRequest) -> StoreResult<IssueOutcome> {
    if let Some(stored) = coupons_where(conn, "issue_key = $1", &request.key)
        .await?
        .pop()
    {
        if stored.template != request.template || stored.member_id != request.member_id {
            return Ok(IssueOutcome::KeyReused);
        }
        return Ok(IssueOutcome::Replayed(stored));
    }
    let template = request.template.as_str();
    let member = request.member_id.as_str();
    let limits =
        sqlx::query("SELECT per_member, total_limit FROM coupon_templates WHERE name = $1")
            .bind(template)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
    let per_member: Option<i64> = limits.try_get("per_member").map_err(db_error)?;
    let total: Option<i64> = limits.try_get("total_limit").map_err(db_error)?;
    if let Some(limit) = per_member {
        let held = count(
            conn,
            "SELECT COUNT(*) FROM coupons \
             WHERE template = $1 AND member_id = $2 AND status <> 'voided'",
            &[template, member],
        )
        .await?;
        if held >= limit {
            return Ok(IssueOutcome::MemberLimit);
        }
    }
    if let Some(limit) = total {
        let issued = count(
            conn,
            "SELECT COUNT(*) FROM coupons WHERE template = $1 AND status <> 'voided'",
            &[template],
        )
        .await?;
        if issued >= limit {
            return Ok(IssueOutcome::TotalLimit);
        }
    }
    let code = match &request.code {
        Some(code) => {
            let taken = count(
                conn,
                "SELECT (SELECT COUNT(*) FROM coupons WHERE code = $1) \
                 + (SELECT COUNT(*) FROM coupon_pool_codes WHERE code = $1)",
                &[code.as_str()],
            )
            .await?;
            if taken > 0 {
                return Ok(IssueOutcome::CodeTaken);
            }
            code.as_str().to_owned()
        }
        None => {
            let next: Option<String> = sqlx::query_scalar(
                "SELECT code FROM coupon_pool_codes \
                 WHERE template = $1 AND issued_key IS NULL ORDER BY seq LIMIT 1",
            )
            .bind(template)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            let Some(code) = next else {
                return Ok(IssueOutcome::PoolEmpty);
            };
            code
        }
    };
    if let Some(points) = &request.points {
        match crate::points::record_one(conn, points).await? {
            PointsOutcome::Recorded(_) | PointsOutcome::Replayed(_) => {}
            PointsOutcome::Short(available) => return Ok(IssueOutcome::Short(available)),
            PointsOutcome::KeyReused => return Ok(IssueOutcome::KeyReused),
        }
    }
    sqlx::query(
        "INSERT INTO coupons (code, template, member_id, issue_key, valid_from, valid_until, \
         credit, status, cause, issued_on, issued_at, points_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11)",
    )
    .bind(&code)
    .bind(template)
    .bind(member)
    .bind(&request.key)
    .bind(request.valid_from.to_string())
    .bind(request.valid_until.to_string())
    .bind(request.credit)
    .bind(&request.cause)
    .bind(request.day.to_string())
    .bind(micros(request.at))
    .bind(request.points.as_ref().map(|p| p.key.as_str()))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if request.code.is_none() {
        sqlx::query("UPDATE coupon_pool_codes SET issued_key = $1 WHERE code = $2")
            .bind(&request.key)
            .bind(&code)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    let issued = one_coupon(conn, &code)
        .await?
        .ok_or_else(|| invalid(format!("coupon {code} is gone")))?;
    Ok(IssueOutcome::Issued(issued))
}

async fn redeem_one(
    conn: &mut PgConnection,
    request: &RedeemRequest,
) -> StoreResult<RedeemOutcome> {
    let code = request.code.as_str();
    // The coupon's row is the lock every redemption of it takes first.
    let locked = coupons_where(conn, "code = $1 FOR UPDATE", code)
        .await?
        .pop();
    let sql = format!("SELECT {REDEMPTION_COLUMNS} FROM coupon_redemptions WHERE key = $1");
    let stored = sqlx::query(&sql)
        .bind(&request.key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    if let Some(stored) = stored {
        let stored = redemption(&stored)?;
        // The discount is worked out from the coupon as it is, which the first use changed.
        let same = stored.code == request.code && stored.order_id == request.order_id;
        return Ok(match (same, locked) {
            (true, Some(coupon)) => RedeemOutcome::Replayed(stored, coupon),
            _ => RedeemOutcome::KeyReused,
        });
    }
    let Some(coupon) = locked else {
        return Ok(RedeemOutcome::Unknown);
    };
    if coupon.member_id != request.member_id {
        return Ok(RedeemOutcome::Unknown);
    }
    if !coupon.usable_on(request.day) {
        return Ok(RedeemOutcome::NotUsable(coupon.state_on(request.day)));
    }
    let on_order = count(
        conn,
        "SELECT COUNT(*) FROM coupon_redemptions WHERE code = $1 AND order_id = $2",
        &[code, request.order_id.as_str()],
    )
    .await?;
    if on_order > 0 {
        return Ok(RedeemOutcome::AlreadyOnOrder);
    }
    let offer: String = sqlx::query_scalar("SELECT offer FROM coupon_templates WHERE name = $1")
        .bind(coupon.template.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let store_credit = offer == "store_credit";
    if store_credit && coupon.credit < request.discount {
        return Ok(RedeemOutcome::CreditShort(coupon.credit));
    }
    let credit = if store_credit {
        coupon.credit - request.discount
    } else {
        coupon.credit
    };
    let status = if store_credit && credit > 0 {
        CouponStatus::Active
    } else {
        CouponStatus::Redeemed
    };
    sqlx::query(
        "INSERT INTO coupon_redemptions (key, code, order_id, discount, day, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&request.key)
    .bind(code)
    .bind(request.order_id.as_str())
    .bind(request.discount)
    .bind(request.day.to_string())
    .bind(micros(request.at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query("UPDATE coupons SET credit = $1, status = $2 WHERE code = $3")
        .bind(credit)
        .bind(status.as_str())
        .bind(code)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
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

async fn templates(
    conn: &mut PgConnection,
    filter: &str,
    value: &str,
) -> StoreResult<Vec<CouponTemplate>> {
    let sql =
        format!("SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE {filter} ORDER BY name");
    let rows = sqlx::query(&sql)
        .bind(value)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter()
        .map(|row| CouponTemplate::try_from(template_row(row)?))
        .collect()
}

#[async_trait]
impl CouponStore for PostgresStore {
    async fn save_template(&self, template: &CouponTemplate, at: Timestamp) -> StoreResult<()> {
        let r = TemplateRow::from(template);
        let updates = TEMPLATE_COLUMNS
            .split(", ")
            .skip(1)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let placeholders = (1..=26)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO coupon_templates ({TEMPLATE_COLUMNS}, updated_at) VALUES ({placeholders}) \
             ON CONFLICT (name) DO UPDATE SET {updates}, updated_at = excluded.updated_at"
        );
        sqlx::query(&sql)
            .bind(r.name)
            .bind(r.title)
            .bind(r.currency)
            .bind(r.offer)
            .bind(r.amount)
            .bind(r.percent)
            .bind(r.cap)
            .bind(r.threshold)
            .bind(r.quantity)
            .bind(r.get_quantity)
            .bind(r.each_threshold)
            .bind(r.sku)
            .bind(r.categories)
            .bind(r.skus)
            .bind(r.stores)
            .bind(r.channel)
            .bind(r.min_spend)
            .bind(r.valid_from)
            .bind(r.valid_until)
            .bind(r.valid_days)
            .bind(r.per_member)
            .bind(r.total_limit)
            .bind(r.combines_with)
            .bind(r.points_cost)
            .bind(r.codes)
            .bind(micros(at))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn get_template(&self, name: &TemplateName) -> StoreResult<Option<CouponTemplate>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        Ok(templates(&mut conn, "name = $1", name.as_str())
            .await?
            .pop())
    }

    async fn list_templates(&self) -> StoreResult<Vec<CouponTemplate>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        templates(&mut conn, "$1 = $1", "").await
    }

    async fn add_pool_codes(
        &self,
        template: &TemplateName,
        codes: &[CouponCode],
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let locked: Option<String> =
            sqlx::query_scalar("SELECT name FROM coupon_templates WHERE name = $1 FOR UPDATE")
                .bind(template.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if locked.is_none() {
            return Err(StoreError::NotFound);
        }
        let mut seq = count(
            &mut tx,
            "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM coupon_pool_codes WHERE template = $1",
            &[template.as_str()],
        )
        .await?;
        let mut added = 0;
        for code in codes {
            seq += 1;
            added += sqlx::query(
                "INSERT INTO coupon_pool_codes (code, template, seq) \
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM coupons WHERE code = $1) \
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(code.as_str())
            .bind(template.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        }
        tx.commit().await.map_err(db_error)?;
        Ok(added)
    }

    async fn issue_coupons(&self, requests: &[IssueRequest]) -> StoreResult<Vec<IssueOutcome>> {
        let mut templates: Vec<&str> = requests.iter().map(|r| r.template.as_str()).collect();
        templates.sort_unstable();
        templates.dedup();
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // Templates first, then members (as the points ledger locks them), each in name order,
        // so two transactions never wait on each other in a circle.
        let locked_templates: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM coupon_templates \
             WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY name FOR UPDATE",
        )
        .bind(json_array(templates.iter().copied()))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        if locked_templates.len() != templates.len() {
            return Err(StoreError::NotFound);
        }
        crate::points::lock_members(&mut tx, requests.iter().map(|r| r.member_id.as_str())).await?;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            outcomes.push(issue_one(&mut tx, request).await?);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcomes)
    }

    async fn get_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        one_coupon(&mut conn, code.as_str()).await
    }

    async fn member_coupons(&self, member_id: &MemberId) -> StoreResult<Vec<Coupon>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        coupons_where(
            &mut conn,
            "member_id = $1 ORDER BY issued_at DESC, code",
            member_id.as_str(),
        )
        .await
    }

    async fn redeem_coupons(&self, requests: &[RedeemRequest]) -> StoreResult<Vec<RedeemOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // Every coupon's row locked first, in code order, so two redemptions of the same
        // coupons in another order never wait on each other in a circle.
        let codes = json_array(requests.iter().map(|r| r.code.as_str()));
        sqlx::query(
            "SELECT code FROM coupons \
             WHERE code IN (SELECT jsonb_array_elements_text($1::jsonb)) \
             ORDER BY code COLLATE \"C\" FOR UPDATE",
        )
        .bind(codes)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            let outcome = redeem_one(&mut tx, request).await?;
            let taken = outcome.taken();
            outcomes.push(outcome);
            if !taken {
                tx.rollback().await.map_err(db_error)?;
                return Ok(outcomes);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcomes)
    }

    async fn coupon_redemptions(&self, code: &CouponCode) -> StoreResult<Vec<Redemption>> {
        let sql = format!(
            "SELECT {REDEMPTION_COLUMNS} FROM coupon_redemptions WHERE code = $1 ORDER BY seq"
        );
        let rows = sqlx::query(&sql)
            .bind(code.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(redemption).collect()
    }

    async fn void_coupon(
        &self,
        code: &CouponCode,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Option<Coupon>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE coupons SET status = 'voided', void_reason = $1, voided_at = $2 \
             WHERE code = $3 AND status = 'active'",
        )
        .bind(reason)
        .bind(micros(at))
        .bind(code.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        one_coupon(&mut conn, code.as_str()).await
    }

    async fn coupon_stats(&self, template: &TemplateName) -> StoreResult<CouponStats> {
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM coupons WHERE template = $1) AS issued, \
             (SELECT COUNT(DISTINCT r.code) FROM coupon_redemptions r \
              JOIN coupons c ON c.code = r.code WHERE c.template = $1) AS redeemed, \
             (SELECT COUNT(*) FROM coupons WHERE template = $1 AND status = 'voided') AS voided, \
             (SELECT COALESCE(SUM(r.discount), 0)::BIGINT FROM coupon_redemptions r \
              JOIN coupons c ON c.code = r.code WHERE c.template = $1) AS discount, \
             (SELECT COALESCE(SUM(o.amount), 0)::BIGINT FROM orders o \
              WHERE o.status <> 'cancelled' AND o.order_id IN (SELECT r.order_id \
              FROM coupon_redemptions r JOIN coupons c ON c.code = r.code \
              WHERE c.template = $1)) AS revenue, \
             (SELECT COUNT(*) FROM coupon_pool_codes \
              WHERE template = $1 AND issued_key IS NULL) AS pool_left",
        )
        .bind(template.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let unsigned = |name: &str| -> StoreResult<u64> {
            let value: i64 = row.try_get(name).map_err(db_error)?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        Ok(CouponStats {
            issued: unsigned("issued")?,
            redeemed: unsigned("redeemed")?,
            voided: unsigned("voided")?,
            discount: row.try_get("discount").map_err(db_error)?,
            revenue: row.try_get("revenue").map_err(db_error)?,
            pool_left: unsigned("pool_left")?,
        })
    }
}
