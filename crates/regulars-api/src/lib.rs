//! The HTTP JSON API: the axum router, one module per resource, the authentication extractor,
//! idempotent writes, and `ApiError`, the one error response.
//!
//! Handlers are thin: extract, convert the request with `regulars_formats::convert`, call
//! `regulars-app`, map the result to a view. Routes and the OpenAPI document come from the same
//! declarations (utoipa-axum), so the document cannot drift from the router.

mod auth;
mod error;
mod extract;
mod idempotency;
mod ingest;
mod observe;
mod routes;
mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use regulars_app::App;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, status_of};
pub use routes::{expiring_view, member_tier_view, wallet_view, warning_view};

/// How the router is built.
#[derive(Debug, Clone, Copy)]
pub struct ApiSettings {
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Serve Prometheus metrics at `/metrics`.
    pub metrics: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            body_limit: 64 << 20,
            metrics: true,
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Regulars API",
        description = "Members, their facts and everything Regulars knows of them.\n\nAuthenticate with `Authorization: Bearer <token>` (make one with `regulars keys create --role ROLE`). Money is an integer count of minor units beside a currency code; instants are RFC 3339. Writes accept an `Idempotency-Key` header: a retry with the same key within `[server] idempotency_keep_hours` (a day by default) gets the first answer again. Every error is `{code, message, details}` with a stable `code`.",
        version = "1"
    ),
    components(schemas(regulars_api_types::ErrorBody, regulars_api_types::ErrorCode, regulars_api_types::ErrorDetail)),
    modifiers(&SecurityAddon),
    tags(
        (name = "audiences", description = "Audience rules over profiles, purchases, events and the models: preview what a rule selects"),
        (name = "coupons", description = "Coupon templates with their figures, issuing (to a member, an audience, or for points), checking against a basket, redeeming and voiding"),
        (name = "facts", description = "Recording members, stores, orders, returns, interactions and behaviour events"),
        (name = "members", description = "Reading members with their facts, and the member wallet"),
        (name = "points", description = "Members' points: earn, redeem, adjust, balance and ledger"),
        (name = "referrals", description = "Referral codes, referring a new member, and the referrals that pay both sides"),
        (name = "segments", description = "Who each member is: RFM, RFM-8, NESL, RFIM and lifecycle, with explanations"),
        (name = "system", description = "Health, metrics and the API document"),
        (name = "tiers", description = "The tier programme, members' tiers and progress, the tier change log, members near their next tier")
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api_routes() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::audiences())
        .merge(routes::coupons())
        .merge(routes::facts())
        .merge(routes::members())
        .merge(routes::points())
        .merge(routes::segments())
        .merge(routes::system())
        .merge(routes::tiers())
        .merge(routes::referrals())
        .merge(routes::wallet())
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The router: `/api/v1/…`, `/api/openapi.json`, `/healthz` and, when enabled, `/metrics`.
pub fn router(app: App, settings: ApiSettings) -> Router {
    let (router, document) = api_routes().split_for_parts();
    let document = std::sync::Arc::new(document);
    let mut router = router.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document.as_ref().clone()) }
        }),
    );
    if settings.metrics {
        router = router.route("/metrics", axum::routing::get(routes::metrics));
    }
    router
        .fallback(observe::route_not_found)
        .method_not_allowed_fallback(observe::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            (app.clone(), settings.body_limit),
            idempotency::middleware,
        ))
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            observe::track,
        ))
        .with_state(app)
}
