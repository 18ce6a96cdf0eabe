//! The member wallet: what a brand's app or LINE OA shows a member, in one call.

use axum::Json;
use axum::extract::{Path, State};
use regulars_api_types::{ErrorBody, WalletTierView, WalletView};
use regulars_app::{App, Wallet};
use regulars_domain::ApiRole;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;

/// The view of a wallet (the API's and `regulars wallet --json`'s).
pub fn wallet_view(wallet: &Wallet) -> WalletView {
    WalletView {
        member_id: wallet.member_id.to_string(),
        today: wallet.today.to_string(),
        points: super::points::balance_view(&wallet.points, wallet.today),
        coupons: wallet
            .coupons
            .iter()
            .map(|coupon| super::coupons::coupon_view(coupon, wallet.today))
            .collect(),
        tier: wallet.tier.as_ref().map(|status| WalletTierView {
            name: status.level.name.to_string(),
            title: status.level.title.clone(),
            until: status.until.map(|d| d.to_string()),
            value: status.progress.value,
            next_title: status.next.as_ref().map(|next| next.title.clone()),
            to_next: status.progress.to_next,
            to_renew: status.progress.to_renew,
            points_multiplier: status.level.benefits.multiplier.to_decimal(),
            free_shipping: status.level.benefits.free_shipping,
        }),
        referral_code: wallet.referral_code.as_ref().map(ToString::to_string),
    }
}

/// A member's wallet: points (available, pending, expiring soon, owed), the coupons usable
/// today, their tier with the progress to the next and to renewal, and their referral code.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/wallet", tag = "members",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    responses(
        (status = 200, description = "The wallet", body = WalletView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn wallet(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
) -> Result<Json<WalletView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read wallets")?;
    let id = super::member_in_path(&member)?;
    Ok(Json(wallet_view(&app.wallet(&id).await?)))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(wallet))
}
