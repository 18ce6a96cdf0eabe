//! Segments: members per segment of a model, one member's segments with explanations, and the
//! members of one segment, each as of a day (default today in the brand's zone).

use axum::Json;
use axum::extract::{Path, Query, State};
use regulars_api_types::{
    ErrorBody, ErrorCode, MemberSegmentsView, MigrationCellView, MigrationView, ModelVerdictView,
    SegmentCountView, SegmentCountsView, SegmentMembersView, TransitionView, TransitionsView,
};
use regulars_app::App;
use regulars_app::segments::{Model, Segments};
use regulars_domain::ApiRole;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;

/// `?as_of=YYYY-MM-DD`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AsOf {
    /// Evaluate as of the end of this date, ignoring later facts (default: today).
    as_of: Option<String>,
}

/// `?as_of=…&after=…&limit=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct Page {
    /// Evaluate as of the end of this date (default: today).
    as_of: Option<String>,
    /// Start after this member id (the previous page's `next_after`).
    after: Option<String>,
    /// Members per page, 1 to 1,000 (default 100).
    limit: Option<usize>,
}

fn parse_model(name: &str) -> Result<Model, ApiError> {
    Model::parse(name).map_err(|reason| ApiError::new(ErrorCode::NotFound, reason))
}

async fn evaluate(app: &App, caller: &Caller, as_of: Option<&str>) -> Result<Segments, ApiError> {
    caller.require(ApiRole::can_read, "read segments")?;
    let mut errors = regulars_domain::FieldErrors::default();
    let as_of = day("as_of", as_of, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    Ok(app.segments(as_of).await?)
}

/// How many members each segment of a model holds.
#[utoipa::path(
    get, path = "/api/v1/segments/{model}", tag = "segments",
    params(("model" = String, Path, description = "`rfm`, `rfm8`, `nesl`, `rfim` or `lifecycle`"), AsOf),
    responses(
        (status = 200, description = "Members per segment", body = SegmentCountsView),
        (status = 404, description = "No such model (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn counts(
    State(app): State<App>,
    caller: Caller,
    Path(model): Path<String>,
    Query(query): Query<AsOf>,
) -> Result<Json<SegmentCountsView>, ApiError> {
    let model = parse_model(&model)?;
    let segmentation = evaluate(&app, &caller, query.as_of.as_deref()).await?;
    let total = segmentation.member_ids().len() as u64;
    Ok(Json(SegmentCountsView {
        model: model.as_str().to_owned(),
        as_of: segmentation.as_of().to_string(),
        members: total,
        store_cycle_days: segmentation.cuts().store_cycle,
        segments: segmentation
            .counts(model)
            .into_iter()
            .map(|count| SegmentCountView {
                segment: count.segment.to_owned(),
                label_zh: count.label_zh.to_owned(),
                members: count.members,
                share: count.members as f64 / total.max(1) as f64,
            })
            .collect(),
    }))
}

/// The members of one segment, a page at a time in id order.
#[utoipa::path(
    get, path = "/api/v1/segments/{model}/{segment}/members", tag = "segments",
    params(
        ("model" = String, Path, description = "`rfm`, `rfm8`, `nesl`, `rfim` or `lifecycle`"),
        ("segment" = String, Path, description = "A segment's canonical name, as `GET /api/v1/segments/{model}` lists them"),
        Page,
    ),
    responses(
        (status = 200, description = "A page of members", body = SegmentMembersView),
        (status = 404, description = "No such model (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn members(
    State(app): State<App>,
    caller: Caller,
    Path((model, segment)): Path<(String, String)>,
    Query(query): Query<Page>,
) -> Result<Json<SegmentMembersView>, ApiError> {
    let model = parse_model(&model)?;
    let segmentation = evaluate(&app, &caller, query.as_of.as_deref()).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let ids = segmentation.members_of(model, &segment);
    let total = ids.len() as u64;
    let (page, next_after) = super::page_of(&ids, query.after.as_deref(), limit);
    Ok(Json(SegmentMembersView {
        model: model.as_str().to_owned(),
        segment,
        as_of: segmentation.as_of().to_string(),
        total,
        members: page,
        next_after,
    }))
}

/// A member's segment in every model, with the inputs, thresholds and rule behind each.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/segments", tag = "segments",
    params(("member_id" = String, Path, description = "The brand's id for the member"), AsOf),
    responses(
        (status = 200, description = "The member's segments", body = MemberSegmentsView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn member(
    State(app): State<App>,
    caller: Caller,
    Path(member_id): Path<String>,
    Query(query): Query<AsOf>,
) -> Result<Json<MemberSegmentsView>, ApiError> {
    let segmentation = evaluate(&app, &caller, query.as_of.as_deref()).await?;
    let id = super::member_in_path(&member_id)?;
    let idx = segmentation
        .position(&id)
        .ok_or_else(|| super::member_not_found(&member_id))?;
    let m = segmentation.member(idx);
    Ok(Json(MemberSegmentsView {
        member_id: id.to_string(),
        as_of: segmentation.as_of().to_string(),
        recency_days: m.features.recency,
        frequency: m.features.frequency,
        monetary: m.features.monetary,
        cycle_days: m.cycle.map(|c| c.days()),
        rfm_scores: m.rfm.map(|s| [s.r, s.f, s.m]),
        models: segmentation
            .verdicts(idx, app.engine_config(), app.brand().currency)
            .into_iter()
            .map(|v| ModelVerdictView {
                model: v.model.as_str().to_owned(),
                segment: v.segment.to_owned(),
                label_zh: v.label_zh.to_owned(),
                explanation: v.explanation,
            })
            .collect(),
    }))
}

/// `?model=…&segment=…&member_id=…&from=…&to=…&after=…&limit=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct TransitionQuery {
    /// Only this model (`rfm`, `rfm8`, `nesl`, `rfim`, `lifecycle`).
    model: Option<String>,
    /// Only moves into or out of this segment.
    segment: Option<String>,
    /// Only this member.
    member_id: Option<String>,
    /// From this day on (YYYY-MM-DD, the brand's zone).
    from: Option<String>,
    /// Up to and including this day.
    to: Option<String>,
    /// After this position in the log (the previous page's `next_after`).
    after: Option<i64>,
    /// Transitions per page, 1 to 1,000 (default 100).
    limit: Option<u32>,
}

/// The date in `text`, if any; a bad one is added to `errors` under `field`.
fn day(
    field: &str,
    text: Option<&str>,
    errors: &mut regulars_domain::FieldErrors,
) -> Option<jiff::civil::Date> {
    text.and_then(|t| match regulars_domain::parse_date(t) {
        Ok(date) => Some(date),
        Err(reason) => {
            errors.push(field, reason);
            None
        }
    })
}

/// Every membership change, oldest first: who moved, in which model, from where to where, on
/// which day and why.
#[utoipa::path(
    get, path = "/api/v1/transitions", tag = "segments",
    params(TransitionQuery),
    responses(
        (status = 200, description = "A page of transitions", body = TransitionsView),
        (status = 422, description = "A filter is invalid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn transitions(
    State(app): State<App>,
    caller: Caller,
    Query(query): Query<TransitionQuery>,
) -> Result<Json<TransitionsView>, ApiError> {
    caller.require(ApiRole::can_read, "read segments")?;
    let mut errors = regulars_domain::FieldErrors::default();
    let model = query.model.as_deref().and_then(|m| match Model::parse(m) {
        Ok(model) => Some(model.as_str()),
        Err(reason) => {
            errors.push("model", reason);
            None
        }
    });
    let from_day = day("from", query.from.as_deref(), &mut errors);
    let to_day = day("to", query.to.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let page = app
        .segment_transitions(&regulars_app::TransitionFilter {
            model,
            segment: query.segment,
            member_id: query.member_id,
            from_day,
            to_day,
            after_seq: query.after,
            limit,
        })
        .await?;
    let next_after = (page.len() == limit as usize)
        .then(|| page.last().map(|t| t.seq))
        .flatten();
    Ok(Json(TransitionsView {
        transitions: page
            .into_iter()
            .map(|logged| {
                let t = logged.transition;
                TransitionView {
                    seq: logged.seq,
                    member_id: t.member_id,
                    model: t.model.to_owned(),
                    from: t.from,
                    to: t.to,
                    day: t.day.to_string(),
                    at: t.at.to_string(),
                    cause: t.cause,
                }
            })
            .collect(),
        next_after,
    }))
}

/// `?from=…&to=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct MigrationQuery {
    /// The first snapshot day (YYYY-MM-DD).
    from: String,
    /// The second snapshot day (YYYY-MM-DD).
    to: String,
}

/// How members moved between the segments of a model from one daily snapshot to another: the
/// migration matrix for period-over-period reports.
#[utoipa::path(
    get, path = "/api/v1/segments/{model}/migration", tag = "segments",
    params(("model" = String, Path, description = "`rfm`, `rfm8`, `nesl`, `rfim` or `lifecycle`"), MigrationQuery),
    responses(
        (status = 200, description = "The matrix's non-empty cells", body = MigrationView),
        (status = 404, description = "No such model (`not_found`)", body = ErrorBody),
        (status = 422, description = "A day is invalid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn migration(
    State(app): State<App>,
    caller: Caller,
    Path(model): Path<String>,
    Query(query): Query<MigrationQuery>,
) -> Result<Json<MigrationView>, ApiError> {
    caller.require(ApiRole::can_read, "read segments")?;
    let model = parse_model(&model)?;
    let mut errors = regulars_domain::FieldErrors::default();
    let from = day("from", Some(&query.from), &mut errors);
    let to = day("to", Some(&query.to), &mut errors);
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::validation(&errors));
    };
    let cells = app.segment_migration(model, from, to).await?;
    Ok(Json(MigrationView {
        model: model.as_str().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        cells: cells
            .into_iter()
            .map(|c| MigrationCellView {
                from: c.from,
                to: c.to,
                members: c.members,
            })
            .collect(),
        snapshot_days: app
            .segment_snapshot_days()
            .await?
            .iter()
            .map(ToString::to_string)
            .collect(),
    }))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(transitions))
        .routes(routes!(migration))
        .routes(routes!(counts))
        .routes(routes!(members))
        .routes(routes!(member))
}
