//! Operations over HTTP (Part 2 `invoke`, `invoke-async`, their `$value` forms,
//! `operation-status`, `operation-results`), under both submodel prefixes: thin handlers over
//! sdt-core's `operation::Invoker`, which delegates the invocation and keeps the handles, and
//! aas-serde's `operation` payloads.

use aas_model::Version;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{Params, PathParams};
use super::submodel_api::{SubmodelAt, addressed};
use super::{ApiError, ApiResult, OperationsState, RepositoryState};
use aas_serde::operation::{OperationRequest, OperationResult};
use sdt_core::operation::{HOPS_HEADER, MAX_HOPS, OperationError};

impl From<OperationError> for ApiError {
    fn from(error: OperationError) -> Self {
        let status = StatusCode::from_u16(error.status());
        ApiError::new(
            status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            error.to_string(),
        )
    }
}

/// The handle of an asynchronous invocation (path parameter `handleId`).
#[derive(Deserialize)]
pub struct HandleAt {
    #[serde(rename = "handleId")]
    handle: String,
}

/// V3.0's `?async=true` on `invoke` (deprecated there, gone in V3.1): as `invoke-async`.
#[derive(Deserialize)]
pub struct InvokeQuery {
    #[serde(rename = "async")]
    asynchronous: Option<bool>,
}

/// What an invocation's handle is bound to: the submodel and the element's path.
async fn key(
    state: &RepositoryState,
    at: &SubmodelAt,
) -> ApiResult<(String, String, aas_model::SubmodelElement)> {
    let (submodel, path, element) = addressed(state, at).await?;
    Ok((format!("{submodel}\n{path}"), path.to_string(), element))
}

fn json(status: StatusCode, body: Vec<u8>, location: Option<String>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(location) = location.and_then(|l| l.parse().ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The path beside the route's own ending (`…/invoke-async/$value` → `…/operation-status/ID`).
fn beside(uri: &Uri, ending: &str, then: &str) -> Option<String> {
    let path = uri.path();
    Some(format!("{}/{then}", &path[..path.rfind(ending)?]))
}

/// The delegations a request came through (see `HOPS_HEADER`); too many is a loop.
fn hops(headers: &HeaderMap) -> Result<u8, OperationError> {
    let hops = (headers.get(HOPS_HEADER))
        .and_then(|value| value.to_str().ok()?.parse::<u8>().ok())
        .unwrap_or(0);
    if hops >= MAX_HOPS {
        return Err(OperationError::Loop);
    }
    Ok(hops)
}

async fn invoke_with(
    state: RepositoryState,
    OperationsState(invoker): OperationsState,
    at: SubmodelAt,
    (uri, headers): (Uri, HeaderMap),
    body: Bytes,
    value_only: bool,
    asynchronous: bool,
) -> ApiResult<Response> {
    let (key, path, element) = key(&state, &at).await?;
    let (operation, url) = invoker.delegation(element, &path)?;
    // Required by the schemas: V3.1's OperationRequestAsync*, V3.0's OperationRequestValueOnly.
    let timeout_required = match state.aas_version {
        Version::V3_0 => value_only,
        _ => asynchronous,
    };
    let request = OperationRequest::read(
        &body,
        value_only.then_some(&operation),
        state.aas_version,
        timeout_required,
    )
    .map_err(OperationError::from)?;
    let hops = hops(&headers)?;
    if asynchronous {
        let id = invoker.start(key, url, request, hops)?;
        let handle = serde_json::json!({ "handleId": id })
            .to_string()
            .into_bytes();
        let location = beside(&uri, "/invoke", &format!("operation-status/{id}"));
        return Ok(json(StatusCode::ACCEPTED, handle, location));
    }
    let result = invoker.invoke(&url, &request, hops).await?;
    Ok(json(StatusCode::OK, result.to_json(value_only), None))
}

macro_rules! invoke_handler {
    ($name:ident, value_only: $value_only:expr, asynchronous: $asynchronous:expr) => {
        pub async fn $name(
            State(state): State<RepositoryState>,
            State(invoker): State<OperationsState>,
            PathParams(at): PathParams<SubmodelAt>,
            Params(query): Params<InvokeQuery>,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> ApiResult<Response> {
            let asynchronous = $asynchronous || query.asynchronous == Some(true);
            let request = (uri, headers);
            invoke_with(state, invoker, at, request, body, $value_only, asynchronous).await
        }
    };
}

invoke_handler!(invoke, value_only: false, asynchronous: false);
invoke_handler!(invoke_value, value_only: true, asynchronous: false);
invoke_handler!(invoke_async, value_only: false, asynchronous: true);
invoke_handler!(invoke_async_value, value_only: true, asynchronous: true);

async fn result_of(
    state: &RepositoryState,
    invoker: &OperationsState,
    at: &SubmodelAt,
    handle: &str,
) -> ApiResult<OperationResult> {
    let (key, ..) = key(state, at).await?;
    Ok(invoker.0.result(&key, handle)?)
}

/// `operation-status`: 200 with the state while it runs; once finished, 302 to its results
/// (the profiles' `found`), with the state in the body for clients that do not follow.
pub async fn status(
    State(state): State<RepositoryState>,
    State(invoker): State<OperationsState>,
    PathParams(at): PathParams<SubmodelAt>,
    PathParams(HandleAt { handle }): PathParams<HandleAt>,
    uri: Uri,
) -> ApiResult<Response> {
    let result = result_of(&state, &invoker, &at, &handle).await?;
    let body = result.base().to_string().into_bytes();
    if result.state.is_finished() {
        let location = beside(
            &uri,
            "/operation-status/",
            &format!("operation-results/{handle}"),
        );
        return Ok(json(StatusCode::FOUND, body, location));
    }
    Ok(json(StatusCode::OK, body, None))
}

async fn results_with(
    state: RepositoryState,
    invoker: OperationsState,
    at: SubmodelAt,
    handle: String,
    value_only: bool,
) -> ApiResult<Response> {
    let result = result_of(&state, &invoker, &at, &handle).await?;
    Ok(json(StatusCode::OK, result.to_json(value_only), None))
}

pub async fn results(
    State(state): State<RepositoryState>,
    State(invoker): State<OperationsState>,
    PathParams(at): PathParams<SubmodelAt>,
    PathParams(HandleAt { handle }): PathParams<HandleAt>,
) -> ApiResult<Response> {
    results_with(state, invoker, at, handle, false).await
}

pub async fn results_value(
    State(state): State<RepositoryState>,
    State(invoker): State<OperationsState>,
    PathParams(at): PathParams<SubmodelAt>,
    PathParams(HandleAt { handle }): PathParams<HandleAt>,
) -> ApiResult<Response> {
    results_with(state, invoker, at, handle, true).await
}
