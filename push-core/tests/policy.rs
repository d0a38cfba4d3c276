//! What push jobs do against a failing or refused target, counted on a fake HTTP server on
//! 127.0.0.1 (Azure SAS URLs and S3 endpoints pointing at it): how often an upload is tried
//! (one retry layer, exactly the policy's count and time bound), which failures are retried
//! (by status, never by the words in a name), the DNS resolver hook that refuses addresses
//! before any connection, and redirects, which are never followed.

mod support;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use push_core::{
    AddressNotAllowed, DnsError, DnsFuture, DnsResolver, JobState, MemoryJobStore, PushEngine,
    PushError, PushJob, PushRequest, PushTarget, RetryPolicy, SerializationFormat, Source,
    SourceError, TargetConfig, TargetKind, TargetOptions,
};
use support::OneTarget;
use support::fake_http::FakeHttp;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const MS: Duration = Duration::from_millis(1);
const SIGNATURE: &str = "c2VjcmV0c2lnbmF0dXJl";

/// A container SAS URL of an emulator-style (path) address at `host:port`.
fn azure(host: &str, port: u16) -> TargetConfig {
    TargetConfig {
        name: "target".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: format!(
                "http://{host}:{port}/devstoreaccount1/twins?sv=2022-11-02&sr=c&sp=racwdl&se=2099-01-01T00:00:00Z&sig={SIGNATURE}"
            ),
        },
    }
}

/// An S3 bucket behind an endpoint at 127.0.0.1:`port`.
fn s3(port: u16) -> Result<TargetConfig, serde_json::Error> {
    serde_json::from_value(serde_json::json!({
        "name": "target",
        "type": "s3",
        "configuration": {
            "bucket": "twins",
            "region": "us-east-1",
            "endpoint": format!("http://127.0.0.1:{port}"),
            "accessKeyId": "AKIATEST",
            "secretAccessKey": "topsecret"
        }
    }))
}

/// Both kinds of HTTP targets, pointing at the fake server.
fn http_targets(port: u16) -> Result<Vec<TargetConfig>, serde_json::Error> {
    Ok(vec![azure("127.0.0.1", port), s3(port)?])
}

/// One submodel, found by any id.
struct OneSubmodel;

#[async_trait]
impl Source for OneSubmodel {
    async fn shell(&self, _: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        Ok(None)
    }
    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        Ok(Some(Arc::new(Submodel::new(id))))
    }
    async fn concept_description(
        &self,
        _: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        Ok(None)
    }
}

/// Runs one JSON job uploading `blob_name` to the target of `config`.
async fn run_job(
    config: &TargetConfig,
    options: &TargetOptions,
    retry: RetryPolicy,
    blob_name: &str,
) -> Result<PushJob, Box<dyn std::error::Error>> {
    let target = config.build(options)?;
    let engine = PushEngine::with_retry_policy(
        Arc::new(OneSubmodel),
        Arc::new(MemoryJobStore::default()),
        Arc::new(OneTarget(Arc::new(target))),
        1,
        retry,
    );
    let request = PushRequest {
        push_target_name: "target".into(),
        serialization_format: SerializationFormat::Json,
        shell_ids: vec![],
        submodel_ids: vec!["urn:sm:1".into()],
        include_concept_descriptions: false,
        blob_name: Some(blob_name.into()),
        aas_version: None,
        allow_loss: false,
    };
    Ok(engine.run(PushJob::new(request)).await)
}

fn insecure() -> TargetOptions {
    TargetOptions::default().with_allow_insecure(true)
}

fn message(job: &PushJob) -> &str {
    job.message.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn every_transient_failure_is_tried_exactly_as_often_as_the_policy_says() -> TestResult {
    for status in [503, 500, 429, 408] {
        let server = FakeHttp::start(status, Duration::ZERO, "").await?;
        let mut expected_requests = 0;
        for config in http_targets(server.port)? {
            for attempts in [1, 3, 5] {
                let retry = RetryPolicy::new()
                    .with_max_attempts(attempts)
                    .with_backoff(20 * MS, 40 * MS)
                    .with_within(Duration::from_secs(20));
                let started = Instant::now();
                let job = run_job(&config, &insecure(), retry, "x.json").await?;
                expected_requests += attempts as usize;
                let label = format!("{status}, {:?}, {attempts} attempts", config.kind);
                assert_eq!(server.requests().len(), expected_requests, "{label}");
                assert_eq!(job.state, JobState::Failed, "{label}");
                let plural = if attempts == 1 { "attempt" } else { "attempts" };
                assert!(
                    message(&job).contains(&format!("gave up after {attempts} {plural}")),
                    "{label}: {}",
                    message(&job)
                );
                assert!(message(&job).contains("unreachable or failing"), "{label}");
                assert!(
                    !message(&job).contains(SIGNATURE),
                    "{label}: signature shown"
                );
                // The waits really happen: 20 ms, then 40 ms for each further retry.
                let waits: Duration = (1..attempts).map(|k| retry.backoff(k)).sum();
                assert!(
                    started.elapsed() >= waits,
                    "{label}: {:?}",
                    started.elapsed()
                );
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_default_policy_makes_three_attempts() -> TestResult {
    let server = FakeHttp::start(503, Duration::ZERO, "").await?;
    let target = azure("127.0.0.1", server.port).build(&insecure())?;
    let engine = PushEngine::new(
        Arc::new(OneSubmodel),
        Arc::new(MemoryJobStore::default()),
        Arc::new(OneTarget(Arc::new(target))),
        1,
    );
    assert_eq!(engine.retry_policy(), RetryPolicy::default());
    let request = PushRequest {
        push_target_name: "target".into(),
        serialization_format: SerializationFormat::Json,
        shell_ids: vec![],
        submodel_ids: vec!["urn:sm:1".into()],
        include_concept_descriptions: false,
        blob_name: Some("x.json".into()),
        aas_version: None,
        allow_loss: false,
    };
    let started = Instant::now();
    let job = engine.run(PushJob::new(request)).await;
    assert_eq!(server.requests().len(), 3, "{:?}", job.message);
    assert!(message(&job).contains("gave up after 3 attempts"));
    // Waits of 1 s and 2 s, well within 15 s.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(15),
        "{elapsed:?}"
    );
    Ok(())
}

#[tokio::test]
async fn no_attempt_starts_later_than_the_policy_allows() -> TestResult {
    // Every answer takes 300 ms; retries may only start within 100 ms of the first attempt.
    let server = FakeHttp::start(503, 300 * MS, "").await?;
    let retry = RetryPolicy::new()
        .with_max_attempts(5)
        .with_backoff(MS, MS)
        .with_within(100 * MS);
    for (done, config) in http_targets(server.port)?.iter().enumerate() {
        let job = run_job(config, &insecure(), retry, "x.json").await?;
        assert_eq!(server.requests().len(), done + 1, "{:?}", config.kind);
        assert!(
            message(&job).contains("gave up after 1 attempt: another attempt would start more than 100ms after the first"),
            "{}",
            message(&job)
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_400_for_an_object_named_report_500_is_tried_exactly_once() -> TestResult {
    let server = FakeHttp::start(400, Duration::ZERO, "").await?;
    let retry = RetryPolicy::new()
        .with_max_attempts(5)
        .with_backoff(MS, MS)
        .with_within(Duration::from_secs(20));
    for (done, config) in http_targets(server.port)?.iter().enumerate() {
        let target = config.build(&insecure())?;
        let refused = target
            .upload("report-500.json", "{}".into(), "application/json")
            .await;
        match &refused {
            Err(error @ PushError::Other { name, detail }) => {
                assert!(!error.is_transient());
                assert_eq!(name, "report-500.json");
                assert!(detail.contains("400"), "{detail}");
                assert!(!detail.contains(SIGNATURE), "signature shown: {detail}");
            }
            other => panic!("{:?}: expected Other, got {other:?}", config.kind),
        }
        let job = run_job(config, &insecure(), retry, "report-500.json").await?;
        assert_eq!(job.state, JobState::Failed);
        assert!(!message(&job).contains("gave up"), "{}", message(&job));
        let requests = server.requests();
        assert_eq!(requests.len(), 2 * (done + 1), "{:?}", config.kind);
        assert!(
            requests
                .iter()
                .all(|line| line.contains("/twins/report-500.json")),
            "{requests:?}"
        );
    }
    Ok(())
}

/// Refuses every host, as an address policy that allows nothing would.
#[derive(Debug)]
struct RefuseAll;

impl DnsResolver for RefuseAll {
    fn resolve(&self, host: &str) -> DnsFuture {
        let refusal = AddressNotAllowed::new(host, "every address is refused by this test");
        Box::pin(async move { Err(Box::new(refusal) as DnsError) })
    }
}

/// Resolves every host to 127.0.0.1 and records the hosts asked for.
#[derive(Debug, Default)]
struct ToLoopback(Mutex<Vec<String>>);

impl DnsResolver for ToLoopback {
    fn resolve(&self, host: &str) -> DnsFuture {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(host.to_owned());
        Box::pin(async { Ok(vec![std::net::Ipv4Addr::LOCALHOST.into()]) })
    }
}

#[tokio::test]
async fn a_resolver_that_refuses_every_address_stops_the_upload_before_any_connection() -> TestResult
{
    let server = FakeHttp::start(201, Duration::ZERO, "").await?;
    let options = insecure().with_dns_resolver(Arc::new(RefuseAll));
    let retry = RetryPolicy::new()
        .with_max_attempts(3)
        .with_backoff(MS, MS)
        .with_within(Duration::from_secs(20));
    let mut s3_at_localhost = s3(server.port)?;
    if let TargetKind::S3 { endpoint, .. } = &mut s3_at_localhost.kind {
        *endpoint = Some(format!("http://localhost:{}", server.port));
    }
    for config in [azure("localhost", server.port), s3_at_localhost] {
        let target = config.build(&options)?;
        let refused = target
            .upload("x.json", "{}".into(), "application/json")
            .await;
        match &refused {
            Err(error @ PushError::AddressRefused { detail }) => {
                assert!(!error.is_transient());
                assert!(
                    detail.contains("\"localhost\"") && detail.contains("refused by this test"),
                    "{detail}"
                );
            }
            other => panic!("{:?}: expected AddressRefused, got {other:?}", config.kind),
        }
        let job = run_job(&config, &options, retry, "x.json").await?;
        assert_eq!(job.state, JobState::Failed);
        assert!(
            message(&job).contains("the server does not allow connecting to the target"),
            "{}",
            message(&job)
        );
    }
    assert_eq!(server.connections(), 0, "nothing reached the server");
    Ok(())
}

#[tokio::test]
async fn host_names_are_resolved_by_the_given_resolver() -> TestResult {
    let server = FakeHttp::start(400, Duration::ZERO, "").await?;
    let resolver = Arc::new(ToLoopback::default());
    let options = insecure().with_dns_resolver(resolver.clone());
    let target = azure("localhost", server.port).build(&options)?;
    let _ = target
        .upload("x.json", "{}".into(), "application/json")
        .await;
    let asked = resolver
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(asked, ["localhost"]);
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

#[tokio::test]
async fn ip_address_hosts_do_not_go_through_the_resolver() -> TestResult {
    // The documented limit: callers check literal addresses with `target_url`.
    let server = FakeHttp::start(400, Duration::ZERO, "").await?;
    let options = insecure().with_dns_resolver(Arc::new(RefuseAll));
    let target = azure("127.0.0.1", server.port).build(&options)?;
    let answered = target
        .upload("x.json", "{}".into(), "application/json")
        .await;
    assert!(
        matches!(answered, Err(PushError::Other { .. })),
        "{answered:?}"
    );
    assert_eq!(server.requests().len(), 1);
    Ok(())
}

/// The redirect statuses, each of which reqwest's default policy follows (303 as a GET, 301 and
/// 302 turning a PUT into a GET, 307 and 308 repeating the PUT).
const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// What a redirect to another origin got: the error it came back as.
fn assert_not_followed(
    answered: Result<(), PushError>,
    status: u16,
    origin: &str,
    label: &str,
) -> TestResult {
    let error = answered
        .err()
        .ok_or_else(|| format!("{label}: succeeded: the redirect was followed"))?;
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "with HTTP {status}, a redirect to {origin}, which is not followed"
        )),
        "{label}: {text}"
    );
    assert!(!error.is_transient(), "{label}: transient: {error:?}");
    assert!(
        !text.contains(SIGNATURE),
        "{label}: signature shown: {text}"
    );
    Ok(())
}

#[tokio::test]
async fn redirects_are_not_followed() -> TestResult {
    // A redirect would send the request (with its credentials: a `Referer` carrying the SAS)
    // elsewhere, and to an address literal past the resolver: none is followed, whether the
    // connection test (HEAD), a single PUT or a multipart upload gets it.
    let elsewhere = FakeHttp::start(201, Duration::ZERO, "").await?;
    let other_origin = format!("http://127.0.0.1:{}", elsewhere.port);
    let locations = [
        (
            format!("{other_origin}/elsewhere?sig=stolen"),
            other_origin.clone(),
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://169.254.169.254".to_owned(),
        ),
    ];
    for status in REDIRECTS {
        for (location, origin) in &locations {
            let header = format!("location: {location}\r\n");
            let server = FakeHttp::start(status, Duration::ZERO, &header).await?;
            let mut asked = 0;
            for config in http_targets(server.port)? {
                let target = config.build(&insecure())?;
                let label =
                    |what: &str| format!("{status} to {location}, {:?}, {what}", config.kind);
                assert_not_followed(target.check().await, status, origin, &label("check"))?;
                asked += 1;
                assert_eq!(server.requests().len(), asked, "{}", label("check"));
                let put = target
                    .upload("x.json", "{}".into(), "application/json")
                    .await
                    .map(drop);
                assert_not_followed(put, status, origin, &label("upload"))?;
                asked += 1;
                assert_eq!(server.requests().len(), asked, "{}", label("upload"));
                let mut data: &[u8] = b"{\"parts\": true}";
                let multipart = target
                    .upload_stream("x.json", &mut data, "application/json")
                    .await
                    .map(drop);
                assert_not_followed(multipart, status, origin, &label("multipart"))?;
                asked += 1;
                assert_eq!(server.requests().len(), asked, "{}", label("multipart"));
            }
            // The first request of each: the probe's HEAD, the PUT, the multipart's first.
            let requests = server.requests();
            assert!(
                requests.iter().any(|line| line.starts_with("HEAD "))
                    && requests.iter().any(|line| line.starts_with("PUT ")),
                "{requests:?}"
            );
        }
    }
    assert_eq!(elsewhere.connections(), 0, "a redirect was followed");
    Ok(())
}

#[tokio::test]
async fn a_redirected_job_fails_at_once_without_another_attempt() -> TestResult {
    let elsewhere = FakeHttp::start(201, Duration::ZERO, "").await?;
    let retry = RetryPolicy::new()
        .with_max_attempts(3)
        .with_backoff(MS, MS)
        .with_within(Duration::from_secs(20));
    for status in REDIRECTS {
        let header = format!("location: http://127.0.0.1:{}/x\r\n", elsewhere.port);
        let server = FakeHttp::start(status, Duration::ZERO, &header).await?;
        for (done, config) in http_targets(server.port)?.iter().enumerate() {
            let job = run_job(config, &insecure(), retry, "x.json").await?;
            let label = format!("{status}, {:?}", config.kind);
            assert_eq!(job.state, JobState::Failed, "{label}");
            assert!(
                message(&job).contains("which is not followed"),
                "{label}: {}",
                message(&job)
            );
            assert!(
                !message(&job).contains("gave up"),
                "{label}: {}",
                message(&job)
            );
            assert_eq!(server.requests().len(), done + 1, "{label}: retried");
        }
    }
    assert_eq!(elsewhere.connections(), 0, "a redirect was followed");
    Ok(())
}
