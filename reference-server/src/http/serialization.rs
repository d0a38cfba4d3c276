//! `GET /serialization` (an environment of chosen shells and submodels as JSON, XML or an AASX
//! package with the stored files) and `GET /description` (the profiles served).

use std::collections::{BTreeSet, HashSet};

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel, SubmodelElement};
use aas_serde::EnvironmentRef;
use aas_serde::aasx::AasxWriter;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, ApiResult, AppState, blocking, decode_id};
use crate::storage::Attachment;

const AASX_XML: &str = "application/asset-administration-shell-package+xml";
const AASX_JSON: &str = "application/asset-administration-shell-package+json";

/// The service specification profiles of Part 2 this server implements (their names, under
/// `https://admin-shell.io/aas/API/<version>/`).
pub const PROFILES: [&str; 5] = [
    "AssetAdministrationShellRepositoryServiceSpecification/SSP-001",
    "AssetAdministrationShellRepositoryServiceSpecification/SSP-002",
    "SubmodelRepositoryServiceSpecification/SSP-001",
    "SubmodelRepositoryServiceSpecification/SSP-002",
    "ConceptDescriptionServiceSpecification/SSP-001",
];

/// The profile identifiers of `version`'s API (`.../API/3/0/...` or `.../API/3/1/...`).
pub fn profiles(version: aas_model::Version) -> Vec<String> {
    let path = version.as_str().replace('.', "/");
    PROFILES
        .iter()
        .map(|profile| format!("https://admin-shell.io/aas/API/{path}/{profile}"))
        .collect()
}

/// `GET /description`: the profiles, of the AAS version served (the version is in their
/// identifiers).
pub async fn description(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "profiles": profiles(state.aas_version) }).to_string(),
    )
        .into_response()
}

/// `aasIds` and `submodelIds` repeated or comma-separated; `includeConceptDescriptions`
/// (default true).
struct Selection {
    shells: Vec<String>,
    submodels: Vec<String>,
    concept_descriptions: bool,
}

fn selection(query: Option<&str>) -> ApiResult<Selection> {
    let mut selection = Selection {
        shells: Vec::new(),
        submodels: Vec::new(),
        concept_descriptions: true,
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let ids = || -> ApiResult<Vec<String>> {
            value
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| {
                    decode_id(v).map_err(|_| {
                        ApiError::bad_request(format!("{key}: {v:?} is not base64url"))
                    })
                })
                .collect()
        };
        match key.as_ref() {
            "aasIds" => selection.shells.extend(ids()?),
            "submodelIds" => selection.submodels.extend(ids()?),
            "includeConceptDescriptions" => {
                selection.concept_descriptions = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "includeConceptDescriptions {other:?} is not true or false"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    // Each id once: a URL naming one large submodel thousands of times asked for gigabytes.
    let mut seen = std::collections::HashSet::new();
    selection.shells.retain(|id| seen.insert(id.clone()));
    seen.clear();
    selection.submodels.retain(|id| seen.insert(id.clone()));
    Ok(selection)
}

enum Wanted {
    Json,
    Xml,
    Aasx(aas_serde::Format),
}

fn wanted(headers: &HeaderMap) -> ApiResult<Wanted> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    for range in accept.split(',') {
        let media = range.split(';').next().unwrap_or_default().trim();
        match media {
            "application/json" | "*/*" | "application/*" | "" => return Ok(Wanted::Json),
            "application/xml" | "text/xml" => return Ok(Wanted::Xml),
            AASX_XML | "application/aasx+xml" => return Ok(Wanted::Aasx(aas_serde::Format::Xml)),
            AASX_JSON => return Ok(Wanted::Aasx(aas_serde::Format::Json)),
            _ => {}
        }
    }
    Err(ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        format!(
            "cannot answer {accept:?}: application/json, application/xml, {AASX_XML} or {AASX_JSON}"
        ),
    ))
}

struct Gathered {
    shells: Vec<AssetAdministrationShell>,
    submodels: Vec<Submodel>,
    concept_descriptions: Vec<ConceptDescription>,
    thumbnails: Vec<(String, Attachment)>,
    files: Vec<(String, Attachment)>,
}

fn semantic_ids(element: &SubmodelElement, out: &mut BTreeSet<String>) {
    let value = match element {
        SubmodelElement::Property(e) => e.semantic_id.as_ref(),
        SubmodelElement::MultiLanguageProperty(e) => e.semantic_id.as_ref(),
        SubmodelElement::Range(e) => e.semantic_id.as_ref(),
        SubmodelElement::ReferenceElement(e) => e.semantic_id.as_ref(),
        SubmodelElement::Blob(e) => e.semantic_id.as_ref(),
        SubmodelElement::File(e) => e.semantic_id.as_ref(),
        SubmodelElement::SubmodelElementCollection(e) => e.semantic_id.as_ref(),
        SubmodelElement::SubmodelElementList(e) => e.semantic_id.as_ref(),
        SubmodelElement::Entity(e) => e.semantic_id.as_ref(),
        SubmodelElement::BasicEventElement(e) => e.semantic_id.as_ref(),
        SubmodelElement::Operation(e) => e.semantic_id.as_ref(),
        SubmodelElement::Capability(e) => e.semantic_id.as_ref(),
        SubmodelElement::RelationshipElement(e) => e.semantic_id.as_ref(),
        SubmodelElement::AnnotatedRelationshipElement(e) => e.semantic_id.as_ref(),
    };
    if let Some(key) = value.and_then(|r| r.keys.first()) {
        out.insert(key.value.clone());
    }
    for child in element.children() {
        semantic_ids(child, out);
    }
}

fn gather(state: &AppState, selection: &Selection) -> ApiResult<Gathered> {
    let repository = &state.repository;
    let mut gathered = Gathered {
        shells: Vec::new(),
        submodels: Vec::new(),
        concept_descriptions: Vec::new(),
        thumbnails: Vec::new(),
        files: Vec::new(),
    };
    let everything = selection.shells.is_empty() && selection.submodels.is_empty();
    let (shell_ids, submodel_ids) = if everything {
        (
            super::all(|l, c| repository.shells(l, c))?
                .into_iter()
                .map(|s| s.id)
                .collect(),
            super::all(|l, c| repository.submodels(l, c))?
                .into_iter()
                .map(|s| s.id)
                .collect(),
        )
    } else {
        (selection.shells.clone(), selection.submodels.clone())
    };
    for id in &shell_ids {
        let shell = repository
            .shell(id)?
            .ok_or_else(|| ApiError::not_found(format!("shell {id:?} not found")))?;
        for (_, attachment) in repository.attachments(&format!("shell:{id}"))? {
            if let Some(thumbnail) = &shell.asset_information.default_thumbnail {
                gathered
                    .thumbnails
                    .push((thumbnail.path.clone(), attachment));
            }
        }
        gathered.shells.push(shell);
    }
    let mut semantic = BTreeSet::new();
    for id in &submodel_ids {
        let submodel = repository
            .submodel(id)?
            .ok_or_else(|| ApiError::not_found(format!("submodel {id:?} not found")))?;
        if let Some(key) = submodel.semantic_id.as_ref().and_then(|r| r.keys.first()) {
            semantic.insert(key.value.clone());
        }
        for element in submodel.submodel_elements.iter().flatten() {
            semantic_ids(element, &mut semantic);
        }
        for (path, attachment) in repository.attachments(&format!("submodel:{id}"))? {
            let file_value = path.parse().ok().and_then(|p| submodel.element(&p));
            if let Some(SubmodelElement::File(file)) = file_value
                && let Some(value) = file.value
                && value.starts_with('/')
            {
                gathered.files.push((value, attachment));
            }
        }
        gathered.submodels.push(submodel);
    }
    if selection.concept_descriptions && everything {
        gathered.concept_descriptions = super::all(|l, c| repository.concept_descriptions(l, c))?;
    } else if selection.concept_descriptions {
        for id in semantic {
            if let Some(cd) = repository.concept_description(&id)? {
                gathered.concept_descriptions.push(cd);
            }
        }
    }
    Ok(gathered)
}

pub async fn serialization(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let selection = selection(query.as_deref())?;
    let wanted = wanted(&headers)?;
    blocking(move || {
        let gathered = gather(&state, &selection)?;
        let shells: Vec<&AssetAdministrationShell> = gathered.shells.iter().collect();
        let submodels: Vec<&Submodel> = gathered.submodels.iter().collect();
        let cds: Vec<&ConceptDescription> = gathered.concept_descriptions.iter().collect();
        let environment = EnvironmentRef {
            asset_administration_shells: &shells,
            submodels: &submodels,
            concept_descriptions: &cds,
        };
        let internal = |e: String| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e);
        let (content_type, body) = match wanted {
            Wanted::Json => ("application/json", aas_serde::json::to_vec(&environment)),
            Wanted::Xml => {
                let mut out = Vec::new();
                aas_serde::xml::to_writer_as(&mut out, &environment, state.aas_version)
                    .map_err(|e| internal(e.to_string()))?;
                ("application/xml", out)
            }
            Wanted::Aasx(format) => {
                let mut writer =
                    AasxWriter::new(Vec::new(), format).with_version(state.aas_version);
                writer
                    .write_environment(&environment)
                    .map_err(|e| internal(e.to_string()))?;
                let mut names = HashSet::new();
                let mut thumbnails = gathered.thumbnails.iter();
                if let Some((path, attachment)) = thumbnails.next() {
                    names.insert(path.clone());
                    writer
                        .set_thumbnail(path, &attachment.content_type, attachment.bytes.as_slice())
                        .map_err(|e| internal(e.to_string()))?;
                }
                for (path, attachment) in thumbnails.chain(&gathered.files) {
                    if names.insert(path.clone()) {
                        writer
                            .add_supplementary_file(
                                path,
                                &attachment.content_type,
                                attachment.bytes.as_slice(),
                            )
                            .map_err(|e| internal(e.to_string()))?;
                    }
                }
                let content_type = match format {
                    aas_serde::Format::Json => AASX_JSON,
                    _ => AASX_XML,
                };
                (
                    content_type,
                    writer.finish().map_err(|e| internal(e.to_string()))?,
                )
            }
        };
        Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response())
    })
    .await
}
