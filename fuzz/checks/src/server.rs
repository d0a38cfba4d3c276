//! The HTTP API in process, for `server_requests` (see the crate function's documentation).

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Method, Request};
use tower::ServiceExt;

const ENVIRONMENT: &str = r#"{
 "assetAdministrationShells": [{"id": "urn:fuzz:aas", "idShort": "Shell", "modelType": "AssetAdministrationShell",
   "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:fuzz:asset"},
   "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": "urn:fuzz:sm"}]}]}],
 "submodels": [{"id": "urn:fuzz:sm", "idShort": "Sm", "modelType": "Submodel", "submodelElements": [
   {"idShort": "P", "modelType": "Property", "valueType": "xs:int", "value": "1"},
   {"idShort": "C", "modelType": "SubmodelElementCollection",
    "value": [{"idShort": "Q", "modelType": "Property", "valueType": "xs:string", "value": "q"}]},
   {"idShort": "L", "modelType": "SubmodelElementList", "typeValueListElement": "Property",
    "valueTypeListElement": "xs:double", "value": [{"modelType": "Property", "valueType": "xs:double", "value": "1.5"}]},
   {"idShort": "M", "modelType": "MultiLanguageProperty", "value": [{"language": "en", "text": "hi"}]},
   {"idShort": "R", "modelType": "Range", "valueType": "xs:int", "min": "1", "max": "2"},
   {"idShort": "F", "modelType": "File", "contentType": "text/plain", "value": "/aasx/f.txt"},
   {"idShort": "B", "modelType": "Blob", "contentType": "application/octet-stream", "value": "AAEC"},
   {"idShort": "E", "modelType": "Entity", "entityType": "SelfManagedEntity", "globalAssetId": "urn:fuzz:e"},
   {"idShort": "Ref", "modelType": "ReferenceElement",
    "value": {"type": "ExternalReference", "keys": [{"type": "GlobalReference", "value": "urn:x"}]}}]}],
 "conceptDescriptions": [{"id": "urn:fuzz:cd", "modelType": "ConceptDescription"}]
}"#;

const AAS: &str = "dXJuOmZ1eno6YWFz"; // urn:fuzz:aas
const SM: &str = "dXJuOmZ1eno6c20"; // urn:fuzz:sm
const CD: &str = "dXJuOmZ1eno6Y2Q"; // urn:fuzz:cd

/// How the bytes after the selector are sent.
enum Sent {
    Json,
    Multipart,
    /// Appended to the path (idShort paths, queries); no body.
    Path,
}

/// (method, path, how the bytes are sent), chosen by the selector byte.
static ENDPOINTS: LazyLock<Vec<(Method, String, Sent)>> = LazyLock::new(|| {
    use Sent::*;
    let sm = format!("/submodels/{SM}");
    let el = format!("{sm}/submodel-elements");
    vec![
        (Method::POST, "/shells".into(), Json),
        (Method::PUT, format!("/shells/{AAS}"), Json),
        (
            Method::PUT,
            format!("/shells/{AAS}/asset-information"),
            Json,
        ),
        (Method::POST, format!("/shells/{AAS}/submodel-refs"), Json),
        (Method::POST, "/submodels".into(), Json),
        (Method::PUT, sm.clone(), Json),
        (Method::PATCH, sm.clone(), Json),
        (Method::PATCH, format!("{sm}/$metadata"), Json),
        (Method::PATCH, format!("{sm}/$value"), Json),
        (Method::POST, el.clone(), Json),
        (Method::POST, format!("{el}/C"), Json),
        (Method::PUT, format!("{el}/P"), Json),
        (Method::PATCH, format!("{el}/P"), Json),
        (Method::PATCH, format!("{el}/P/$value"), Json),
        (Method::PATCH, format!("{el}/C/$value"), Json),
        (Method::PATCH, format!("{el}/L/$value"), Json),
        (Method::PATCH, format!("{el}/M/$value"), Json),
        (Method::PATCH, format!("{el}/R/$value"), Json),
        (Method::PATCH, format!("{el}/P/$metadata"), Json),
        (Method::POST, "/concept-descriptions".into(), Json),
        (Method::PUT, format!("/concept-descriptions/{CD}"), Json),
        (Method::PUT, format!("{el}/F/attachment"), Multipart),
        (Method::POST, "/sdts/evaluate".into(), Json),
        (Method::POST, "/sdts/dry-run".into(), Json),
        (Method::GET, format!("{el}/"), Path),
        (Method::DELETE, format!("{el}/"), Path),
        (Method::GET, "/shells?".into(), Path),
        (Method::GET, format!("{sm}?"), Path),
        (
            Method::PATCH,
            format!("/shells/{AAS}/submodels/{SM}/submodel-elements/L%5B0%5D/$value"),
            Json,
        ),
        (Method::PUT, format!("/shells/{AAS}/submodels/{SM}"), Json),
    ]
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        // No input involved: a harness that cannot start a runtime has nothing to check.
        .expect("a runtime")
});

static PRELOAD: LazyLock<aas_model::Environment> = LazyLock::new(
    || match aas_serde::json::from_str::<aas_serde::Document>(ENVIRONMENT) {
        Ok(aas_serde::Document::Environment(env)) => env,
        other => panic!("the preloaded environment reads: {other:?}"),
    },
);

fn request(method: Method, path: &str, sent: &Sent, bytes: &[u8]) -> Option<Request<Body>> {
    let builder = Request::builder().method(method);
    let content_type = match sent {
        Sent::Json => "application/json",
        Sent::Multipart => "multipart/form-data; boundary=fuzz",
        Sent::Path => {
            let uri = format!("{path}{}", std::str::from_utf8(bytes).ok()?);
            return builder.uri(uri).body(Body::empty()).ok();
        }
    };
    builder
        .uri(path)
        .header("content-type", content_type)
        .body(Body::from(bytes.to_vec()))
        .ok()
}

async fn call(router: &axum::Router, request: Request<Body>) -> (u16, Vec<u8>) {
    let what = format!("{} {}", request.method(), request.uri());
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default()
        .to_vec();
    assert!(
        status < 500,
        "{what} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    (status, body)
}

/// Whether a listed item reads back as the class its collection holds.
fn from_json<T: aas_serde::json::FromJson>(text: &str) -> Result<(), aas_serde::json::Error> {
    aas_serde::json::from_str::<T>(text).map(|_| ())
}

/// One input: see [`crate::server_requests`].
pub(crate) fn requests(data: &[u8]) {
    let router = reference_server::serve::in_memory_router(PRELOAD.clone())
        .unwrap_or_else(|e| panic!("the in-memory server starts: {e}"));
    RUNTIME.block_on(async {
        for part in data.split(|b| *b == 0xFF).take(4) {
            let Some((selector, bytes)) = part.split_first() else {
                continue;
            };
            let (method, path, sent) = &ENDPOINTS[usize::from(*selector) % ENDPOINTS.len()];
            if let Some(request) = request(method.clone(), path, sent, bytes) {
                call(&router, request).await;
            }
        }
        for path in ["/shells", "/submodels", "/concept-descriptions"] {
            // A fixed path and an empty body always make a request (invariant, not input).
            let get = Request::get(path).body(Body::empty()).expect("a request");
            let (status, body) = call(&router, get).await;
            assert_eq!(status, 200, "GET {path} after the requests");
            // The property: a listing after any requests is JSON (a panic is the finding).
            let page: serde_json::Value = match serde_json::from_slice(&body) {
                Ok(page) => page,
                Err(error) => panic!("GET {path} answered no JSON after the requests: {error}"),
            };
            for item in page["result"].as_array().into_iter().flatten() {
                let text = item.to_string();
                let read = match path {
                    "/shells" => from_json::<aas_model::AssetAdministrationShell>(&text),
                    "/submodels" => from_json::<aas_model::Submodel>(&text),
                    _ => from_json::<aas_model::ConceptDescription>(&text),
                };
                read.unwrap_or_else(|e| panic!("stored {path} item reads back: {e}: {text}"));
            }
        }
    });
}

/// `METHOD path` of every endpoint, in selector order.
pub(crate) fn endpoints() -> Vec<String> {
    ENDPOINTS
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect()
}
