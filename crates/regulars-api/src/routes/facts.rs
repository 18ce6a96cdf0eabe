//! Recording facts: `POST /api/v1/<kind>` for one, `POST /api/v1/<kind>/batch` for up to 10,000.
//! Stores and members are upserts; orders, returns, interactions and events are history,
//! idempotent by their id.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use regulars_api_types::{
    BatchRequest, BatchResultView, ErrorBody, EventRequest, IngestResultView, InteractionRequest,
    MemberRequest, OrderRequest, ReturnRequest, StoreRequest, StoreView,
};
use regulars_app::App;
use regulars_domain::ApiRole;
use regulars_formats::convert;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, ingest, views};

/// The handlers of one fact kind: one item and a batch.
macro_rules! fact_handlers {
    ($one:ident, $batch:ident, $path:literal, $request:ty, $convert:path, $id:expr, $what:literal) => {
        #[doc = concat!("Records one ", $what, ".")]
        #[utoipa::path(
            post, path = $path, tag = "facts",
            request_body = $request,
            params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request harmless")),
            responses(
                (status = 201, description = "Stored as new", body = IngestResultView),
                (status = 200, description = "Updated a stored one, or stored already", body = IngestResultView),
                (status = 409, description = "Stored with different content (`conflict`)", body = ErrorBody),
                (status = 422, description = "Invalid (`validation_failed`) or naming what is not known (`unknown_reference`)", body = ErrorBody),
            ),
            security(("api_key" = []))
        )]
        async fn $one(
            State(app): State<App>,
            caller: Caller,
            ApiJson(request): ApiJson<$request>,
        ) -> Result<(StatusCode, Json<IngestResultView>), ApiError> {
            let id: fn(&$request) -> String = $id;
            ingest::one(&app, &caller, &request, $convert, &id(&request)).await
        }

        #[doc = concat!("Records a batch of up to 10,000 ", $what, "s; each item is judged on its own.")]
        #[utoipa::path(
            post, path = concat!($path, "/batch"), tag = "facts",
            request_body = inline(BatchRequest<$request>),
            params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request harmless")),
            responses(
                (status = 200, description = "What became of each item", body = BatchResultView),
                (status = 413, description = "More than 10,000 items (`batch_too_large`)", body = ErrorBody),
            ),
            security(("api_key" = []))
        )]
        async fn $batch(
            State(app): State<App>,
            caller: Caller,
            ApiJson(request): ApiJson<BatchRequest<Box<serde_json::value::RawValue>>>,
        ) -> Result<Json<BatchResultView>, ApiError> {
            ingest::batch::<$request, _>(&app, &caller, request.items, $convert, $id).await
        }
    };
}

fact_handlers!(
    store_one,
    store_batch,
    "/api/v1/stores",
    StoreRequest,
    convert::store,
    |r| r.store_id.clone(),
    "store"
);
fact_handlers!(
    member_one,
    member_batch,
    "/api/v1/members",
    MemberRequest,
    convert::member,
    |r| r.member_id.clone(),
    "member profile"
);
fact_handlers!(
    order_one,
    order_batch,
    "/api/v1/orders",
    OrderRequest,
    convert::order,
    |r| r.order_id.clone(),
    "order"
);
fact_handlers!(
    return_one,
    return_batch,
    "/api/v1/returns",
    ReturnRequest,
    convert::return_,
    |r| r.return_id.clone(),
    "return"
);
fact_handlers!(
    interaction_one,
    interaction_batch,
    "/api/v1/interactions",
    InteractionRequest,
    convert::interaction,
    |r| r.interaction_id.clone().unwrap_or_default(),
    "interaction"
);
fact_handlers!(
    event_one,
    event_batch,
    "/api/v1/events",
    EventRequest,
    convert::event,
    |r| r.event_id.clone().unwrap_or_default(),
    "behaviour event"
);

/// Every store.
#[utoipa::path(
    get, path = "/api/v1/stores", tag = "facts",
    responses((status = 200, description = "Every store", body = Vec<StoreView>)),
    security(("api_key" = []))
)]
async fn list_stores(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<StoreView>>, ApiError> {
    caller.require(ApiRole::can_read, "read stores")?;
    Ok(Json(app.stores().await?.iter().map(views::store).collect()))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(store_one, list_stores))
        .routes(routes!(store_batch))
        .routes(routes!(member_one))
        .routes(routes!(member_batch))
        .routes(routes!(order_one))
        .routes(routes!(order_batch))
        .routes(routes!(return_one))
        .routes(routes!(return_batch))
        .routes(routes!(interaction_one))
        .routes(routes!(interaction_batch))
        .routes(routes!(event_one))
        .routes(routes!(event_batch))
}
