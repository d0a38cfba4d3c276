//! Every operation `/openapi.json` documents, called without a key and with a key of every
//! role: the roles are attached to the route groups, and this walks all of them, so a route
//! added to a group without the right role (or outside every group) is caught here.
//!
//! The policy checked (the README's): `/health`, `/openapi.json` and `/swagger` are open;
//! the push and synchronization administration (`/sphere/...`, `/sdts/...`) and the dead
//! letters (`/events/dead-letters...`) need `admin`; everything else needs `read` to read
//! (GET) and `write` to change.

use serde_json::Value;

mod support;

use support::{DataDir, Failure, Launch, Server, TestResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Read,
    Write,
    Admin,
}

fn required(method: &str, path: &str) -> Option<Role> {
    if path == "/health" || path == "/openapi.json" || path.starts_with("/swagger") {
        return None;
    }
    if path.starts_with("/sphere/")
        || path.starts_with("/sdts")
        || path.starts_with("/events/dead-letters")
    {
        return Some(Role::Admin);
    }
    Some(if method == "get" {
        Role::Read
    } else {
        Role::Write
    })
}

fn sha256_hex(text: &str) -> Result<String, Failure> {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .as_mut()
        .ok_or("no stdin")?
        .write_all(text.as_bytes())?;
    let output = child.wait_with_output()?;
    Ok(String::from_utf8(output.stdout)?
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// A documented path with its parameters filled in (`eA` is base64url of `x`, and passes as
/// a name, an idShort path and an identifier alike).
fn filled(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str("eA");
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_documented_operation_takes_exactly_the_roles_its_group_allows() -> TestResult {
    let keys = [
        (Role::Read, "reader-key-1"),
        (Role::Write, "writer-key-2"),
        (Role::Admin, "admin-key-3"),
    ];
    let mut launch = Launch::hold_events();
    for (role, key) in keys {
        let role = format!("{role:?}").to_lowercase();
        launch = launch
            .arg("--api-key")
            .arg(format!("{role}:{}", sha256_hex(key)?));
    }
    let data = DataDir::new("roles-walk");
    let server = Server::launch(&data, &launch)?;
    let http = reqwest::Client::new();
    let document: Value = http
        .get(server.url("/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let paths = document["paths"].as_object().ok_or("no paths")?;
    let mut walked = 0;
    for (path, operations) in paths {
        let operations = operations.as_object().ok_or("no operations")?;
        for method in operations.keys() {
            let Ok(verb) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue; // "parameters" and other non-operation keys
            };
            let url = server.url(&filled(path));
            let send = |key: Option<&str>| {
                let mut request = http.request(verb.clone(), &url);
                if verb != reqwest::Method::GET && verb != reqwest::Method::DELETE {
                    request = request
                        .header("content-type", "application/json")
                        .body("{}");
                }
                if let Some(key) = key {
                    request = request.bearer_auth(key);
                }
                request.send()
            };
            let needed = required(method, path);
            let anonymous = send(None).await?.status().as_u16();
            match needed {
                None => assert!(
                    anonymous != 401 && anonymous != 403,
                    "{method} {path} is open, but answered {anonymous} without a key"
                ),
                Some(_) => assert_eq!(anonymous, 401, "{method} {path} without a key"),
            }
            for (role, key) in keys {
                let response = send(Some(key)).await?;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                let allowed = needed.is_none_or(|needed| role >= needed);
                if allowed {
                    assert!(
                        status != 401 && status != 403,
                        "{method} {path} with a {role:?} key answered {status}: {body}"
                    );
                    assert!(
                        status != 405 && !body.contains("no such endpoint"),
                        "{method} {path} is documented but not routed: {status} {body}"
                    );
                } else {
                    assert_eq!(status, 403, "{method} {path} with a {role:?} key: {body}");
                }
            }
            walked += 1;
        }
    }
    assert!(walked > 100, "only {walked} operations are documented");
    Ok(())
}
