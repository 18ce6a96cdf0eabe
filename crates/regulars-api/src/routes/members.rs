//! Reading a member with their facts.

use axum::Json;
use axum::extract::{Path, State};
use regulars_api_types::{ErrorBody, MemberFactsView};
use regulars_app::App;
use regulars_domain::ApiRole;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::{ApiError, views};

/// A member's profile with every order (and its lines), every return, and their most recent
/// interactions and behaviour events.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}", tag = "members",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    responses(
        (status = 200, description = "The member and their facts", body = MemberFactsView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn get(
    State(app): State<App>,
    caller: Caller,
    Path(member_id): Path<String>,
) -> Result<Json<MemberFactsView>, ApiError> {
    caller.require(ApiRole::can_read, "read members")?;
    let member_id = super::member_in_path(&member_id)?;
    Ok(Json(views::member_facts(
        &app.member_facts(&member_id).await?,
    )))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get))
}
