//! Health, fact counts and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use regulars_api_types::{HealthView, StatsView};
use regulars_app::App;
use regulars_domain::ApiRole;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::{ApiError, views};

/// Whether the service and its database answer; needs no key.
#[utoipa::path(
    get, path = "/healthz", tag = "system",
    responses(
        (status = 200, description = "Healthy", body = HealthView),
        (status = 503, description = "The database does not answer", body = HealthView),
    )
)]
async fn healthz(State(app): State<App>) -> (StatusCode, Json<HealthView>) {
    let database = app.fact_counts().await.is_ok();
    let view = HealthView {
        status: if database { "ok" } else { "degraded" }.to_owned(),
        backend: app.store().backend().as_str().to_owned(),
        database,
    };
    (
        if database {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(view),
    )
}

/// How many of each fact kind are stored.
#[utoipa::path(
    get, path = "/api/v1/stats", tag = "members",
    responses((status = 200, description = "Counts", body = StatsView)),
    security(("api_key" = []))
)]
async fn stats(State(app): State<App>, caller: Caller) -> Result<Json<StatsView>, ApiError> {
    caller.require(ApiRole::can_read, "read statistics")?;
    Ok(Json(views::stats(app.fact_counts().await?)))
}

/// Prometheus metrics, in the text format.
pub(crate) async fn metrics(State(app): State<App>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics().render(),
    )
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(stats))
}
