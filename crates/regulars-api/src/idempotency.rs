//! Idempotent writes: a write sent with an `Idempotency-Key` runs once; a retry with the same key
//! and the same request gets the stored answer (marked `Idempotent-Replayed: true`), the same key
//! with a different request is refused, and a key whose request is still running answers 409.
//!
//! Keys are scoped to the API key that sent them and to the endpoint. A request that fails with
//! a server error, or is refused before it runs (401, 403), releases its key so it can be retried.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use regulars_api_types::ErrorCode;
use regulars_app::App;
use regulars_app::IdempotencyClaim;

use crate::ApiError;
use crate::auth::bearer_token;

/// The request header.
pub(crate) const HEADER: &str = "idempotency-key";
/// The response header on a replayed answer.
pub(crate) const REPLAYED: &str = "idempotent-replayed";

pub(crate) async fn middleware(
    State((app, body_limit)): State<(App, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let key = match value.to_str().map(str::trim) {
        Ok(key) if !key.is_empty() && key.len() <= 255 => key.to_owned(),
        _ => {
            return ApiError::new(
                ErrorCode::InvalidIdempotencyKey,
                "the Idempotency-Key must be 1 to 255 visible characters",
            )
            .into_response();
        }
    };
    let caller = bearer_token(request.headers())
        .and_then(|token| token.strip_prefix(regulars_app::KEY_PREFIX))
        .and_then(|rest| rest.split_once('_'))
        .map_or("anonymous", |(key_id, _)| key_id)
        .to_owned();
    let scope = format!("{caller} {} {}", request.method(), request.uri().path());
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, body_limit).await else {
        return ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            .into_response();
    };
    let mut fingerprint = parts.uri.to_string().into_bytes();
    fingerprint.extend_from_slice(&bytes);
    match app.claim_idempotency_key(&scope, &key, &fingerprint).await {
        Err(error) => ApiError::from(error).into_response(),
        Ok(IdempotencyClaim::Replay { status, body }) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
        Ok(IdempotencyClaim::InFlight) => ApiError::new(
            ErrorCode::IdempotencyKeyInFlight,
            "a request with this Idempotency-Key has not finished; retry later",
        )
        .into_response(),
        Ok(IdempotencyClaim::Mismatch) => ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request",
        )
        .into_response(),
        Ok(IdempotencyClaim::Claimed) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let status = response.status();
            if status.is_server_error()
                || status == StatusCode::UNAUTHORIZED
                || status == StatusCode::FORBIDDEN
            {
                if let Err(error) = app.release_idempotency_key(&scope, &key).await {
                    tracing::error!(error = %error, "releasing an idempotency key failed");
                }
                return response;
            }
            let (parts, body) = response.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return ApiError::internal("the response body could not be read").into_response();
            };
            let text = String::from_utf8_lossy(&bytes);
            if let Err(error) = app
                .complete_idempotency_key(&scope, &key, status.as_u16(), &text)
                .await
            {
                return ApiError::from(error).into_response();
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
