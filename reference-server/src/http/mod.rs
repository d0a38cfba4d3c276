//! The repository API (IDTA Part 2) over HTTP: shells, submodels and concept descriptions by
//! base64url id, paged listings, Part 2 error bodies. Writes are verified here and made by the
//! repository service ([`crate::service::RepositoryService`]: the change and its events in one
//! transaction). Handlers are thin: the services and storage do the work.

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, ConceptDescription, Identifiable, Submodel};
use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::service::{Origin, RepositoryService};
use crate::storage::{Repository, StorageError, Written};

/// What the router holds. Each group of handlers takes only its part (axum's [`FromRef`]):
/// the repository API cannot reach the push engine, nor the push API the repository.
#[derive(Clone)]
pub struct AppState {
    pub repository: RepositoryState,
    pub push: PushState,
    pub sdt: SdtState,
    pub operations: OperationsState,
}

/// The repository API's part of the state (also the event feed's and `/serialization`'s).
#[derive(Clone)]
pub struct RepositoryState {
    /// The storage, for reads.
    pub repository: Arc<dyn Repository>,
    /// Every change, with its events.
    pub service: Arc<RepositoryService>,
    /// The AAS version served (`aas-version`): writes are verified by its rules, JSON bodies
    /// read as it, XML and AASX written in it.
    pub aas_version: aas_model::Version,
}

/// The push API's part: push targets and jobs (`None`: the push API answers 503).
#[derive(Clone)]
pub struct PushState(pub Option<Arc<push_api::PushContext>>);

/// The synchronized-twin API's part: platforms and twin bindings (`None`: the SDT API answers
/// 503). Deleting a submodel takes it too, to end the submodel's synchronization.
#[derive(Clone)]
pub struct SdtState(pub Option<Arc<crate::sync::Synchronizer>>);

/// The operation API's part: the invoker and the handles of asynchronous invocations.
#[derive(Clone)]
pub struct OperationsState(pub Arc<sdt_core::operation::Invoker>);

impl FromRef<AppState> for OperationsState {
    fn from_ref(state: &AppState) -> Self {
        state.operations.clone()
    }
}

impl FromRef<AppState> for RepositoryState {
    fn from_ref(state: &AppState) -> Self {
        state.repository.clone()
    }
}

impl FromRef<AppState> for PushState {
    fn from_ref(state: &AppState) -> Self {
        state.push.clone()
    }
}

impl FromRef<AppState> for SdtState {
    fn from_ref(state: &AppState) -> Self {
        state.sdt.clone()
    }
}

mod events_api;
mod extract;
mod operation_api;
pub mod push_api;
pub(crate) mod routes;
pub mod sdt_api;
mod serialization;
mod shell_api;
mod submodel_api;

/// The router of the repository API, built from the route table ([`routes::operations`]); each
/// group of routes is behind its role, so a route added to the admin group is never reachable
/// with a read or write key.
pub fn router(state: AppState, keys: &crate::auth::ApiKeys) -> Router {
    use crate::auth::{Access, guarded};
    use routes::Group;
    let (mut public, mut repository, mut admin) = (Router::new(), Router::new(), Router::new());
    for (group, path, route) in routes::operations() {
        let handler = (route.serve)(routes::method_filter(&route.method));
        match group {
            Group::Public => public = public.route(&path, handler),
            Group::Repository => repository = repository.route(&path, handler),
            Group::Admin => admin = admin.route(&path, handler),
        }
    }
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/swagger")
        .config(utoipa_swagger_ui::Config::from("/openapi.json"));
    let routed = public
        .merge(guarded(repository, keys, Access::Repository))
        .merge(guarded(admin, keys, Access::Admin))
        .route(
            "/openapi.json",
            get(|State(state): State<RepositoryState>| async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    crate::openapi::document_json(state.aas_version),
                )
            }),
        )
        .merge(swagger)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(axum::middleware::from_fn(to_the_end))
        .with_state(state);
    // Outside the router: a layer of the router itself runs after routing, too late to change
    // the path that is routed.
    let trimmed = tower::ServiceBuilder::new()
        .map_request(without_trailing_slash)
        .service(routed);
    Router::new().fallback_service(trimmed)
}

/// A path with a trailing slash is served as the path without it (`GET /shells/{id}/` is
/// `GET /shells/{id}`): IDTA's test engine asks for such paths. tower-http's `NormalizePath`
/// would do it for every path, but Swagger UI answers `/swagger` with a redirect to
/// `/swagger/`: trimmed, that would be a redirect loop, so its paths keep their slash.
fn without_trailing_slash(mut request: axum::extract::Request) -> axum::extract::Request {
    let path = request.uri().path();
    if path.len() <= 1 || !path.ends_with('/') || path.starts_with("/swagger") {
        return request;
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    // A path taken from a valid URI, shortened, stays valid: the error cannot happen, and the
    // request is served unchanged if it did.
    let Ok(path_and_query) = path_and_query.parse() else {
        return request;
    };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}

/// Runs a request to its end as a task of its own, even when its client goes away or the
/// timeout answers for it: a change that commits is announced, a binding is made whole or not
/// at all (as when the storage calls ran on the blocking pool, which nothing cancels).
async fn to_the_end(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // Reads change nothing: they are spared the task's cost (GET of a 50 KB submodel, 32
    // clients: 0.55 of the floor with it, bench/server.sh).
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
        }
    }
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

    fn bad_request(text: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, text)
    }

    fn not_found(text: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, text)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.messages.join("; "))
    }
}

impl std::error::Error for ApiError {}

/// One Part 2 error message (`Result.messages[]`).
pub fn part2_message(status: u16, text: &str) -> Value {
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({"code": status.to_string(), "messageType": "Error", "text": text, "timestamp": timestamp})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.as_u16();
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|text| part2_message(status, text))
            .collect();
        (self.status, Json(json!({ "messages": messages }))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Errors made outside the handlers (the body limit's 413, the timeout's 408, axum's own
/// rejections) get the Part 2 error body too, with their text as the message.
pub async fn part2_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    ApiError::new(status, text).into_response()
}

fn decode_id(encoded: &str) -> ApiResult<String> {
    aas_serde::query::decode_id(encoded).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{encoded:?} is not a base64url-encoded identifier"),
        )
    })
}

/// Bodies up to this size are read and verified on the request's own task (a millisecond at
/// most); larger ones on the blocking pool, so that big uploads do not hold up the async
/// threads everything else runs on.
const INLINE_BODY: usize = 256 << 10;

/// A JSON body read as `version` (JSON has no version marker: the server's says which values
/// are accepted) and accepted by `check`, on the blocking pool when it is large.
async fn read_body<T: aas_serde::json::FromJson + Send + 'static>(
    version: aas_model::Version,
    headers: &HeaderMap,
    body: &Bytes,
    check: impl FnOnce(&T) -> ApiResult<()> + Send + 'static,
) -> ApiResult<T> {
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
    let inline = body.len() <= INLINE_BODY;
    let body = body.clone();
    let read = move || {
        // BaSyx Python's empty lists are taken as absent (see the function's docs).
        let body = aas_serde::json::without_empty_lists(&body);
        let value = aas_serde::json::from_slice_as(&body, version)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        check(&value).map(|()| value)
    };
    if inline {
        return read();
    }
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// Verification findings are a 400 listing each path and rule.
fn verified(findings: aas_model::Findings<'_>) -> ApiResult<()> {
    let findings: Vec<String> = findings.take(100).map(|f| f.to_string()).collect();
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

fn location(collection: &str, id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "/{collection}/{}",
        aas_serde::query::encode_id(id)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("/"))
}

// ---- shared by the collections -------------------------------------------------------------

/// An element read from a request body and verified.
async fn new_element<T>(
    version: aas_model::Version,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<T>
where
    T: aas_serde::json::FromJson + Send + 'static,
    for<'a> &'a T: Into<aas_model::Node<'a>>,
{
    read_body(version, headers, body, move |element: &T| {
        verified(aas_model::verify_as(element, version))
    })
    .await
}

/// A replacement read from a request body: its id must be the path's, then it is verified.
async fn replacement<T>(
    version: aas_model::Version,
    encoded_id: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<T>
where
    T: aas_serde::json::FromJson + Identifiable + Send + 'static,
    for<'a> &'a T: Into<aas_model::Node<'a>>,
{
    let id = decode_id(encoded_id)?;
    read_body(version, headers, body, move |element: &T| {
        if element.id() != id {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the body's id {:?} is not the path's {id:?}", element.id()),
            ));
        }
        verified(aas_model::verify_as(element, version))
    })
    .await
}

/// GET of one element (`id`'s): 200 with it, or 404 naming it.
fn found<T: aas_serde::json::ToJson>(
    what: &str,
    id: &str,
    element: Option<T>,
) -> ApiResult<Response> {
    let element = element
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("{what} {id:?} not found")))?;
    Ok(json_response(StatusCode::OK, &element))
}

/// POST of a new element: stored by `store`, 201 with it (its JSON as stored: `store` answers
/// it) and its Location; 409 if its id is taken (`store` is a create-only write:
/// [`StorageError::Exists`]).
async fn create<T: Identifiable>(
    collection: &'static str,
    element: T,
    store: impl AsyncFnOnce(T) -> Result<Arc<str>, StorageError>,
) -> ApiResult<Response> {
    let location = location(collection, element.id());
    let json = store(element).await?;
    Ok(created_answer(location, json.to_string()))
}

/// 201 with the created element's JSON and its Location.
fn created_answer(location: HeaderValue, json: String) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// Whether a PUT that creates answers 201: Part 2 V3.1's profiles list 201 (created) and 204
/// (replaced) for every PUT that may create; V3.0's list only 204, which a server of V3.0
/// answers either way.
pub(crate) fn answers_created(version: aas_model::Version) -> bool {
    version >= aas_model::Version::V3_1
}

/// PUT's answer: 201 with the element (its JSON) and its Location when it created it, 204
/// when it replaced it (or, in V3.0, either way: [`answers_created`]).
fn put_answer(
    version: aas_model::Version,
    written: Written,
    location: HeaderValue,
    json: &str,
) -> Response {
    match written {
        Written::Created if answers_created(version) => created_answer(location, json.to_owned()),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

// ---- shells --------------------------------------------------------------------------------

async fn get_shell(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = decode_id(&id)?;
    found("shell", &id, state.repository.shell(&id).await?)
}

async fn create_shell(
    State(state): State<RepositoryState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let shell: AssetAdministrationShell = new_element(state.aas_version, &headers, &body).await?;
    create("shells", shell, async |shell| {
        state.service.create_shell(shell, Origin::Api).await
    })
    .await
}

async fn replace_shell(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let shell: AssetAdministrationShell =
        replacement(state.aas_version, &id, &headers, &body).await?;
    let location = location("shells", &shell.id);
    let (written, json) = state.service.replace_shell(shell, Origin::Api).await?;
    Ok(put_answer(state.aas_version, written, location, &json))
}

/// `PUT /services/aas/{aas}/aas`: the service's shell replaced, never created (the base URL
/// names an existing shell; the profile lists 204 only).
async fn replace_existing_shell(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let decoded = decode_id(&id)?;
    if state.repository.shell(&decoded).await?.is_none() {
        return Err(ApiError::not_found(format!("shell {decoded:?} not found")));
    }
    let shell: AssetAdministrationShell =
        replacement(state.aas_version, &id, &headers, &body).await?;
    state.service.replace_shell(shell, Origin::Api).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_shell(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    state.service.delete_shell(&id, Origin::Api).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- submodels -----------------------------------------------------------------------------

async fn create_submodel(
    State(state): State<RepositoryState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let submodel: Submodel = new_element(state.aas_version, &headers, &body).await?;
    create("submodels", submodel, async |submodel| {
        state.service.create_submodel(submodel, Origin::Api).await
    })
    .await
}

// ---- concept descriptions ------------------------------------------------------------------

async fn get_cd(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = decode_id(&id)?;
    let cd = state.repository.concept_description(&id).await?;
    found("concept description", &id, cd)
}

async fn create_cd(
    State(state): State<RepositoryState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let cd: ConceptDescription = new_element(state.aas_version, &headers, &body).await?;
    create("concept-descriptions", cd, async |cd| {
        state
            .service
            .create_concept_description(cd, Origin::Api)
            .await
    })
    .await
}

async fn replace_cd(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let cd: ConceptDescription = replacement(state.aas_version, &id, &headers, &body).await?;
    let written = state
        .service
        .put_concept_description(&cd, Origin::Api)
        .await?;
    // Concept descriptions are small: written again for a 201's body.
    let json = aas_serde::json::to_string(&cd);
    let location = location("concept-descriptions", &cd.id);
    Ok(put_answer(state.aas_version, written, location, &json))
}

async fn delete_cd(
    State(state): State<RepositoryState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = decode_id(&id)?;
    state
        .service
        .delete_concept_description(&id, Origin::Api)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
