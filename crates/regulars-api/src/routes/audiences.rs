//! Audiences: previewing a rule (JSON or text); saved audiences (rules kept live, static lists,
//! auto tags) with their members and the log of who entered and left; manual tags and their log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use regulars_api_types::{
    AudienceListView, AudienceMembersView, AudienceMoveView, AudienceMovesView, AudiencePresetView,
    AudiencePresetsView, AudiencePreviewRequest, AudiencePreviewView, AudienceRuleJson,
    AudienceSaveRequest, AudienceSavedView, AudienceView, ErrorBody, TagChangeView, TagChangesView,
    TagOutcomeView, TagRequest,
};
use regulars_app::{App, AudienceContent, AudienceDraft, AudienceSummary, LogFilter, PRESETS};
use regulars_domain::audience::AudienceRule;
use regulars_domain::{ApiRole, Email, FieldErrors, MemberId, MemberList, Phone};
use regulars_formats::audience::{rule_from_json, rule_to_json};
use regulars_formats::export::{AdPlatform, ExportColumn};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiJson;

/// The most member ids a preview returns.
const MAX_SAMPLE: usize = 1_000;

/// How many members a rule selects, with a sample, the rule's canonical text and its JSON.
#[utoipa::path(
    post, path = "/api/v1/audiences/preview", tag = "audiences",
    request_body = AudiencePreviewRequest,
    responses(
        (status = 200, description = "What the rule selects", body = AudiencePreviewView),
        (status = 422, description = "The rule is not valid: the field and reason, with line and column for text (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn preview(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<AudiencePreviewRequest>,
) -> Result<Json<AudiencePreviewView>, ApiError> {
    caller.require(ApiRole::can_read, "preview audiences")?;
    let mut errors = FieldErrors::default();
    let rule = match (&request.rule, &request.text) {
        (None, None) | (Some(_), Some(_)) => {
            errors.push(
                "rule",
                "give the rule as `rule` (JSON) or as `text`, one of them",
            );
            None
        }
        (json, text) => read_rule(json.as_ref(), text.as_deref(), &mut errors),
    };
    let as_of = request.as_of.as_deref().and_then(|text| {
        regulars_domain::parse_date(text)
            .map_err(|e| errors.push("as_of", e))
            .ok()
    });
    let sample = request.sample.unwrap_or(20);
    if sample > MAX_SAMPLE {
        errors.push("sample", format!("at most {MAX_SAMPLE}"));
    }
    let Some(rule) = rule.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(&errors));
    };
    let preview = app.preview_audience(&rule, as_of, sample).await?;
    Ok(Json(AudiencePreviewView {
        as_of: preview.as_of.to_string(),
        count: preview.count,
        members: preview.members,
        sample: preview.sample.iter().map(ToString::to_string).collect(),
        text: rule.to_string(),
        rule: rule_to_json(&rule),
    }))
}

/// A rule given as JSON or as text (the caller checked there is exactly one), refusals added
/// to `errors` with their field.
fn read_rule(
    json: Option<&AudienceRuleJson>,
    text: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<AudienceRule> {
    match (json, text) {
        (Some(json), _) => rule_from_json(json)
            .map_err(|refused| {
                for e in refused.0 {
                    errors.push(format!("rule.{}", e.field), e.reason);
                }
            })
            .ok(),
        (None, Some(text)) => regulars_domain::audience::parse_rule(text)
            .map_err(|e| errors.push("text", e.to_string()))
            .ok(),
        (None, None) => None,
    }
}

fn view(summary: &AudienceSummary) -> AudienceView {
    let definition = &summary.definition;
    let rule = definition
        .rule
        .as_deref()
        .and_then(|text| regulars_domain::audience::parse_rule(text).ok());
    AudienceView {
        name: definition.name.clone(),
        kind: if rule.is_some() { "rule" } else { "list" }.to_owned(),
        text: definition.rule.clone(),
        rule: rule.as_ref().map(rule_to_json),
        tag: definition.tag.clone(),
        description: definition.description.clone(),
        created_at: definition.created_at.to_string(),
        updated_at: definition.updated_at.to_string(),
        members: summary.members,
    }
}

/// Member ids from a request, refusals added to `errors` under `field[i]`.
fn member_ids(field: &str, ids: &[String], errors: &mut FieldErrors) -> Vec<MemberId> {
    parsed(field, ids, MemberId::parse, errors)
}

/// A save request's contents before its contacts are looked up.
enum Listed {
    Rule(AudienceRule),
    Members(MemberList),
}

/// A static list from a request, refusals added to `errors` under `field[i]`.
fn member_list(request: &AudienceSaveRequest, errors: &mut FieldErrors) -> MemberList {
    let empty = Vec::new();
    MemberList {
        ids: member_ids(
            "members",
            request.members.as_ref().unwrap_or(&empty),
            errors,
        ),
        phones: parsed(
            "phones",
            request.phones.as_ref().unwrap_or(&empty),
            Phone::parse,
            errors,
        ),
        emails: parsed(
            "emails",
            request.emails.as_ref().unwrap_or(&empty),
            Email::parse,
            errors,
        ),
    }
}

/// Values from a request, refusals added to `errors` under `field[i]`.
fn parsed<T>(
    field: &str,
    values: &[String],
    parse: fn(&str) -> Result<T, String>,
    errors: &mut FieldErrors,
) -> Vec<T> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| {
            parse(value)
                .map_err(|reason| errors.push(format!("{field}[{i}]"), reason))
                .ok()
        })
        .collect()
}

/// Creates or replaces a saved audience. Its members are tested at once; from then on it is kept
/// live, and everyone entering or leaving is logged.
#[utoipa::path(
    put, path = "/api/v1/audiences/{name}", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name")),
    request_body = AudienceSaveRequest,
    responses(
        (status = 201, description = "Created", body = AudienceSavedView),
        (status = 200, description = "Replaced", body = AudienceSavedView),
        (status = 422, description = "The rule, name, tag or members are not valid, or the rule would read itself in a cycle (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn save(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<AudienceSaveRequest>,
) -> Result<(StatusCode, Json<AudienceSavedView>), ApiError> {
    caller.require(ApiRole::can_manage_marketing, "save audiences")?;
    let mut errors = FieldErrors::default();
    let listed = request.members.is_some() || request.phones.is_some() || request.emails.is_some();
    let content = match (&request.rule, &request.text, listed) {
        (json @ Some(_), None, false) | (json @ None, Some(_), false) => {
            read_rule(json.as_ref(), request.text.as_deref(), &mut errors).map(Listed::Rule)
        }
        (None, None, true) => Some(Listed::Members(member_list(&request, &mut errors))),
        _ => {
            errors.push(
                "rule",
                "give a rule as `rule` (JSON) or `text`, or a static list as `members`, `phones` \
                 and `emails`: a rule or a list",
            );
            None
        }
    };
    let Some(content) = content.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(&errors));
    };
    let (content, unmatched) = match content {
        Listed::Rule(rule) => (AudienceContent::Rule(rule), Vec::new()),
        Listed::Members(list) => {
            let resolved = app.resolve_members(&list).await?;
            (
                AudienceContent::Members(resolved.members),
                resolved.unmatched,
            )
        }
    };
    let outcome = app
        .save_audience(AudienceDraft {
            name,
            content,
            tag: request.tag,
            description: request.description,
        })
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AudienceSavedView {
            audience: view(&outcome.summary),
            created: outcome.created,
            entered: outcome.entered,
            left: outcome.left,
            unmatched,
        }),
    ))
}

/// Every saved audience with its member count now.
#[utoipa::path(
    get, path = "/api/v1/audiences", tag = "audiences",
    responses((status = 200, description = "By name", body = AudienceListView)),
    security(("api_key" = []))
)]
async fn list(State(app): State<App>, caller: Caller) -> Result<Json<AudienceListView>, ApiError> {
    caller.require(ApiRole::can_read, "read audiences")?;
    let audiences = app.audiences().await?;
    Ok(Json(AudienceListView {
        audiences: audiences.iter().map(view).collect(),
    }))
}

/// One saved audience.
#[utoipa::path(
    get, path = "/api/v1/audiences/{name}", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name")),
    responses(
        (status = 200, description = "The audience", body = AudienceView),
        (status = 404, description = "No audience of that name (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<AudienceView>, ApiError> {
    caller.require(ApiRole::can_read, "read audiences")?;
    let (summary, _) = app.audience_members(&name).await?;
    Ok(Json(view(&summary)))
}

/// Deletes a saved audience; its members are logged as leaving.
#[utoipa::path(
    delete, path = "/api/v1/audiences/{name}", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No audience of that name (`not_found`)", body = ErrorBody),
        (status = 409, description = "Another audience reads it (`conflict`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn delete(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "delete audiences")?;
    app.delete_audience(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?after=…&limit=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct Page {
    /// Start after this member id (the previous page's `next_after`).
    after: Option<String>,
    /// Members per page, 1 to 10,000 (default 1,000).
    limit: Option<usize>,
}

/// A page of a saved audience's members now, in id order.
#[utoipa::path(
    get, path = "/api/v1/audiences/{name}/members", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name"), Page),
    responses(
        (status = 200, description = "A page of members", body = AudienceMembersView),
        (status = 404, description = "No audience of that name (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn members(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<Page>,
) -> Result<Json<AudienceMembersView>, ApiError> {
    caller.require(ApiRole::can_read, "read audiences")?;
    let (summary, ids) = app.audience_members(&name).await?;
    let limit = query.limit.unwrap_or(1_000).clamp(1, 10_000);
    let (page, next_after) = super::page_of(&ids, query.after.as_deref(), limit);
    Ok(Json(AudienceMembersView {
        name: summary.definition.name,
        total: summary.members,
        members: page,
        next_after,
    }))
}

/// `?columns=…`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ExportQuery {
    /// Comma-separated columns: member_id, name, phone, email, line_user_id, gender, birthday,
    /// region, joined_at, home_store, rfm, rfm8, nesl, rfim, lifecycle (default
    /// `member_id,name,phone,email`).
    columns: Option<String>,
}

fn csv_response(file: &str, header: &[String], rows: &[Vec<String>]) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        regulars_formats::export::to_csv(header, rows),
    )
        .into_response()
}

/// A saved audience's members as CSV with the chosen columns, in id order.
#[utoipa::path(
    get, path = "/api/v1/audiences/{name}/export", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name"), ExportQuery),
    responses(
        (status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 404, description = "No audience of that name (`not_found`)", body = ErrorBody),
        (status = 422, description = "An unknown column (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn export(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(ApiRole::can_read, "export audiences")?;
    let columns = ExportColumn::parse_list(
        query
            .columns
            .as_deref()
            .unwrap_or("member_id,name,phone,email"),
    )
    .map_err(|reason| {
        let mut errors = FieldErrors::default();
        errors.push("columns", reason);
        ApiError::validation(&errors)
    })?;
    let export = app.export_audience(&name, &columns).await?;
    Ok(csv_response("audience.csv", &export.header, &export.rows))
}

/// `?platform=google|meta`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AdQuery {
    /// `google` (Customer Match) or `meta` (custom audiences); default `google`.
    platform: Option<String>,
}

/// A saved audience as an ad platform's customer-match file: e-mails and phones normalised
/// as the platform asks and SHA-256 hashed; members with neither are left out.
#[utoipa::path(
    get, path = "/api/v1/audiences/{name}/ad-file", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name"), AdQuery),
    responses(
        (status = 200, description = "CSV of hashed e-mails and phones", content_type = "text/csv", body = String),
        (status = 404, description = "No audience of that name (`not_found`)", body = ErrorBody),
        (status = 422, description = "An unknown platform (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn ad_file(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<AdQuery>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(ApiRole::can_read, "export audiences")?;
    let platform =
        AdPlatform::parse(query.platform.as_deref().unwrap_or("google")).map_err(|reason| {
            let mut errors = FieldErrors::default();
            errors.push("platform", reason);
            ApiError::validation(&errors)
        })?;
    let export = app.export_ad_audience(&name, platform).await?;
    Ok(csv_response(
        "ad-audience.csv",
        &export.header,
        &export.rows,
    ))
}

/// `?subject=…&member_id=…&after=…&limit=…` over a log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct LogQuery {
    /// Only entries after this position (the last `seq` seen).
    after: Option<i64>,
    /// Only this member.
    member_id: Option<String>,
    /// Entries per page, 1 to 10,000 (default 1,000).
    limit: Option<u32>,
}

fn log_filter(subject: Option<String>, query: LogQuery) -> LogFilter {
    LogFilter {
        subject,
        member_id: query.member_id,
        after_seq: query.after,
        limit: query.limit.unwrap_or(1_000).clamp(1, 10_000),
    }
}

/// Who entered and left one saved audience, in log order (journeys follow this log).
#[utoipa::path(
    get, path = "/api/v1/audiences/{name}/moves", tag = "audiences",
    params(("name" = String, Path, description = "The audience's name"), LogQuery),
    responses((status = 200, description = "Log entries", body = AudienceMovesView)),
    security(("api_key" = []))
)]
async fn moves(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<AudienceMovesView>, ApiError> {
    caller.require(ApiRole::can_read, "read audiences")?;
    let entries = app.audience_moves(&log_filter(Some(name), query)).await?;
    Ok(Json(AudienceMovesView {
        moves: entries
            .into_iter()
            .map(|e| AudienceMoveView {
                seq: e.seq,
                audience: e.entry.audience,
                member_id: e.entry.member_id,
                entered: e.entry.entered,
                day: e.entry.day.to_string(),
                at: e.entry.at.to_string(),
                cause: e.entry.cause,
            })
            .collect(),
    }))
}

/// Gives a manual tag to members and takes it from others, in one transaction. Audiences that
/// read the tag move at once; every change is logged.
#[utoipa::path(
    post, path = "/api/v1/tags/{tag}", tag = "audiences",
    params(("tag" = String, Path, description = "The tag")),
    request_body = TagRequest,
    responses(
        (status = 200, description = "What changed", body = TagOutcomeView),
        (status = 422, description = "An unknown member or a bad tag (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn tag(
    State(app): State<App>,
    caller: Caller,
    Path(tag): Path<String>,
    ApiJson(request): ApiJson<TagRequest>,
) -> Result<Json<TagOutcomeView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "tag members")?;
    let mut errors = FieldErrors::default();
    let add = member_ids("add", &request.add, &mut errors);
    let remove = member_ids("remove", &request.remove, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let outcome = app.tag_members(&tag, &add, &remove, "api").await?;
    Ok(Json(TagOutcomeView {
        changed: outcome.changed,
        unchanged: outcome.unchanged,
    }))
}

/// Every change of one tag (manual, or by an auto tag), in log order.
#[utoipa::path(
    get, path = "/api/v1/tags/{tag}/changes", tag = "audiences",
    params(("tag" = String, Path, description = "The tag"), LogQuery),
    responses((status = 200, description = "Log entries", body = TagChangesView)),
    security(("api_key" = []))
)]
async fn tag_changes(
    State(app): State<App>,
    caller: Caller,
    Path(tag): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<TagChangesView>, ApiError> {
    caller.require(ApiRole::can_read, "read tags")?;
    let entries = app.tag_changes(&log_filter(Some(tag), query)).await?;
    Ok(Json(TagChangesView {
        changes: entries
            .into_iter()
            .map(|e| TagChangeView {
                seq: e.seq,
                member_id: e.entry.member_id,
                tag: e.entry.tag,
                added: e.entry.added,
                source: e.entry.source,
                day: e.entry.day.to_string(),
                at: e.entry.at.to_string(),
                cause: e.entry.cause,
            })
            .collect(),
    }))
}

/// The presets a brand may start with, and which are saved.
#[utoipa::path(
    get, path = "/api/v1/audience-presets", tag = "audiences",
    responses((status = 200, description = "In listing order", body = AudiencePresetsView)),
    security(("api_key" = []))
)]
async fn presets(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<AudiencePresetsView>, ApiError> {
    caller.require(ApiRole::can_read, "read audiences")?;
    let saved = app.audiences().await?;
    Ok(Json(AudiencePresetsView {
        presets: PRESETS
            .iter()
            .map(|preset| AudiencePresetView {
                name: preset.name.to_owned(),
                description: preset.description.to_owned(),
                text: preset.rule.to_owned(),
                saved: saved.iter().any(|a| a.definition.name == preset.name),
            })
            .collect(),
    }))
}

/// Saves the presets not saved yet (an audience already saved under a preset's name is kept as
/// it is) and answers the ones it saved, each kept live from then on.
#[utoipa::path(
    post, path = "/api/v1/audience-presets", tag = "audiences",
    responses((status = 200, description = "The audiences newly saved", body = AudienceListView)),
    security(("api_key" = []))
)]
async fn install_presets(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<AudienceListView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "save audiences")?;
    let installed = app.install_presets().await?;
    Ok(Json(AudienceListView {
        audiences: installed.iter().map(|s| view(&s.summary)).collect(),
    }))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(preview))
        .routes(routes!(list))
        .routes(routes!(presets, install_presets))
        .routes(routes!(save, show, delete))
        .routes(routes!(members))
        .routes(routes!(export))
        .routes(routes!(ad_file))
        .routes(routes!(moves))
        .routes(routes!(tag))
        .routes(routes!(tag_changes))
}
