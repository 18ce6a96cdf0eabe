//! Audiences: how many members a rule (JSON or text) selects as of a day, and the first of them.

use axum::Json;
use axum::extract::State;
use regulars_api_types::{AudiencePreviewRequest, AudiencePreviewView, ErrorBody};
use regulars_app::App;
use regulars_domain::{ApiRole, FieldErrors};
use regulars_formats::audience::{rule_from_json, rule_to_json};
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
        (Some(json), None) => rule_from_json(json)
            .map_err(|refused| {
                for e in refused.0 {
                    errors.push(format!("rule.{}", e.field), e.reason);
                }
            })
            .ok(),
        (None, Some(text)) => regulars_domain::audience::parse_rule(text)
            .map_err(|e| errors.push("text", e.to_string()))
            .ok(),
        _ => {
            errors.push(
                "rule",
                "give the rule as `rule` (JSON) or as `text`, one of them",
            );
            None
        }
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

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(preview))
}
