//! The parts of the shell API beyond the whole shell: its reference, asset information and
//! thumbnail, submodel references; and the filtered and `$`-modified listings of shells,
//! submodels and concept descriptions.

use aas_model::{AssetAdministrationShell, AssetInformation, Reference};
use axum::body::Bytes;
use axum::extract::{Multipart, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Params, PathParams};
use aas_serde::projection;

use super::submodel_api::{Content, Modifiers, paged};
use super::{ApiError, ApiResult, RepositoryState, decode_id, read_body, verified};
use crate::service::Origin;
use crate::storage::{Attachment, ConceptDescriptionFilter, Page, ShellFilter, SubmodelFilter};
use aas_serde::projection::{Shape, to_json_value};

// ---- shells --------------------------------------------------------------------------------

/// `idShort`, `assetIds` (repeated), `limit`, `cursor`: read by hand, as repeated keys are.
#[derive(Debug, Default)]
pub struct ShellQuery {
    id_short: Option<String>,
    asset_ids: Vec<(String, String)>,
    modifiers: Modifiers,
}

fn shell_query(raw: Option<&str>) -> ApiResult<ShellQuery> {
    let mut query = ShellQuery::default();
    let (mut limit, mut cursor) = (None, None);
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "idShort" => query.id_short = Some(value.into_owned()),
            "assetIds" => query.asset_ids.extend(
                aas_serde::query::asset_ids(&value)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
            ),
            "limit" => {
                limit = Some(value.parse().map_err(|_| {
                    ApiError::bad_request(format!("limit {value:?} is not a number"))
                })?);
            }
            "cursor" => cursor = Some(value.into_owned()),
            _ => {}
        }
    }
    query.modifiers = Modifiers::new(None, None, limit, cursor);
    Ok(query)
}

/// The shells of one page of a listing: filtered and paged in the database.
async fn shells_filtered(
    state: &RepositoryState,
    query: &ShellQuery,
) -> ApiResult<Page<AssetAdministrationShell>> {
    let filter = ShellFilter {
        id_short: query.id_short.clone(),
        asset_ids: query.asset_ids.clone(),
    };
    let limit = query.modifiers.limit()?;
    let cursor = query.modifiers.cursor();
    Ok(state
        .repository
        .shells_where(&filter, limit, cursor)
        .await?)
}

/// A page of a listing as Part 2 answers it (`paging_metadata.cursor` only when more follow).
fn listing(items: Vec<Value>, cursor: Option<String>) -> Response {
    let paging = match cursor {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    };
    json_ok(&json!({"paging_metadata": paging, "result": items}))
}

pub async fn list_shells(
    State(state): State<RepositoryState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = shell_query(raw.as_deref())?;
    let page = shells_filtered(&state, &query).await?;
    Ok(listing(
        page.items.iter().map(to_json_value).collect(),
        page.cursor,
    ))
}

pub async fn list_shell_references(
    State(state): State<RepositoryState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = shell_query(raw.as_deref())?;
    let page = shells_filtered(&state, &query).await?;
    Ok(listing(
        (page.items.iter())
            .map(|s| to_json_value(&Reference::to_shell(s.id.clone())))
            .collect(),
        page.cursor,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ShellAt {
    aas: String,
    sm: Option<String>,
}

async fn load_shell(state: &RepositoryState, encoded: &str) -> ApiResult<AssetAdministrationShell> {
    let id = decode_id(encoded)?;
    (state.repository.shell(&id).await?)
        .ok_or_else(|| ApiError::not_found(format!("shell {id:?} not found")))
}

fn json_ok(value: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

pub async fn shell_reference_of(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    Ok(json_ok(&to_json_value(&Reference::to_shell(shell.id))))
}

pub async fn asset_information(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    Ok(json_ok(&to_json_value(&shell.asset_information)))
}

/// Changes a shell in one transaction, verified, announced as its `updated` event.
async fn change_shell(
    state: &RepositoryState,
    encoded: &str,
    change: impl FnMut(&mut AssetAdministrationShell) -> ApiResult<()> + Send + 'static,
) -> ApiResult<std::sync::Arc<AssetAdministrationShell>> {
    change_shell_attaching(state, encoded, None, change).await
}

/// [`change_shell`] that also stores the thumbnail's bytes in the same transaction.
async fn change_shell_attaching(
    state: &RepositoryState,
    encoded: &str,
    thumbnail: Option<Attachment>,
    change: impl FnMut(&mut AssetAdministrationShell) -> ApiResult<()> + Send + 'static,
) -> ApiResult<std::sync::Arc<AssetAdministrationShell>> {
    let (id, version, mut change) = (decode_id(encoded)?, state.aas_version, change);
    let checked = move |shell: &mut AssetAdministrationShell| -> crate::storage::Change<()> {
        change(shell)
            .and_then(|()| verified(aas_model::verify_as(&*shell, version)))
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
    };
    let service = &state.service;
    Ok(service
        .modify_shell(&id, thumbnail, checked, Origin::Api)
        .await?)
}

pub async fn replace_asset_information(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let info: AssetInformation = read_body(state.aas_version, &headers, &body, |_| Ok(())).await?;
    change_shell(&state, &at.aas, move |shell| {
        shell.asset_information = info.clone();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn submodel_refs(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
    Params(m): Params<Modifiers>,
) -> ApiResult<Response> {
    let (limit, start) = m.paging()?;
    let shell = load_shell(&state, &at.aas).await?;
    Ok(paged(
        shell
            .submodels
            .iter()
            .flatten()
            .map(to_json_value)
            .collect(),
        start,
        limit,
    ))
}

pub async fn add_submodel_ref(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let reference: Reference = read_body(state.aas_version, &headers, &body, |_| Ok(())).await?;
    let added = reference.clone();
    change_shell(&state, &at.aas, move |shell| {
        if !shell.add_submodel_reference(added.clone()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "the shell refers to this submodel already",
            ));
        }
        Ok(())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        aas_serde::json::to_vec(&reference),
    )
        .into_response())
}

pub async fn delete_submodel_ref(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<StatusCode> {
    let submodel_id = decode_id(at.sm.as_deref().unwrap_or_default())?;
    change_shell(&state, &at.aas, move |shell| {
        if !shell.remove_submodel_reference(&submodel_id) {
            return Err(ApiError::not_found(format!(
                "the shell does not refer to submodel {submodel_id:?}"
            )));
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn thumbnail_owner(id: &str) -> String {
    format!("shell:{id}")
}

pub async fn thumbnail(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    let owner = thumbnail_owner(&shell.id);
    let stored = (state.repository)
        .attachment(&owner, crate::storage::THUMBNAIL)
        .await?;
    let attachment =
        stored.ok_or_else(|| ApiError::not_found("the shell has no stored thumbnail"))?;
    Ok(super::submodel_api::file_response(attachment))
}

pub async fn put_thumbnail(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
    mut multipart: Multipart,
) -> ApiResult<StatusCode> {
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
                let content_type = field
                    .content_type()
                    .unwrap_or(aas_serde::OCTET_STREAM)
                    .to_owned();
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
    let name = file_name
        .or(part_name)
        .unwrap_or_else(|| "thumbnail".into());
    let name = name.rsplit('/').next().unwrap_or("thumbnail").to_owned();
    let resource_type = content_type.clone();
    let resource_path = format!("/aasx/{name}");
    let attachment = Attachment {
        content_type,
        file_name: name,
        bytes,
    };
    // The shell's thumbnail and its bytes are stored in one transaction.
    change_shell_attaching(&state, &at.aas, Some(attachment), move |shell| {
        shell.asset_information.default_thumbnail = Some(aas_model::Resource {
            path: resource_path.clone(),
            content_type: Some(resource_type.clone()),
        });
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_thumbnail(
    State(state): State<RepositoryState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<StatusCode> {
    change_shell(&state, &at.aas, |shell| {
        if shell.asset_information.default_thumbnail.is_none() {
            return Err(ApiError::not_found("the shell has no thumbnail"));
        }
        shell.asset_information.default_thumbnail = None;
        Ok(())
    })
    .await?;
    // Its bytes went in the same transaction (a shell without a thumbnail holds none). 200,
    // not 204: the success code Part 2's profiles list for this operation (V3.1 allows 204
    // too, V3.0 only 200).
    Ok(StatusCode::OK)
}

// ---- submodels and concept descriptions ----------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmodelQuery {
    semantic_id: Option<String>,
    id_short: Option<String>,
    level: Option<String>,
    extent: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `semanticId` (also `isCaseOf`, `dataSpecificationRef`): [`aas_serde::query::semantic_id`].
fn semantic_filter(encoded: Option<&str>) -> ApiResult<Option<String>> {
    let found = encoded.map(aas_serde::query::semantic_id).transpose();
    Ok(found
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .flatten())
}

/// A page of submodels, filtered and paged in the database (`$path`: see [`list_paths`]).
async fn list_submodels(
    state: RepositoryState,
    query: SubmodelQuery,
    content: Content,
) -> ApiResult<Response> {
    let modifiers = Modifiers::new(query.level, query.extent, query.limit, query.cursor.clone());
    let limit = modifiers.limit()?;
    let shape = modifiers.shape()?;
    let filter = SubmodelFilter {
        id_short: query.id_short,
        semantic_id: semantic_filter(query.semantic_id.as_deref())?,
    };
    if content == Content::Path {
        return list_paths(state, filter, limit, query.cursor, shape).await;
    }
    let cursor = query.cursor.as_deref();
    let page = state
        .repository
        .submodels_where(&filter, limit, cursor)
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|submodel| projection::submodel_view(submodel, content, shape))
        .collect();
    Ok(listing(items, page.cursor))
}

/// Where a `$path` listing continues: the storage cursor of a page of submodels (`None`: the
/// first), how many submodels that page holds (the next request may ask another `limit`: the
/// page must be read the same to skip the same paths) and how many of its paths were listed
/// already.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathCursor {
    page: Option<String>,
    size: usize,
    skip: usize,
}

impl PathCursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "paths:{}:{}:{}",
            self.page.as_deref().unwrap_or_default(),
            self.size,
            self.skip
        ))
    }

    fn decode(text: &str) -> ApiResult<Self> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|decoded| {
                let rest = decoded.strip_prefix("paths:")?;
                let (rest, skip) = rest.rsplit_once(':')?;
                let (page, size) = rest.rsplit_once(':')?;
                let size: usize = size.parse().ok()?;
                // A page size this server gives: at most the largest limit.
                (1..=super::submodel_api::MAX_LIMIT)
                    .contains(&size)
                    .then_some(())?;
                Some(Self {
                    page: (!page.is_empty()).then(|| page.to_owned()),
                    size,
                    skip: skip.parse().ok()?,
                })
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!("cursor {text:?} is not one this server gave"))
            })
    }
}

/// `GET /submodels/$path`: Part 2 pages the paths (a page holds `limit` of them, what the
/// test engines check), while the database pages submodels. So the walk reads pages of `limit`
/// submodels (each has at least as many paths, unless empty) and its cursor is a page of
/// submodels plus the number of that page's paths already listed. A page costs the submodels
/// it expands, not the table; a submodel with more paths than `limit` is expanded again for
/// each page it spans.
async fn list_paths(
    state: RepositoryState,
    filter: SubmodelFilter,
    limit: usize,
    cursor: Option<String>,
    shape: Shape,
) -> ApiResult<Response> {
    let start = match cursor.as_deref() {
        Some(text) => PathCursor::decode(text)?,
        None => PathCursor {
            page: None,
            size: limit,
            skip: 0,
        },
    };
    let repository = &state.repository;
    let mut at = start;
    let mut items = Vec::new();
    loop {
        let page = repository
            .submodels_where(&filter, at.size, at.page.as_deref())
            .await?;
        let mut paths = Vec::new();
        for submodel in page.items {
            paths.extend(
                projection::submodel_paths(&submodel, shape)
                    .into_iter()
                    .map(Value::from),
            );
        }
        let wanted = limit - items.len();
        let left = paths.len().saturating_sub(at.skip);
        items.extend(paths.into_iter().skip(at.skip).take(wanted));
        if left > wanted {
            // This page has more paths than fit: the next page starts within it.
            let next = PathCursor {
                page: at.page,
                size: at.size,
                skip: at.skip + wanted,
            };
            return Ok(listing(items, Some(next.encode())));
        }
        match page.cursor {
            None => return Ok(listing(items, None)),
            Some(_) if items.len() == limit => {
                let next = PathCursor {
                    page: page.cursor,
                    size: limit,
                    skip: 0,
                };
                return Ok(listing(items, Some(next.encode())));
            }
            Some(_) => {
                at = PathCursor {
                    page: page.cursor,
                    size: limit,
                    skip: 0,
                }
            }
        }
    }
}

pub async fn submodels(
    State(s): State<RepositoryState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Normal).await
}
pub async fn submodels_metadata(
    State(s): State<RepositoryState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Metadata).await
}
pub async fn submodels_value(
    State(s): State<RepositoryState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Value).await
}
pub async fn submodels_reference(
    State(s): State<RepositoryState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Reference).await
}
pub async fn submodels_path(
    State(s): State<RepositoryState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Path).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConceptDescriptionQuery {
    id_short: Option<String>,
    is_case_of: Option<String>,
    data_specification_ref: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn concept_descriptions(
    State(state): State<RepositoryState>,
    Params(query): Params<ConceptDescriptionQuery>,
) -> ApiResult<Response> {
    let modifiers = Modifiers::new(None, None, query.limit, query.cursor.clone());
    let limit = modifiers.limit()?;
    let filter = ConceptDescriptionFilter {
        id_short: query.id_short,
        is_case_of: semantic_filter(query.is_case_of.as_deref())?,
        data_specification: semantic_filter(query.data_specification_ref.as_deref())?,
    };
    let cursor = query.cursor.as_deref();
    let page = (state.repository)
        .concept_descriptions_where(&filter, limit, cursor)
        .await?;
    Ok(listing(
        page.items.iter().map(to_json_value).collect(),
        page.cursor,
    ))
}
