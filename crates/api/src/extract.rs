//! Request extractors that answer bad input with the API's JSON errors: malformed JSON is
//! 400, a body of the wrong shape (wrong types, unknown or missing fields) is 422 with the
//! path of the offending field, a body over the limit is 413.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use futures_util::TryStreamExt;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};

/// A JSON request body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(ApiError::localized(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "api-not-json",
                &[],
            ));
        }
        let bytes = read_limited(request, state.limits.json_bytes).await?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::localized(
                    axum::http::StatusCode::BAD_REQUEST,
                    "bad_request",
                    "api-invalid-json",
                    &[("detail", &inner.to_string())],
                )
            } else {
                let path = if path == "." {
                    "body".to_owned()
                } else {
                    format!("body.{path}")
                };
                ApiError {
                    details: vec![Problem {
                        path: path.clone(),
                        message: inner.to_string(),
                    }],
                    ..ApiError::new(
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        format!("`{path}`: {inner}"),
                    )
                }
            }
        })?;
        deserializer.end().map_err(|e| {
            ApiError::localized(
                axum::http::StatusCode::BAD_REQUEST,
                "bad_request",
                "api-invalid-json",
                &[("detail", &e.to_string())],
            )
        })?;
        Ok(Json(value))
    }
}

/// Reads a request body up to `limit` bytes; more is 413. The body arrives in chunks, so a
/// large upload is refused as soon as it passes the limit, not after it was all received.
pub async fn read_limited(request: Request, limit: usize) -> ApiResult<Vec<u8>> {
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > limit as u64
    {
        return Err(ApiError::too_large(limit));
    }
    let mut stream = request.into_body().into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(|e| {
        ApiError::localized(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_request",
            "api-unreadable-body",
            &[("detail", &e.to_string())],
        )
    })? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Query parameters; a malformed query string is 400.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// Path parameters; a malformed one is 400.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The optional `Idempotency-Key` header, scoped to the token that sent it so that two
/// callers choosing the same key never collide (or learn about each other's requests).
#[derive(Debug, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    pub fn scoped(&self, token_id: &str) -> Option<String> {
        self.0.as_ref().map(|key| {
            format!(
                "api:{}",
                swakelola_store::sha256_hex(format!("{token_id}\n{key}").as_bytes())
            )
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| {
                !k.is_empty()
                    && k.len() <= swakelola_store::MAX_IDEMPOTENCY_KEY_CHARS
                    && k.chars().all(|c| c.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::localized(
                    axum::http::StatusCode::BAD_REQUEST,
                    "bad_request",
                    "api-bad-idempotency-key",
                    &[(
                        "max",
                        &swakelola_store::MAX_IDEMPOTENCY_KEY_CHARS.to_string(),
                    )],
                )
            })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// An optional revision number from JSON. JSON Schema counts `3.0` as the integer 3, and so
/// do clients that write numbers as floats; any other fraction or a negative is refused.
pub fn optional_revision<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let number: Option<serde_json::Number> = Option::deserialize(deserializer)?;
    let Some(number) = number else {
        return Ok(None);
    };
    if let Some(whole) = number.as_u64() {
        return Ok(Some(whole));
    }
    match number.as_f64() {
        Some(float) if float >= 0.0 && float.fract() == 0.0 && float < 9.007_199_254_740_992e15 => {
            Ok(Some(float as u64))
        }
        _ => Err(serde::de::Error::custom(format!(
            "`{number}` is not a revision; send a whole number of 0 or more"
        ))),
    }
}

/// The language people read the answer in: the `lang` query parameter (`id` or `en`) when
/// given, else English when the first language of `Accept-Language` is English, Indonesian
/// otherwise. Ids and codes never change with it; only labels and messages do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lang(pub swakelola_core::format::Language);

/// The language asked for by a request (see [`Lang`]).
pub fn language_of(parts: &Parts) -> swakelola_core::format::Language {
    use swakelola_core::format::Language;
    let from_query =
        axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|query| query.0.get("lang").map(|value| value.to_ascii_lowercase()));
    let first = from_query.or_else(|| {
        parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.trim().to_ascii_lowercase())
    });
    match first {
        Some(tag) if tag.starts_with("en") => Language::En,
        _ => Language::Id,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(language_of(parts)))
    }
}
