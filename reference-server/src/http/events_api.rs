//! The event feed (`GET /events`): every event of the retention period, as subscribers receive
//! it, for consumers that catch up on what they missed (the embedded broker keeps nothing
//! across a restart of the server). And the dead letters: events the publisher gave up on,
//! listed and put back into the outbox by an admin.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Params, PathParams};
use super::{ApiError, ApiResult, RepositoryState};
use crate::storage::{DeadLetter, LoggedEvent};

/// A page of the feed ends early once it holds this much of messages (stored size).
const PAGE_BYTES: usize = 4 << 20;
/// How far a message of the feed may expand (gzip).
const MAX_EXPANDED: u64 = 512 << 20;

#[derive(Debug, Deserialize)]
pub(super) struct FeedQuery {
    since: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `limit` as the Part 2 listings read it: 100 by default, at most 1000, at least 1.
fn limit_of(limit: Option<i64>) -> ApiResult<usize> {
    match limit {
        None => Ok(100),
        Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX).min(1000)),
        Some(n) => Err(ApiError::bad_request(format!("limit {n} is below 1"))),
    }
}

/// An AASa-001 cursor: absent, or not empty.
fn cursor_of(cursor: Option<String>) -> ApiResult<Option<String>> {
    match cursor {
        Some(text) if text.is_empty() => Err(ApiError::bad_request("cursor is empty")),
        other => Ok(other),
    }
}

fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn page(items: Vec<Value>, cursor: Option<String>) -> Response {
    let paging = match cursor {
        Some(cursor) => json!({ "cursor": cursor }),
        None => json!({}),
    };
    axum::Json(json!({"paging_metadata": paging, "result": items})).into_response()
}

/// One event of the feed: the message decoded as a subscriber decodes it (the twinsphere
/// envelope expanded from gzip, a CloudEvent as it is).
fn feed_item(event: &LoggedEvent) -> Value {
    let mut item = json!({
        "sequence": event.sequence,
        "topic": event.topic,
        "timestamp": timestamp(event.timestamp),
        "referenceOnly": event.reference_only,
    });
    match events_core::envelope::to_json(&event.payload, MAX_EXPANDED) {
        Ok(message) => item["message"] = message,
        Err(error) => {
            item["message"] = Value::Null;
            item["error"] = Value::String(error.to_string());
        }
    }
    item
}

/// `GET /events?since=<RFC 3339>&limit=&cursor=`: events at or after `since` (all retained
/// ones without it), in the order their changes were committed.
pub(super) async fn feed(
    State(state): State<RepositoryState>,
    Params(query): Params<FeedQuery>,
) -> ApiResult<Response> {
    let since = query
        .since
        .as_deref()
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|time| time.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "since {text:?} is not an RFC 3339 date and time with offset \
                         (e.g. 2026-01-02T03:04:05.123456Z): {e}"
                    ))
                })
        })
        .transpose()?;
    let limit = limit_of(query.limit)?;
    let cursor = cursor_of(query.cursor)?;
    let repository = &state.repository;
    let events = repository
        .events(since, limit, PAGE_BYTES, cursor.as_deref())
        .await?;
    let items = events.items.iter().map(feed_item).collect();
    Ok(page(items, events.cursor))
}

fn dead_letter_item(letter: &DeadLetter) -> Value {
    json!({
        "sequence": letter.sequence,
        "eventSequence": letter.event,
        "topic": letter.topic,
        "attempts": letter.attempts,
        "error": letter.error,
        "failedAt": timestamp(letter.failed_at),
        "size": letter.size,
    })
}

/// `GET /events/dead-letters` (admin): events the publisher gave up on, oldest first.
pub(super) async fn dead_letters(
    State(state): State<RepositoryState>,
    Params(query): Params<PageQuery>,
) -> ApiResult<Response> {
    let limit = limit_of(query.limit)?;
    let cursor = cursor_of(query.cursor)?;
    let letters = state
        .repository
        .dead_letters(limit, cursor.as_deref())
        .await?;
    let items = letters.items.iter().map(dead_letter_item).collect();
    Ok(page(items, letters.cursor))
}

/// `POST /events/dead-letters/{sequence}/retry` (admin): back into the outbox, attempts
/// counted from zero; 204.
pub(super) async fn retry_dead_letter(
    State(state): State<RepositoryState>,
    PathParams(sequence): PathParams<String>,
) -> ApiResult<StatusCode> {
    let sequence: i64 = sequence.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{sequence:?} is not a dead letter's sequence number"
        ))
    })?;
    state.repository.retry_dead_letter(sequence).await?;
    Ok(StatusCode::NO_CONTENT)
}
