//! `/api/openapi.json`: the API's own description, public.

use super::{ApiFailure, Method, NO_BODY, On401, decode, send};

pub async fn openapi() -> Result<serde_json::Value, ApiFailure> {
    decode(send(Method::Get, "/api/openapi.json", NO_BODY, On401::Return).await?).await
}
