//! Referrals: referring a new member with a code, one member's code and referrals, and settling
//! the open referrals now.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use regulars_api_types::{
    ErrorBody, MemberReferralsView, ReferralRequest, ReferralView, ReferralsSettledView,
};
use regulars_app::{App, Referral};
use regulars_domain::{ApiRole, FieldErrors, MemberId, ReferralStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiJson;

fn referral_view(referral: &Referral) -> ReferralView {
    ReferralView {
        referee_member_id: referral.referee.to_string(),
        referrer_member_id: referral.referrer.to_string(),
        code: referral.code.to_string(),
        status: referral.status.as_str().to_owned(),
        note: referral.note.clone(),
        order_id: referral.order_id.as_ref().map(ToString::to_string),
        referred_on: referral.referred_on.to_string(),
        settled_on: referral.settled_on.map(|d| d.to_string()),
    }
}

/// Refers a new member with a referrer's code. Refused (`referral_refused`, nothing recorded)
/// for a self-referral, a shared or similar e-mail, a shared phone, a referee who has ordered
/// before, a device that referred before, or a referrer at their cap. The same referral again
/// answers 200 with it.
#[utoipa::path(
    post, path = "/api/v1/referrals", tag = "referrals",
    request_body = ReferralRequest,
    responses(
        (status = 201, description = "Recorded", body = ReferralView),
        (status = 200, description = "Recorded before", body = ReferralView),
        (status = 404, description = "No such code or member, or no referral programme (`not_found`)", body = ErrorBody),
        (status = 422, description = "Refused (`referral_refused`) or a field is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn refer(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<ReferralRequest>,
) -> Result<(StatusCode, Json<ReferralView>), ApiError> {
    caller.require(ApiRole::can_move_points, "record referrals")?;
    let mut errors = FieldErrors::default();
    let referee = MemberId::parse(&request.referee_member_id)
        .map_err(|reason| errors.push("referee_member_id", reason))
        .ok();
    let referred_on = request.referred_on.as_deref().and_then(|text| {
        regulars_domain::parse_date(text)
            .map_err(|reason| errors.push("referred_on", reason))
            .ok()
    });
    let Some(referee) = referee.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(&errors));
    };
    let (referral, created) = app
        .refer(regulars_app::ReferralRequest {
            code: request.code,
            referee,
            device_id: request.device_id,
            referred_on,
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(referral_view(&referral))))
}

/// A member's referral code (given on first ask), the referrals they made and the one that
/// brought them.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/referrals", tag = "referrals",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    responses(
        (status = 200, description = "The code and referrals", body = MemberReferralsView),
        (status = 404, description = "No such member, or no referral programme (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn member_referrals(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
) -> Result<Json<MemberReferralsView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read referrals")?;
    let id = super::member_in_path(&member)?;
    let referrals = app.member_referrals(&id).await?;
    Ok(Json(MemberReferralsView {
        member_id: id.to_string(),
        code: referrals.code.to_string(),
        rewarded: referrals
            .made
            .iter()
            .filter(|r| r.status == ReferralStatus::Rewarded)
            .count() as u64,
        referrals: referrals.made.iter().map(referral_view).collect(),
        referred_by: referrals.referred_by.as_ref().map(referral_view),
    }))
}

/// Settles the open referrals now (the server does it daily): first orders qualify them, and
/// those past the return window reward both sides, once.
#[utoipa::path(
    post, path = "/api/v1/referrals/settle", tag = "referrals",
    responses(
        (status = 200, description = "What it did", body = ReferralsSettledView),
    ),
    security(("api_key" = []))
)]
async fn settle(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<ReferralsSettledView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "settle referrals")?;
    let settled = app.settle_referrals().await?;
    Ok(Json(ReferralsSettledView {
        open: settled.open,
        qualified: settled.qualified,
        rewarded: settled.rewarded,
        rejected: settled.rejected,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(refer))
        .routes(routes!(member_referrals))
        .routes(routes!(settle))
}
