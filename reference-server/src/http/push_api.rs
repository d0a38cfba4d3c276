//! The push API of twinsphere under both generations of its paths (`/sphere/push` and
//! `/sphere/api/v1/push`): targets (secrets redacted in every answer) and jobs.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
// Messages may quote what was sent: no secret goes back out.
use push_core::{PushEngine, PushRequest, PushTarget, TargetConfig, redact_secrets};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::Params;
use super::{ApiError, ApiResult, PushState};
use crate::push::{PushStore, PushStoreError};
use crate::storage::Write;

/// What the push handlers share.
#[derive(Debug, Clone)]
pub struct PushContext {
    pub store: Arc<PushStore>,
    pub engine: Arc<PushEngine>,
}

/// Both path generations.
pub const PREFIXES: [&str; 2] = ["/sphere/push", "/sphere/api/v1/push"];

fn context(state: &PushState) -> ApiResult<&PushContext> {
    state.0.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "push is not configured on this server",
        )
    })
}

impl From<PushStoreError> for ApiError {
    fn from(error: PushStoreError) -> Self {
        let status = match &error {
            PushStoreError::Exists(_) => StatusCode::CONFLICT,
            PushStoreError::NotFound(_) => StatusCode::NOT_FOUND,
            full if full.is_disk_full() => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

/// A target from a request body; the name from the path when the body has none (and they
/// must agree when both are given).
fn target_from(body: &[u8], path_name: Option<&str>) -> ApiResult<TargetConfig> {
    TargetConfig::from_json(body, path_name).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The outbound policy, push-core's rules, then a connection test.
async fn checked(store: &PushStore, config: &TargetConfig) -> ApiResult<()> {
    store
        .check_target(config)
        .map_err(|e| ApiError::bad_request(redact_secrets(&e.to_string())))?;
    let target = config
        .build(&store.options())
        .map_err(|e| ApiError::bad_request(redact_secrets(&e.to_string())))?;
    target.check().await.map_err(|e| {
        ApiError::bad_request(redact_secrets(&format!(
            "the target failed its connection test: {e}"
        )))
    })
}

fn target_response(status: StatusCode, config: &TargetConfig) -> ApiResult<Response> {
    let shown = config.shown().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the target cannot be shown: {e}"),
        )
    })?;
    Ok((status, Json(shown)).into_response())
}

pub(super) async fn list_targets(State(state): State<PushState>) -> ApiResult<Response> {
    let targets = context(&state)?.store.targets().await?;
    Ok(Json(Value::Array(targets)).into_response())
}

pub(super) async fn get_target(
    State(state): State<PushState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let target = (context(&state)?.store.target_shown(&name).await?)
        .ok_or_else(|| ApiError::not_found(format!("push target {name:?} not found")))?;
    Ok(Json(target).into_response())
}

/// Checks and stores a target; `true` if it replaced one.
async fn store_target(state: &PushState, config: TargetConfig, write: Write) -> ApiResult<bool> {
    let store = &context(state)?.store;
    checked(store, &config).await?;
    Ok(store.put_target(&config, write).await?)
}

/// POST `/sphere/push/targets/{name}`: created (201) or updated (200).
pub(super) async fn upsert_target_by_path(
    State(state): State<PushState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let config = target_from(&body, Some(&name))?;
    let replaced = store_target(&state, config.clone(), Write::CreateOrReplace).await?;
    target_response(
        if replaced {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        &config,
    )
}

/// POST `/sphere/api/v1/push/targets`: created (201), 409 when the name exists.
pub(super) async fn create_target(
    State(state): State<PushState>,
    body: Bytes,
) -> ApiResult<Response> {
    let config = target_from(&body, None)?;
    store_target(&state, config.clone(), Write::Create).await?;
    target_response(StatusCode::CREATED, &config)
}

/// PUT: replaces an existing target (204), 404 when there is none.
pub(super) async fn replace_target(
    State(state): State<PushState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let config = target_from(&body, Some(&name))?;
    store_target(&state, config, Write::Replace).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn delete_target(
    State(state): State<PushState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if context(&state)?.store.delete_target(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "push target {name:?} not found"
        )))
    }
}

pub(super) async fn create_job(
    State(state): State<PushState>,
    uri: axum::http::Uri,
    body: Bytes,
) -> ApiResult<Response> {
    let push = context(&state)?.clone();
    let request: PushRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a push job request: {e}")))?;
    if request.shell_ids.is_empty() && request.submodel_ids.is_empty() {
        return Err(ApiError::bad_request(
            "the job names no shellIds and no submodelIds",
        ));
    }
    let name = &request.push_target_name;
    if push.store.target_shown(name).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "push target {:?} not found",
            request.push_target_name
        )));
    }
    // Recorded here rather than by `submit`, so a full disk is a typed 507, not a 500.
    let job = push_core::PushJob::new(request);
    push.store.save_job(&job).await?;
    push.engine.resume(job.clone());
    let mut response = (StatusCode::CREATED, Json(&job)).into_response();
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), job.identifier);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct JobPaging {
    limit: Option<i64>,
    cursor: Option<String>,
}

pub(super) async fn list_jobs(
    State(state): State<PushState>,
    Params(paging): Params<JobPaging>,
) -> ApiResult<Response> {
    let store = &context(&state)?.store;
    let limit = match paging.limit {
        None => 100,
        Some(n) if n >= 1 => n.min(1000) as usize,
        Some(n) => return Err(ApiError::bad_request(format!("limit {n} is below 1"))),
    };
    let cursor = paging
        .cursor
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("cursor {c:?} is not one this server gave"))
            })
        })
        .transpose()?;
    let (jobs, next) = store.jobs(limit, cursor).await?;
    let paging = match next {
        Some(next) => json!({"cursor": next.to_string()}),
        None => json!({}),
    };
    Ok(Json(json!({"result": jobs, "paging_metadata": paging})).into_response())
}

pub(super) async fn get_job(
    State(state): State<PushState>,
    Path(identifier): Path<String>,
) -> ApiResult<Response> {
    let job = (context(&state)?.store.job(&identifier).await?)
        .ok_or_else(|| ApiError::not_found(format!("push job {identifier:?} not found")))?;
    Ok(Json(job).into_response())
}
