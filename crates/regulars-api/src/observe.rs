//! Request metrics and logs, and the JSON answers for unknown routes and methods.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use regulars_api_types::ErrorCode;
use regulars_app::App;

use crate::ApiError;

/// Counts and logs every request by method, matched route and status.
pub(crate) async fn track(State(app): State<App>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    app.metrics()
        .record_request(method.as_str(), &route, status, elapsed);
    tracing::info!(method = %method, route = %route, status, elapsed_ms = elapsed.as_secs_f64() * 1e3, "request");
    response
}

pub(crate) async fn route_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        "no endpoint at this path; see /api/openapi.json",
    )
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take this method",
    )
}
