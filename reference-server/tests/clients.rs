//! A real Part 2 client against the server: `tests/clients/crud_flow.py` drives a CRUD flow
//! through aas-python-http-client 1.0.3 (PyPI, generated from IDTA's OpenAPI, BaSyx Python
//! objects; from the test venv of `scripts/test-venv.sh`) — every submodel element type,
//! attachments and the thumbnail, `$value`, paging with cursors and the superpath — and this
//! test subscribes to the embedded broker and checks that each call caused exactly the MQTT
//! events the script says it must (topics, in the order of the calls).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod support;

use support::{Collector, DataDir, Launch, Server, TestResult};

/// What the script reported: the steps with their expected topics, its failures, and whether
/// it ran to its end.
#[derive(Default)]
struct Report {
    steps: Vec<(String, Vec<String>)>,
    failures: Vec<String>,
    done: bool,
}

fn report(stdout: &str) -> Report {
    let mut report = Report::default();
    for line in stdout.lines().filter(|line| !line.trim().is_empty()) {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            report.failures.push(format!("not a JSON line: {line}"));
            continue;
        };
        if let Some(step) = value["step"].as_str() {
            let events = value["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
            report.steps.push((step.to_owned(), events));
        } else if let Some(failure) = value["failure"].as_str() {
            report.failures.push(failure.to_owned());
        } else if value["done"].as_bool() == Some(true) {
            report.done = true;
        }
    }
    report
}

/// The same topics as a multiset (one call's events may come in any order among themselves).
fn counted(topics: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for topic in topics {
        *counts.entry(topic.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aas_python_http_client_crud_flow_passes_with_the_events_of_each_call() -> TestResult {
    // The test venv (created or updated by scripts/test-venv.sh): a missing package is a
    // failure with its message, never a skip.
    let python = aas_conformance_tests::test_python();
    let data = DataDir::new("clients-crud");
    let server = Server::launch(&data, &Launch::default())?;
    let mut collector =
        Collector::subscribe(server.mqtt_port, "clients-crud-watcher", "twinsphere/#").await?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/crud_flow.py");
    // The script writes its upload files into its working directory.
    let work = data.0.with_extension("client");
    std::fs::create_dir_all(&work)?;
    let base = server.base.clone();
    let work_dir = work.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .arg(&base)
            .current_dir(&work_dir)
            .output()
    })
    .await??;
    let _ = std::fs::remove_dir_all(&work);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "crud_flow.py exited with {}: {stderr}\n{stdout}",
        output.status
    );
    let report = report(&stdout);
    let mut problems: Vec<String> = report
        .failures
        .iter()
        .map(|failure| format!("client: {failure}"))
        .collect();
    if !report.done {
        problems.push(format!("client: the flow did not reach its end: {stderr}"));
    }

    // The events: all the steps announced, then a moment for any the server sends too many.
    let expected: usize = report.steps.iter().map(|(_, events)| events.len()).sum();
    let mut received: Vec<String> = collector
        .until(Duration::from_secs(20), |messages| {
            messages.len() >= expected
        })
        .await
        .into_iter()
        .map(|(topic, _)| topic)
        .collect();
    received.extend(
        collector
            .until(Duration::from_millis(1500), |_| false)
            .await
            .into_iter()
            .map(|(topic, _)| topic),
    );
    let mut next = 0;
    for (step, events) in &report.steps {
        let end = (next + events.len()).min(received.len());
        let got = &received[next..end];
        if counted(got) != counted(events) {
            problems.push(format!(
                "events: {step}: expected {events:?}, got {got:?}; the steps after it are not compared (received from here on: {:?})",
                &received[next..]
            ));
            next = received.len();
            break;
        }
        next = end;
    }
    if next < received.len() {
        problems.push(format!(
            "events: more than the calls cause: {:?}",
            &received[next..]
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the aas-python-http-client flow ({} steps, {expected} events expected, {} received):\n{}",
        problems.len(),
        report.steps.len(),
        received.len(),
        problems.join("\n")
    );
    Ok(())
}
