//! The platform client under its outbound policy, against recording servers on 127.0.0.1 and
//! 127.0.0.2 (both loopback on Linux): redirects to another origin, ids that would name
//! another host, names resolving to refused ranges, refused base URLs. Each case asserts what
//! the servers received, not only the error.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sdt_core::{
    AddressClass, ClientOptions, Credentials, MAX_REDIRECTS, OutboundError, OutboundPolicy,
    OutboundReason, Platform, PlatformClient, PlatformError,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KEY: &str = "key-5d1e";

/// A request as received: method, path and query as sent, the key header.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    path: String,
    key: Option<String>,
}

/// Records every request; answers with `answer` (by path).
#[derive(Clone)]
struct Recorder {
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<dyn Fn(&str) -> Response + Send + Sync>,
}

impl Recorder {
    fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn record(State(recorder): State<Recorder>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    recorder
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received {
            path: path.clone(),
            key,
        });
    (recorder.answer)(&path)
}

/// A recording server on `ip`, port 0; its `http://ip:port` origin.
async fn serve(
    ip: [u8; 4],
    answer: impl Fn(&str) -> Response + Send + Sync + 'static,
) -> Result<(Recorder, String), Box<dyn std::error::Error>> {
    let recorder = Recorder {
        received: Arc::default(),
        answer: Arc::new(answer),
    };
    let app = Router::new().fallback(record).with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::from(ip), 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((recorder, format!("http://{address}")))
}

fn json_answer(_: &str) -> Response {
    axum::Json(json!([{"value": 1}])).into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [("location", to)]).into_response()
}

fn platform(base_url: &str, prefix: &str) -> Result<Platform, serde_json::Error> {
    serde_json::from_value(json!({
        "name": "p", "base_url": base_url, "data_get_prefix": prefix,
        "authentication": "api_key", "token_header": "X-API-KEY"
    }))
}

fn client(definition: Platform, policy: OutboundPolicy) -> Result<PlatformClient, PlatformError> {
    PlatformClient::new(
        definition,
        Credentials::ApiKey(KEY.into()),
        ClientOptions {
            outbound: policy,
            ..ClientOptions::default()
        },
    )
}

fn reason(result: Result<impl std::fmt::Debug, PlatformError>) -> Option<OutboundReason> {
    match result {
        Err(PlatformError::Refused(OutboundError { reason, .. })) => Some(reason),
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_and_the_other_host_receives_nothing() -> TestResult
{
    let (other, other_origin) = serve([127, 0, 0, 2], json_answer).await?;
    let target = format!("{other_origin}/data/x");
    let (platform_server, origin) =
        serve([127, 0, 0, 1], move |_| redirect(target.clone())).await?;
    let client = client(
        platform(&format!("{origin}/data/"), "")?,
        OutboundPolicy::new(),
    )?;
    let refused = reason(client.fetch("x").await);
    assert!(
        matches!(&refused, Some(OutboundReason::CrossOriginRedirect { to, .. }) if to.starts_with(&other_origin)),
        "{refused:?}"
    );
    assert_eq!(other.received(), [], "the other origin was contacted");
    assert_eq!(
        platform_server.received(),
        [Received {
            path: "/data/x".into(),
            key: Some(KEY.into())
        }]
    );
    Ok(())
}

#[tokio::test]
async fn redirects_within_the_origin_are_followed_with_the_key_up_to_the_limit() -> TestResult {
    let (server, origin) = serve([127, 0, 0, 1], |path| match path {
        "/old/x" => redirect("/data/x".into()),
        // An endless chain: /loop/1 → /loop/2 → ...
        path if path.starts_with("/loop/") => {
            let n: usize = path["/loop/".len()..].parse().unwrap_or(0);
            redirect(format!("/loop/{}", n + 1))
        }
        _ => json_answer(path),
    })
    .await?;
    let moved = client(
        platform(&format!("{origin}/old/"), "")?,
        OutboundPolicy::new(),
    )?;
    assert_eq!(moved.fetch("x").await?, json!([{"value": 1}]));
    assert_eq!(
        server.received(),
        [
            Received {
                path: "/old/x".into(),
                key: Some(KEY.into())
            },
            Received {
                path: "/data/x".into(),
                key: Some(KEY.into())
            }
        ]
    );
    let looping = client(
        platform(&format!("{origin}/loop/"), "")?,
        OutboundPolicy::new(),
    )?;
    assert_eq!(
        reason(looping.fetch("1").await),
        Some(OutboundReason::TooManyRedirects { max: MAX_REDIRECTS })
    );
    // The first request and MAX_REDIRECTS redirects followed, no more.
    let loops = server
        .received()
        .iter()
        .filter(|r| r.path.starts_with("/loop/"))
        .count();
    assert_eq!(loops, 1 + MAX_REDIRECTS);
    Ok(())
}

#[tokio::test]
async fn an_id_naming_another_host_stays_in_the_path_of_the_configured_host() -> TestResult {
    let (other, other_origin) = serve([127, 0, 0, 2], json_answer).await?;
    let (server, origin) = serve([127, 0, 0, 1], json_answer).await?;
    let hostile = format!("@{}/x", other_origin.trim_start_matches("http://"));
    // Concatenated, `http://127.0.0.1:P` + `@127.0.0.2:Q/x` had 127.0.0.2 as its host.
    let bare = client(platform(&origin, "")?, OutboundPolicy::new())?;
    assert!(
        matches!(
            bare.fetch(&hostile).await,
            Err(PlatformError::BadUrl { .. })
        ),
        "the id became part of the authority"
    );
    let with_path = client(
        platform(&format!("{origin}/data/"), "")?,
        OutboundPolicy::new(),
    )?;
    with_path.fetch(&hostile).await?;
    let encoded = hostile
        .replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F");
    assert_eq!(
        server.received(),
        [Received {
            path: format!("/data/{encoded}"),
            key: Some(KEY.into())
        }]
    );
    for id in ["?q=1", "#f", "a/../../b", "%2F"] {
        let url = with_path.data_url(id)?;
        assert_eq!(url.host_str(), Some("127.0.0.1"), "{id}");
        assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
        assert_eq!(url.path_segments().map(Iterator::count), Some(2), "{url}");
    }
    for id in [".", ".."] {
        assert!(matches!(
            with_path.data_url(id),
            Err(PlatformError::DotSegment { .. })
        ));
    }
    // A prefix of the definition that names another host is refused as well.
    let prefixed = client(platform(&origin, &hostile)?, OutboundPolicy::new())?;
    assert!(matches!(
        reason(prefixed.fetch("x").await),
        Some(OutboundReason::LeavesOrigin { .. })
    ));
    assert_eq!(other.received(), []);
    Ok(())
}

#[tokio::test]
async fn a_name_resolving_to_a_refused_range_is_refused_at_connect_time() -> TestResult {
    let (server, origin) = serve([127, 0, 0, 2], json_answer).await?;
    let port = origin.rsplit(':').next().ok_or("port")?;
    let loopback = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let policy = OutboundPolicy::new()
        .with_resolved(
            "metadata.test",
            [IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))],
        )
        .with_resolved("plant.test", [loopback]);
    let metadata = client(
        platform(&format!("http://metadata.test:{port}/"), "")?,
        policy.clone(),
    )?;
    assert_eq!(
        reason(metadata.fetch("x").await),
        Some(OutboundReason::Resolved {
            host: "metadata.test".into(),
            address: IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
            class: AddressClass::LinkLocal
        })
    );
    // The override is used: the same server is reached through a name...
    let plant = client(
        platform(&format!("http://plant.test:{port}/"), "")?,
        policy.clone(),
    )?;
    plant.fetch("x").await?;
    assert_eq!(server.received().len(), 1);
    // ...and refused at connect time when private networks are.
    let closed = client(
        platform(&format!("http://plant.test:{port}/"), "")?,
        policy.private_networks(false),
    )?;
    let refused = closed.fetch("x").await;
    assert!(
        refused.as_ref().is_err_and(|e| e
            .to_string()
            .contains("plant.test resolves to 127.0.0.2, which is loopback: refused")),
        "{refused:?}"
    );
    assert_eq!(server.received().len(), 1, "reached although refused");
    Ok(())
}

#[tokio::test]
async fn refused_base_urls_are_configuration_errors_before_any_request() -> TestResult {
    let (server, origin) = serve([127, 0, 0, 2], json_answer).await?;
    for base in [
        "file:///etc/",
        "gopher://127.0.0.2:70/",
        "http://169.254.169.254/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[::ffff:a9fe:a9fe]/",
    ] {
        assert!(
            reason(client(platform(base, "")?, OutboundPolicy::new())).is_some(),
            "{base}"
        );
    }
    let only_one = OutboundPolicy::new().allow_only(["127.0.0.1"])?;
    assert_eq!(
        reason(client(platform(&format!("{origin}/"), "")?, only_one)),
        Some(OutboundReason::NotAllowed {
            host: "127.0.0.2".into()
        })
    );
    let closed = OutboundPolicy::new().private_networks(false);
    assert!(matches!(
        reason(client(platform(&format!("{origin}/"), "")?, closed)),
        Some(OutboundReason::Address {
            class: AddressClass::Loopback,
            ..
        })
    ));
    assert_eq!(server.received(), []);
    Ok(())
}
