//! Operation invocation (Part 2 `invoke`, `invoke-async`, `operation-status`,
//! `operation-results`), delegated to the URL of the Operation's `invocationDelegation`
//! qualifier: the router in process, and a fake delegate on 127.0.0.1 that records what it
//! receives and answers as the route it is called on says.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{Api, Failure, InProcess, TestResult, b64, call};

/// What the fake delegate received, in order.
type Received = Arc<Mutex<Vec<Value>>>;

/// The sum of the `First` and `Second` input arguments of a request, as the delegate computes it.
fn sum(request: &Value) -> i64 {
    let arguments = request["inputArguments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    arguments
        .iter()
        .filter_map(|v| v["value"]["value"].as_str()?.parse::<i64>().ok())
        .sum()
}

fn output(total: i64) -> Value {
    json!([{"value": {"modelType": "Property", "idShort": "Sum", "valueType": "xs:int",
        "value": total.to_string()}}])
}

/// Starts the fake delegate: its base URL and what it received.
async fn delegate() -> Result<(String, Received), Failure> {
    let received: Received = Arc::default();
    let record = |state: &Received, body: &Value| {
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(body.clone());
    };
    let app = Router::new()
        .route(
            "/result",
            post(
                move |State(r): State<Received>, axum::Json(body): axum::Json<Value>| async move {
                    record(&r, &body);
                    axum::Json(json!({"executionState": "Completed", "success": true,
                        "outputArguments": output(sum(&body)), "messages": []}))
                },
            ),
        )
        .route(
            "/array",
            post(
                |axum::Json(body): axum::Json<Value>| async move { axum::Json(output(sum(&body))) },
            ),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                axum::Json(output(0))
            }),
        )
        .route("/garbage", post(|| async { "<html>surprise</html>" }))
        .route(
            "/internal",
            post(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "SECRET-INTERNAL-DATA",
                )
            }),
        )
        // What a server's invoke-async answers: no result.
        .route(
            "/accepted",
            post(|| async {
                (
                    axum::http::StatusCode::ACCEPTED,
                    axum::Json(json!({"handleId": "0123"})),
                )
            }),
        )
        .route(
            "/hops",
            post(|headers: axum::http::HeaderMap| async move {
                let hops = (headers.get("aas-rs-invocation-hops"))
                    .and_then(|v| v.to_str().ok()?.parse::<i64>().ok())
                    .unwrap_or(-1);
                axum::Json(output(hops))
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, received))
}

fn int(id_short: &str) -> Value {
    json!({"value": {"modelType": "Property", "idShort": id_short, "valueType": "xs:int"}})
}

fn operation(id_short: &str, delegate: Option<&str>) -> Value {
    let mut operation = json!({"modelType": "Operation", "idShort": id_short,
        "inputVariables": [int("First"), int("Second")], "outputVariables": [int("Sum")]});
    if let Some(url) = delegate {
        operation["qualifiers"] =
            json!([{"type": "invocationDelegation", "valueType": "xs:string", "value": url}]);
    }
    operation
}

const SM: &str = "urn:sm:operations";

/// The API with a submodel of operations (each delegated to a route of the fake delegate)
/// and a shell referring to it.
async fn setup() -> Result<(InProcess, String, Received), Failure> {
    let (base, received) = delegate().await?;
    let api = InProcess::new()?;
    let submodel = json!({"modelType": "Submodel", "id": SM, "submodelElements": [
        operation("Add", Some(&format!("{base}/result"))),
        operation("AddArray", Some(&format!("{base}/array"))),
        operation("Slow", Some(&format!("{base}/slow"))),
        operation("Garbage", Some(&format!("{base}/garbage"))),
        operation("Metadata", Some("http://169.254.169.254/latest/meta-data")),
        operation("Internal", Some(&format!("{}/internal", base.replace("http://", "http://admin:s3cret@")))),
        operation("Accepted", Some(&format!("{base}/accepted"))),
        operation("Hops", Some(&format!("{base}/hops"))),
        operation("Undelegated", None),
        {"modelType": "Property", "idShort": "NotAnOperation", "valueType": "xs:int", "value": "1"},
    ]});
    let (status, body) = call(&api, Method::POST, "/submodels", Some(submodel)).await?;
    assert_eq!(status, 201, "{body}");
    let shell = json!({"modelType": "AssetAdministrationShell", "id": "urn:aas:operations",
        "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:asset"},
        "submodels": [{"type": "ModelReference",
            "keys": [{"type": "Submodel", "value": SM}]}]});
    let (status, body) = call(&api, Method::POST, "/shells", Some(shell)).await?;
    assert_eq!(status, 201, "{body}");
    Ok((api, base, received))
}

fn at(element: &str, rest: &str) -> String {
    format!("/submodels/{}/submodel-elements/{element}/{rest}", b64(SM))
}

fn arguments(a: i64, b: i64) -> Value {
    let mut x = int("First");
    x["value"]["value"] = json!(a.to_string());
    let mut y = int("Second");
    y["value"]["value"] = json!(b.to_string());
    json!({"inputArguments": [x, y], "clientTimeoutDuration": "PT10S"})
}

fn first_message(body: &Value) -> String {
    body["messages"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sync_invoke_posts_the_request_to_the_delegate_and_answers_its_output_arguments()
-> TestResult {
    let (api, _, received) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Add", "invoke"),
        Some(arguments(2, 3)),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["executionState"], "Completed");
    assert_eq!(body["success"], true);
    assert_eq!(body["outputArguments"][0]["value"]["value"], "5", "{body}");
    let sent = received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["inputArguments"][1]["value"]["idShort"], "Second");
    assert_eq!(sent[0]["inoutputArguments"], json!([]));
    assert_eq!(sent[0]["clientTimeoutDuration"], "PT10S");
    // The superpath invokes the same operation.
    let superpath = format!(
        "/shells/{}/submodels/{}/submodel-elements/Add/invoke",
        b64("urn:aas:operations"),
        b64(SM)
    );
    let (status, body) = call(&api, Method::POST, &superpath, Some(arguments(4, 4))).await?;
    assert_eq!(
        (status, &body["outputArguments"][0]["value"]["value"]),
        (200, &json!("8"))
    );
    Ok(())
}

#[tokio::test]
async fn a_bare_array_of_output_variables_from_the_delegate_is_accepted() -> TestResult {
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("AddArray", "invoke"),
        Some(arguments(1, 1)),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["executionState"], "Completed");
    assert_eq!(body["outputArguments"][0]["value"]["value"], "2", "{body}");
    Ok(())
}

#[tokio::test]
async fn value_only_invocations_take_and_give_values_keyed_by_id_short() -> TestResult {
    let (api, _, received) = setup().await?;
    let request =
        json!({"inputArguments": {"First": 20, "Second": 22}, "clientTimeoutDuration": "PT5S"});
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Add", "invoke/$value"),
        Some(request),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outputArguments"], json!({"Sum": 42}), "{body}");
    assert_eq!(body["executionState"], "Completed");
    // The delegate got full operation variables, made from the declared ones.
    let sent = received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(sent[0]["inputArguments"][0]["value"]["valueType"], "xs:int");
    assert_eq!(sent[0]["inputArguments"][0]["value"]["value"], "20");
    let unknown = json!({"inputArguments": {"Third": 1}, "clientTimeoutDuration": "PT5S"});
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Add", "invoke/$value"),
        Some(unknown),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert!(first_message(&body).contains("\"Third\""), "{body}");
    Ok(())
}

/// Polls `operation-status` until it is no longer 200 (running): the last status and body.
async fn until_finished(
    api: &InProcess,
    status_path: &str,
) -> Result<(u16, Value, String), Failure> {
    for _ in 0..200 {
        let (status, headers, bytes) = api.request(Method::GET, status_path, None).await?;
        let body: Value = serde_json::from_slice(&bytes)?;
        if status != 200 {
            let location = headers.get("location").and_then(|l| l.to_str().ok());
            return Ok((status, body, location.unwrap_or_default().to_owned()));
        }
        assert!(["Initiated", "Running"].contains(&body["executionState"].as_str().unwrap_or("")));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("the invocation did not finish".into())
}

/// Starts an invocation at `path`: the Location of its status and its handle.
async fn start(api: &InProcess, path: &str, request: Value) -> Result<(String, String), Failure> {
    let body = Some(("application/json", request.to_string().into_bytes()));
    let (status, headers, bytes) = api.request(Method::POST, path, body).await?;
    let body: Value = serde_json::from_slice(&bytes)?;
    assert_eq!(status, 202, "{body}");
    let location = headers
        .get("location")
        .ok_or("no Location")?
        .to_str()?
        .to_owned();
    let handle = body["handleId"].as_str().ok_or("no handleId")?.to_owned();
    assert!(
        location.ends_with(&format!("/operation-status/{handle}")),
        "{location}"
    );
    Ok((location, handle))
}

#[tokio::test]
async fn async_invocations_move_to_completed_and_their_results_are_fetched_by_handle() -> TestResult
{
    let (api, ..) = setup().await?;
    let (location, handle) = start(&api, &at("Add", "invoke-async"), arguments(3, 4)).await?;
    assert_eq!(location, at("Add", &format!("operation-status/{handle}")));
    let (status, body, results) = until_finished(&api, &location).await?;
    assert_eq!(
        (status, &body["executionState"]),
        (302, &json!("Completed")),
        "{body}"
    );
    assert_eq!(results, at("Add", &format!("operation-results/{handle}")));
    let (status, body) = call(&api, Method::GET, &results, None).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outputArguments"][0]["value"]["value"], "7", "{body}");
    let (status, body) = call(&api, Method::GET, &format!("{results}/$value"), None).await?;
    assert_eq!(
        (status, &body["outputArguments"]),
        (200, &json!({"Sum": 7})),
        "{body}"
    );
    // A handle is only known at its own operation, and unknown ones are 404.
    let (status, _) = call(
        &api,
        Method::GET,
        &at("AddArray", &format!("operation-results/{handle}")),
        None,
    )
    .await?;
    assert_eq!(status, 404);
    let (status, body) = call(
        &api,
        Method::GET,
        &at("Add", "operation-status/nothing"),
        None,
    )
    .await?;
    assert_eq!(status, 404);
    assert!(first_message(&body).contains("nothing"), "{body}");
    // The value-only form, under the AAS service profile's spelling.
    let request =
        json!({"inputArguments": {"First": 1, "Second": 2}, "clientTimeoutDuration": "PT5S"});
    let (location, handle) = start(&api, &at("Add", "invoke-asnyc/$value"), request).await?;
    assert_eq!(until_finished(&api, &location).await?.0, 302);
    let results = at("Add", &format!("operation-results/{handle}/$value"));
    let (status, body) = call(&api, Method::GET, &results, None).await?;
    assert_eq!(
        (status, &body["outputArguments"]),
        (200, &json!({"Sum": 3})),
        "{body}"
    );
    // V3.0's `invoke?async=true` is `invoke-async`.
    let (location, _) = start(&api, &at("Add", "invoke?async=true"), arguments(5, 5)).await?;
    assert_eq!(until_finished(&api, &location).await?.0, 302);
    // V3.1 requires the client's timeout of an asynchronous invocation.
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Add", "invoke-async"),
        Some(json!({})),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}

#[tokio::test]
async fn a_delegate_slower_than_the_client_timeout_ends_in_state_timeout() -> TestResult {
    let (api, ..) = setup().await?;
    let request = json!({"clientTimeoutDuration": "PT0.2S"});
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Slow", "invoke"),
        Some(request.clone()),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["executionState"], &body["success"]),
        (&json!("Timeout"), &json!(false))
    );
    assert!(first_message(&body).contains("0.2 s"), "{body}");
    let (location, _) = start(&api, &at("Slow", "invoke-async"), request).await?;
    let (status, body, _) = until_finished(&api, &location).await?;
    assert_eq!(
        (status, &body["executionState"]),
        (302, &json!("Timeout")),
        "{body}"
    );
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Slow", "invoke"),
        Some(json!({"clientTimeoutDuration": "-PT1S"})),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}

#[tokio::test]
async fn operations_without_a_delegation_are_501_and_other_elements_400() -> TestResult {
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Undelegated", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 501, "{body}");
    assert_eq!(body["messages"][0]["messageType"], "Error");
    assert!(
        first_message(&body).contains("invocationDelegation"),
        "{body}"
    );
    let (status, body) = call(
        &api,
        Method::POST,
        &at("NotAnOperation", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert!(first_message(&body).contains("not an Operation"), "{body}");
    let (status, _) = call(
        &api,
        Method::POST,
        &at("Nothing", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn a_delegate_at_a_refused_address_is_not_called() -> TestResult {
    let (api, ..) = setup().await?;
    for path in ["invoke", "invoke-async"] {
        let (status, body) = call(
            &api,
            Method::POST,
            &at("Metadata", path),
            Some(arguments(1, 2)),
        )
        .await?;
        assert_eq!(status, 403, "{body}");
        assert!(first_message(&body).contains("169.254.169.254"), "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn a_delegate_answering_garbage_is_a_502_or_a_failed_invocation() -> TestResult {
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Garbage", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 502, "{body}");
    assert!(
        first_message(&body).contains("not an OperationResult"),
        "{body}"
    );
    let (location, _) = start(&api, &at("Garbage", "invoke-async"), arguments(1, 2)).await?;
    let (status, body, _) = until_finished(&api, &location).await?;
    assert_eq!(
        (status, &body["executionState"]),
        (302, &json!("Failed")),
        "{body}"
    );
    assert_eq!(body["success"], false);
    Ok(())
}

#[tokio::test]
async fn a_failing_delegate_s_answer_and_credentials_are_not_returned_to_the_client() -> TestResult
{
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Internal", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 502, "{body}");
    let text = body.to_string();
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(
        !text.contains("SECRET") && !text.contains("s3cret"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_delegate_answering_an_object_that_is_no_result_fails() -> TestResult {
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Accepted", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 502, "{body}");
    assert!(
        first_message(&body).contains("not an OperationResult"),
        "{body}"
    );
    Ok(())
}

/// An operation delegated to itself (or to a server delegating back) ends after a bounded
/// number of delegations: each delegate call counts one more in a header, and an invocation
/// that arrives with too many is refused.
#[tokio::test]
async fn invocations_count_their_delegations_and_too_many_are_refused_as_a_loop() -> TestResult {
    let (api, ..) = setup().await?;
    let (status, body) = call(
        &api,
        Method::POST,
        &at("Hops", "invoke"),
        Some(arguments(1, 2)),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["outputArguments"][0]["value"]["value"],
        json!("1"),
        "{body}"
    );
    let request = arguments(1, 2).to_string().into_bytes();
    let (status, _, answer) = api
        .request_with(
            Method::POST,
            &at("Hops", "invoke"),
            &[("aas-rs-invocation-hops", "8")],
            Some(("application/json", request)),
        )
        .await?;
    assert_eq!(status, 508, "{}", String::from_utf8_lossy(&answer));
    Ok(())
}
