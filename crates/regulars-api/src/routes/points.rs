//! Points: earning, redeeming and adjusting a member's (each under an idempotency key), reading
//! the balance with the ledger, the members whose points expire soon, and the expiry warnings.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use regulars_api_types::{
    ErrorBody, ExpiringMemberView, ExpiringMembersView, ExpiringPointsView, PointsAccountView,
    PointsBalanceView, PointsChangeRequest, PointsEntryView, PointsRecordedView, PointsWarningView,
    PointsWarningsView,
};
use regulars_app::{App, ExpiringPoints, PointsChange, PointsEntry, PointsWarning};
use regulars_domain::{ApiRole, FieldErrors, MemberId, PointsBalance};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiJson;

fn entry_view(entry: &PointsEntry) -> PointsEntryView {
    PointsEntryView {
        seq: entry.seq,
        kind: entry.kind.as_str().to_owned(),
        points: entry.points,
        lot: entry.lot,
        available_on: entry.available_on.map(|d| d.to_string()),
        expires_on: entry.expires_on.map(|d| d.to_string()),
        idempotency_key: entry.key.clone(),
        reason: entry.reason.clone(),
        cause: entry.cause.clone(),
        day: entry.day.to_string(),
        at: entry.at.to_string(),
    }
}

pub(crate) fn balance_view(balance: &PointsBalance, today: jiff::civil::Date) -> PointsBalanceView {
    PointsBalanceView {
        available: balance.available,
        pending: balance.pending,
        expiring_within_30_days: balance.expiring_within(today, 30),
        owed: balance.debt,
        expiring: balance
            .expiring
            .iter()
            .map(|(on, points)| ExpiringPointsView {
                on: on.to_string(),
                points: *points,
            })
            .collect(),
    }
}

/// Earns, redeems or adjusts a member's points. A redemption spends the earliest-expiring points
/// first and is refused whole when the available points fall short.
#[utoipa::path(
    post, path = "/api/v1/members/{member_id}/points", tag = "points",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    request_body = PointsChangeRequest,
    responses(
        (status = 201, description = "Recorded", body = PointsRecordedView),
        (status = 200, description = "The key was used for this change before: what it recorded", body = PointsRecordedView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
        (status = 409, description = "More points asked than available (`insufficient_points`)", body = ErrorBody),
        (status = 422, description = "A field is not valid (`validation_failed`), or the key was used for another change (`idempotency_key_reused`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn change(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
    ApiJson(request): ApiJson<PointsChangeRequest>,
) -> Result<(StatusCode, Json<PointsRecordedView>), ApiError> {
    caller.require(ApiRole::can_move_points, "move points")?;
    let change = PointsChange {
        member_id: super::member_in_path(&member)?,
        points: request.points,
        key: request.idempotency_key,
        reason: request.reason,
        cause: request.cause.unwrap_or_else(|| "operator:api".to_owned()),
    };
    let recorded = match request.kind.as_str() {
        "earn" => app.earn_points(change).await?,
        "redeem" => app.redeem_points(change).await?,
        "adjust" => app.adjust_points(change).await?,
        other => {
            let mut errors = FieldErrors::default();
            errors.push("kind", format!("`{other}` is not earn, redeem or adjust"));
            return Err(ApiError::validation(&errors));
        }
    };
    let status = if recorded.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(PointsRecordedView {
            entries: recorded.entries.iter().map(entry_view).collect(),
            owed: recorded.owed,
            replayed: recorded.replayed,
            balance: balance_view(&recorded.balance, app.today()),
        }),
    ))
}

/// Which entries to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    /// At most this many entries, 1 to 1,000 (default 50).
    limit: Option<u32>,
    /// Only entries older than this `seq` (the last page's `next_before`).
    before: Option<i64>,
}

/// A member's points: available, pending and expiring, with the newest ledger entries.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/points", tag = "points",
    params(("member_id" = String, Path, description = "The brand's id for the member"), AccountQuery),
    responses(
        (status = 200, description = "The balance and entries", body = PointsAccountView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn account(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
    Query(query): Query<AccountQuery>,
) -> Result<Json<PointsAccountView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read points")?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=1_000).contains(&limit) {
        let mut errors = FieldErrors::default();
        errors.push("limit", "from 1 to 1000");
        return Err(ApiError::validation(&errors));
    }
    let id = super::member_in_path(&member)?;
    let account = app.points_account(&id, limit, query.before).await?;
    let next_before = (account.entries.len() == limit as usize)
        .then(|| account.entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(PointsAccountView {
        member_id: id.to_string(),
        balance: balance_view(&account.balance, app.today()),
        entries: account.entries.iter().map(entry_view).collect(),
        next_before,
    }))
}

/// Which members' expiring points to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExpiringQuery {
    /// Points that stop counting within this many days of today, 1 to 3,660 (default 30).
    within_days: Option<u32>,
    /// At most this many rows, 1 to 10,000 (default 1,000).
    limit: Option<u32>,
    /// Only rows after this one (the last page's `next_after`, `YYYY-MM-DD/MEMBER`).
    after: Option<String>,
}

/// Members whose points stop counting within a number of days, per expiry day and member,
/// soonest first: the audience for a "use your points before they go" message.
#[utoipa::path(
    get, path = "/api/v1/points/expiring", tag = "points",
    params(ExpiringQuery),
    responses(
        (status = 200, description = "The members", body = ExpiringMembersView),
        (status = 422, description = "A bound is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn expiring(
    State(app): State<App>,
    caller: Caller,
    Query(query): Query<ExpiringQuery>,
) -> Result<Json<ExpiringMembersView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read points")?;
    let mut errors = FieldErrors::default();
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=10_000).contains(&limit) {
        errors.push("limit", "from 1 to 10000");
    }
    let after = query.after.as_deref().and_then(|text| {
        parse_after(text)
            .map_err(|reason| errors.push("after", reason))
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let rows = app
        .expiring_points(query.within_days.unwrap_or(30), after.as_ref(), limit)
        .await?;
    let next_after = (rows.len() == limit as usize)
        .then(|| {
            rows.last()
                .map(|row| format!("{}/{}", row.expires_on, row.member_id))
        })
        .flatten();
    Ok(Json(ExpiringMembersView {
        members: rows.iter().map(expiring_view).collect(),
        next_after,
    }))
}

/// The view of one member's expiring points (the API's and `regulars points expiring --json`'s).
pub fn expiring_view(row: &ExpiringPoints) -> ExpiringMemberView {
    ExpiringMemberView {
        member_id: row.member_id.to_string(),
        expires_on: row.expires_on.to_string(),
        points: row.points,
    }
}

/// Reads a `YYYY-MM-DD/MEMBER` cursor.
fn parse_after(text: &str) -> Result<(jiff::civil::Date, MemberId), String> {
    let (day, member) = text
        .split_once('/')
        .ok_or_else(|| "write the last page's next_after (YYYY-MM-DD/MEMBER)".to_owned())?;
    Ok((regulars_domain::parse_date(day)?, MemberId::parse(member)?))
}

/// Which warnings to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WarningsQuery {
    /// Only this member's.
    member_id: Option<String>,
    /// At most this many, 1 to 1,000 (default 100).
    limit: Option<u32>,
    /// Only warnings older than this `seq` (the last page's `next_before`).
    before: Option<i64>,
}

/// The expiry warnings, newest first: each member's points about to expire, recorded once per
/// expiry day and stage (`[points] warn_days`) by the daily pass, for journeys.
#[utoipa::path(
    get, path = "/api/v1/points/warnings", tag = "points",
    params(WarningsQuery),
    responses(
        (status = 200, description = "The warnings", body = PointsWarningsView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
        (status = 422, description = "A filter is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn warnings(
    State(app): State<App>,
    caller: Caller,
    Query(query): Query<WarningsQuery>,
) -> Result<Json<PointsWarningsView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read points")?;
    let mut errors = FieldErrors::default();
    let limit = query.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        errors.push("limit", "from 1 to 1000");
    }
    let member_id = query.member_id.as_deref().and_then(|text| {
        MemberId::parse(text)
            .map_err(|reason| errors.push("member_id", reason))
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let warnings = app
        .points_warnings(member_id.as_ref(), query.before, limit)
        .await?;
    let next_before = (warnings.len() == limit as usize)
        .then(|| warnings.last().map(|w| w.seq))
        .flatten();
    Ok(Json(PointsWarningsView {
        warnings: warnings.iter().map(warning_view).collect(),
        next_before,
    }))
}

/// The view of one warning (the API's and `regulars points warnings --json`'s).
pub fn warning_view(warning: &PointsWarning) -> PointsWarningView {
    PointsWarningView {
        seq: warning.seq,
        member_id: warning.member_id.to_string(),
        expires_on: warning.expires_on.to_string(),
        days_before: warning.days_before,
        points: warning.points,
        day: warning.day.to_string(),
        recorded_at: warning.recorded_at.to_string(),
    }
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(change, account))
        .routes(routes!(expiring))
        .routes(routes!(warnings))
}
