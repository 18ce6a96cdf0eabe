//! `ApiError`: every failure becomes `{code, message, details}` with the status its code maps to.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use regulars_api_types::{ErrorBody, ErrorCode, ErrorDetail};
use regulars_app::Rejection;
use regulars_app::{AppError, CouponRefusal};
use regulars_domain::FieldErrors;

/// The HTTP status of each error code: the one place the API decides it.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound | ErrorCode::RouteNotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::InvalidJson | ErrorCode::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
        ErrorCode::ValidationFailed
        | ErrorCode::UnknownReference
        | ErrorCode::IdempotencyKeyReused
        | ErrorCode::CouponNotApplicable
        | ErrorCode::ReferralRefused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Conflict
        | ErrorCode::IdempotencyKeyInFlight
        | ErrorCode::InsufficientPoints
        | ErrorCode::CouponLimitReached
        | ErrorCode::CouponPoolEmpty
        | ErrorCode::CouponNotUsable => StatusCode::CONFLICT,
        ErrorCode::BatchTooLarge | ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    body: ErrorBody,
    /// The cause of an internal error, logged once and never sent.
    cause: Option<String>,
}

impl ApiError {
    /// An error with `code` and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            body: ErrorBody {
                code,
                message: message.into(),
                details: Vec::new(),
            },
            cause: None,
        }
    }

    /// Adds field details.
    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> Self {
        self.body.details = details;
        self
    }

    /// A request whose fields broke their rules.
    pub fn validation(errors: &FieldErrors) -> Self {
        Self::new(ErrorCode::ValidationFailed, "some fields are not valid").with_details(
            errors
                .0
                .iter()
                .map(|e| ErrorDetail {
                    field: Some(e.field.clone()),
                    reason: e.reason.clone(),
                })
                .collect(),
        )
    }

    /// A fact the store refused.
    pub fn rejection(rejection: &Rejection) -> Self {
        let code = match rejection {
            Rejection::Conflict { .. } => ErrorCode::Conflict,
            Rejection::UnknownMember(_)
            | Rejection::UnknownStore(_)
            | Rejection::UnknownOrder(_) => ErrorCode::UnknownReference,
            Rejection::Invalid { .. } => ErrorCode::ValidationFailed,
        };
        Self::new(code, rejection.to_string()).with_details(vec![ErrorDetail {
            field: Some(rejection.field().to_owned()),
            reason: rejection.to_string(),
        }])
    }

    /// A failure of ours; the cause goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorCode::Internal, "the server failed; see its log")
        }
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// The body, consumed.
    pub fn into_body(self) -> ErrorBody {
        self.body
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound(what) => Self::new(ErrorCode::NotFound, format!("{what} not found")),
            AppError::InvalidRule(reason) => Self::new(ErrorCode::ValidationFailed, reason),
            AppError::Invalid { field, reason } => {
                let mut errors = FieldErrors::default();
                errors.push(field, reason);
                Self::validation(&errors)
            }
            AppError::Conflict(reason) => Self::new(ErrorCode::Conflict, reason),
            AppError::InsufficientPoints { available, asked } => Self::new(
                ErrorCode::InsufficientPoints,
                format!("{asked} points asked, {available} available"),
            ),
            AppError::KeyReused(reason) => Self::new(ErrorCode::IdempotencyKeyReused, reason),
            AppError::ReferralRefused(reason) => Self::new(ErrorCode::ReferralRefused, reason),
            AppError::CouponRefused { kind, message } => {
                let code = match kind {
                    CouponRefusal::LimitReached => ErrorCode::CouponLimitReached,
                    CouponRefusal::PoolEmpty => ErrorCode::CouponPoolEmpty,
                    CouponRefusal::NotApplicable => ErrorCode::CouponNotApplicable,
                    CouponRefusal::NotUsable => ErrorCode::CouponNotUsable,
                };
                Self::new(code, message)
            }
            AppError::Store(store) => Self::internal(format!("{store:#}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(cause = %cause, "request failed");
        }
        (status_of(self.body.code), axum::Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_client_or_server_error_status() {
        for code in ErrorCode::ALL {
            let status = status_of(*code);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
        }
    }
}
