//! The repository API (IDTA Part 2) over HTTP: shells, submodels and concept descriptions by
//! base64url id, paged listings, Part 2 error bodies. Writes are verified and their change
//! events go to the outbox with the change. Handlers are thin: storage does the work.

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use events_core::{ChangeEvent, Encoding, EventClock, EventKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::storage::{Event, Page, Repository, StorageError, Written};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub repository: Arc<dyn Repository>,
    pub encodings: Arc<Vec<Encoding>>,
    pub clock: Arc<std::sync::Mutex<EventClock>>,
}

/// The router of the repository API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/shells", get(list_shells).post(create_shell))
        .route(
            "/shells/{id}",
            get(get_shell).put(replace_shell).delete(delete_shell),
        )
        .route("/submodels", get(list_submodels).post(create_submodel))
        .route(
            "/submodels/{id}",
            get(get_submodel)
                .put(replace_submodel)
                .delete(delete_submodel),
        )
        .route(
            "/concept-descriptions/{id}",
            get(get_cd).put(replace_cd).delete(delete_cd),
        )
        .route("/concept-descriptions", axum::routing::post(create_cd))
        .with_state(state)
}

/// A Part 2 error: status and `{"messages": [...]}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    messages: Vec<String>,
}

impl ApiError {
    fn new(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![text.into()],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let code = self.status.as_u16().to_string();
        let messages: Vec<Value> = self
            .messages
            .into_iter()
            .map(|text| json!({"code": code, "messageType": "Error", "text": text, "timestamp": timestamp}))
            .collect();
        (self.status, Json(json!({ "messages": messages }))).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            StorageError::BadCursor(_) => ApiError::new(StatusCode::BAD_REQUEST, error.to_string()),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn decode_id(encoded: &str) -> ApiResult<String> {
    let padded = encoded.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(padded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{encoded:?} is not a base64url-encoded identifier"),
            )
        })
}

fn read_body<T: aas_serde::json::FromJson>(headers: &HeaderMap, body: &[u8]) -> ApiResult<T> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{content_type} is not application/json"),
        ));
    }
    aas_serde::json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// Verification findings are a 400 listing each path and rule.
fn verified<'a>(node: impl Into<aas_model::Node<'a>>) -> ApiResult<()> {
    let findings: Vec<String> = aas_model::verify(node)
        .take(100)
        .map(|f| f.to_string())
        .collect();
    if findings.is_empty() {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            messages: findings,
        })
    }
}

fn json_response<T: aas_serde::json::ToJson + ?Sized>(status: StatusCode, value: &T) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        aas_serde::json::to_vec(value),
    )
        .into_response()
}

fn page_response<T: aas_serde::json::ToJson>(page: &Page<T>) -> Response {
    let mut body = b"{\"result\":".to_vec();
    body.extend(aas_serde::json::to_vec(&page.items));
    let paging = match &page.cursor {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    };
    body.extend_from_slice(format!(",\"paging_metadata\":{paging}}}").as_bytes());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Paging {
    limit: Option<usize>,
    cursor: Option<String>,
}

impl Paging {
    fn checked(&self) -> ApiResult<(usize, Option<&str>)> {
        let limit = self.limit.unwrap_or(100);
        if limit == 0 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "limit must be at least 1",
            ));
        }
        if self.cursor.as_deref() == Some("") {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "cursor must not be empty",
            ));
        }
        Ok((limit.min(1000), self.cursor.as_deref()))
    }
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

impl AppState {
    fn events(&self, event: &ChangeEvent) -> Vec<Event> {
        self.encodings
            .iter()
            .filter_map(|encoding| encoding.encode(event).ok())
            .map(|message| (message.topic, message.payload))
            .collect()
    }

    fn timestamp(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next_timestamp()
    }

    fn shell_events(&self, shell: &AssetAdministrationShell, kind: EventKind) -> Vec<Event> {
        self.events(&ChangeEvent::Shell {
            kind,
            timestamp: self.timestamp(),
            shell: Box::new(shell.clone()),
        })
    }

    fn submodel_events(
        &self,
        submodel: &Submodel,
        kind: EventKind,
        affected: &[String],
    ) -> Vec<Event> {
        self.events(&ChangeEvent::Submodel {
            kind,
            timestamp: self.timestamp(),
            submodel: Box::new(submodel.clone()),
            affected_shell_ids: affected.to_vec(),
        })
    }
}

fn kind_of(written: Written) -> EventKind {
    match written {
        Written::Created => EventKind::Created,
        Written::Replaced => EventKind::Updated,
    }
}

fn location(collection: &str, id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("/{collection}/{}", URL_SAFE_NO_PAD.encode(id)))
        .unwrap_or_else(|_| HeaderValue::from_static("/"))
}

// ---- shells --------------------------------------------------------------------------------

async fn list_shells(
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
) -> ApiResult<Response> {
    let (limit, cursor) = paging.checked()?;
    let cursor = cursor.map(str::to_owned);
    let page = blocking(move || Ok(state.repository.shells(limit, cursor.as_deref())?)).await?;
    Ok(page_response(&page))
}

async fn get_shell(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = decode_id(&id)?;
    let found = blocking({
        let id = id.clone();
        move || Ok(state.repository.shell(&id)?)
    })
    .await?;
    let shell = found
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("shell {id:?} not found")))?;
    Ok(json_response(StatusCode::OK, &shell))
}

async fn create_shell(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let shell: AssetAdministrationShell = read_body(&headers, &body)?;
    verified(&shell)?;
    let stored = shell.clone();
    blocking(move || {
        if state.repository.shell(&stored.id)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("shell {:?} exists", stored.id),
            ));
        }
        state.repository.put_shell(&stored, &|written| {
            state.shell_events(&stored, kind_of(written))
        })?;
        Ok(())
    })
    .await?;
    let mut response = json_response(StatusCode::CREATED, &shell);
    response
        .headers_mut()
        .insert(header::LOCATION, location("shells", &shell.id));
    Ok(response)
}

async fn replace_shell(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    let shell: AssetAdministrationShell = read_body(&headers, &body)?;
    if shell.id != id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body's id {:?} is not the path's {id:?}", shell.id),
        ));
    }
    verified(&shell)?;
    let written = blocking(move || {
        Ok(state.repository.put_shell(&shell, &|written| {
            state.shell_events(&shell, kind_of(written))
        })?)
    })
    .await?;
    Ok(if written == Written::Created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

async fn delete_shell(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    blocking(move || {
        Ok(state
            .repository
            .delete_shell(&id, &|last| state.shell_events(last, EventKind::Deleted))?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- submodels -----------------------------------------------------------------------------

async fn list_submodels(
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
) -> ApiResult<Response> {
    let (limit, cursor) = paging.checked()?;
    let cursor = cursor.map(str::to_owned);
    let page = blocking(move || Ok(state.repository.submodels(limit, cursor.as_deref())?)).await?;
    Ok(page_response(&page))
}

async fn get_submodel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = decode_id(&id)?;
    let found = blocking({
        let id = id.clone();
        move || Ok(state.repository.submodel(&id)?)
    })
    .await?;
    let submodel = found.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("submodel {id:?} not found"))
    })?;
    Ok(json_response(StatusCode::OK, &submodel))
}

async fn create_submodel(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let submodel: Submodel = read_body(&headers, &body)?;
    verified(&submodel)?;
    let stored = submodel.clone();
    blocking(move || {
        if state.repository.submodel(&stored.id)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("submodel {:?} exists", stored.id),
            ));
        }
        state.repository.put_submodel(&stored, &|change| {
            state.submodel_events(&stored, kind_of(change.written), &change.affected_shell_ids)
        })?;
        Ok(())
    })
    .await?;
    let mut response = json_response(StatusCode::CREATED, &submodel);
    response
        .headers_mut()
        .insert(header::LOCATION, location("submodels", &submodel.id));
    Ok(response)
}

async fn replace_submodel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    let submodel: Submodel = read_body(&headers, &body)?;
    if submodel.id != id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body's id {:?} is not the path's {id:?}", submodel.id),
        ));
    }
    verified(&submodel)?;
    let change = blocking(move || {
        Ok(state.repository.put_submodel(&submodel, &|change| {
            state.submodel_events(
                &submodel,
                kind_of(change.written),
                &change.affected_shell_ids,
            )
        })?)
    })
    .await?;
    Ok(if change.written == Written::Created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

async fn delete_submodel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    blocking(move || {
        Ok(state.repository.delete_submodel(&id, &|last, affected| {
            state.submodel_events(last, EventKind::Deleted, affected)
        })?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- concept descriptions ------------------------------------------------------------------

async fn get_cd(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = decode_id(&id)?;
    let found = blocking({
        let id = id.clone();
        move || Ok(state.repository.concept_description(&id)?)
    })
    .await?;
    let cd = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("concept description {id:?} not found"),
        )
    })?;
    Ok(json_response(StatusCode::OK, &cd))
}

async fn create_cd(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let cd: ConceptDescription = read_body(&headers, &body)?;
    verified(&cd)?;
    let stored = cd.clone();
    blocking(move || {
        if state.repository.concept_description(&stored.id)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("concept description {:?} exists", stored.id),
            ));
        }
        state.repository.put_concept_description(&stored)?;
        Ok(())
    })
    .await?;
    let mut response = json_response(StatusCode::CREATED, &cd);
    response
        .headers_mut()
        .insert(header::LOCATION, location("concept-descriptions", &cd.id));
    Ok(response)
}

async fn replace_cd(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    let cd: ConceptDescription = read_body(&headers, &body)?;
    if cd.id != id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body's id {:?} is not the path's {id:?}", cd.id),
        ));
    }
    verified(&cd)?;
    let written = blocking(move || Ok(state.repository.put_concept_description(&cd)?)).await?;
    Ok(if written == Written::Created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

async fn delete_cd(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    blocking(move || Ok(state.repository.delete_concept_description(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}
