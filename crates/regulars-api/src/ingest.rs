//! Recording facts one at a time or in batches, the same way for every kind.

use axum::Json;
use axum::http::StatusCode;
use regulars_api_types::{
    BatchItemView, BatchResultView, ErrorBody, ErrorCode, IngestResultView, MAX_BATCH_ITEMS,
};
use regulars_app::Accepted;
use regulars_app::{App, Ingest};
use regulars_domain::{ApiRole, FieldErrors};
use regulars_formats::ParseContext;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::auth::Caller;

/// Converts a request of one kind into its fact.
pub(crate) type Convert<R, T> = fn(&R, &ParseContext) -> Result<T, FieldErrors>;

/// Records one fact: 201 when it is new, 200 when it updated a stored one or was stored already.
pub(crate) async fn one<R, T: Ingest>(
    app: &App,
    caller: &Caller,
    request: &R,
    convert: Convert<R, T>,
    id: &str,
) -> Result<(StatusCode, Json<IngestResultView>), ApiError> {
    caller.require(ApiRole::can_write_facts, "write facts")?;
    let context = app.parse_context().await?;
    let fact = convert(request, &context).map_err(|errors| ApiError::validation(&errors))?;
    let outcome = app
        .ingest(std::slice::from_ref(&fact), None)
        .await?
        .into_iter()
        .next();
    match outcome {
        Some(Ok(accepted)) => {
            let status = if accepted == Accepted::Created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((
                status,
                Json(IngestResultView {
                    id: id.to_owned(),
                    outcome: accepted.as_str().to_owned(),
                }),
            ))
        }
        Some(Err(rejection)) => Err(ApiError::rejection(&rejection)),
        None => Err(ApiError::internal("the store answered no outcome")),
    }
}

fn rejected(index: usize, id: Option<String>, error: ErrorBody) -> BatchItemView {
    BatchItemView {
        index,
        id,
        outcome: "rejected".to_owned(),
        error: Some(error),
    }
}

/// Records a batch: every item is checked on its own; bad ones are reported by index and the
/// good ones are stored together.
pub(crate) async fn batch<R: DeserializeOwned, T: Ingest>(
    app: &App,
    caller: &Caller,
    items: Vec<Box<serde_json::value::RawValue>>,
    convert: Convert<R, T>,
    id_of: fn(&R) -> String,
) -> Result<Json<BatchResultView>, ApiError> {
    caller.require(ApiRole::can_write_facts, "write facts")?;
    if items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "a batch holds at most {MAX_BATCH_ITEMS} items; this one has {}",
                items.len()
            ),
        ));
    }
    let context = app.parse_context().await?;
    let received = items.len();
    let mut results: Vec<Option<BatchItemView>> = vec![None; received];
    let mut facts = Vec::with_capacity(received);
    let mut positions = Vec::with_capacity(received);
    for (index, value) in items.into_iter().enumerate() {
        let request = match serde_json::from_str::<R>(value.get()) {
            Ok(request) => request,
            Err(error) => {
                let body = ErrorBody {
                    code: ErrorCode::InvalidJson,
                    message: error.to_string(),
                    details: Vec::new(),
                };
                results[index] = Some(rejected(index, None, body));
                continue;
            }
        };
        let id = id_of(&request);
        match convert(&request, &context) {
            Ok(fact) => {
                facts.push(fact);
                positions.push((index, id));
            }
            Err(errors) => {
                results[index] = Some(rejected(
                    index,
                    Some(id),
                    ApiError::validation(&errors).into_body(),
                ))
            }
        }
    }
    let outcomes = app.ingest(&facts, None).await?;
    for ((index, id), outcome) in positions.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(accepted) => BatchItemView {
                index,
                id: Some(id),
                outcome: accepted.as_str().to_owned(),
                error: None,
            },
            Err(rejection) => {
                rejected(index, Some(id), ApiError::rejection(&rejection).into_body())
            }
        });
    }
    let results: Vec<BatchItemView> = results.into_iter().flatten().collect();
    let count = |outcome: &str| results.iter().filter(|r| r.outcome == outcome).count();
    Ok(Json(BatchResultView {
        received,
        created: count("created"),
        updated: count("updated"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        results,
    }))
}
