//! The server's limits on bodies and connections, seen from outside the process: bodies up to
//! the configured limit are taken (and above it refused with 413), slow and idle connections are
//! closed, thousands of idle connections leave `/health` answering, and running out of file
//! descriptors neither floods the log nor stops the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Launch, Server, TestResult, b64, multipart};

fn with_config(data: &DataDir, config: &str) -> Result<Launch, Failure> {
    std::fs::create_dir_all(&data.0)?;
    let path = data.0.join("server.toml");
    std::fs::write(&path, config)?;
    Ok(Launch::hold_events()
        .arg("--config")
        .arg(path.display().to_string()))
}

/// A submodel of about `bytes` bytes of JSON: one Blob holding base64 text.
fn big_submodel(id: &str, bytes: usize) -> Value {
    json!({"id": id, "modelType": "Submodel", "idShort": "Big", "submodelElements": [
        {"modelType": "Blob", "idShort": "Data", "contentType": "application/octet-stream",
         "value": "QUJD".repeat(bytes / 4)},
        {"modelType": "File", "idShort": "Manual", "contentType": "application/pdf"}]})
}

#[tokio::test]
async fn bodies_over_axums_two_mib_default_are_taken_up_to_the_configured_limit() -> TestResult {
    let data = DataDir::new("limits-body");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:big";
    let submodel = big_submodel(id, 4_400_000);
    let created = http
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(submodel.to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().await?);
    // What the server serves can be put back.
    let served = http
        .get(server.url(&format!("/submodels/{}?extent=withBlobValue", b64(id))))
        .send()
        .await?
        .bytes()
        .await?;
    assert!(served.len() > 4_000_000, "{} bytes served", served.len());
    let replaced = http
        .put(server.url(&format!("/submodels/{}", b64(id))))
        .header("content-type", "application/json")
        .body(served)
        .send()
        .await?;
    assert_eq!(
        replaced.status().as_u16(),
        204,
        "{}",
        replaced.text().await?
    );
    let (content_type, body) = multipart("manual.pdf", &vec![b'%'; 3_000_000]);
    let attached = http
        .put(server.url(&format!(
            "/submodels/{}/submodel-elements/Manual/attachment",
            b64(id)
        )))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    assert_eq!(
        attached.status().as_u16(),
        204,
        "{}",
        attached.text().await?
    );
    Ok(())
}

#[tokio::test]
async fn a_multipart_body_over_the_configured_limit_is_refused_with_413_and_a_part2_body()
-> TestResult {
    let data = DataDir::new("limits-multipart");
    let server = Server::launch(&data, &with_config(&data, "body-limit = 100000\n")?)?;
    let http = reqwest::Client::new();
    let created = http
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(big_submodel("urn:sm:small", 1000).to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let (content_type, body) = multipart("manual.pdf", &vec![b'%'; 200_000]);
    let refused = http
        .put(server.url(&format!(
            "/submodels/{}/submodel-elements/Manual/attachment",
            b64("urn:sm:small")
        )))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 413);
    let body: Value = serde_json::from_str(&refused.text().await?)?;
    assert_eq!(body["messages"][0]["code"], "413", "{body}");
    Ok(())
}

/// Reads until the server closes the connection or `wait` passes; whether it closed.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> std::io::Result<bool> {
    let deadline = Instant::now() + wait;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

#[test]
fn idle_and_slow_connections_are_closed_at_their_timeouts() -> TestResult {
    let data = DataDir::new("limits-timeouts");
    // The idle timeout well above the header timeout: a slow header must be cut at the
    // latter, not only when the connection would count as idle.
    let server = Server::launch(
        &data,
        &with_config(
            &data,
            "header-read-timeout-secs = 1\nidle-timeout-secs = 5\n",
        )?,
    )?;
    let address = format!("127.0.0.1:{}", server.port);

    // Slowloris: a header byte every 200 ms never completes within the header timeout.
    let mut slow = TcpStream::connect(&address)?;
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")?;
    let started = Instant::now();
    let mut cut_off = None;
    while started.elapsed() < Duration::from_secs(8) {
        if slow.write_all(b"X").is_err() || closed_within(&mut slow, Duration::from_millis(200))? {
            cut_off = Some(started.elapsed());
            break;
        }
    }
    let cut_off = cut_off.ok_or("a header trickling for 8 s was not cut off")?;
    assert!(
        cut_off < Duration::from_secs(3),
        "cut off after {cut_off:?}: at the idle timeout, not the header timeout"
    );

    // A connection that never sends anything: idle.
    let mut silent = TcpStream::connect(&address)?;
    assert!(!closed_within(&mut silent, Duration::from_secs(4))?);
    assert!(closed_within(&mut silent, Duration::from_secs(5))?);

    // A kept-alive connection after its answer: idle again, closed after the idle timeout.
    let mut kept = TcpStream::connect(&address)?;
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")?;
    kept.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut answer = [0u8; 1024];
    let n = kept.read(&mut answer)?;
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    assert!(!closed_within(&mut kept, Duration::from_secs(4))?);
    assert!(closed_within(&mut kept, Duration::from_secs(5))?);
    Ok(())
}

#[tokio::test]
async fn two_thousand_idle_connections_leave_health_answering() -> TestResult {
    let data = DataDir::new("limits-idle");
    let server = Server::start(&data)?;
    let mut idle = Vec::new();
    for _ in 0..2000 {
        idle.push(TcpStream::connect(("127.0.0.1", server.port))?);
    }
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let health = tokio::time::timeout(
            Duration::from_secs(5),
            http.get(server.url("/health")).send(),
        )
        .await??;
        assert_eq!(health.status().as_u16(), 200);
    }
    drop(idle);
    Ok(())
}

#[tokio::test]
async fn out_of_file_descriptors_the_server_lowers_its_caps_and_keeps_serving() -> TestResult {
    let data = DataDir::new("limits-files");
    let mut launch = with_config(&data, "idle-timeout-secs = 1\n")?;
    launch.open_files = Some(512);
    let server = Server::launch(&data, &launch)?;
    assert!(
        server.log_text().contains("lowered"),
        "no warning that the caps were lowered: {}",
        server.log_text()
    );
    // More connections than the server has descriptors for, to HTTP and to the broker. Those
    // that wait over a full backlog are given up (the kernel holds them, not the server).
    let attempts = (0..1200).map(|n| {
        let port = if n % 2 == 0 {
            server.port
        } else {
            server.mqtt_port
        };
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
    });
    let held: Vec<_> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .filter_map(|attempt| attempt.ok().and_then(Result::ok))
        .collect();
    // More than the lowered caps (about 180 in all) hold: the rest wait in the backlogs, or
    // are given up, depending on how fast the kernel took them.
    assert!(held.len() > 400, "only {} connections opened", held.len());
    let http = reqwest::Client::new();
    let health = tokio::time::timeout(
        Duration::from_secs(20),
        http.get(server.url("/health")).send(),
    )
    .await??;
    assert_eq!(health.status().as_u16(), 200);
    let log = server.log_text();
    let errors = log.lines().filter(|l| l.contains("open files")).count();
    assert!(
        errors < 20,
        "{errors} log lines about open files: {}",
        &log[..log.len().min(2000)]
    );
    drop(held);
    Ok(())
}

/// What the server answers to `request` sent raw, read until it closes the connection.
fn raw_answer(port: u16, request: &[u8]) -> Result<String, Failure> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(request)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The Part 2 body of a raw answer: its first message's code and text.
fn part2_of(answer: &str) -> Result<(String, String), Failure> {
    let (_, body) = answer.split_once("\r\n\r\n").ok_or("no body")?;
    let json: Value = serde_json::from_str(body)?;
    let message = &json["messages"][0];
    Ok((
        message["code"].as_str().unwrap_or_default().to_owned(),
        message["text"].as_str().unwrap_or_default().to_owned(),
    ))
}

#[test]
fn more_than_a_hundred_header_fields_are_refused_with_431_and_a_part2_body() -> TestResult {
    let data = DataDir::new("limits-headers");
    let server = Server::start(&data)?;
    let mut request = String::from("GET /health HTTP/1.1\r\nHost: x\r\n");
    for n in 0..150 {
        request.push_str(&format!("X-Field-{n}: {n}\r\n"));
    }
    request.push_str("\r\n");
    let answer = raw_answer(server.port, request.as_bytes())?;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    let (code, text) = part2_of(&answer)?;
    assert_eq!(code, "431");
    assert!(text.contains("at most 100 header fields"), "{text}");
    Ok(())
}

#[test]
fn a_request_hyper_cannot_parse_gets_400_with_a_part2_body_and_the_server_keeps_serving()
-> TestResult {
    let data = DataDir::new("limits-malformed");
    let server = Server::start(&data)?;
    for request in [
        &b"GET /health HTTP/1.1\r\nHost x-no-colon\r\n\r\n"[..],
        b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    ] {
        let answer = raw_answer(server.port, request)?;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let (code, text) = part2_of(&answer)?;
        assert_eq!(code, "400");
        assert!(text.contains("could not be parsed"), "{text}");
    }
    let answer = raw_answer(
        server.port,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    Ok(())
}

#[test]
fn a_body_that_does_not_arrive_within_the_request_timeout_gets_408_with_a_part2_body() -> TestResult
{
    let data = DataDir::new("limits-request-timeout");
    let server = Server::launch(&data, &with_config(&data, "request-timeout-secs = 1\n")?)?;
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))?;
    stream.write_all(
        b"POST /shells HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"id\":",
    )?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.ends_with(b"}") {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"408\""), "{text}");
    Ok(())
}

#[tokio::test]
async fn elements_nested_deeper_than_the_readers_accept_are_refused_and_the_submodel_still_reads()
-> TestResult {
    let data = DataDir::new("limits-depth");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:deep";
    let created = http
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(json!({"id": id, "modelType": "Submodel"}).to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let collection = json!({"modelType": "SubmodelElementCollection", "idShort": "Cc"}).to_string();
    let mut path = String::new();
    let mut refused = None;
    for level in 0..100 {
        let url = if path.is_empty() {
            server.url(&format!("/submodels/{}/submodel-elements", b64(id)))
        } else {
            server.url(&format!("/submodels/{}/submodel-elements/{path}", b64(id)))
        };
        let answer = http
            .post(url)
            .header("content-type", "application/json")
            .body(collection.clone())
            .send()
            .await?;
        if answer.status().as_u16() != 201 {
            refused = Some((level, answer.status().as_u16(), answer.text().await?));
            break;
        }
        path = if path.is_empty() {
            "Cc".into()
        } else {
            format!("{path}.Cc")
        };
    }
    let (level, status, text) = refused.ok_or("100 nested collections were all stored")?;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("MAX_DEPTH"), "{text}");
    assert!(level > 50, "refused already at level {level}: {text}");
    // What is stored still reads, in both formats.
    for accept in ["application/json", "application/xml"] {
        let serialization = http
            .get(server.url(&format!("/serialization?submodelIds={}", b64(id))))
            .header("accept", accept)
            .send()
            .await?;
        assert_eq!(serialization.status().as_u16(), 200);
        let bytes = serialization.bytes().await?;
        let read = if accept == "application/json" {
            aas_serde::json::from_slice::<aas_model::Environment>(&bytes)
                .map(drop)
                .map_err(|e| e.to_string())
        } else {
            aas_serde::xml::from_slice::<aas_model::Environment>(&bytes)
                .map(drop)
                .map_err(|e| e.to_string())
        };
        assert!(read.is_ok(), "{accept}: {:?}", read.err());
    }
    Ok(())
}

#[tokio::test]
async fn silent_mqtt_clients_lose_their_slots_when_the_broker_drops_them() -> TestResult {
    let data = DataDir::new("limits-mqtt-silent");
    let server = Server::launch(&data, &with_config(&data, "[mqtt]\nmax-connections = 4\n")?)?;
    // Four connections that never send CONNECT take every slot; rumqttd drops them after its
    // 10 s connect timeout, and that must end them at the front too.
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(("127.0.0.1", server.mqtt_port))?);
    }
    let mut subscribed = None;
    // A new client id each try: an earlier try's CONNECT, queued behind the cap, can leave a
    // session under its id, and the collector subscribes only without one.
    for attempt in 0..3 {
        let client_id = format!("after-silent-{attempt}");
        if let Ok(collector) =
            support::Collector::subscribe(server.mqtt_port, &client_id, "#").await
        {
            subscribed = Some(collector);
            break;
        }
    }
    assert!(
        subscribed.is_some(),
        "no subscription within 30 s while silent clients held every slot: {}",
        server.log_text()
    );
    drop(silent);
    Ok(())
}

#[tokio::test]
async fn connect_and_close_loops_on_the_broker_port_do_not_flood_the_log() -> TestResult {
    let data = DataDir::new("limits-mqtt-log");
    let server = Server::start(&data)?;
    for _ in 0..300 {
        drop(tokio::net::TcpStream::connect(("127.0.0.1", server.mqtt_port)).await?);
    }
    // rumqttd logs each of them at error level; what passes is capped.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = server.log_text();
    let broker_lines = log.lines().filter(|l| l.contains("rumqttd::")).count();
    assert!(
        broker_lines < 120,
        "{broker_lines} lines of rumqttd for 300 connections"
    );
    Ok(())
}

#[tokio::test]
async fn serialization_writes_an_id_named_many_times_once() -> TestResult {
    let data = DataDir::new("limits-serialization");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:once";
    let created = http
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(big_submodel(id, 100_000).to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let ids = vec![b64(id); 200].join(",");
    let answer = http
        .get(server.url(&format!("/serialization?submodelIds={ids}")))
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 200);
    let environment: Value = serde_json::from_slice(&answer.bytes().await?)?;
    assert_eq!(environment["submodels"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn playground_bodies_over_four_mib_are_refused_with_413() -> TestResult {
    let data = DataDir::new("limits-playground");
    let server = Server::start(&data)?;
    let document = format!("[{}0]", "0,".repeat(2_200_000));
    let body = format!(r#"{{"kind":"jsonpath","doc":{document},"path":"$[0]"}}"#);
    let answer = reqwest::Client::new()
        .post(server.url("/sdts/evaluate"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    assert_eq!(answer.status().as_u16(), 413);
    let small = reqwest::Client::new()
        .post(server.url("/sdts/evaluate"))
        .header("content-type", "application/json")
        .body(r#"{"kind":"jsonpath","doc":[0,1],"path":"$[1]"}"#)
        .send()
        .await?;
    assert_eq!(small.status().as_u16(), 200, "{}", small.text().await?);
    Ok(())
}

/// A client reading a large answer slowly, with its next request already sent (HTTP/1.1
/// pipelining): the header-read clock of that next request must not run while the answer
/// before it is still being written, or the answer is cut off mid-body.
#[tokio::test]
async fn a_slowly_read_answer_is_not_cut_off_by_the_pipelined_requests_header_clock() -> TestResult
{
    let data = DataDir::new("limits-slow-reader");
    let server = Server::launch(
        &data,
        &with_config(&data, "header-read-timeout-secs = 2\n")?,
    )?;
    let id = "urn:sm:slow";
    let created = reqwest::Client::new()
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(big_submodel(id, 20_000_000).to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let port = server.port;
    let path = format!("/submodels/{}?extent=withBlobValue", b64(id));
    let received = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
        let started = Instant::now();
        let mut pipelined = false;
        let mut received = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        // About 3 MB/s: the 20 MB answer takes about 6 s; beyond what the kernel's socket
        // buffers take, the server is still writing it well after the 2 s header-read timeout.
        while started.elapsed() < Duration::from_secs(20) {
            if !pipelined && started.elapsed() > Duration::from_millis(500) {
                stream
                    .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                pipelined = true;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(received)
    })
    .await??;
    let text = String::from_utf8_lossy(&received);
    let answers = text.matches("HTTP/1.1 200").count();
    assert_eq!(
        answers,
        2,
        "{} bytes received; the second answer is missing (the first was cut off?)",
        received.len()
    );
    assert!(
        text.ends_with("{\"status\":\"UP\"}"),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    Ok(())
}
