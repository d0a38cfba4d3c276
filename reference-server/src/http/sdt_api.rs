//! The synchronized-twin API (`/sdts`, contract in `../shared/docs/spec/sdt.md`): platforms,
//! the playground (`evaluate`), `dry-run` of a description, and the predefined access-control
//! statements. Errors answer `{"error": "<what is wrong>"}`, as the playground's contract says.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sdt_core::{DryRunRequest, Evaluation, OutboundPolicy, Platform};
use serde_json::{Value, json};

use super::SdtState;
use crate::storage::Write;
use crate::sync::{BindError, SdtStoreError, Synchronizer, TwinRecord};

/// An SDT API error: status and `{"error": ...}`.
#[derive(Debug)]
pub struct SdtError(StatusCode, String);

impl IntoResponse for SdtError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(text: impl Into<String>) -> SdtError {
    SdtError(StatusCode::BAD_REQUEST, text.into())
}

fn internal(error: impl std::fmt::Display) -> SdtError {
    SdtError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

type SdtResult<T> = Result<T, SdtError>;

fn sync(state: &SdtState) -> SdtResult<Arc<Synchronizer>> {
    state.0.clone().ok_or_else(|| {
        SdtError(
            StatusCode::SERVICE_UNAVAILABLE,
            "synchronization is not configured".into(),
        )
    })
}

fn store(state: &SdtState) -> SdtResult<Arc<crate::sync::SdtStore>> {
    Ok(sync(state)?.store.clone())
}

impl From<BindError> for SdtError {
    fn from(error: BindError) -> Self {
        let status = match error {
            BindError::Store(store) => return store.into(),
            ref invalid if invalid.is_invalid() => StatusCode::BAD_REQUEST,
            BindError::NotFound(_) => StatusCode::NOT_FOUND,
            BindError::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        SdtError(status, error.to_string())
    }
}

impl From<SdtStoreError> for SdtError {
    fn from(error: SdtStoreError) -> Self {
        let status = match &error {
            SdtStoreError::Exists(_) | SdtStoreError::InUse { .. } => StatusCode::CONFLICT,
            SdtStoreError::NotFound(_) => StatusCode::NOT_FOUND,
            full if full.is_disk_full() => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        SdtError(status, error.to_string())
    }
}

/// The largest body of `/sdts/evaluate` and `/sdts/dry-run`: a sample answer and a description
/// are kilobytes; parsed into JSON values, 63 MiB of `[0,0,...]` took 3.8 GB.
pub const PLAYGROUND_BODY_LIMIT: usize = 4 << 20;

/// Evaluations and dry runs at once: each is bounded CPU work (sdt-core's "Limits"), and more
/// of them than cores only make each wait longer while taking the blocking pool from others.
static PLAYGROUND_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Runs playground work on the blocking pool, at most [`PLAYGROUND_SLOTS`] at once; the others
/// wait (within the request timeout).
async fn playground<T: Send + 'static>(
    work: impl FnOnce() -> SdtResult<T> + Send + 'static,
) -> SdtResult<T> {
    let _slot = PLAYGROUND_SLOTS.acquire().await.map_err(internal)?;
    tokio::task::spawn_blocking(work).await.map_err(internal)?
}

/// `POST /sdts/evaluate`: one expression, evaluated as the engine does. sdt-core bounds the
/// work (its "Limits"); it runs off the async workers all the same, as it is CPU work.
pub(super) async fn evaluate(body: Bytes) -> SdtResult<Json<Value>> {
    playground(move || {
        let evaluation: Evaluation =
            serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        let result = evaluation.run().map_err(|e| bad(e.to_string()))?;
        Ok(Json(json!({ "result": result })))
    })
    .await
}

/// `POST /sdts/dry-run`: the variables and rendered values a sample answer gives; nothing
/// is written.
pub(super) async fn dry_run(body: Bytes) -> SdtResult<Json<Value>> {
    playground(move || {
        let request: DryRunRequest =
            serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        Ok(Json(request.run().map_err(|e| bad(e.to_string()))?))
    })
    .await
}

/// `GET /sdts/acl`: the statements a synchronized twin needs: the synchronization user may
/// update the twin's data properties and read the twin; the owner may do everything.
pub(super) async fn acl() -> Json<Value> {
    Json(sdt_core::acl_statements())
}

/// A platform from a body; its definition is checked as a client would use it.
fn platform_from(
    body: &[u8],
    path_name: Option<&str>,
    outbound: &OutboundPolicy,
) -> SdtResult<Platform> {
    let platform = Platform::from_json(body, path_name).map_err(|e| bad(e.to_string()))?;
    // The base URL against the outbound policy too: a refused host is a 400 with the reason.
    platform.check(outbound).map_err(|e| bad(e.to_string()))?;
    Ok(platform)
}

pub(super) async fn list_platforms(State(state): State<SdtState>) -> SdtResult<Json<Value>> {
    Ok(Json(Value::Array(store(&state)?.platforms().await?)))
}

pub(super) async fn get_platform(
    State(state): State<SdtState>,
    Path(name): Path<String>,
) -> SdtResult<Json<Value>> {
    let platform = (store(&state)?.platform(&name).await?).ok_or_else(|| {
        SdtError(
            StatusCode::NOT_FOUND,
            format!("platform {name:?} not found"),
        )
    })?;
    serde_json::to_value(platform).map(Json).map_err(internal)
}

pub(super) async fn create_platform(
    State(state): State<SdtState>,
    body: Bytes,
) -> SdtResult<Response> {
    let platform = platform_from(&body, None, sync(&state)?.outbound())?;
    store(&state)?
        .put_platform(&platform, Write::Create)
        .await?;
    Ok((StatusCode::CREATED, Json(platform)).into_response())
}

pub(super) async fn replace_platform(
    State(state): State<SdtState>,
    Path(name): Path<String>,
    body: Bytes,
) -> SdtResult<StatusCode> {
    let platform = platform_from(&body, Some(&name), sync(&state)?.outbound())?;
    store(&state)?
        .put_platform(&platform, Write::Replace)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 409 while twins are bound to it (counted in the deletion's transaction).
pub(super) async fn delete_platform(
    State(state): State<SdtState>,
    Path(name): Path<String>,
) -> SdtResult<StatusCode> {
    store(&state)?.delete_platform(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn decode_twin_id(encoded: &str) -> SdtResult<String> {
    super::decode_id(encoded).map_err(|_| {
        bad(format!(
            "{encoded:?} is not a base64url-encoded submodel id"
        ))
    })
}

fn twin_from(body: &[u8], submodel_id: Option<&str>) -> SdtResult<TwinRecord> {
    TwinRecord::from_json(body, submodel_id).map_err(|e| bad(e.to_string()))
}

pub(super) async fn list_twins(State(state): State<SdtState>) -> SdtResult<Json<Value>> {
    Ok(Json(Value::Array(store(&state)?.twins().await?)))
}

pub(super) async fn get_twin(
    State(state): State<SdtState>,
    Path(twin): Path<String>,
) -> SdtResult<Json<Value>> {
    let id = decode_twin_id(&twin)?;
    (store(&state)?.twin(&id).await?).map(Json).ok_or_else(|| {
        SdtError(
            StatusCode::NOT_FOUND,
            format!("no twin is bound to submodel {id:?}"),
        )
    })
}

/// 409 when the submodel is bound already (checked in the binding's transaction).
pub(super) async fn create_twin(State(state): State<SdtState>, body: Bytes) -> SdtResult<Response> {
    let record = twin_from(&body, None)?;
    let sync = sync(&state)?;
    let id = record.submodel_id.clone();
    sync.bind(record, Write::Create).await?;
    let shown = sync.store.twin(&id).await?;
    Ok((StatusCode::CREATED, Json(shown.unwrap_or_default())).into_response())
}

/// PUT: replaces the binding's description (and the rest), restarting only this twin; 404
/// when the submodel is not bound.
pub(super) async fn replace_twin(
    State(state): State<SdtState>,
    Path(twin): Path<String>,
    body: Bytes,
) -> SdtResult<StatusCode> {
    let id = decode_twin_id(&twin)?;
    let record = twin_from(&body, Some(&id))?;
    let sync = sync(&state)?;
    sync.bind(record, Write::Replace).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn delete_twin(
    State(state): State<SdtState>,
    Path(twin): Path<String>,
) -> SdtResult<StatusCode> {
    let id = decode_twin_id(&twin)?;
    let sync = sync(&state)?;
    if sync.unbind(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(SdtError(
            StatusCode::NOT_FOUND,
            format!("no twin is bound to submodel {id:?}"),
        ))
    }
}
