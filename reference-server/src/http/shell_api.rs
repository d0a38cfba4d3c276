//! The parts of the shell API beyond the whole shell: its reference, asset information and
//! thumbnail, submodel references; and the filtered and `$`-modified listings of shells,
//! submodels and concept descriptions.

use aas_model::{
    AssetAdministrationShell, AssetInformation, ConceptDescription, Reference, Submodel,
};
use axum::body::Bytes;
use axum::extract::{Multipart, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Params, PathParams};
use super::submodel_api::{Content, Modifiers, paged, refers_to, render_submodel};
use super::{ApiError, ApiResult, AppState, all, blocking, decode_id, read_body, verified};
use crate::service::Origin;
use crate::storage::{Attachment, Repository};

fn to_json_value<T: aas_serde::json::ToJson + ?Sized>(value: &T) -> Value {
    serde_json::from_slice(&aas_serde::json::to_vec(value)).unwrap_or(Value::Null)
}

/// A query parameter that holds a base64url-encoded text.
fn decoded(name: &str, value: &str) -> ApiResult<String> {
    decode_id(value)
        .map_err(|_| ApiError::bad_request(format!("{name} is not base64url: {value:?}")))
}

// ---- shells --------------------------------------------------------------------------------

/// `idShort`, `assetIds` (repeated), `limit`, `cursor`: read by hand, as repeated keys are.
#[derive(Debug, Default)]
pub struct ShellQuery {
    id_short: Option<String>,
    asset_ids: Vec<String>,
    modifiers: Modifiers,
}

fn shell_query(raw: Option<&str>) -> ApiResult<ShellQuery> {
    let mut query = ShellQuery::default();
    let mut paging = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "idShort" => query.id_short = Some(value.into_owned()),
            "assetIds" => query.asset_ids.extend(
                value
                    .split(',')
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            ),
            "limit" => {
                let limit: i64 = value.parse().map_err(|_| {
                    ApiError::bad_request(format!("limit {value:?} is not a number"))
                })?;
                paging.insert("limit".into(), limit.into());
            }
            "cursor" => {
                paging.insert("cursor".into(), Value::String(value.into_owned()));
            }
            _ => {}
        }
    }
    query.modifiers = serde_json::from_value(Value::Object(paging)).unwrap_or_default();
    Ok(query)
}

/// `assetIds` values: base64url JSON of SpecificAssetIds (`globalAssetId` matches that).
fn asset_filters(encoded: &[String]) -> ApiResult<Vec<(String, String)>> {
    encoded
        .iter()
        .map(|value| {
            let text = decoded("assetIds", value)?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| ApiError::bad_request(format!("assetIds {value:?}: not JSON: {e}")))?;
            match (
                json.get("name").and_then(Value::as_str),
                json.get("value").and_then(Value::as_str),
            ) {
                (Some(name), Some(value)) => Ok((name.to_owned(), value.to_owned())),
                _ => Err(ApiError::bad_request(format!(
                    "assetIds {value:?}: needs name and value"
                ))),
            }
        })
        .collect()
}

fn has_asset_id(shell: &AssetAdministrationShell, (name, value): &(String, String)) -> bool {
    let info = &shell.asset_information;
    (name == "globalAssetId" && info.global_asset_id.as_deref() == Some(value.as_str()))
        || info
            .specific_asset_ids
            .iter()
            .flatten()
            .any(|id| &id.name == name && &id.value == value)
}

async fn shells_filtered(
    state: &AppState,
    query: &ShellQuery,
) -> ApiResult<Vec<AssetAdministrationShell>> {
    let filters = asset_filters(&query.asset_ids)?;
    let id_short = query.id_short.clone();
    let repository = state.repository.clone();
    let shells =
        blocking(move || Ok(all(|limit, cursor| repository.shells(limit, cursor))?)).await?;
    Ok(shells
        .into_iter()
        .filter(|s| {
            id_short
                .as_ref()
                .is_none_or(|wanted| s.id_short.as_ref() == Some(wanted))
        })
        .filter(|s| filters.iter().all(|f| has_asset_id(s, f)))
        .collect())
}

pub async fn list_shells(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = shell_query(raw.as_deref())?;
    let (limit, start) = query.modifiers.paging()?;
    let shells = shells_filtered(&state, &query).await?;
    Ok(paged(
        shells.iter().map(to_json_value).collect(),
        start,
        limit,
    ))
}

pub async fn list_shell_references(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = shell_query(raw.as_deref())?;
    let (limit, start) = query.modifiers.paging()?;
    let shells = shells_filtered(&state, &query).await?;
    Ok(paged(
        shells.iter().map(|s| shell_reference(&s.id)).collect(),
        start,
        limit,
    ))
}

fn shell_reference(id: &str) -> Value {
    json!({"type": "ModelReference", "keys": [{"type": "AssetAdministrationShell", "value": id}]})
}

#[derive(Debug, Deserialize)]
pub struct ShellAt {
    aas: String,
    sm: Option<String>,
}

async fn load_shell(state: &AppState, encoded: &str) -> ApiResult<AssetAdministrationShell> {
    let id = decode_id(encoded)?;
    let repository = state.repository.clone();
    blocking(move || {
        repository
            .shell(&id)?
            .ok_or_else(|| ApiError::not_found(format!("shell {id:?} not found")))
    })
    .await
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
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    Ok(json_ok(&shell_reference(&shell.id)))
}

pub async fn asset_information(
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    Ok(json_ok(&to_json_value(&shell.asset_information)))
}

/// Changes a shell in one transaction, verified, announced as its `updated` event.
async fn change_shell(
    state: &AppState,
    encoded: &str,
    change: impl FnMut(&mut AssetAdministrationShell) -> ApiResult<()> + Send + 'static,
) -> ApiResult<std::sync::Arc<AssetAdministrationShell>> {
    change_shell_attaching(state, encoded, None, change).await
}

/// [`change_shell`] that also stores the thumbnail's bytes in the same transaction.
async fn change_shell_attaching(
    state: &AppState,
    encoded: &str,
    thumbnail: Option<Attachment>,
    change: impl FnMut(&mut AssetAdministrationShell) -> ApiResult<()> + Send + 'static,
) -> ApiResult<std::sync::Arc<AssetAdministrationShell>> {
    let id = decode_id(encoded)?;
    let state = state.clone();
    let mut change = change;
    blocking(move || {
        let mut checked = |shell: &mut AssetAdministrationShell| -> crate::storage::Change<()> {
            change(shell)
                .and_then(|()| verified(state.aas_version, &*shell))
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        };
        state
            .service
            .modify_shell(&id, thumbnail.as_ref(), &mut checked, Origin::Api)
            .map_err(ApiError::from)
    })
    .await
}

pub async fn replace_asset_information(
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let info: AssetInformation = read_body(state.aas_version, &headers, &body)?;
    change_shell(&state, &at.aas, move |shell| {
        shell.asset_information = info.clone();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn submodel_refs(
    State(state): State<AppState>,
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
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let reference: Reference = read_body(state.aas_version, &headers, &body)?;
    let added = reference.clone();
    change_shell(&state, &at.aas, move |shell| {
        let refs = shell.submodels.get_or_insert_with(Vec::new);
        if refs.contains(&added) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "the shell refers to this submodel already",
            ));
        }
        refs.push(added.clone());
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
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<StatusCode> {
    let submodel_id = decode_id(at.sm.as_deref().unwrap_or_default())?;
    change_shell(&state, &at.aas, move |shell| {
        if !refers_to(shell, &submodel_id) {
            return Err(ApiError::not_found(format!(
                "the shell does not refer to submodel {submodel_id:?}"
            )));
        }
        if let Some(refs) = shell.submodels.as_mut() {
            refs.retain(|r| r.keys.first().is_none_or(|k| k.value != submodel_id));
            if refs.is_empty() {
                shell.submodels = None;
            }
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
    State(state): State<AppState>,
    PathParams(at): PathParams<ShellAt>,
) -> ApiResult<Response> {
    let shell = load_shell(&state, &at.aas).await?;
    let repository = state.repository.clone();
    let owner = thumbnail_owner(&shell.id);
    let stored =
        blocking(move || Ok(repository.attachment(&owner, crate::storage::THUMBNAIL)?)).await?;
    let attachment =
        stored.ok_or_else(|| ApiError::not_found("the shell has no stored thumbnail"))?;
    Ok(super::submodel_api::file_response(attachment))
}

pub async fn put_thumbnail(
    State(state): State<AppState>,
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
                    .unwrap_or("application/octet-stream")
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
    State(state): State<AppState>,
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
    // Its bytes went in the same transaction (a shell without a thumbnail holds none).
    Ok(StatusCode::NO_CONTENT)
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

/// `semanticId`: base64url of the id (3.0) or of a Reference's JSON (3.1).
fn semantic_filter(encoded: Option<&str>) -> ApiResult<Option<String>> {
    let Some(encoded) = encoded else {
        return Ok(None);
    };
    let text = decoded("semanticId", encoded)?;
    if let Ok(reference) = aas_serde::json::from_str::<Reference>(&text) {
        return Ok(reference.keys.first().map(|k| k.value.clone()));
    }
    Ok(Some(text))
}

fn semantic_value(reference: Option<&Reference>) -> Option<&str> {
    reference
        .and_then(|r| r.keys.first())
        .map(|k| k.value.as_str())
}

async fn list_submodels(
    state: AppState,
    query: SubmodelQuery,
    content: Content,
) -> ApiResult<Response> {
    let modifiers: Modifiers = serde_json::from_value(json!({
        "level": query.level, "extent": query.extent, "limit": query.limit, "cursor": query.cursor
    }))
    .unwrap_or_default();
    let (limit, start) = modifiers.paging()?;
    let shape = modifiers.shape()?;
    let semantic_id = semantic_filter(query.semantic_id.as_deref())?;
    let repository = state.repository.clone();
    let submodels: Vec<Submodel> =
        blocking(move || Ok(all(|limit, cursor| repository.submodels(limit, cursor))?)).await?;
    let mut items = Vec::new();
    for submodel in submodels {
        if query
            .id_short
            .as_ref()
            .is_some_and(|w| submodel.id_short.as_ref() != Some(w))
        {
            continue;
        }
        if let Some(wanted) = &semantic_id {
            let matches = semantic_value(submodel.semantic_id.as_ref()) == Some(wanted.as_str())
                || submodel
                    .supplemental_semantic_ids
                    .iter()
                    .flatten()
                    .any(|r| semantic_value(Some(r)) == Some(wanted.as_str()));
            if !matches {
                continue;
            }
        }
        match render_submodel(submodel, content, shape)? {
            Value::Array(paths) if content == Content::Path => items.extend(paths),
            value => items.push(value),
        }
    }
    Ok(paged(items, start, limit))
}

pub async fn submodels(
    State(s): State<AppState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Normal).await
}
pub async fn submodels_metadata(
    State(s): State<AppState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Metadata).await
}
pub async fn submodels_value(
    State(s): State<AppState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Value).await
}
pub async fn submodels_reference(
    State(s): State<AppState>,
    Params(q): Params<SubmodelQuery>,
) -> ApiResult<Response> {
    list_submodels(s, q, Content::Reference).await
}
pub async fn submodels_path(
    State(s): State<AppState>,
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
    State(state): State<AppState>,
    Params(query): Params<ConceptDescriptionQuery>,
) -> ApiResult<Response> {
    let modifiers: Modifiers =
        serde_json::from_value(json!({"limit": query.limit, "cursor": query.cursor}))
            .unwrap_or_default();
    let (limit, start) = modifiers.paging()?;
    let is_case_of = semantic_filter(query.is_case_of.as_deref())?;
    let data_specification = semantic_filter(query.data_specification_ref.as_deref())?;
    let repository: std::sync::Arc<dyn Repository> = state.repository.clone();
    let all_cds: Vec<ConceptDescription> = blocking(move || {
        Ok(all(|limit, cursor| {
            repository.concept_descriptions(limit, cursor)
        })?)
    })
    .await?;
    let items = all_cds
        .iter()
        .filter(|cd| {
            query
                .id_short
                .as_ref()
                .is_none_or(|w| cd.id_short.as_ref() == Some(w))
        })
        .filter(|cd| {
            is_case_of.as_ref().is_none_or(|w| {
                cd.is_case_of
                    .iter()
                    .flatten()
                    .any(|r| semantic_value(Some(r)) == Some(w.as_str()))
            })
        })
        .filter(|cd| {
            data_specification.as_ref().is_none_or(|w| {
                cd.embedded_data_specifications
                    .iter()
                    .flatten()
                    .any(|eds| semantic_value(Some(&eds.data_specification)) == Some(w.as_str()))
            })
        })
        .map(to_json_value)
        .collect();
    Ok(paged(items, start, limit))
}
