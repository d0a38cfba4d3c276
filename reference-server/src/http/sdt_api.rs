//! The synchronized-twin API (`/sdts`, contract in `../shared/docs/spec/sdt.md`): platforms,
//! the playground (`evaluate`), `dry-run` of a description, and the predefined access-control
//! statements. Errors answer `{"error": "<what is wrong>"}`, as the playground's contract says.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use sdt_core::description::SyncDescription;
use sdt_core::platform::{Authentication, ClientOptions, Credentials, Platform, PlatformClient};
use sdt_core::playground::Evaluation;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;

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

/// Platforms and twin bindings in the repository's database file.
pub struct SdtStore {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SdtStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdtStore").finish_non_exhaustive()
    }
}

impl SdtStore {
    pub fn open(path: &std::path::Path) -> Result<Self, rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS sdt_platforms (name TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);",
        )?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn platforms(&self) -> Result<Vec<Value>, rusqlite::Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare_cached("SELECT json FROM sdt_platforms ORDER BY name")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|row| row.map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)))
            .collect()
    }

    fn platform(&self, name: &str) -> Result<Option<Value>, rusqlite::Error> {
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT json FROM sdt_platforms WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
    }

    fn put_platform(&self, platform: &Platform) -> Result<(), rusqlite::Error> {
        let json = serde_json::to_string(platform).unwrap_or_default();
        self.lock().execute(
            "INSERT INTO sdt_platforms (name, json) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET json = excluded.json",
            params![platform.name, json],
        )?;
        Ok(())
    }

    fn delete_platform(&self, name: &str) -> Result<bool, rusqlite::Error> {
        Ok(self
            .lock()
            .execute("DELETE FROM sdt_platforms WHERE name = ?1", [name])?
            > 0)
    }
}

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/sdts/evaluate", post(evaluate))
        .route("/sdts/dry-run", post(dry_run))
        .route("/sdts/acl", get(acl))
        .route("/sdts/platforms", get(list_platforms).post(create_platform))
        .route(
            "/sdts/platforms/{name}",
            get(get_platform)
                .put(replace_platform)
                .delete(delete_platform),
        )
}

fn store(state: &AppState) -> SdtResult<Arc<SdtStore>> {
    state.sdt.clone().ok_or_else(|| {
        SdtError(
            StatusCode::SERVICE_UNAVAILABLE,
            "synchronization is not configured".into(),
        )
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> SdtResult<T> + Send + 'static,
) -> SdtResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(internal)?
}

/// `POST /sdts/evaluate`: one expression, evaluated as the engine does.
async fn evaluate(body: Bytes) -> SdtResult<Json<Value>> {
    let evaluation: Evaluation = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let result = evaluation.run().map_err(bad)?;
    Ok(Json(json!({ "result": result })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunRequest {
    description: SyncDescription,
    /// A sample answer of the platform's data URL.
    #[serde(alias = "payload")]
    sample: Value,
}

/// `POST /sdts/dry-run`: the variables and rendered values a sample answer gives; nothing
/// is written.
async fn dry_run(body: Bytes) -> SdtResult<Json<Value>> {
    let request: DryRunRequest = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let compiled = request
        .description
        .compile()
        .map_err(|e| bad(e.to_string()))?;
    let run = compiled.dry_run(&request.sample);
    let skipped: serde_json::Map<String, Value> = run
        .skipped
        .iter()
        .map(|(name, why)| (name.clone(), Value::String(why.to_string())))
        .collect();
    Ok(Json(
        json!({"variables": run.variables, "values": run.values, "skipped": skipped}),
    ))
}

/// `GET /sdts/acl`: the statements a synchronized twin needs: the synchronization user may
/// update the twin's data properties and read the twin; the owner may do everything.
async fn acl() -> Json<Value> {
    Json(json!([
        {
            "condition": {"user": "synchronization", "twin": "synchronized"},
            "rules": [
                {"effect": "allow", "action": ["Update"],
                 "resources": ["/submodels/{twin}/submodel-elements/{dataProperty}", "/submodels/{twin}#extensions/{dataProperty}"]},
                {"effect": "allow", "action": ["Read"], "resources": ["/submodels/{twin}"]}
            ]
        },
        {
            "condition": {"user": "owner"},
            "rules": [
                {"effect": "allow", "action": ["Read", "Update", "Delete"], "resources": ["*"]}
            ]
        }
    ]))
}

/// A platform from a body; its definition is checked as a client would use it.
fn platform_from(body: &[u8], path_name: Option<&str>) -> SdtResult<Platform> {
    let mut json: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let object = json
        .as_object_mut()
        .ok_or_else(|| bad("the platform is not a JSON object"))?;
    match (object.get("name").and_then(Value::as_str), path_name) {
        (Some(name), Some(path)) if name != path => {
            return Err(bad(format!(
                "the body's name {name:?} is not the path's {path:?}"
            )));
        }
        (None, Some(path)) => {
            object.insert("name".into(), Value::String(path.to_owned()));
        }
        _ => {}
    }
    let platform: Platform =
        serde_json::from_value(json).map_err(|e| bad(format!("not a platform: {e}")))?;
    // Placeholder credentials of the right kind: the checks that need a binding's secrets.
    let credentials = match platform.authentication {
        Authentication::None => Credentials::None,
        Authentication::ApiKey => Credentials::ApiKey("check".into()),
        Authentication::LoginPassword => Credentials::LoginPassword {
            login: "check".into(),
            password: "check".into(),
        },
    };
    PlatformClient::new(platform.clone(), credentials, ClientOptions::default())
        .map_err(|e| bad(e.to_string()))?;
    Ok(platform)
}

async fn list_platforms(State(state): State<AppState>) -> SdtResult<Json<Value>> {
    let store = store(&state)?;
    Ok(Json(Value::Array(
        blocking(move || store.platforms().map_err(internal)).await?,
    )))
}

async fn get_platform(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> SdtResult<Json<Value>> {
    let store = store(&state)?;
    let lookup = name.clone();
    blocking(move || store.platform(&lookup).map_err(internal))
        .await?
        .map(Json)
        .ok_or_else(|| {
            SdtError(
                StatusCode::NOT_FOUND,
                format!("platform {name:?} not found"),
            )
        })
}

async fn create_platform(State(state): State<AppState>, body: Bytes) -> SdtResult<Response> {
    let platform = platform_from(&body, None)?;
    let store = store(&state)?;
    let stored = platform.clone();
    blocking(move || {
        if store.platform(&stored.name).map_err(internal)?.is_some() {
            return Err(SdtError(
                StatusCode::CONFLICT,
                format!("platform {:?} exists", stored.name),
            ));
        }
        store.put_platform(&stored).map_err(internal)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(platform)).into_response())
}

async fn replace_platform(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> SdtResult<StatusCode> {
    let platform = platform_from(&body, Some(&name))?;
    let store = store(&state)?;
    blocking(move || {
        if store.platform(&name).map_err(internal)?.is_none() {
            return Err(SdtError(
                StatusCode::NOT_FOUND,
                format!("platform {name:?} not found"),
            ));
        }
        store.put_platform(&platform).map_err(internal)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_platform(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> SdtResult<StatusCode> {
    let store = store(&state)?;
    let lookup = name.clone();
    if blocking(move || store.delete_platform(&lookup).map_err(internal)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(SdtError(
            StatusCode::NOT_FOUND,
            format!("platform {name:?} not found"),
        ))
    }
}
