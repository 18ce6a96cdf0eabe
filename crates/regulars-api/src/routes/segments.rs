//! Segments: members per segment of a model, one member's segments with explanations, and the
//! members of one segment, each as of a day (default today in the brand's zone).

use axum::Json;
use axum::extract::{Path, Query, State};
use regulars_api_types::{
    ErrorBody, ErrorCode, MemberSegmentsView, ModelVerdictView, SegmentCountView,
    SegmentCountsView, SegmentMembersView,
};
use regulars_app::App;
use regulars_app::segments::{Model, Segmentation};
use regulars_domain::{ApiRole, MemberId};
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

async fn evaluate(
    app: &App,
    caller: &Caller,
    as_of: Option<&str>,
) -> Result<std::sync::Arc<Segmentation>, ApiError> {
    caller.require(ApiRole::can_read, "read segments")?;
    let as_of = match as_of {
        Some(text) => Some(regulars_domain::parse_date(text).map_err(|reason| {
            let mut errors = regulars_domain::FieldErrors::default();
            errors.push("as_of", reason);
            ApiError::validation(&errors)
        })?),
        None => None,
    };
    Ok(app.segmentation(as_of).await?)
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
    let total = segmentation.member_ids.len() as u64;
    Ok(Json(SegmentCountsView {
        model: model.as_str().to_owned(),
        as_of: segmentation.as_of.to_string(),
        members: total,
        store_cycle_days: segmentation.evaluation.store_cycle,
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
    let start = query
        .after
        .as_deref()
        .map_or(0, |after| ids.partition_point(|id| id.as_str() <= after));
    let page: Vec<String> = ids[start..]
        .iter()
        .take(limit)
        .map(|id| id.to_string())
        .collect();
    let next_after = (start + page.len() < ids.len())
        .then(|| page.last().cloned())
        .flatten();
    Ok(Json(SegmentMembersView {
        model: model.as_str().to_owned(),
        segment,
        as_of: segmentation.as_of.to_string(),
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
    let not_found = || ApiError::new(ErrorCode::NotFound, format!("member {member_id} not found"));
    let id = MemberId::parse(&member_id).map_err(|_| not_found())?;
    let idx = *segmentation.index.get(&id).ok_or_else(not_found)?;
    let m = &segmentation.evaluation.members[idx];
    Ok(Json(MemberSegmentsView {
        member_id: id.to_string(),
        as_of: segmentation.as_of.to_string(),
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

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(counts))
        .routes(routes!(members))
        .routes(routes!(member))
}
