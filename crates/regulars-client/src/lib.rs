//! A typed HTTP client for the Regulars API, over `regulars-api-types`. The command line and
//! every API test use it, so the API is exercised the way its users call it.

use regulars_api_types::{
    BatchRequest, BatchResultView, ErrorBody, EventRequest, HealthView, IngestResultView,
    InteractionRequest, MemberFactsView, MemberRequest, OrderRequest, ReturnRequest, StatsView,
    StoreRequest, StoreView,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered with an error.
    #[error("{status} {}: {}", .body.code.as_str(), .body.message)]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error body.
        body: ErrorBody,
    },
    /// The request did not complete.
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not what the API documents.
    #[error("unexpected answer ({status}): {text}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The body.
        text: String,
    },
}

/// A raw answer, for checking status codes and headers.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub text: String,
}

impl RawResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_str(&self.text).map_err(|_| ClientError::Unexpected {
            status: self.status,
            text: self.text.clone(),
        })
    }
}

/// A client of one Regulars server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `base_url` (`http://127.0.0.1:8080`), sending `token` if given.
    pub fn new(base_url: &str, token: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_owned(),
            token: token.map(ToOwned::to_owned),
        }
    }

    /// The same server with another token.
    pub fn with_token(&self, token: Option<&str>) -> Self {
        Self {
            token: token.map(ToOwned::to_owned),
            ..self.clone()
        }
    }

    /// Sends a request and returns the raw answer.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Result<RawResponse, ClientError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| unencodable(&e))?;
        self.send(method, path, body, headers).await
    }

    /// Sends a request whose body is JSON already encoded.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<RawResponse, ClientError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let text = response.text().await?;
        Ok(RawResponse {
            status,
            headers,
            text,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|k| ("idempotency-key", k))
            .into_iter()
            .collect();
        let raw = self.send(method, path, body, &headers).await?;
        success(raw)?.json()
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        key: Option<&str>,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body).map_err(|e| unencodable(&e))?;
        self.call(reqwest::Method::POST, path, Some(body), key)
            .await
    }

    /// `GET /healthz`
    pub async fn health(&self) -> Result<HealthView, ClientError> {
        self.call(reqwest::Method::GET, "/healthz", None, None)
            .await
    }

    /// `GET /api/v1/stats`
    pub async fn stats(&self) -> Result<StatsView, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/stats", None, None)
            .await
    }

    /// `GET /api/v1/stores`
    pub async fn stores(&self) -> Result<Vec<StoreView>, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/stores", None, None)
            .await
    }

    /// `GET /api/v1/members/{member_id}`
    pub async fn member(&self, member_id: &str) -> Result<MemberFactsView, ClientError> {
        let path = format!("/api/v1/members/{}", encode_segment(member_id));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/audiences/preview`
    pub async fn preview_audience(
        &self,
        request: &regulars_api_types::AudiencePreviewRequest,
    ) -> Result<regulars_api_types::AudiencePreviewView, ClientError> {
        self.post("/api/v1/audiences/preview", request, None).await
    }

    /// `PUT /api/v1/audiences/{name}`
    pub async fn save_audience(
        &self,
        name: &str,
        request: &regulars_api_types::AudienceSaveRequest,
    ) -> Result<regulars_api_types::AudienceSavedView, ClientError> {
        let body = serde_json::to_vec(request).map_err(|e| unencodable(&e))?;
        let path = format!("/api/v1/audiences/{}", encode_segment(name));
        self.call(reqwest::Method::PUT, &path, Some(body), None)
            .await
    }

    /// `GET /api/v1/audiences`
    pub async fn audiences(&self) -> Result<regulars_api_types::AudienceListView, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/audiences", None, None)
            .await
    }

    /// `GET /api/v1/audience-presets`
    pub async fn audience_presets(
        &self,
    ) -> Result<regulars_api_types::AudiencePresetsView, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/audience-presets", None, None)
            .await
    }

    /// `POST /api/v1/audience-presets`
    pub async fn install_audience_presets(
        &self,
    ) -> Result<regulars_api_types::AudienceListView, ClientError> {
        self.call(
            reqwest::Method::POST,
            "/api/v1/audience-presets",
            None,
            None,
        )
        .await
    }

    /// `GET /api/v1/audiences/{name}`
    pub async fn audience(
        &self,
        name: &str,
    ) -> Result<regulars_api_types::AudienceView, ClientError> {
        let path = format!("/api/v1/audiences/{}", encode_segment(name));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `DELETE /api/v1/audiences/{name}`
    pub async fn delete_audience(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/audiences/{}", encode_segment(name));
        let raw = self.send(reqwest::Method::DELETE, &path, None, &[]).await?;
        success(raw).map(drop)
    }

    /// `POST /api/v1/members/{member_id}/points`
    pub async fn change_points(
        &self,
        member_id: &str,
        request: &regulars_api_types::PointsChangeRequest,
    ) -> Result<regulars_api_types::PointsRecordedView, ClientError> {
        let body = serde_json::to_vec(request).map_err(|e| unencodable(&e))?;
        let path = format!("/api/v1/members/{}/points", encode_segment(member_id));
        self.call(reqwest::Method::POST, &path, Some(body), None)
            .await
    }

    /// `GET /api/v1/members/{member_id}/points?limit=…&before=…`
    pub async fn points(
        &self,
        member_id: &str,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<regulars_api_types::PointsAccountView, ClientError> {
        let mut path = format!("/api/v1/members/{}/points?", encode_segment(member_id));
        if let Some(limit) = limit {
            path.push_str(&format!("limit={limit}&"));
        }
        if let Some(before) = before {
            path.push_str(&format!("before={before}"));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/points/expiring`: members whose points stop counting within `within_days`.
    pub async fn expiring_points(
        &self,
        within_days: u32,
        limit: Option<u32>,
        after: Option<&str>,
    ) -> Result<regulars_api_types::ExpiringMembersView, ClientError> {
        let mut path = format!("/api/v1/points/expiring?within_days={within_days}");
        if let Some(limit) = limit {
            path.push_str(&format!("&limit={limit}"));
        }
        if let Some(after) = after {
            path.push_str(&format!("&after={}", encode_segment(after)));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/points/warnings`: the expiry warnings, newest first.
    pub async fn points_warnings(
        &self,
        member_id: Option<&str>,
        limit: Option<u32>,
        before: Option<i64>,
    ) -> Result<regulars_api_types::PointsWarningsView, ClientError> {
        let mut path = "/api/v1/points/warnings?".to_owned();
        if let Some(member_id) = member_id {
            path.push_str(&format!("member_id={}&", encode_segment(member_id)));
        }
        if let Some(limit) = limit {
            path.push_str(&format!("limit={limit}&"));
        }
        if let Some(before) = before {
            path.push_str(&format!("before={before}"));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `PUT /api/v1/coupon-templates/{name}`
    pub async fn save_coupon_template(
        &self,
        name: &str,
        request: &regulars_api_types::CouponTemplateRequest,
    ) -> Result<regulars_api_types::CouponTemplateView, ClientError> {
        let body = serde_json::to_vec(request).map_err(|e| unencodable(&e))?;
        let path = format!("/api/v1/coupon-templates/{}", encode_segment(name));
        self.call(reqwest::Method::PUT, &path, Some(body), None)
            .await
    }

    /// `GET /api/v1/coupon-templates`
    pub async fn coupon_templates(
        &self,
    ) -> Result<regulars_api_types::CouponTemplateListView, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/coupon-templates", None, None)
            .await
    }

    /// `GET /api/v1/coupon-templates/{name}`
    pub async fn coupon_template(
        &self,
        name: &str,
    ) -> Result<regulars_api_types::CouponTemplateView, ClientError> {
        let path = format!("/api/v1/coupon-templates/{}", encode_segment(name));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/coupon-templates/{name}/codes`
    pub async fn add_coupon_codes(
        &self,
        name: &str,
        request: &regulars_api_types::CouponCodesRequest,
    ) -> Result<regulars_api_types::CouponCodesAddedView, ClientError> {
        let path = format!("/api/v1/coupon-templates/{}/codes", encode_segment(name));
        self.post(&path, request, None).await
    }

    /// `POST /api/v1/coupon-templates/{name}/issue` with a `member_id`.
    pub async fn issue_coupon(
        &self,
        name: &str,
        request: &regulars_api_types::CouponIssueRequest,
    ) -> Result<regulars_api_types::CouponIssuedView, ClientError> {
        let path = format!("/api/v1/coupon-templates/{}/issue", encode_segment(name));
        self.post(&path, request, None).await
    }

    /// `POST /api/v1/coupon-templates/{name}/issue` with an `audience`.
    pub async fn issue_coupons_to_audience(
        &self,
        name: &str,
        request: &regulars_api_types::CouponIssueRequest,
    ) -> Result<regulars_api_types::CouponBulkIssuedView, ClientError> {
        let path = format!("/api/v1/coupon-templates/{}/issue", encode_segment(name));
        self.post(&path, request, None).await
    }

    /// `GET /api/v1/members/{member_id}/coupons`
    pub async fn member_coupons(
        &self,
        member_id: &str,
    ) -> Result<regulars_api_types::MemberCouponsView, ClientError> {
        let path = format!("/api/v1/members/{}/coupons", encode_segment(member_id));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/coupons/{code}`
    pub async fn coupon(&self, code: &str) -> Result<regulars_api_types::CouponView, ClientError> {
        let path = format!("/api/v1/coupons/{}", encode_segment(code));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/coupon-checks`
    pub async fn check_coupons(
        &self,
        request: &regulars_api_types::CouponCheckRequest,
    ) -> Result<regulars_api_types::CouponChecksView, ClientError> {
        self.post("/api/v1/coupon-checks", request, None).await
    }

    /// `POST /api/v1/coupons/{code}/redeem`
    pub async fn redeem_coupon(
        &self,
        code: &str,
        request: &regulars_api_types::CouponRedeemRequest,
    ) -> Result<regulars_api_types::CouponRedeemedView, ClientError> {
        let path = format!("/api/v1/coupons/{}/redeem", encode_segment(code));
        self.post(&path, request, None).await
    }

    /// `POST /api/v1/coupon-redemptions`: several coupons on one order, all or none.
    pub async fn redeem_coupons(
        &self,
        request: &regulars_api_types::CouponsRedeemRequest,
    ) -> Result<regulars_api_types::CouponsRedeemedView, ClientError> {
        self.post("/api/v1/coupon-redemptions", request, None).await
    }

    /// `POST /api/v1/coupons/{code}/void`
    pub async fn void_coupon(
        &self,
        code: &str,
        request: &regulars_api_types::CouponVoidRequest,
    ) -> Result<regulars_api_types::CouponView, ClientError> {
        let path = format!("/api/v1/coupons/{}/void", encode_segment(code));
        self.post(&path, request, None).await
    }

    /// `GET /api/v1/tiers`
    pub async fn tiers(&self) -> Result<regulars_api_types::TierProgramView, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/tiers", None, None)
            .await
    }

    /// `GET /api/v1/members/{member_id}/tier`
    pub async fn member_tier(
        &self,
        member_id: &str,
    ) -> Result<regulars_api_types::MemberTierView, ClientError> {
        let path = format!("/api/v1/members/{}/tier", encode_segment(member_id));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/tier-changes?…`, with the query already encoded (`member_id=M1&kind=upgrade`).
    pub async fn tier_changes(
        &self,
        query: &str,
    ) -> Result<regulars_api_types::TierChangesView, ClientError> {
        let path = format!("/api/v1/tier-changes?{query}");
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/tiers/near-next?within=…&percent=…`
    pub async fn near_next_tier(
        &self,
        within: Option<i64>,
        percent: Option<u32>,
    ) -> Result<regulars_api_types::NearTierView, ClientError> {
        let mut path = "/api/v1/tiers/near-next?".to_owned();
        if let Some(within) = within {
            path.push_str(&format!("within={within}&"));
        }
        if let Some(percent) = percent {
            path.push_str(&format!("percent={percent}"));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/tiers/evaluate`
    pub async fn evaluate_tiers(
        &self,
        request: &regulars_api_types::TierEvaluateRequest,
    ) -> Result<regulars_api_types::TierEvaluationView, ClientError> {
        self.post("/api/v1/tiers/evaluate", request, None).await
    }

    /// `POST /api/v1/referrals`
    pub async fn refer(
        &self,
        request: &regulars_api_types::ReferralRequest,
    ) -> Result<regulars_api_types::ReferralView, ClientError> {
        self.post("/api/v1/referrals", request, None).await
    }

    /// `GET /api/v1/members/{member_id}/referrals`
    pub async fn member_referrals(
        &self,
        member_id: &str,
    ) -> Result<regulars_api_types::MemberReferralsView, ClientError> {
        let path = format!("/api/v1/members/{}/referrals", encode_segment(member_id));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/referrals/settle`
    pub async fn settle_referrals(
        &self,
    ) -> Result<regulars_api_types::ReferralsSettledView, ClientError> {
        self.call(
            reqwest::Method::POST,
            "/api/v1/referrals/settle",
            None,
            None,
        )
        .await
    }

    /// `GET /api/v1/members/{member_id}/wallet`
    pub async fn wallet(
        &self,
        member_id: &str,
    ) -> Result<regulars_api_types::WalletView, ClientError> {
        let path = format!("/api/v1/members/{}/wallet", encode_segment(member_id));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/audiences/{name}/members?after=…&limit=…`
    pub async fn audience_members(
        &self,
        name: &str,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<regulars_api_types::AudienceMembersView, ClientError> {
        let mut path = format!("/api/v1/audiences/{}/members?", encode_segment(name));
        if let Some(after) = after {
            path.push_str(&format!("after={}&", encode_segment(after)));
        }
        if let Some(limit) = limit {
            path.push_str(&format!("limit={limit}"));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `GET /api/v1/audiences/{name}/moves?after=…`
    pub async fn audience_moves(
        &self,
        name: &str,
        after: Option<i64>,
    ) -> Result<regulars_api_types::AudienceMovesView, ClientError> {
        let mut path = format!("/api/v1/audiences/{}/moves", encode_segment(name));
        if let Some(after) = after {
            path.push_str(&format!("?after={after}"));
        }
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/tags/{tag}`
    pub async fn tag(
        &self,
        tag: &str,
        request: &regulars_api_types::TagRequest,
    ) -> Result<regulars_api_types::TagOutcomeView, ClientError> {
        let path = format!("/api/v1/tags/{}", encode_segment(tag));
        self.post(&path, request, None).await
    }

    /// `GET /api/v1/tags/{tag}/changes`
    pub async fn tag_changes(
        &self,
        tag: &str,
    ) -> Result<regulars_api_types::TagChangesView, ClientError> {
        let path = format!("/api/v1/tags/{}/changes", encode_segment(tag));
        self.call(reqwest::Method::GET, &path, None, None).await
    }

    /// `POST /api/v1/stores`
    pub async fn upsert_store(
        &self,
        store: &StoreRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/stores", store, key).await
    }

    /// `POST /api/v1/members`
    pub async fn upsert_member(
        &self,
        member: &MemberRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/members", member, key).await
    }

    /// `POST /api/v1/orders`
    pub async fn record_order(
        &self,
        order: &OrderRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/orders", order, key).await
    }

    /// `POST /api/v1/returns`
    pub async fn record_return(
        &self,
        item: &ReturnRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/returns", item, key).await
    }

    /// `POST /api/v1/interactions`
    pub async fn record_interaction(
        &self,
        item: &InteractionRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/interactions", item, key).await
    }

    /// `POST /api/v1/events`
    pub async fn record_event(
        &self,
        item: &EventRequest,
        key: Option<&str>,
    ) -> Result<IngestResultView, ClientError> {
        self.post("/api/v1/events", item, key).await
    }

    /// `POST /api/v1/<kind>/batch` with up to 10,000 items (`kind` is `orders`, `members`, …).
    pub async fn batch<T: Serialize>(
        &self,
        kind: &str,
        items: &[T],
        key: Option<&str>,
    ) -> Result<BatchResultView, ClientError> {
        self.batch_encoded(kind, encode_batch(items)?, key).await
    }

    /// `POST /api/v1/{kind}/batch` with a body [`encode_batch`] made earlier, so a loader can
    /// prepare its next batch while one is in flight.
    pub async fn batch_encoded(
        &self,
        kind: &str,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> Result<BatchResultView, ClientError> {
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/{kind}/batch"),
            Some(body),
            key,
        )
        .await
    }
}

/// The JSON body of a batch of `items`.
pub fn encode_batch<T: Serialize>(items: &[T]) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(&BatchRequest {
        items: items.iter().collect(),
    })
    .map_err(|e| unencodable(&e))
}

/// A body that cannot be encoded as JSON (a map with non-string keys, say).
/// The response when it succeeded (2xx), else the API's error (or the text of an unexpected
/// answer).
fn success(raw: RawResponse) -> Result<RawResponse, ClientError> {
    if (200..300).contains(&raw.status) {
        return Ok(raw);
    }
    match serde_json::from_str::<ErrorBody>(&raw.text) {
        Ok(body) => Err(ClientError::Api {
            status: raw.status,
            body,
        }),
        Err(_) => Err(ClientError::Unexpected {
            status: raw.status,
            text: raw.text,
        }),
    }
}

fn unencodable(error: &serde_json::Error) -> ClientError {
    ClientError::Unexpected {
        status: 0,
        text: error.to_string(),
    }
}

/// Percent-encodes one path segment.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_segment("M 1/é"), "M%201%2F%C3%A9");
        assert_eq!(encode_segment("amy@example.com"), "amy%40example.com");
    }
}
