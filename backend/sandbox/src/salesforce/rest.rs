//! The REST API's routing: `/services/data/` (versions, public), and under
//! `/services/data/vXX.X/` the resources list, `limits`, `sobjects/…`, `query`/`queryAll` and
//! `composite/sobjects/…`. Paths are matched segment by segment, as Salesforce does, so that
//! trailing slashes, percent-encoded upsert keys and wrong methods (405) behave like the real
//! API.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::errors::{SfError, json_response};
use super::gate::AuthedOrg;
use super::model::{Obj, Org};
use super::schema::SObject;
use super::{MAX_VERSION, MIN_VERSION, Salesforce, collections, instance_url, objects, query};

/// What a handler needs to know about the request.
pub struct Ctx {
    pub key: String,
    pub user: String,
    /// `62.0`
    pub version: String,
    pub major: u32,
    /// `http://host/prefix/salesforce/<account>`
    pub instance: String,
    pub params: Vec<(String, String)>,
    /// From `Sforce-Query-Options: batchSize=N`.
    pub batch_size: usize,
}

impl Ctx {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.param(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A request of the org's admin, for unit tests of the handlers.
    #[cfg(test)]
    pub fn for_tests(org: &Org, version: &str, params: &[(&str, &str)]) -> Ctx {
        Ctx {
            key: org.key.clone(),
            user: org.admin_id(),
            version: version.to_string(),
            major: version
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(MAX_VERSION),
            instance: format!("http://127.0.0.1/salesforce/{}", org.key),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            batch_size: query::DEFAULT_BATCH,
        }
    }
}

/// The status and JSON body of a response (unit tests).
#[cfg(test)]
pub fn read(response: HttpResponse) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = futures_util::FutureExt::now_or_never(actix_web::body::to_bytes(response.into_body()))
        .and_then(Result::ok)
        .unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `%XX` decoding of one path segment.
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = segment
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn season_label(major: u32) -> String {
    // v31.0 was Summer '14; three releases a year since.
    let season = ["Summer", "Winter", "Spring"][((major - 31) % 3) as usize];
    let year = match season {
        "Summer" => 14 + (major - 31) / 3,
        _ => 15 + (major - 32) / 3,
    };
    format!("{season} '{year:02}")
}

/// `GET /services/data/`: the API versions (no session needed, not counted).
pub async fn versions() -> HttpResponse {
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|major| {
            json!({
                "label": season_label(major),
                "url": format!("/services/data/v{major}.0"),
                "version": format!("{major}.0"),
            })
        })
        .collect();
    json_response(200, &list)
}

pub async fn unknown() -> HttpResponse {
    SfError::not_found().response()
}

fn method_not_allowed(method: &str, allowed: &str) -> SfError {
    SfError::new(
        405,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
    )
}

pub async fn dispatch(
    req: HttpRequest,
    salesforce: web::Data<Salesforce>,
    authed: AuthedOrg,
    body: web::Bytes,
) -> HttpResponse {
    let segments: Vec<String> = req
        .match_info()
        .get("tail")
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let major = authed
        .version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(MAX_VERSION);
    let ctx = Ctx {
        instance: instance_url(&req, &authed.key),
        key: authed.key,
        user: authed.user,
        version: authed.version,
        major,
        params: serde_urlencoded::from_str(req.query_string()).unwrap_or_default(),
        batch_size: query::batch_size(req.headers().get("sforce-query-options").and_then(|v| v.to_str().ok())),
    };
    let method = req.method().as_str().to_string();
    salesforce
        .with_org(&ctx.key, |org| route(org, &ctx, &method, &segments, &body))
        .unwrap_or_else(|error| error.response())
}

fn route(org: &mut Org, ctx: &Ctx, method: &str, segments: &[&str], body: &[u8]) -> Result<HttpResponse, SfError> {
    match (method, segments) {
        ("GET", []) => Ok(resources(org, ctx)),
        ("GET", ["limits"]) => Ok(limits(org)),
        ("GET", ["sobjects"]) => Ok(objects::describe_global(ctx)),
        (_, ["sobjects", name, rest @ ..]) => {
            let object = SObject::parse(name).ok_or_else(SfError::not_found)?;
            objects::route(org, ctx, method, object, rest, body)
        }
        ("GET", [which @ ("query" | "queryAll")]) => {
            let soql = ctx
                .param("q")
                .filter(|q| !q.trim().is_empty())
                .ok_or_else(|| SfError::new(400, "MALFORMED_QUERY", "A query string has to be specified"))?;
            let page = query::run(org, soql, *which == "queryAll", ctx.batch_size, &ctx.version)?;
            Ok(json_response(200, &page))
        }
        ("GET", ["query" | "queryAll", locator]) => Ok(json_response(200, &query::more(org, locator, &ctx.version)?)),
        (_, ["composite", "sobjects", rest @ ..]) => collections::route(org, ctx, method, rest, body),
        (_, [] | ["limits" | "sobjects" | "query" | "queryAll"] | ["query" | "queryAll", _]) => {
            Err(method_not_allowed(method, "GET,HEAD"))
        }
        _ => Err(SfError::not_found()),
    }
}

/// `GET /services/data/vXX.X/`: what this version offers; `identity` is absolute.
fn resources(org: &Org, ctx: &Ctx) -> HttpResponse {
    let base = format!("/services/data/v{}", ctx.version);
    let body = Obj::new()
        .with("sobjects", Value::String(format!("{base}/sobjects")))
        .with("query", Value::String(format!("{base}/query")))
        .with("queryAll", Value::String(format!("{base}/queryAll")))
        .with("composite", Value::String(format!("{base}/composite")))
        .with("limits", Value::String(format!("{base}/limits")))
        .with(
            "identity",
            Value::String(format!("{}/id/{}/{}", ctx.instance, org.org_id, ctx.user)),
        );
    json_response(200, &body)
}

/// `GET /services/data/vXX.X/limits`.
fn limits(org: &Org) -> HttpResponse {
    let usage = org.limits.usage();
    let fixed = |max: u64| json!({ "Max": max, "Remaining": max });
    let body = json!({
        "ConcurrentAsyncGetReportInstances": fixed(200),
        "ConcurrentSyncReportRuns": fixed(20),
        "DailyApiRequests": { "Max": usage.daily_max, "Remaining": usage.daily_remaining },
        "DailyAsyncApexExecutions": fixed(250_000),
        "DailyBulkApiBatches": fixed(15_000),
        "DailyBulkV2QueryFileStorageMB": fixed(976_562),
        "DailyBulkV2QueryJobs": fixed(10_000),
        "DailyStreamingApiEvents": fixed(1_000_000),
        "DataStorageMB": fixed(1_024),
        "FileStorageMB": fixed(10_240),
        "HourlyODataCallout": fixed(20_000),
        "MassEmail": fixed(5_000),
        "SingleEmail": fixed(5_000),
    });
    json_response(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_labelled_by_release() {
        assert_eq!(season_label(31), "Summer '14");
        assert_eq!(season_label(50), "Winter '21");
        assert_eq!(season_label(60), "Spring '24");
        assert_eq!(season_label(62), "Winter '25");
        assert_eq!(season_label(64), "Summer '25");
        assert_eq!(percent_decode("a%20b%2Fc%zz"), "a b/c%zz");
    }
}
