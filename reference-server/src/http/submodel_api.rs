//! The submodel API (Part 2): one submodel by id, its elements by idShort path, the content
//! modifiers (`$metadata`, `$value`, `$reference`, `$path`), `level` and `extent`, and
//! attachments. Served under `/submodels/{sm}` and under the superpath
//! `/shells/{aas}/submodels/{sm}` (where the shell must refer to the submodel).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aas_model::{AttachmentError, IdShortPath, PathStep, ReplaceError, Submodel, SubmodelElement};
pub use aas_serde::projection::Content;
use aas_serde::projection::{self, ProjectionError, Shape};
use aas_serde::value_only;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Params, PathParams};
use super::{
    ApiError, ApiResult, RepositoryState, SdtState, decode_id, json_response, read_body, verified,
};
use crate::service::Origin;
use crate::storage::{Attachment, StorageError};

/// The path parameters of the submodel routes (`aas` only under the superpath).
#[derive(Debug, Deserialize)]
pub struct SubmodelAt {
    aas: Option<String>,
    sm: String,
    path: Option<String>,
}

/// The largest page of a listing (a larger `limit` gets this many).
pub const MAX_LIMIT: usize = 1000;

/// `level`, `extent` and paging, as every GET of this API takes them.
#[derive(Debug, Default, Deserialize)]
pub struct Modifiers {
    level: Option<String>,
    extent: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

impl Modifiers {
    /// The modifiers of a request whose query the caller read itself.
    pub fn new(
        level: Option<String>,
        extent: Option<String>,
        limit: Option<i64>,
        cursor: Option<String>,
    ) -> Self {
        Modifiers {
            level,
            extent,
            limit,
            cursor,
        }
    }

    pub fn shape(&self) -> ApiResult<Shape> {
        Shape::parse(self.level.as_deref(), self.extent.as_deref()).map_err(bad_projection)
    }

    pub fn paging(&self) -> ApiResult<(usize, usize)> {
        let limit = self.limit()?;
        let start = match self.cursor.as_deref() {
            None => 0,
            Some(text) => text.parse().map_err(|_| {
                ApiError::bad_request(format!("cursor {text:?} is not one this server gave"))
            })?,
        };
        Ok((limit, start))
    }

    /// `limit`: 100 if not given, at most [`MAX_LIMIT`].
    pub fn limit(&self) -> ApiResult<usize> {
        match self.limit {
            None => Ok(100),
            Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX).min(MAX_LIMIT)),
            Some(n) => Err(ApiError::bad_request(format!("limit {n} is below 1"))),
        }
    }

    /// `cursor`, as the client sent it (listings in the database check it).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

fn parse_path(text: &str) -> ApiResult<IdShortPath> {
    text.parse()
        .map_err(|e: aas_model::IdShortPathError| ApiError::bad_request(e.to_string()))
}

/// Under the superpath, checks that the shell exists and refers to the submodel (404 if not);
/// the submodel's id.
async fn referred(state: &RepositoryState, at: &SubmodelAt) -> ApiResult<String> {
    let id = decode_id(&at.sm)?;
    if let Some(shell_id) = at.aas.as_deref().map(decode_id).transpose()? {
        let shell = (state.repository.shell(&shell_id).await?)
            .ok_or_else(|| ApiError::not_found(format!("shell {shell_id:?} not found")))?;
        if !shell.refers_to_submodel(&id) {
            return Err(ApiError::not_found(format!(
                "shell {shell_id:?} does not refer to submodel {id:?}"
            )));
        }
    }
    Ok(id)
}

/// Loads the submodel the request addresses; under the superpath the shell must refer to it.
async fn load(state: &RepositoryState, at: &SubmodelAt) -> ApiResult<Submodel> {
    let id = referred(state, at).await?;
    (state.repository.submodel(&id).await?)
        .ok_or_else(|| ApiError::not_found(format!("submodel {id:?} not found")))
}

fn element_at(submodel: &Submodel, path: &IdShortPath) -> ApiResult<SubmodelElement> {
    submodel.element(path).ok_or_else(|| {
        ApiError::not_found(format!(
            "no element at {path} in submodel {:?}",
            submodel.id
        ))
    })
}

/// The element a request addresses, with its submodel's id (what the operation API invokes).
pub(super) async fn addressed(
    state: &RepositoryState,
    at: &SubmodelAt,
) -> ApiResult<(String, IdShortPath, SubmodelElement)> {
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    let submodel = load(state, at).await?;
    let element = element_at(&submodel, &path)?;
    Ok((submodel.id, path, element))
}

// ---- rendering ----------------------------------------------------------------------------

fn bad_projection(error: ProjectionError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

fn value_response(value: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn render_element(
    submodel: &Submodel,
    path: &IdShortPath,
    element: SubmodelElement,
    content: Content,
    shape: Shape,
) -> ApiResult<Value> {
    projection::element_view(submodel, path, element, content, shape).map_err(bad_projection)
}

// ---- GET -----------------------------------------------------------------------------------

async fn get_submodel(
    state: RepositoryState,
    at: SubmodelAt,
    m: Modifiers,
    content: Content,
) -> ApiResult<Response> {
    let shape = m.shape()?;
    if content == Content::Normal {
        // The default answer (deep, without blob values) is stored as such.
        if at.aas.is_none() && shape == Shape::default() {
            let id = decode_id(&at.sm)?;
            let json = (state.repository.submodel_json(&id).await?)
                .ok_or_else(|| ApiError::not_found(format!("submodel {id:?} not found")))?;
            return Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response());
        }
        let mut submodel = load(&state, &at).await?;
        projection::shape_submodel(&mut submodel, shape);
        return Ok(json_response(StatusCode::OK, &submodel));
    }
    let submodel = load(&state, &at).await?;
    Ok(value_response(&projection::submodel_view(
        submodel, content, shape,
    )))
}

pub async fn submodel(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_submodel(s, at, m, Content::Normal).await
}
pub async fn submodel_metadata(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_submodel(s, at, m, Content::Metadata).await
}
pub async fn submodel_value(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_submodel(s, at, m, Content::Value).await
}
pub async fn submodel_reference_of(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_submodel(s, at, m, Content::Reference).await
}
pub async fn submodel_path(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_submodel(s, at, m, Content::Path).await
}

/// A page of a list held in memory; the cursor is the index of the next item.
pub fn paged(items: Vec<Value>, start: usize, limit: usize) -> Response {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let next = start.saturating_add(limit);
    let paging = if next < total {
        json!({"cursor": next.to_string()})
    } else {
        json!({})
    };
    value_response(&json!({"paging_metadata": paging, "result": page}))
}

async fn list_elements(
    state: RepositoryState,
    at: SubmodelAt,
    m: Modifiers,
    content: Content,
) -> ApiResult<Response> {
    let shape = m.shape()?;
    let (limit, start) = m.paging()?;
    let submodel = load(&state, &at).await?;
    let items = projection::element_list_view(&submodel, content, shape).map_err(bad_projection)?;
    Ok(paged(items, start, limit))
}

pub async fn elements(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    list_elements(s, at, m, Content::Normal).await
}
pub async fn elements_metadata(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    list_elements(s, at, m, Content::Metadata).await
}
pub async fn elements_value(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    list_elements(s, at, m, Content::Value).await
}
pub async fn elements_reference(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    list_elements(s, at, m, Content::Reference).await
}
pub async fn elements_path(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    list_elements(s, at, m, Content::Path).await
}

async fn get_element(
    state: RepositoryState,
    at: SubmodelAt,
    m: Modifiers,
    content: Content,
) -> ApiResult<Response> {
    let shape = m.shape()?;
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    let submodel = load(&state, &at).await?;
    let mut element = element_at(&submodel, &path)?;
    if content == Content::Normal {
        projection::shape_element(&mut element, shape);
        return Ok(json_response(StatusCode::OK, &element));
    }
    Ok(value_response(&render_element(
        &submodel, &path, element, content, shape,
    )?))
}

pub async fn element(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_element(s, at, m, Content::Normal).await
}
pub async fn element_metadata(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_element(s, at, m, Content::Metadata).await
}
pub async fn element_value(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_element(s, at, m, Content::Value).await
}
pub async fn element_reference_of(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_element(s, at, m, Content::Reference).await
}
pub async fn element_path(
    State(s): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    get_element(s, at, m, Content::Path).await
}

// ---- writes --------------------------------------------------------------------------------

/// Changes the addressed submodel in one transaction; the result is verified and announced
/// as the submodel's `updated` event. A change of one element names it (`focus`): only what
/// that change can break is verified (`verify_within_as`: the element and its ancestors'
/// own checks), in time proportional to the element, not to the submodel.
async fn change_submodel(
    state: &RepositoryState,
    at: &SubmodelAt,
    focus: Option<IdShortPath>,
    change: impl FnMut(&mut Submodel) -> ApiResult<()> + Send + 'static,
) -> ApiResult<Arc<Submodel>> {
    change_submodel_attaching(state, at, focus, None, change).await
}

/// [`change_submodel`] that also stores a File's bytes (idShort path, file) in the same
/// transaction.
async fn change_submodel_attaching(
    state: &RepositoryState,
    at: &SubmodelAt,
    focus: Option<IdShortPath>,
    attach: Option<(String, Attachment)>,
    change: impl FnMut(&mut Submodel) -> ApiResult<()> + Send + 'static,
) -> ApiResult<Arc<Submodel>> {
    // Under the superpath the shell must refer to the submodel; its existence is checked by
    // the change itself (NotFound, in its transaction).
    if at.aas.is_some() {
        load(state, at).await?;
    }
    let (id, version, mut change) = (decode_id(&at.sm)?, state.aas_version, change);
    let checked = move |submodel: &mut Submodel| -> crate::storage::Change<()> {
        change(submodel)?;
        verified(match &focus {
            Some(path) => aas_model::verify_within_as(submodel, path, version),
            None => aas_model::verify_as(&*submodel, version),
        })?;
        Ok(())
    };
    // Twins learn of the change from the service's announcement (not in this request).
    let service = &state.service;
    Ok(service
        .modify_submodel(&id, attach, checked, Origin::Api)
        .await?)
}

// ---- the submodel as a whole ---------------------------------------------------------------

/// PUT of the submodel: replaced (204) or created (201 with it and its Location; 204 in V3.0:
/// `super::answers_created`); under the superpath only one the shell refers to.
pub async fn put_submodel(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let submodel: Submodel = super::replacement(state.aas_version, &at.sm, &headers, &body).await?;
    referred(&state, &at).await?;
    // Twins learn of the change from the service's announcement, not from here.
    let (written, json) = (state.service)
        .replace_submodel(submodel, Origin::Api)
        .await?;
    let location = submodel_location(&at);
    Ok(super::put_answer(
        state.aas_version,
        written,
        location,
        &json,
    ))
}

/// A body's id must be the path's (`id`).
fn same_id(body_id: &str, id: &str) -> ApiResult<()> {
    if body_id == id {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "the body's id {body_id:?} is not the path's {id:?}"
    )))
}

/// PATCH of the submodel: an existing one (404 if none) replaced by the body, in one
/// transaction with its `updated` event.
pub async fn patch_submodel(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = decode_id(&at.sm)?;
    let check = move |new: &Submodel| same_id(&new.id, &id);
    let new: Submodel = read_body(state.aas_version, &headers, &body, check).await?;
    // Verified as changed, in the transaction (change_submodel), not twice.
    change_submodel(&state, &at, None, move |submodel| {
        *submodel = new.clone();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PATCH `$metadata` of the submodel: its attributes become the body's (Part 2's
/// `SubmodelMetadata`: the submodel without `submodelElements`); its elements stay.
pub async fn patch_submodel_metadata(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let id = decode_id(&at.sm)?;
    let check = move |new: &Submodel| {
        same_id(&new.id, &id)?;
        if new.submodel_elements.is_some() {
            return Err(ApiError::bad_request(
                "a $metadata body has no submodelElements (they are not metadata)",
            ));
        }
        Ok(())
    };
    let new: Submodel = read_body(state.aas_version, &headers, &body, check).await?;
    change_submodel(&state, &at, None, move |submodel| {
        let elements = submodel.submodel_elements.take();
        *submodel = new.clone();
        submodel.submodel_elements = elements;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE of the submodel; under the superpath the shell's reference to it goes too (Part 2:
/// deleted "from the Asset Administration Shell and the Repository"). Its synchronization
/// goes with it (no orphaned tasks).
pub async fn delete_submodel(
    State(state): State<RepositoryState>,
    State(SdtState(sdt)): State<SdtState>,
    PathParams(at): PathParams<SubmodelAt>,
) -> ApiResult<StatusCode> {
    let id = decode_id(&at.sm)?;
    let service = &state.service;
    match at.aas.as_deref().map(decode_id).transpose()? {
        Some(shell_id) => {
            (service.delete_submodel_of_shell(&shell_id, &id, Origin::Api)).await?;
        }
        None => service.delete_submodel(&id, Origin::Api).await?,
    }
    if let Some(sdt) = &sdt
        && let Err(error) = sdt.unbind(&id).await
    {
        tracing::error!(submodel = %id, "cannot stop its synchronization: {error}");
    }
    Ok(StatusCode::NO_CONTENT)
}

fn submodel_location(at: &SubmodelAt) -> HeaderValue {
    let location = match &at.aas {
        Some(aas) => format!("/shells/{aas}/submodels/{}", at.sm),
        None => format!("/submodels/{}", at.sm),
    };
    HeaderValue::from_str(&location).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

fn element_location(at: &SubmodelAt, path: &str) -> HeaderValue {
    let prefix = match &at.aas {
        Some(aas) => format!("/shells/{aas}/submodels/{}", at.sm),
        None => format!("/submodels/{}", at.sm),
    };
    HeaderValue::from_str(&format!(
        "{prefix}/submodel-elements/{}",
        path.replace('[', "%5B").replace(']', "%5D")
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// POST a new element at the top (no path) or into the container at the path.
pub async fn create_element(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let element: SubmodelElement =
        read_body(state.aas_version, &headers, &body, |_| Ok(())).await?;
    let parent = at.path.as_deref().map(parse_path).transpose()?;
    let created = element.clone();
    let container = parent.clone();
    // A new top-level element is verified alone with the submodel's own checks; one put into
    // a container, with the container (whose items a list addresses by index). Only an
    // idShort that is one step as a path names the new element: `A.B` or `A[0]` would name
    // another element (or none), and the new one would not be verified at all.
    let focus = match (&parent, element.id_short()) {
        (Some(parent), _) => Some(parent.clone()),
        (None, Some(id_short)) => id_short
            .parse::<IdShortPath>()
            .ok()
            .filter(|path| path.steps() == [PathStep::IdShort(id_short.to_owned())]),
        (None, None) => None,
    };
    let submodel = change_submodel(&state, &at, focus, move |submodel| {
        submodel
            .insert_element(container.as_ref(), created.clone())
            .map_err(|e| match e {
                aas_model::InsertError::NotFound => ApiError::not_found(e.to_string()),
                aas_model::InsertError::Duplicate(_) => {
                    ApiError::new(StatusCode::CONFLICT, e.to_string())
                }
                _ => ApiError::bad_request(e.to_string()),
            })
    })
    .await?;
    let _ = submodel;
    let child_path = match (&parent, element.id_short()) {
        (Some(p), Some(id_short)) => format!("{p}.{id_short}"),
        (None, Some(id_short)) => id_short.to_owned(),
        (Some(p), None) => p.to_string(),
        (None, None) => String::new(),
    };
    let mut response = json_response(StatusCode::CREATED, &element);
    response
        .headers_mut()
        .insert(header::LOCATION, element_location(&at, &child_path));
    Ok(response)
}

/// PUT of an element: replaced as a whole (204; its idShort stays), or, when there is none at
/// the path, created (201 with it and its Location; 204 in V3.0) in the container the path
/// leads to, as Part 2 V3.1 has it ("creates or updates"). Created only by an idShort step whose
/// name is the body's idShort: an index of a list names a place, not a new element.
pub async fn replace_element(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let element: SubmodelElement =
        read_body(state.aas_version, &headers, &body, |_| Ok(())).await?;
    let text = at.path.clone().unwrap_or_default();
    let path = parse_path(&text)?;
    let created = Arc::new(AtomicBool::new(false));
    let (made, new) = (created.clone(), element.clone());
    // A created element is verified with its container (a new top-level one with the
    // submodel's own checks, as POST does).
    let focus = path.prefix(path.steps().len().saturating_sub(1));
    let focus = focus.or_else(|| Some(path.clone()));
    change_submodel(&state, &at, focus, move |submodel| {
        made.store(false, Ordering::Relaxed);
        match submodel.replace_element(&path, new.clone()) {
            Ok(_) => Ok(()),
            Err(ReplaceError::IdShortChanged { old, new }) => Err(ApiError::bad_request(format!(
                "the body's idShort {new:?} is not the element's {old:?}"
            ))),
            Err(_) => {
                create_at(submodel, &path, new.clone())?;
                made.store(true, Ordering::Relaxed);
                Ok(())
            }
        }
    })
    .await?;
    if !(created.load(Ordering::Relaxed) && super::answers_created(state.aas_version)) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut response = json_response(StatusCode::CREATED, &element);
    response
        .headers_mut()
        .insert(header::LOCATION, element_location(&at, &text));
    Ok(response)
}

/// Adds `element` where `path` names it: the last step is its idShort, the steps before name
/// an existing container (none: the submodel).
fn create_at(
    submodel: &mut Submodel,
    path: &IdShortPath,
    element: SubmodelElement,
) -> ApiResult<()> {
    let steps = path.steps();
    let Some(PathStep::IdShort(name)) = steps.last() else {
        return Err(ApiError::not_found(format!("no element at {path}")));
    };
    if element.id_short() != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "no element at {path}: one created there has the idShort {name:?}, the body's is {:?}",
            element.id_short()
        )));
    }
    let parent = path.prefix(steps.len() - 1);
    submodel
        .insert_element(parent.as_ref(), element)
        .map_err(|e| match e {
            aas_model::InsertError::NotFound => {
                ApiError::not_found(format!("no element at {path}, nor a container for it"))
            }
            _ => ApiError::bad_request(format!("cannot create {path}: {e}")),
        })
}

/// PATCH of an element: an existing one replaced as a whole (404 if none); its idShort stays.
pub async fn update_element(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let element: SubmodelElement =
        read_body(state.aas_version, &headers, &body, |_| Ok(())).await?;
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    change_submodel(
        &state,
        &at,
        Some(path.clone()),
        move |submodel| match submodel.replace_element(&path, element.clone()) {
            Ok(_) => Ok(()),
            Err(ReplaceError::IdShortChanged { old, new }) => Err(ApiError::bad_request(format!(
                "the body's idShort {new:?} is not the element's {old:?}"
            ))),
            Err(_) => Err(ApiError::not_found(format!("no element at {path}"))),
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_element(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
) -> ApiResult<StatusCode> {
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    // The files of the element and of everything inside it go in the same transaction.
    change_submodel(&state, &at, Some(path.clone()), move |submodel| {
        submodel
            .remove_element(&path)
            .map(drop)
            .ok_or_else(|| ApiError::not_found(format!("no element at {path}")))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn value_body(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
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
    // Nesting beyond value_only::MAX_DEPTH is refused before parsing, saying so.
    value_only::from_slice(body).map_err(|e| ApiError::bad_request(e.message))
}

/// PATCH `$value` of an element: `{"<idShort>": value}` or the bare value.
pub async fn patch_element_value(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let value = value_body(&headers, &body)?;
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    change_submodel(&state, &at, Some(path.clone()), move |submodel| {
        submodel
            .element_mut(&path, |element| {
                value_only::apply_patch(element, &value)
                    .map_err(|e| ApiError::bad_request(e.to_string()))
            })
            .ok_or_else(|| ApiError::not_found(format!("no element at {path}")))?
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PATCH `$value` of a submodel: an object keyed by idShort.
pub async fn patch_submodel_value(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let value = value_body(&headers, &body)?;
    change_submodel(&state, &at, None, move |submodel| {
        value_only::apply_to_submodel(submodel, &value)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PATCH `$metadata` of an element: its attributes become the body's (Part 2's
/// `SubmodelElementMetadata`: the element without its value attributes, see
/// [`projection::element_metadata`]); its values stay. The body must be of the element's
/// type and keep its idShort.
pub async fn patch_element_metadata(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let check = |new: &SubmodelElement| match projection::element_metadata(new.clone()) {
        Ok(metadata) if &metadata == new => Ok(()),
        Ok(_) => Err(ApiError::bad_request(
            "a $metadata body has no value attributes (value, valueId, min, max, statements, \
             globalAssetId, specificAssetIds, annotations)",
        )),
        Err(error) => Err(bad_projection(error)),
    };
    let new: SubmodelElement = read_body(state.aas_version, &headers, &body, check).await?;
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    change_submodel(&state, &at, Some(path.clone()), move |submodel| {
        submodel
            .element_mut(&path, |element| {
                if element.id_short() != new.id_short() {
                    return Err(ApiError::bad_request(format!(
                        "the body's idShort {:?} is not the element's {:?}",
                        new.id_short(),
                        element.id_short()
                    )));
                }
                *element =
                    projection::with_values_of(new.clone(), element).map_err(bad_projection)?;
                Ok(())
            })
            .ok_or_else(|| ApiError::not_found(format!("no element at {path}")))?
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- attachments ---------------------------------------------------------------------------

/// A stored file as an answer. Its content type is the uploader's, so the answer is a
/// download that a browser neither sniffs nor runs (`nosniff`, a sandboxing CSP): a file
/// uploaded as `text/html` cannot run script on the API's origin.
pub(super) fn file_response(attachment: Attachment) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        attachment.file_name.replace(['"', '\\', '\r', '\n'], "_")
    );
    let mut response = (StatusCode::OK, attachment.bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&attachment.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    response
}

fn attachment_error(path: &IdShortPath, error: AttachmentError) -> ApiError {
    match error {
        AttachmentError::NotFound => ApiError::not_found(format!("no element at {path}")),
        AttachmentError::NotAnAttachment(_) => {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, error.to_string())
        }
        _ => ApiError::bad_request(error.to_string()),
    }
}

pub async fn get_attachment(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
) -> ApiResult<Response> {
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    let submodel = load(&state, &at).await?;
    match element_at(&submodel, &path)? {
        SubmodelElement::Blob(blob) => Ok(file_response(Attachment {
            file_name: blob.id_short.clone().unwrap_or_else(|| "blob".into()),
            content_type: blob
                .content_type
                .unwrap_or_else(|| aas_serde::OCTET_STREAM.into()),
            bytes: blob.value.unwrap_or_default(),
        })),
        SubmodelElement::File(file) => {
            let owner = format!("submodel:{}", submodel.id);
            let key = path.to_string();
            let stored = state.repository.attachment(&owner, &key).await?;
            match stored {
                Some(attachment) => Ok(file_response(attachment)),
                None => Err(ApiError::not_found(format!(
                    "no file is stored for {path} (its value is {:?})",
                    file.value.unwrap_or_default()
                ))),
            }
        }
        other => Err(attachment_error(
            &path,
            AttachmentError::NotAnAttachment(other.element_type()),
        )),
    }
}

/// PUT `multipart/form-data` with `fileName` and `file`.
pub async fn put_attachment(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
    mut multipart: Multipart,
) -> ApiResult<StatusCode> {
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    let mut file_name = None;
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("multipart body: {e}")))?
    {
        match field.name() {
            Some("fileName") => {
                file_name = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::bad_request(e.to_string()))?,
                )
            }
            Some("file") => {
                let content_type = field.content_type().map(str::to_owned);
                let part_name = field.file_name().map(str::to_owned);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                file = Some((content_type, part_name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let (content_type, part_name, bytes) =
        file.ok_or_else(|| ApiError::bad_request("the multipart body has no `file` part"))?;
    let file_name = file_name
        .or(part_name)
        .ok_or_else(|| ApiError::bad_request("the multipart body names no file (`fileName`)"))?;
    let attachment = Attachment {
        // Empty: the File's contentType and the name its value gives, once changed (see
        // Repository::modify_submodel).
        content_type: content_type.clone().unwrap_or_default(),
        file_name: String::new(),
        bytes: bytes.clone(),
    };
    // The element's new value and the file's bytes are stored in one transaction.
    change_submodel_attaching(
        &state,
        &at,
        Some(path.clone()),
        Some((path.to_string(), attachment)),
        move |submodel| {
            submodel
                .attach(&path, &file_name, content_type.as_deref(), &bytes)
                .map_err(|e| attachment_error(&path, e))
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_attachment(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<SubmodelAt>,
) -> ApiResult<StatusCode> {
    let path = parse_path(at.path.as_deref().unwrap_or_default())?;
    change_submodel(&state, &at, Some(path.clone()), move |submodel| {
        submodel
            .detach(&path)
            .map_err(|e| attachment_error(&path, e))
    })
    .await?;
    // The stored file went in the same transaction (a File without a value holds none). 200,
    // not 204: the success code Part 2's profiles list for this operation.
    Ok(StatusCode::OK)
}

/// `Refused` carries the handler's own [`ApiError`].
impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StorageError::Exists(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("{what} exists"))
            }
            error if error.is_disk_full() => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the server's disk is full: the change was not stored (nothing was changed)",
            ),
            StorageError::BadCursor(_) | StorageError::TooDeep { .. } => {
                ApiError::bad_request(error.to_string())
            }
            StorageError::Refused(inner) => match inner.downcast::<ApiError>() {
                Ok(api) => *api,
                // A service's own refusal (e.g. NotFound) answers as that error.
                Err(other) => match other.downcast::<StorageError>() {
                    Ok(storage) => ApiError::from(*storage),
                    Err(other) => ApiError::bad_request(other.to_string()),
                },
            },
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}
