//! `GET /serialization` (an environment of chosen shells and submodels as JSON, XML or an AASX
//! package with the stored files) and `GET /description` (the profiles served).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use push_core::{ConceptDescriptions, Export, ExportError, SerializationFormat};
use serde_json::json;

use aas_serde::query::Selection;

use super::{ApiError, ApiResult, RepositoryState};
use crate::push::RepositorySource;
use crate::storage::{Collection, StorageError};

/// The service specification profiles of Part 2 this server implements, by their names
/// under `https://admin-shell.io/aas/API/<version>/`, as the profile files' `x-profile-identifier`
/// name them (the concept description profile is `ConceptDescriptionRepositoryServiceSpecification`
/// in both versions, although V3.0.4 keeps its file in a directory named
/// `ConceptDescriptionServiceSpecification`).
pub fn profile_names(_version: aas_model::Version) -> [&'static str; 5] {
    [
        "AssetAdministrationShellRepositoryServiceSpecification/SSP-001",
        "AssetAdministrationShellRepositoryServiceSpecification/SSP-002",
        "SubmodelRepositoryServiceSpecification/SSP-001",
        "SubmodelRepositoryServiceSpecification/SSP-002",
        "ConceptDescriptionRepositoryServiceSpecification/SSP-001",
    ]
}

/// The profile identifiers of `version`'s API (`.../API/3/0/...` or `.../API/3/1/...`).
pub fn profiles(version: aas_model::Version) -> Vec<String> {
    let path = version.as_str().replace('.', "/");
    profile_names(version)
        .iter()
        .map(|profile| format!("https://admin-shell.io/aas/API/{path}/{profile}"))
        .collect()
}

/// `GET /description`: the profiles, of the AAS version served (the version is in their
/// identifiers).
pub async fn description(State(state): State<RepositoryState>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "profiles": profiles(state.aas_version) }).to_string(),
    )
        .into_response()
}

/// The profiles of the AAS service of one shell (`/services/aas/{aas}`).
const AAS_SERVICE_PROFILES: [&str; 2] = [
    "AssetAdministrationShellServiceSpecification/SSP-001",
    "AssetAdministrationShellServiceSpecification/SSP-002",
];

/// The profiles of the submodel service of one submodel (`/services/submodel/{sm}`).
const SUBMODEL_SERVICE_PROFILES: [&str; 3] = [
    "SubmodelServiceSpecification/SSP-001",
    "SubmodelServiceSpecification/SSP-002",
    // The value profile: `$value` of the submodel and invocation, a subset of SSP-001.
    "SubmodelServiceSpecification/SSP-003",
];

fn described(version: aas_model::Version, names: &[&str]) -> Response {
    let path = version.as_str().replace('.', "/");
    let profiles: Vec<String> = names
        .iter()
        .map(|profile| format!("https://admin-shell.io/aas/API/{path}/{profile}"))
        .collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "profiles": profiles }).to_string(),
    )
        .into_response()
}

/// `GET /services/aas/{aas}/description`.
pub async fn aas_service_description(State(state): State<RepositoryState>) -> Response {
    described(state.aas_version, &AAS_SERVICE_PROFILES)
}

/// `GET /services/submodel/{sm}/description`.
pub async fn submodel_service_description(State(state): State<RepositoryState>) -> Response {
    described(state.aas_version, &SUBMODEL_SERVICE_PROFILES)
}

/// The format the `Accept` header asks for (push-core's table of MIME types; no header or
/// `*/*`: JSON), or 406.
fn wanted(headers: &HeaderMap) -> ApiResult<SerializationFormat> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    SerializationFormat::negotiate(accept).ok_or_else(|| {
        let known: Vec<&str> = SerializationFormat::ALL
            .iter()
            .map(|format| format.mime_type())
            .collect();
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "cannot answer {:?}: {}",
                accept.unwrap_or_default(),
                known.join(", ")
            ),
        )
    })
}

/// An export's failure as an answer: unknown ids 404, the repository's errors as elsewhere.
fn failed(error: ExportError) -> ApiError {
    match error {
        ExportError::UnknownIds(_) => ApiError::not_found(error.to_string()),
        ExportError::Read(source) => match source.0.downcast::<StorageError>() {
            Ok(storage) => ApiError::from(*storage),
            Err(other) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        },
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

/// `GET /serialization`: push-core's export over the repository (the push jobs' source). No
/// ids selected: every shell and submodel, and (with `includeConceptDescriptions`) every
/// concept description.
pub async fn serialization(
    State(state): State<RepositoryState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let pairs = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes());
    let selection =
        Selection::from_pairs(pairs).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let format = wanted(&headers)?;
    let everything = selection.shells.is_empty() && selection.submodels.is_empty();
    let (shell_ids, submodel_ids, concept_descriptions) = if everything {
        let repository = &state.repository;
        let concept_descriptions = if selection.concept_descriptions {
            ConceptDescriptions::These(repository.ids(Collection::ConceptDescriptions).await?)
        } else {
            ConceptDescriptions::None
        };
        (
            repository.ids(Collection::Shells).await?,
            repository.ids(Collection::Submodels).await?,
            concept_descriptions,
        )
    } else {
        (
            selection.shells,
            selection.submodels,
            selection.concept_descriptions.into(),
        )
    };
    let shell_ids: Vec<&str> = shell_ids.iter().map(String::as_str).collect();
    let submodel_ids: Vec<&str> = submodel_ids.iter().map(String::as_str).collect();
    let source = RepositorySource(state.repository.clone());
    let gathered = Export::gather(
        &source,
        &shell_ids,
        &submodel_ids,
        concept_descriptions,
        format.is_package(),
    )
    .await
    .map_err(failed)?;
    let version = state.aas_version;
    // Writing a package or a large document takes long: not on the async threads.
    let body = tokio::task::spawn_blocking(move || gathered.write(format, version))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(failed)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, format.mime_type())],
        body,
    )
        .into_response())
}
