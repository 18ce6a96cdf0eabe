//! Authentication: the `Caller` extractor checks the bearer token and yields the key's role.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use regulars_api_types::ErrorCode;
use regulars_app::{ApiKey, App, AuthError};
use regulars_domain::ApiRole;

use crate::ApiError;

/// The authenticated caller of a request.
pub(crate) struct Caller(pub(crate) ApiKey);

impl Caller {
    /// Fails with `forbidden` unless the caller's role passes `allowed`.
    pub(crate) fn require(&self, allowed: fn(ApiRole) -> bool, what: &str) -> Result<(), ApiError> {
        if allowed(self.0.role) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("a key with role {} may not {what}", self.0.role.as_str()),
            ))
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer_token(parts: &axum::http::HeaderMap) -> Option<&str> {
    let value = parts
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send an API key as `Authorization: Bearer <token>`",
            )
        })?;
        match app.authenticate(token).await {
            Ok(key) => Ok(Self(key)),
            Err(AuthError::Invalid) => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "the API key is not valid",
            )),
            Err(AuthError::Revoked) => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "the API key was revoked",
            )),
            Err(AuthError::Store(error)) => Err(ApiError::internal(error)),
        }
    }
}
