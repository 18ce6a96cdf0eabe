//! Coupons: templates with their figures and code pools, issuing (to a member, to a saved
//! audience, or for points), a member's coupons, checking coupons against a basket, redeeming
//! one or several together (all or none), and voiding one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use regulars_api_types::{
    CouponBulkIssuedView, CouponCheckRequest, CouponCheckView, CouponChecksView,
    CouponCodesAddedView, CouponCodesRequest, CouponIssueRequest, CouponIssuedView,
    CouponRedeemRequest, CouponRedeemedView, CouponRefusedView, CouponStatsView,
    CouponTemplateListView, CouponTemplateRequest, CouponTemplateView, CouponView,
    CouponVoidRequest, CouponsRedeemRequest, CouponsRedeemedView, ErrorBody, MemberCouponsView,
    RedemptionView,
};
use regulars_app::{App, Coupon, CouponIssue, CouponStats, RedeemedCoupon, Redemption};
use regulars_domain::{ApiRole, CouponTemplate, FieldErrors, OrderId};
use regulars_formats::coupons::{basket_from_json, template_from_request, template_to_request};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiJson;

fn stats_view(stats: &CouponStats) -> CouponStatsView {
    CouponStatsView {
        issued: stats.issued,
        redeemed: stats.redeemed,
        #[allow(clippy::cast_precision_loss)]
        redemption_rate: if stats.issued == 0 {
            0.0
        } else {
            stats.redeemed as f64 / stats.issued as f64
        },
        voided: stats.voided,
        discount: stats.discount,
        revenue: stats.revenue,
        pool_left: stats.pool_left,
    }
}

fn template_view(template: &CouponTemplate, stats: &CouponStats) -> CouponTemplateView {
    CouponTemplateView {
        name: template.name.to_string(),
        template: template_to_request(template),
        stats: stats_view(stats),
    }
}

fn redemption_view(redemption: &Redemption) -> RedemptionView {
    RedemptionView {
        order_id: redemption.order_id.to_string(),
        discount: redemption.discount,
        idempotency_key: redemption.key.clone(),
        day: redemption.day.to_string(),
        at: redemption.at.to_string(),
    }
}

pub(crate) fn coupon_view(coupon: &Coupon, today: jiff::civil::Date) -> CouponView {
    CouponView {
        code: coupon.code.to_string(),
        template: coupon.template.to_string(),
        member_id: coupon.member_id.to_string(),
        state: coupon.state_on(today).to_owned(),
        valid_from: coupon.valid_from.to_string(),
        valid_until: coupon.valid_until.to_string(),
        credit: coupon.credit,
        cause: coupon.cause.clone(),
        idempotency_key: coupon.issue_key.clone(),
        issued_at: coupon.issued_at.to_string(),
        points_key: coupon.points_key.clone(),
        redemptions: Vec::new(),
    }
}

fn status_of(replayed: bool) -> StatusCode {
    if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

fn invalid(field: &str, reason: &str) -> ApiError {
    let mut errors = FieldErrors::default();
    errors.push(field, reason);
    ApiError::validation(&errors)
}

/// Creates or replaces a coupon template. Coupons already issued keep their days and credit.
#[utoipa::path(
    put, path = "/api/v1/coupon-templates/{name}", tag = "coupons",
    params(("name" = String, Path, description = "1 to 64 of a-z, 0-9, - and _")),
    request_body = CouponTemplateRequest,
    responses(
        (status = 200, description = "Saved", body = CouponTemplateView),
        (status = 422, description = "A field is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn save(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<CouponTemplateRequest>,
) -> Result<Json<CouponTemplateView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "manage coupons")?;
    let template = template_from_request(&name, &request, app.brand().currency)
        .map_err(|errors| ApiError::validation(&errors))?;
    app.save_coupon_template(template).await?;
    let (template, stats) = app.coupon_template(&name).await?;
    Ok(Json(template_view(&template, &stats)))
}

/// Every coupon template with its figures: issued, redeemed, redemption rate, discount given
/// and the revenue of the orders they were used on.
#[utoipa::path(
    get, path = "/api/v1/coupon-templates", tag = "coupons",
    responses((status = 200, description = "By name", body = CouponTemplateListView)),
    security(("api_key" = []))
)]
async fn list(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<CouponTemplateListView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read coupons")?;
    let templates = app.coupon_templates().await?;
    Ok(Json(CouponTemplateListView {
        templates: templates
            .iter()
            .map(|(template, stats)| template_view(template, stats))
            .collect(),
    }))
}

/// One coupon template with its figures.
#[utoipa::path(
    get, path = "/api/v1/coupon-templates/{name}", tag = "coupons",
    params(("name" = String, Path, description = "The template")),
    responses(
        (status = 200, description = "The template", body = CouponTemplateView),
        (status = 404, description = "No such template (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn get(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<CouponTemplateView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read coupons")?;
    let (template, stats) = app.coupon_template(&name).await?;
    Ok(Json(template_view(&template, &stats)))
}

/// Adds imported codes to a pool template; each is issued at most once.
#[utoipa::path(
    post, path = "/api/v1/coupon-templates/{name}/codes", tag = "coupons",
    params(("name" = String, Path, description = "A template whose `codes` is `pool`")),
    request_body = CouponCodesRequest,
    responses(
        (status = 200, description = "How many were new", body = CouponCodesAddedView),
        (status = 404, description = "No such template (`not_found`)", body = ErrorBody),
        (status = 422, description = "A code is not valid, or the template generates its codes (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn add_codes(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<CouponCodesRequest>,
) -> Result<Json<CouponCodesAddedView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "manage coupons")?;
    let added = app.add_coupon_codes(&name, &request.codes).await?;
    Ok(Json(CouponCodesAddedView { added }))
}

/// Issues a coupon to one member (201, or 200 with the same coupon when the key issued it
/// before), optionally paid with the template's points cost; or one to every member of a saved
/// audience (200, with what it issued and whom it refused).
#[utoipa::path(
    post, path = "/api/v1/coupon-templates/{name}/issue", tag = "coupons",
    params(("name" = String, Path, description = "The template")),
    request_body = CouponIssueRequest,
    responses(
        (status = 201, description = "Issued to the member", body = CouponIssuedView),
        (status = 200, description = "The key issued it before, or issued to an audience", body = CouponBulkIssuedView),
        (status = 404, description = "No such template, member or audience (`not_found`)", body = ErrorBody),
        (status = 409, description = "A limit is reached (`coupon_limit_reached`), the pool is empty (`coupon_pool_empty`), the template's days are over (`coupon_not_usable`) or the points fall short (`insufficient_points`)", body = ErrorBody),
        (status = 422, description = "A field is not valid (`validation_failed`), or the key was used for another coupon (`idempotency_key_reused`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn issue(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<CouponIssueRequest>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let cause = request.cause.unwrap_or_else(|| "operator:api".to_owned());
    match (request.member_id, request.audience) {
        (Some(member), None) => {
            // A member's own app exchanging points may use an ingest key, as for points.
            if request.with_points {
                caller.require(ApiRole::can_move_points, "exchange points")?;
            } else {
                caller.require(ApiRole::can_manage_marketing, "issue coupons")?;
            }
            let issued = app
                .issue_coupon(CouponIssue {
                    template: name,
                    member_id: super::member_in_path(&member)?,
                    key: request.idempotency_key,
                    cause,
                    with_points: request.with_points,
                })
                .await?;
            let view = CouponIssuedView {
                coupon: coupon_view(&issued.coupon, app.today()),
                replayed: issued.replayed,
            };
            Ok((status_of(issued.replayed), Json(view)).into_response())
        }
        (None, Some(audience)) => {
            caller.require(ApiRole::can_manage_marketing, "issue coupons")?;
            if request.with_points {
                return Err(invalid("with_points", "an audience cannot pay with points"));
            }
            let bulk = app
                .issue_coupons_to_audience(&name, &audience, &request.idempotency_key, &cause)
                .await?;
            let view = CouponBulkIssuedView {
                issued: bulk.issued,
                replayed: bulk.replayed,
                refused: bulk
                    .refused
                    .iter()
                    .map(|(member, reason)| CouponRefusedView {
                        member_id: member.to_string(),
                        reason: reason.clone(),
                    })
                    .collect(),
            };
            Ok(Json(view).into_response())
        }
        _ => Err(invalid("member_id", "give member_id or audience, not both")),
    }
}

/// A member's coupons, newest first, each with its state today.
#[utoipa::path(
    get, path = "/api/v1/members/{member_id}/coupons", tag = "coupons",
    params(("member_id" = String, Path, description = "The brand's id for the member")),
    responses(
        (status = 200, description = "The coupons", body = MemberCouponsView),
        (status = 404, description = "No such member (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn member_coupons(
    State(app): State<App>,
    caller: Caller,
    Path(member): Path<String>,
) -> Result<Json<MemberCouponsView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read coupons")?;
    let id = super::member_in_path(&member)?;
    let coupons = app.member_coupons(&id).await?;
    let today = app.today();
    Ok(Json(MemberCouponsView {
        member_id: id.to_string(),
        coupons: coupons.iter().map(|c| coupon_view(c, today)).collect(),
    }))
}

/// One coupon with its uses.
#[utoipa::path(
    get, path = "/api/v1/coupons/{code}", tag = "coupons",
    params(("code" = String, Path, description = "The coupon's code (any case)")),
    responses(
        (status = 200, description = "The coupon", body = CouponView),
        (status = 404, description = "No such coupon (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn coupon(
    State(app): State<App>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<CouponView>, ApiError> {
    caller.require(ApiRole::can_read_points, "read coupons")?;
    let detail = app.coupon(&code).await?;
    let mut view = coupon_view(&detail.coupon, app.today());
    view.redemptions = detail.redemptions.iter().map(redemption_view).collect();
    Ok(Json(view))
}

/// What a member's coupons, used together in the order given, take off a basket today, or why
/// each does not apply. Nothing is used.
#[utoipa::path(
    post, path = "/api/v1/coupon-checks", tag = "coupons",
    request_body = CouponCheckRequest,
    responses(
        (status = 200, description = "One check per code", body = CouponChecksView),
        (status = 422, description = "A field is not valid (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn check(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<CouponCheckRequest>,
) -> Result<Json<CouponChecksView>, ApiError> {
    caller.require(ApiRole::can_move_points, "check coupons")?;
    let member = super::member_in_path(&request.member_id)?;
    let basket = basket_from_json(&request.basket, app.brand().currency)
        .map_err(|errors| ApiError::validation(&errors))?;
    let checks = app.check_coupons(&member, &request.codes, &basket).await?;
    let checks: Vec<CouponCheckView> = checks
        .into_iter()
        .map(|check| {
            let (applies, items, shipping, reason) = match check.result {
                Ok(off) => (true, off.items, off.shipping, None),
                Err(reason) => (false, 0, 0, Some(reason)),
            };
            CouponCheckView {
                code: check.code,
                template: check.template,
                applies,
                items,
                shipping,
                reason,
            }
        })
        .collect();
    Ok(Json(CouponChecksView {
        total: checks.iter().map(|c| c.items + c.shipping).sum(),
        checks,
    }))
}

/// Redeems a coupon against an order, once: what it takes off is worked out from the basket.
/// Refused, with nothing used, when it does not apply (`coupon_not_applicable`) or is used,
/// voided, expired or not valid yet (`coupon_not_usable`).
#[utoipa::path(
    post, path = "/api/v1/coupons/{code}/redeem", tag = "coupons",
    params(("code" = String, Path, description = "The coupon's code (any case)")),
    request_body = CouponRedeemRequest,
    responses(
        (status = 201, description = "Redeemed", body = CouponRedeemedView),
        (status = 200, description = "The key redeemed it before: the first redemption", body = CouponRedeemedView),
        (status = 404, description = "No such coupon of this member (`not_found`)", body = ErrorBody),
        (status = 409, description = "Not usable (`coupon_not_usable`)", body = ErrorBody),
        (status = 422, description = "It does not apply to the basket (`coupon_not_applicable`), a field is not valid (`validation_failed`), or the key was used for another redemption (`idempotency_key_reused`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn redeem(
    State(app): State<App>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<CouponRedeemRequest>,
) -> Result<(StatusCode, Json<CouponRedeemedView>), ApiError> {
    caller.require(ApiRole::can_move_points, "redeem coupons")?;
    let member = super::member_in_path(&request.member_id)?;
    let order = OrderId::parse(&request.order_id).map_err(|reason| invalid("order_id", &reason))?;
    let basket = basket_from_json(&request.basket, app.brand().currency)
        .map_err(|errors| ApiError::validation(&errors))?;
    let redeemed = app
        .redeem_coupon(&code, &member, &order, &basket, &request.idempotency_key)
        .await?;
    Ok((
        status_of(redeemed.replayed),
        Json(redeemed_view(&redeemed, app.today())),
    ))
}

/// Redeems several coupons on one order, all or none: each takes off what it gives the basket
/// after the ones before it, and when one does not apply, does not combine with those before it
/// or is not usable, none is used.
#[utoipa::path(
    post, path = "/api/v1/coupon-redemptions", tag = "coupons",
    request_body = CouponsRedeemRequest,
    responses(
        (status = 201, description = "Redeemed", body = CouponsRedeemedView),
        (status = 200, description = "The key redeemed them all before: the first redemptions", body = CouponsRedeemedView),
        (status = 404, description = "A coupon is not this member's (`not_found`)", body = ErrorBody),
        (status = 409, description = "One is not usable (`coupon_not_usable`)", body = ErrorBody),
        (status = 422, description = "One does not apply (`coupon_not_applicable`), a field is not valid (`validation_failed`), or the key was used for another redemption (`idempotency_key_reused`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn redeem_together(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<CouponsRedeemRequest>,
) -> Result<(StatusCode, Json<CouponsRedeemedView>), ApiError> {
    caller.require(ApiRole::can_move_points, "redeem coupons")?;
    let member = super::member_in_path(&request.member_id)?;
    let order = OrderId::parse(&request.order_id).map_err(|reason| invalid("order_id", &reason))?;
    let basket = basket_from_json(&request.basket, app.brand().currency)
        .map_err(|errors| ApiError::validation(&errors))?;
    let redeemed = app
        .redeem_coupons(
            &request.codes,
            &member,
            &order,
            &basket,
            &request.idempotency_key,
        )
        .await?;
    let replayed = redeemed.iter().all(|r| r.replayed);
    let redemptions: Vec<CouponRedeemedView> = redeemed
        .iter()
        .map(|redeemed| redeemed_view(redeemed, app.today()))
        .collect();
    Ok((
        status_of(replayed),
        Json(CouponsRedeemedView {
            total: redemptions.iter().map(|r| r.discount).sum(),
            order_id: order.to_string(),
            redemptions,
            replayed,
        }),
    ))
}

fn redeemed_view(redeemed: &RedeemedCoupon, today: jiff::civil::Date) -> CouponRedeemedView {
    let mut coupon = coupon_view(&redeemed.coupon, today);
    coupon.redemptions = vec![redemption_view(&redeemed.redemption)];
    CouponRedeemedView {
        discount: redeemed.redemption.discount,
        order_id: redeemed.redemption.order_id.to_string(),
        coupon,
        replayed: redeemed.replayed,
    }
}

/// Voids an active coupon (again: the same answer); a used one is refused (`coupon_not_usable`).
#[utoipa::path(
    post, path = "/api/v1/coupons/{code}/void", tag = "coupons",
    params(("code" = String, Path, description = "The coupon's code (any case)")),
    request_body = CouponVoidRequest,
    responses(
        (status = 200, description = "Voided", body = CouponView),
        (status = 404, description = "No such coupon (`not_found`)", body = ErrorBody),
        (status = 409, description = "Used already (`coupon_not_usable`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn void(
    State(app): State<App>,
    caller: Caller,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<CouponVoidRequest>,
) -> Result<Json<CouponView>, ApiError> {
    caller.require(ApiRole::can_manage_marketing, "void coupons")?;
    let coupon = app.void_coupon(&code, &request.reason).await?;
    Ok(Json(coupon_view(&coupon, app.today())))
}

pub(crate) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(save, get))
        .routes(routes!(add_codes))
        .routes(routes!(issue))
        .routes(routes!(member_coupons))
        .routes(routes!(check))
        .routes(routes!(coupon))
        .routes(routes!(redeem))
        .routes(routes!(redeem_together))
        .routes(routes!(void))
}
