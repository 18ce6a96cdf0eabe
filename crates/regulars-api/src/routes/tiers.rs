//! Tiers: the programme with its ladder and member counts, where one member stands, the tier
//! change log, members near their next tier, and evaluating members on demand.

use axum::Json;
use axum::extract::{Path, Query, State};
use regulars_api_types::{
    ErrorBody, MemberTierView, NearTierMemberView, NearTierView, TierChangeView, TierChangesView,
    TierEvaluateRequest, TierEvaluationView, TierLevelView, TierProgramView,
};
use regulars_app::{App, LoggedTierChange, TierChangeFilter, TierStatus};
use regulars_domain::{ApiRole, FieldErrors, MemberId, TierLevel};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiJson;

pub(crate) fn level_view(level: &TierLevel, members: Option<u64>) -> TierLevelView {
    TierLevelView {
        name: level.name.to_string(),
        title: level.title.clone(),
        entry: level.entry,
        retain: level.retain,
        fast_upgrade: level.fast_upgrade,
        points_multiplier: level.benefits.multiplier.to_decimal(),
        birthday_coupon: level
            .benefits
            .birthday_coupon
            .as_ref()
            .map(ToString::to_string),
        free_shipping: level.benefits.free_shipping,
        entry_points: level.benefits.entry_points,
        entry_coupon: level
            .benefits
            .entry_coupon
            .as_ref()
            .map(ToString::to_string),
        members,
    }
}

fn change_view(logged: &LoggedTierChange) -> TierChangeView {
    let change = &logged.change;
    TierChangeView {
        seq: logged.seq,
        member_id: change.member_id.to_string(),
        day: change.day.to_string(),
        from_tier: change.from_tier.clone(),
        to_tier: change.to_tier.clone(),
        kind: change.kind.clone(),
        value: change.value,
        order_id: change.order_id.as_ref().map(ToString::to_string),
        reason: change.reason.clone(),
        recorded_at: logged.recorded_at.to_string(),
    }
}

/// The view of where a member stands (the API's and `regulars tiers show --json`'s).
pub fn member_tier_view(status: &TierStatus) -> MemberTierView {
    MemberTierView {
        member_id: status.member_id.to_string(),
        tier: level_view(&status.level, None),
        since: status.since.map(|d| d.to_string()),
        until: status.until.map(|d| d.to_string()),
        metric: status.metric.as_str().to_owned(),
        value: status.progress.value,
        next_tier: status.next.as_ref().map(|level| level_view(level, None)),
        to_next: status.progress.to_next,
        renewal_value: status.progress.renewal_value,
        to_renew: status.progress.to_renew,
        renews_on: status.progress.renews_on.map(|d| d.to_string()),
        changes: status.changes.iter().map(change_view).collect(),
    }
}

/// The tier programme: its rules and its ladder, with the members on each level (as last
/// evaluated).
#[utoipa::path(
    get, path = "/api/v1/tiers", tag = "tiers",
    responses(
        (status = 200, description = "The programme", body = TierProgramView),
        (status = 404, description = "The brand has no tier programme (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn program(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<TierProgramView>, ApiError> {
    caller.require(ApiRole::can_read, "read tiers")?;
    let counts = app.tier_counts().await?;
    let rules = app
        .tier_rules()
        .expect("tier_counts answers only with a programme");
    Ok(Json(TierProgramView {
        metric: rules.metric.as_str().to_owned(),
        window_days: rules.window_days,
        term_months: rules.term_months,
        renewal_window: rules.renewal_window.as_str().to_owned(),
        downgrade: rules.downgrade.as_str().to_owned(),
        grace_days: rules.grace_days,
        levels: counts
            .iter()
            .map(|(level, members)| level_view(level, Some(*members)))
            .collect(),
    }))
}

/// Where a member stands today: their tier and term, the progress to the next tier and to
/// renewal, and their tier changes.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/tier", tag = "tiers",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    responses(
        (status = 200, description = "The member's tier", body = MemberTierView),
        (status = 404, description = "No such member, or no tier programme (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn member_tier(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
) -> Result<Json<MemberTierView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read tiers")?;
    let id = super::member_in_path(&member)?;
    Ok(Json(member_tier_view(&app.member_tier(&id).await?)))
}

/// Which tier changes to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// Only this member's.
    member_id: Option<String>,
    /// Only changes into this tier.
    tier: Option<String>,
    /// Only this kind: `upgrade`, `fast_upgrade`, `renewal`, `downgrade`, `return_downgrade`.
    kind: Option<String>,
    /// Only changes on or after this day (`YYYY-MM-DD`).
    from: Option<String>,
    /// Only changes on or before this day.
    to: Option<String>,
    /// At most this many, 1 to 1,000 (default 100).
    limit: Option<u32>,
    /// Only changes older than this `seq` (the last page's `next_before`).
    before: Option<i64>,
}

/// The tier change log, newest first: every upgrade, renewal and downgrade with the rule that
/// made it, for journeys and reports.
#[utoipa::path(
    get, path = "/api/v1/tier-changes", tag = "tiers",
    params(ChangesQuery),
    responses(
        (status = 200, description = "The changes", body = TierChangesView),
        (status = 422, description = "A filter is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn changes(
    State(app): State<App>,
    caller: Caller,
    Query(query): Query<ChangesQuery>,
) -> Result<Json<TierChangesView>, ApiError> {
    caller.require(ApiRole::can_read, "read tiers")?;
    let mut errors = FieldErrors::default();
    let limit = query.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        errors.push("limit", "from 1 to 1000");
    }
    let mut day = |field: &'static str, text: Option<&str>| {
        text.and_then(|text| {
            regulars_domain::parse_date(text)
                .map_err(|reason| errors.push(field, reason))
                .ok()
        })
    };
    let from = day("from", query.from.as_deref());
    let to = day("to", query.to.as_deref());
    let member_id = query.member_id.as_deref().and_then(|text| {
        MemberId::parse(text)
            .map_err(|reason| errors.push("member_id", reason))
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let filter = TierChangeFilter {
        member_id,
        to_tier: query.tier,
        kind: query.kind,
        from,
        to,
        before: query.before,
    };
    let changes = app.tier_changes(&filter, limit).await?;
    let next_before = (changes.len() == limit as usize)
        .then(|| changes.last().map(|c| c.seq))
        .flatten();
    Ok(Json(TierChangesView {
        changes: changes.iter().map(change_view).collect(),
        next_before,
    }))
}

/// How near.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NearQuery {
    /// At most this much (metric units; minor units for spend) from the next tier.
    within: Option<i64>,
    /// At most this percent (1 to 100) of the next tier's entry away.
    percent: Option<u32>,
    /// At most this many members, 1 to 10,000 (default 1,000).
    limit: Option<u32>,
}

/// Members near their next tier (within an amount, a percentage, or both), nearest first: the
/// audience for a "you are almost Gold" message.
#[utoipa::path(
    get, path = "/api/v1/tiers/near-next", tag = "tiers",
    params(NearQuery),
    responses(
        (status = 200, description = "The members", body = NearTierView),
        (status = 404, description = "No tier programme (`not_found`)", body = ErrorBody),
        (status = 422, description = "A bound is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn near_next(
    State(app): State<App>,
    caller: Caller,
    Query(query): Query<NearQuery>,
) -> Result<Json<NearTierView>, ApiError> {
    caller.require(ApiRole::can_read, "read tiers")?;
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=10_000).contains(&limit) {
        let mut errors = FieldErrors::default();
        errors.push("limit", "from 1 to 10000");
        return Err(ApiError::validation(&errors));
    }
    let members = app
        .near_next_tier(query.within, query.percent, limit)
        .await?;
    Ok(Json(NearTierView {
        members: members
            .into_iter()
            .map(|tier| NearTierMemberView {
                member_id: tier.member_id.to_string(),
                tier: tier.tier,
                next_tier: tier.next_tier.unwrap_or_default(),
                value: tier.value,
                to_next: tier.to_next.unwrap_or_default(),
                evaluated_on: tier.evaluated_on.to_string(),
            })
            .collect(),
    }))
}

/// Evaluates members' tiers now (all members with an order when none are named), recording
/// changes and granting entry rewards once. Orders are evaluated as they arrive and time-driven
/// changes daily, so this is for after a change of rules or a bulk import.
#[utoipa::path(
    post, path = "/api/v1/tiers/evaluate", tag = "tiers",
    request_body = TierEvaluateRequest,
    responses(
        (status = 200, description = "What it did", body = TierEvaluationView),
        (status = 404, description = "No tier programme (`not_found`)", body = ErrorBody),
        (status = 422, description = "A member id is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn evaluate(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<TierEvaluateRequest>,
) -> Result<Json<TierEvaluationView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "evaluate tiers")?;
    let mut errors = FieldErrors::default();
    let members: Vec<MemberId> = request
        .member_ids
        .iter()
        .filter_map(|text| {
            MemberId::parse(text)
                .map_err(|reason| errors.push("member_ids", reason))
                .ok()
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let done = if members.is_empty() {
        app.evaluate_all_tiers().await?
    } else {
        app.evaluate_tiers(&members).await?
    };
    Ok(Json(TierEvaluationView {
        members: done.members,
        changes: done.changes,
        rewards: done.rewards,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(program))
        .routes(routes!(member_tier))
        .routes(routes!(changes))
        .routes(routes!(near_next))
        .routes(routes!(evaluate))
}
