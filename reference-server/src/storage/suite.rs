//! The repository suite: what every storage backend must do, checked through the traits the
//! services use ([`Repository`], [`PushRecords`], [`TwinRecords`]), run against SQLite and
//! against PostgreSQL (a private cluster, `aas_conformance_tests::postgres`). Each case gets
//! fresh, empty stores; a backend passes when every case does.

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use super::{
    Attachment, Collection, ConceptDescriptionFilter, Edit, Event, PushRecords, Repository,
    ShellFilter, StorageError, StoreError, SubmodelChange, SubmodelFilter, TwinRecords,
    WriteEvents, Written,
};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A backend's stores, fresh and empty, and what keeps them alive.
pub(crate) struct Stores {
    pub repository: Arc<dyn Repository>,
    pub push: Arc<dyn PushRecords>,
    pub twins: Arc<dyn TwinRecords>,
    pub _keep: Box<dyn std::any::Any + Send + Sync>,
}

type Case = fn(Stores) -> BoxFuture<'static, TestResult>;

/// Every case, by name.
const CASES: &[(&str, Case)] = &[
    (
        "elements are created, replaced, read back and deleted",
        |s| Box::pin(elements_are_created_replaced_read_back_and_deleted(s)),
    ),
    (
        "of concurrent creates of one id exactly one succeeds",
        |s| Box::pin(of_concurrent_creates_of_one_id_exactly_one_succeeds(s)),
    ),
    (
        "listings page with cursors and filters and refuse foreign cursors",
        |s| Box::pin(listings_page_with_cursors_and_filters_and_refuse_foreign_cursors(s)),
    ),
    ("submodel changes know the shells that refer to them", |s| {
        Box::pin(submodel_changes_know_the_shells_that_refer_to_them(s))
    }),
    ("a refused change changes nothing and makes no event", |s| {
        Box::pin(a_refused_change_changes_nothing_and_makes_no_event(s))
    }),
    (
        "events are logged with their change and published from the log",
        |s| Box::pin(events_are_logged_with_their_change_and_published_from_the_log(s)),
    ),
    ("the feed pages from a time by count and by size", |s| {
        Box::pin(the_feed_pages_from_a_time_by_count_and_by_size(s))
    }),
    ("pruning keeps recent and unpublished events", |s| {
        Box::pin(pruning_keeps_recent_and_unpublished_events(s))
    }),
    (
        "failed entries back off and dead letters can be retried",
        |s| Box::pin(failed_entries_back_off_and_dead_letters_can_be_retried(s)),
    ),
    ("files follow the elements that hold them", |s| {
        Box::pin(files_follow_the_elements_that_hold_them(s))
    }),
    ("a submodel is served without its blob values", |s| {
        Box::pin(a_submodel_is_served_without_its_blob_values(s))
    }),
    ("elements nested too deeply are refused", |s| {
        Box::pin(elements_nested_too_deeply_are_refused(s))
    }),
    ("push records keep targets and jobs", |s| {
        Box::pin(push_records_keep_targets_and_jobs(s))
    }),
    ("twin records check platforms and bindings", |s| {
        Box::pin(twin_records_check_platforms_and_bindings(s))
    }),
];

/// Runs every case on fresh stores from `fresh`; fails naming every case that failed.
pub(crate) async fn run<F>(backend: &str, fresh: impl Fn(usize) -> F) -> TestResult
where
    F: std::future::Future<Output = Result<Stores, Box<dyn std::error::Error + Send + Sync>>>,
{
    let mut failed = Vec::new();
    for (n, (name, case)) in CASES.iter().enumerate() {
        let stores = fresh(n).await?;
        // On a task of its own, so that a failed assertion is reported with the case's name.
        match tokio::spawn(case(stores)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failed.push(format!("{name}: {error}")),
            Err(panicked) => failed.push(format!("{name}: {panicked}")),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{backend} fails {} case(s):\n{}",
            failed.len(),
            failed.join("\n")
        )
        .into())
    }
}

fn submodel_from(json: &str) -> Result<Submodel, aas_serde::json::Error> {
    aas_serde::json::from_str(json)
}

fn shell(id: &str, id_short: &str, submodels: &[&str]) -> AssetAdministrationShell {
    let mut info = aas_model::AssetInformation::new(aas_model::AssetKind::Instance);
    info.global_asset_id = Some(format!("{id}/asset"));
    info.specific_asset_ids = Some(vec![aas_model::SpecificAssetId::new("serial", id_short)]);
    let mut shell = AssetAdministrationShell::new(id, info);
    shell.id_short = Some(id_short.to_owned());
    if !submodels.is_empty() {
        shell.submodels = Some(
            submodels
                .iter()
                .map(|sm| {
                    aas_model::Reference::new(
                        aas_model::ReferenceTypes::ModelReference,
                        vec![aas_model::Key::new(aas_model::KeyTypes::Submodel, *sm)],
                    )
                })
                .collect(),
        );
    }
    shell
}

/// A write's events: one, named `topic`, the outcome and the shells affected.
fn named(topic: &str) -> WriteEvents {
    let topic = topic.to_owned();
    Box::new(move |written: Written, affected: &[String]| {
        let name = format!("{topic}/{written:?}/{}", affected.join(","));
        vec![Event::new(name, b"message".to_vec(), Utc::now())]
    })
}

fn none() -> WriteEvents {
    Box::new(|_: Written, _: &[String]| Vec::new())
}

async fn put_shell(
    repository: &dyn Repository,
    shell: &AssetAdministrationShell,
    events: WriteEvents,
) -> Result<Written, StorageError> {
    let json = aas_serde::json::to_string(shell).into();
    (repository.put_shell_serialized(Arc::new(shell.clone()), json, events)).await
}

async fn put_submodel(
    repository: &dyn Repository,
    submodel: &Submodel,
    events: WriteEvents,
) -> Result<SubmodelChange, StorageError> {
    let json = aas_serde::json::to_string(submodel).into();
    (repository.put_submodel_serialized(Arc::new(submodel.clone()), json, events)).await
}

async fn create_submodel(
    repository: &dyn Repository,
    submodel: &Submodel,
) -> Result<SubmodelChange, StorageError> {
    let json = aas_serde::json::to_string(submodel).into();
    (repository.create_submodel_serialized(Arc::new(submodel.clone()), json, none())).await
}

async fn topics(repository: &dyn Repository) -> Result<Vec<String>, StorageError> {
    let page = repository.events(None, 1000, usize::MAX, None).await?;
    Ok(page.items.into_iter().map(|event| event.topic).collect())
}

async fn elements_are_created_replaced_read_back_and_deleted(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    let one = shell("urn:aas:1", "one", &[]);
    assert_eq!(put_shell(r, &one, none()).await?, Written::Created);
    assert_eq!(put_shell(r, &one, none()).await?, Written::Replaced);
    assert_eq!(r.shell("urn:aas:1").await?.as_ref(), Some(&one));
    let json = aas_serde::json::to_string(&one);
    let created = r
        .create_shell_serialized(Arc::new(one.clone()), json.clone().into(), none())
        .await;
    assert!(
        matches!(created, Err(StorageError::Exists(_))),
        "{created:?}"
    );
    assert_eq!(
        r.stored_json(Collection::Shells, "urn:aas:1").await?,
        Some(json)
    );

    let submodel = Submodel::new("urn:sm:1");
    assert_eq!(
        put_submodel(r, &submodel, none()).await?.written,
        Written::Created
    );
    let again = create_submodel(r, &submodel).await;
    assert!(matches!(again, Err(StorageError::Exists(_))), "{again:?}");
    assert_eq!(r.submodel("urn:sm:1").await?, Some(submodel));

    let cd = ConceptDescription::new("urn:cd:1");
    assert_eq!(r.put_concept_description(&cd).await?, Written::Created);
    assert_eq!(r.put_concept_description(&cd).await?, Written::Replaced);
    let twice = r.create_concept_description(&cd).await;
    assert!(matches!(twice, Err(StorageError::Exists(_))), "{twice:?}");
    assert_eq!(r.concept_description("urn:cd:1").await?, Some(cd));

    r.create_concept_description(&ConceptDescription::new("urn:cd:2"))
        .await?;
    assert_eq!(
        r.ids(Collection::ConceptDescriptions).await?,
        ["urn:cd:1", "urn:cd:2"]
    );
    r.delete_concept_description("urn:cd:1").await?;
    let gone = r.delete_concept_description("urn:cd:1").await;
    assert!(matches!(gone, Err(StorageError::NotFound(_))), "{gone:?}");
    r.delete_shell("urn:aas:1", Box::new(|_| Vec::new()))
        .await?;
    assert_eq!(r.shell("urn:aas:1").await?, None);
    let gone = r
        .delete_submodel("urn:sm:9", Box::new(|_, _| Vec::new()))
        .await;
    assert!(matches!(gone, Err(StorageError::NotFound(_))), "{gone:?}");
    r.delete_submodel("urn:sm:1", Box::new(|_, _| Vec::new()))
        .await?;
    assert_eq!(r.ids(Collection::Submodels).await?, Vec::<String>::new());
    Ok(())
}

async fn of_concurrent_creates_of_one_id_exactly_one_succeeds(stores: Stores) -> TestResult {
    let creates: Vec<_> = (0..8)
        .map(|n| {
            let repository = stores.repository.clone();
            tokio::spawn(async move {
                let mut submodel = Submodel::new("urn:sm:race");
                submodel.category = Some(format!("writer {n}"));
                create_submodel(&*repository, &submodel).await
            })
        })
        .collect();
    let (mut created, mut exists) = (0, 0);
    for create in creates {
        match create.await? {
            Ok(_) => created += 1,
            Err(StorageError::Exists(_)) => exists += 1,
            Err(other) => return Err(other.into()),
        }
    }
    assert_eq!((created, exists), (1, 7));
    assert_eq!(
        stores.repository.ids(Collection::Submodels).await?,
        ["urn:sm:race"]
    );
    Ok(())
}

async fn listings_page_with_cursors_and_filters_and_refuse_foreign_cursors(
    stores: Stores,
) -> TestResult {
    let r = &*stores.repository;
    for n in 0..25 {
        let id_short = format!("line{}", n % 3);
        put_shell(
            r,
            &shell(&format!("urn:aas:{n:02}"), &id_short, &[]),
            none(),
        )
        .await?;
    }
    // A replace keeps the element's place.
    put_shell(r, &shell("urn:aas:03", "line0", &[]), none()).await?;
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let filter = ShellFilter::default();
        let page = r.shells_where(&filter, 10, cursor.as_deref()).await?;
        seen.extend(page.items.into_iter().map(|shell| shell.id));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<String> = (0..25).map(|n| format!("urn:aas:{n:02}")).collect();
    assert_eq!(seen, expected);

    let line1 = ShellFilter {
        id_short: Some("line1".into()),
        ..ShellFilter::default()
    };
    let first = r.shells_where(&line1, 5, None).await?;
    let ids: Vec<&str> = first.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "urn:aas:01",
            "urn:aas:04",
            "urn:aas:07",
            "urn:aas:10",
            "urn:aas:13"
        ]
    );
    let rest = r.shells_where(&line1, 5, first.cursor.as_deref()).await?;
    let ids: Vec<&str> = rest.items.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["urn:aas:16", "urn:aas:19", "urn:aas:22"]);
    assert_eq!(rest.cursor, None);

    // The replace moved urn:aas:03 from line0 to line0 (same), and its asset id with it.
    let both = ShellFilter {
        id_short: Some("line2".into()),
        asset_ids: vec![
            ("serial".into(), "line2".into()),
            ("globalAssetId".into(), "urn:aas:05/asset".into()),
        ],
    };
    let found = r.shells_where(&both, 10, None).await?;
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, "urn:aas:05");
    put_shell(r, &shell("urn:aas:05", "moved", &[]), none()).await?;
    assert!(r.shells_where(&both, 10, None).await?.items.is_empty());

    let submodel = submodel_from(
        r#"{"id":"urn:sm:s","idShort":"s","modelType":"Submodel",
            "semanticId":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"urn:sem:1"}]}}"#,
    )?;
    put_submodel(r, &submodel, none()).await?;
    put_submodel(r, &Submodel::new("urn:sm:other"), none()).await?;
    let by_semantic_id = SubmodelFilter {
        semantic_id: Some("urn:sem:1".into()),
        ..SubmodelFilter::default()
    };
    let page = r.submodels_where(&by_semantic_id, 10, None).await?;
    assert_eq!(page.items, [submodel]);

    let mut cd = ConceptDescription::new("urn:cd:1");
    cd.id_short = Some("unit".into());
    r.put_concept_description(&cd).await?;
    let by_id_short = ConceptDescriptionFilter {
        id_short: Some("unit".into()),
        ..ConceptDescriptionFilter::default()
    };
    let page = r.concept_descriptions_where(&by_id_short, 10, None).await?;
    assert_eq!(page.items, [cd]);

    let shells_cursor = r
        .shells_where(&ShellFilter::default(), 1, None)
        .await?
        .cursor
        .ok_or("no cursor after a page of one")?;
    let foreign = r
        .submodels_where(&SubmodelFilter::default(), 10, Some(&shells_cursor))
        .await;
    assert!(
        matches!(foreign, Err(StorageError::BadCursor(_))),
        "{foreign:?}"
    );
    let made_up = r
        .shells_where(&ShellFilter::default(), 10, Some("42"))
        .await;
    assert!(
        matches!(made_up, Err(StorageError::BadCursor(_))),
        "{made_up:?}"
    );
    Ok(())
}

async fn submodel_changes_know_the_shells_that_refer_to_them(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    put_shell(r, &shell("urn:aas:b", "b", &["urn:sm:1"]), none()).await?;
    put_shell(
        r,
        &shell("urn:aas:a", "a", &["urn:sm:1", "urn:sm:2"]),
        none(),
    )
    .await?;
    let change = put_submodel(r, &Submodel::new("urn:sm:1"), named("put")).await?;
    assert_eq!(change.affected_shell_ids, ["urn:aas:a", "urn:aas:b"]);
    let edit: Edit<Submodel> = Box::new(|submodel| {
        submodel.category = Some("edited".into());
        Ok(())
    });
    let edited = Box::new(|_: &Submodel, json: &str, change: &SubmodelChange| {
        let topic = format!(
            "edit/{}/{}",
            json.contains("edited"),
            change.affected_shell_ids.join(",")
        );
        vec![Event::new(topic, Vec::new(), Utc::now())]
    });
    let changed = r.modify_submodel("urn:sm:1", None, edit, edited).await?;
    assert_eq!(changed.category.as_deref(), Some("edited"));
    // The shell no longer refers to it.
    put_shell(r, &shell("urn:aas:b", "b", &[]), none()).await?;
    let deleted = Box::new(|submodel: &Submodel, affected: &[String]| {
        let topic = format!("delete/{}/{}", submodel.id, affected.join(","));
        vec![Event::new(topic, Vec::new(), Utc::now())]
    });
    r.delete_submodel("urn:sm:1", deleted).await?;
    let again = r
        .delete_submodel("urn:sm:1", Box::new(|_, _| Vec::new()))
        .await;
    assert!(matches!(again, Err(StorageError::NotFound(_))), "{again:?}");
    assert_eq!(
        topics(r).await?,
        [
            "put/Created/urn:aas:a,urn:aas:b",
            "edit/true/urn:aas:a,urn:aas:b",
            "delete/urn:sm:1/urn:aas:a",
        ]
    );
    Ok(())
}

async fn a_refused_change_changes_nothing_and_makes_no_event(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    let submodel = Submodel::new("urn:sm:1");
    put_submodel(r, &submodel, none()).await?;
    let refuse: Edit<Submodel> = Box::new(|submodel| {
        submodel.category = Some("half".into());
        Err("no".into())
    });
    let events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| {
        vec![Event::new("refused", Vec::new(), Utc::now())]
    });
    let outcome = r.modify_submodel("urn:sm:1", None, refuse, events).await;
    assert!(
        matches!(outcome, Err(StorageError::Refused(_))),
        "{outcome:?}"
    );
    let rename: Edit<Submodel> = Box::new(|submodel| {
        submodel.id = "urn:sm:other".into();
        Ok(())
    });
    let events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| {
        vec![Event::new("renamed", Vec::new(), Utc::now())]
    });
    let renamed = r.modify_submodel("urn:sm:1", None, rename, events).await;
    assert!(
        matches!(renamed, Err(StorageError::Refused(_))),
        "{renamed:?}"
    );
    let missing: Edit<Submodel> = Box::new(|_| Ok(()));
    let events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| Vec::new());
    let absent = r
        .modify_submodel("urn:sm:none", None, missing, events)
        .await;
    assert!(
        matches!(absent, Err(StorageError::NotFound(_))),
        "{absent:?}"
    );
    assert_eq!(r.submodel("urn:sm:1").await?, Some(submodel));
    assert!(topics(r).await?.is_empty());
    assert!(r.outbox(10).await?.is_empty());
    Ok(())
}

async fn events_are_logged_with_their_change_and_published_from_the_log(
    stores: Stores,
) -> TestResult {
    let r = &*stores.repository;
    put_submodel(r, &Submodel::new("urn:sm:1"), named("complete")).await?;
    let large: WriteEvents = Box::new(|_: Written, _: &[String]| {
        let mut event = Event::new("large", b"the complete message".to_vec(), Utc::now());
        event.published = Some(b"reference only".to_vec());
        vec![event]
    });
    put_submodel(r, &Submodel::new("urn:sm:2"), large).await?;
    let logged = r.events(None, 10, usize::MAX, None).await?.items;
    assert_eq!(logged.len(), 2);
    assert!(logged[0].sequence < logged[1].sequence);
    assert_eq!(logged[0].payload, b"message");
    assert!(!logged[0].reference_only);
    assert_eq!(logged[1].payload, b"the complete message");
    assert!(logged[1].reference_only);
    let outbox = r.outbox(10).await?;
    let published: Vec<(&str, Option<&[u8]>)> = outbox
        .iter()
        .map(|entry| (entry.topic.as_str(), entry.payload.as_deref()))
        .collect();
    assert_eq!(
        published,
        [
            ("complete/Created/", Some(&b"message"[..])),
            ("large", Some(&b"reference only"[..])),
        ]
    );
    assert_eq!(r.outbox(1).await?.len(), 1);
    r.acknowledge(&[outbox[0].sequence]).await?;
    let left: Vec<String> = r.outbox(10).await?.into_iter().map(|e| e.topic).collect();
    assert_eq!(left, ["large"]);
    // The log keeps what was published.
    assert_eq!(r.events(None, 10, usize::MAX, None).await?.items.len(), 2);
    Ok(())
}

fn at(seconds: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).ok_or_else(|| "time".into())
}

async fn change_at(repository: &dyn Repository, id: &str, time: DateTime<Utc>) -> TestResult {
    let events: WriteEvents = Box::new(move |_: Written, _: &[String]| {
        vec![Event::new(
            format!("t/{}", time.timestamp()),
            vec![b'x'; 100],
            time,
        )]
    });
    put_submodel(repository, &Submodel::new(id), events).await?;
    Ok(())
}

async fn the_feed_pages_from_a_time_by_count_and_by_size(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    for n in 0..5 {
        change_at(r, &format!("urn:sm:{n}"), at(n)?).await?;
    }
    let since = r.events(Some(at(2)?), 10, usize::MAX, None).await?;
    let names: Vec<&str> = since.items.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(names, ["t/1700000002", "t/1700000003", "t/1700000004"]);
    assert_eq!(since.items[0].timestamp, at(2)?);
    assert_eq!(since.cursor, None);
    let first = r.events(None, 2, usize::MAX, None).await?;
    assert_eq!(first.items.len(), 2);
    let next = r
        .events(None, 2, usize::MAX, first.cursor.as_deref())
        .await?;
    assert_eq!(next.items[0].topic, "t/1700000002");
    // By size: a page ends once it holds 150 bytes (each message is 100), and always holds one.
    let by_size = r.events(None, 10, 150, None).await?;
    assert_eq!(by_size.items.len(), 2);
    assert!(by_size.cursor.is_some());
    let tiny = r.events(None, 10, 1, None).await?;
    assert_eq!(tiny.items.len(), 1);
    assert!(
        r.events(Some(at(60)?), 10, 10, None)
            .await?
            .items
            .is_empty()
    );
    let bad = r.events(None, 10, 1, Some("-1")).await;
    assert!(matches!(bad, Err(StorageError::BadCursor(_))), "{bad:?}");
    Ok(())
}

async fn pruning_keeps_recent_and_unpublished_events(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    for n in 0..4 {
        change_at(r, &format!("urn:sm:{n}"), at(n)?).await?;
    }
    let outbox = r.outbox(10).await?;
    // The first three are published; the fourth is not, and old too.
    let published: Vec<i64> = outbox.iter().take(3).map(|e| e.sequence).collect();
    r.acknowledge(&published).await?;
    assert_eq!(r.prune_events(at(2)?).await?, 2);
    let left: Vec<String> = (r.events(None, 10, usize::MAX, None).await?.items)
        .into_iter()
        .map(|e| e.topic)
        .collect();
    assert_eq!(left, ["t/1700000002", "t/1700000003"]);
    assert_eq!(r.prune_events(at(10)?).await?, 1);
    assert_eq!(r.outbox(10).await?.len(), 1);
    Ok(())
}

async fn failed_entries_back_off_and_dead_letters_can_be_retried(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    put_submodel(r, &Submodel::new("urn:sm:1"), named("first")).await?;
    put_submodel(r, &Submodel::new("urn:sm:2"), named("second")).await?;
    let entries = r.outbox(10).await?;
    let (first, second) = (entries[0].sequence, entries[1].sequence);
    let later = Utc::now() + chrono::Duration::hours(1);
    assert_eq!(r.record_failure(first, "refused", later).await?, 1);
    assert_eq!(r.record_failure(first, "refused again", later).await?, 2);
    let due: Vec<i64> = r.outbox(10).await?.iter().map(|e| e.sequence).collect();
    assert_eq!(due, [second]);
    let next = r.outbox_next_due().await?.ok_or("no entry waits")?;
    assert_eq!(next.timestamp_micros(), later.timestamp_micros());
    let missing = r.record_failure(999_999, "x", later).await;
    assert!(
        matches!(missing, Err(StorageError::NotFound(_))),
        "{missing:?}"
    );

    r.dead_letter(first, "gave up").await?;
    let letters = r.dead_letters(10, None).await?;
    assert_eq!(letters.items.len(), 1);
    let letter = &letters.items[0];
    assert_eq!(
        (
            letter.sequence,
            letter.attempts,
            letter.error.as_str(),
            letter.size
        ),
        (first, 2, "gave up", b"message".len())
    );
    assert_eq!(r.outbox_next_due().await?, None);
    r.dead_letter(second, "also").await?;
    let page = r.dead_letters(1, None).await?;
    assert_eq!(page.items.len(), 1);
    let rest = r.dead_letters(1, page.cursor.as_deref()).await?;
    assert_eq!(rest.items[0].sequence, second);
    assert_eq!(rest.cursor, None);

    // A dead letter has its own copy of the message: pruning the log loses nothing.
    let pruned = r
        .prune_events(Utc::now() + chrono::Duration::hours(2))
        .await?;
    assert_eq!(pruned, 2);
    r.retry_dead_letter(first).await?;
    let back = r.outbox(10).await?;
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].sequence, back[0].attempts), (first, 0));
    assert_eq!(back[0].payload.as_deref(), Some(&b"message"[..]));
    let again = r.retry_dead_letter(first).await;
    assert!(matches!(again, Err(StorageError::NotFound(_))), "{again:?}");
    Ok(())
}

async fn files_follow_the_elements_that_hold_them(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    let submodel = submodel_from(
        r#"{"id":"urn:sm:f","modelType":"Submodel","submodelElements":[
            {"idShort":"manual","modelType":"File","contentType":"application/pdf","value":"/aasx/manual.pdf"},
            {"idShort":"photo","modelType":"File","contentType":"image/png","value":"/aasx/photo.png"}]}"#,
    )?;
    put_submodel(r, &submodel, none()).await?;
    let keep: Edit<Submodel> = Box::new(|_| Ok(()));
    let no_events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| Vec::new());
    let file = Attachment {
        content_type: String::new(),
        file_name: String::new(),
        bytes: b"%PDF".to_vec(),
    };
    r.modify_submodel("urn:sm:f", Some(("manual".into(), file)), keep, no_events)
        .await?;
    let stored = r.attachment("submodel:urn:sm:f", "manual").await?;
    assert_eq!(
        stored,
        Some(Attachment {
            content_type: "application/pdf".into(),
            file_name: "manual.pdf".into(),
            bytes: b"%PDF".to_vec(),
        })
    );
    let photo = Attachment {
        content_type: "image/png".into(),
        file_name: "photo.png".into(),
        bytes: vec![0x89, b'P'],
    };
    r.put_attachment("submodel:urn:sm:f", "photo", Some(photo.clone()))
        .await?;
    let paths: Vec<String> = (r.attachments("submodel:urn:sm:f").await?)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(paths, ["manual", "photo"]);
    // Renamed: the file moves with the one File that names it.
    let rename: Edit<Submodel> = Box::new(|submodel| {
        for element in submodel.submodel_elements.iter_mut().flatten() {
            if let aas_model::SubmodelElement::File(file) = element
                && file.id_short.as_deref() == Some("manual")
            {
                file.id_short = Some("handbook".into());
            }
        }
        Ok(())
    });
    let no_events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| Vec::new());
    r.modify_submodel("urn:sm:f", None, rename, no_events)
        .await?;
    assert!(r.attachment("submodel:urn:sm:f", "manual").await?.is_none());
    assert!(
        r.attachment("submodel:urn:sm:f", "handbook")
            .await?
            .is_some()
    );
    // A File without a value no longer holds its file.
    let clear: Edit<Submodel> = Box::new(|submodel| {
        for element in submodel.submodel_elements.iter_mut().flatten() {
            if let aas_model::SubmodelElement::File(file) = element
                && file.id_short.as_deref() == Some("photo")
            {
                file.value = None;
            }
        }
        Ok(())
    });
    let no_events = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| Vec::new());
    r.modify_submodel("urn:sm:f", None, clear, no_events)
        .await?;
    assert!(r.attachment("submodel:urn:sm:f", "photo").await?.is_none());
    r.put_attachment("submodel:urn:sm:f", "handbook", None)
        .await?;
    assert!(r.attachments("submodel:urn:sm:f").await?.is_empty());
    r.put_attachment("submodel:urn:sm:f", "handbook", Some(photo))
        .await?;
    r.delete_submodel("urn:sm:f", Box::new(|_, _| Vec::new()))
        .await?;
    assert!(r.attachments("submodel:urn:sm:f").await?.is_empty());

    // A shell's thumbnail is kept while its defaultThumbnail names it.
    let mut thumbnailed = shell("urn:aas:t", "t", &[]);
    thumbnailed.asset_information.default_thumbnail = Some(aas_model::Resource::new("/aasx/t.png"));
    put_shell(r, &thumbnailed, none()).await?;
    let thumbnail = Attachment {
        content_type: "image/png".into(),
        file_name: "t.png".into(),
        bytes: vec![1, 2, 3],
    };
    let keep: Edit<AssetAdministrationShell> = Box::new(|_| Ok(()));
    r.modify_shell(
        "urn:aas:t",
        Some(thumbnail.clone()),
        keep,
        Box::new(|_, _| Vec::new()),
    )
    .await?;
    assert_eq!(
        r.attachment("shell:urn:aas:t", super::THUMBNAIL).await?,
        Some(thumbnail)
    );
    let drop_thumbnail: Edit<AssetAdministrationShell> = Box::new(|shell| {
        shell.asset_information.default_thumbnail = None;
        Ok(())
    });
    r.modify_shell(
        "urn:aas:t",
        None,
        drop_thumbnail,
        Box::new(|_, _| Vec::new()),
    )
    .await?;
    assert!(
        r.attachment("shell:urn:aas:t", super::THUMBNAIL)
            .await?
            .is_none()
    );
    Ok(())
}

async fn a_submodel_is_served_without_its_blob_values(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    let submodel = submodel_from(
        r#"{"id":"urn:sm:b","modelType":"Submodel","submodelElements":[
            {"idShort":"bin","modelType":"Blob","contentType":"application/octet-stream","value":"AAEC"}]}"#,
    )?;
    put_submodel(r, &submodel, none()).await?;
    let served = r.submodel_json("urn:sm:b").await?.ok_or("not served")?;
    let served = std::str::from_utf8(&served)?;
    assert!(!served.contains("AAEC"), "{served}");
    assert!(served.contains("\"bin\""), "{served}");
    // The element itself keeps the value.
    assert_eq!(r.submodel("urn:sm:b").await?, Some(submodel));
    let plain = Submodel::new("urn:sm:b");
    put_submodel(r, &plain, none()).await?;
    let served = r.submodel_json("urn:sm:b").await?.ok_or("not served")?;
    assert_eq!(&served[..], aas_serde::json::to_string(&plain).as_bytes());
    assert_eq!(r.submodel_json("urn:sm:none").await?, None);
    Ok(())
}

async fn elements_nested_too_deeply_are_refused(stores: Stores) -> TestResult {
    let r = &*stores.repository;
    let depth = super::element_write::MAX_STORED_DEPTH;
    let mut json = String::from("{\"id\":\"urn:sm:deep\",\"modelType\":\"Submodel\",\"x\":");
    json.push_str(&"[".repeat(depth));
    json.push_str(&"]".repeat(depth));
    json.push('}');
    let submodel = Arc::new(Submodel::new("urn:sm:deep"));
    let refused = r
        .put_submodel_serialized(submodel, json.into(), none())
        .await;
    assert!(
        matches!(refused, Err(StorageError::TooDeep { .. })),
        "{refused:?}"
    );
    assert_eq!(r.submodel("urn:sm:deep").await?, None);
    Ok(())
}

async fn push_records_keep_targets_and_jobs(stores: Stores) -> TestResult {
    let push = &*stores.push;
    let create_only = || -> super::Check<bool> {
        Box::new(|exists| match exists {
            false => Ok(()),
            true => Err(StoreError::Exists("target".into())),
        })
    };
    assert!(
        !push
            .put_push_target("b", "{\"b\":1}", "sealed-b", create_only())
            .await?
    );
    let again = push.put_push_target("b", "{}", "x", create_only()).await;
    assert!(matches!(again, Err(StoreError::Exists(_))), "{again:?}");
    assert_eq!(
        push.push_target_sealed("b").await?.as_deref(),
        Some("sealed-b")
    );
    let any: super::Check<bool> = Box::new(|_| Ok(()));
    assert!(
        push.put_push_target("b", "{\"b\":2}", "sealed-b2", any)
            .await?
    );
    let any: super::Check<bool> = Box::new(|_| Ok(()));
    push.put_push_target("a", "{\"a\":1}", "sealed-a", any)
        .await?;
    assert_eq!(
        push.push_targets_shown().await?,
        [
            ("a".to_owned(), "{\"a\":1}".to_owned()),
            ("b".to_owned(), "{\"b\":2}".to_owned()),
        ]
    );
    assert_eq!(push.push_targets_sealed().await?.len(), 2);
    assert_eq!(
        push.push_target_shown("b").await?.as_deref(),
        Some("{\"b\":2}")
    );
    assert!(push.delete_push_target("a").await?);
    assert!(!push.delete_push_target("a").await?);

    for n in 0..5 {
        push.save_push_job(&format!("job{n}"), "processing", &format!("{{\"n\":{n}}}"))
            .await?;
    }
    push.save_push_job("job1", "completed", "{\"n\":1,\"done\":true}")
        .await?;
    assert_eq!(
        push.push_job("job1").await?.as_deref(),
        Some("{\"n\":1,\"done\":true}")
    );
    let newest = push.push_jobs(2, None).await?;
    let names: Vec<&str> = newest.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(names, ["job4", "job3"]);
    let older = push.push_jobs(10, Some(newest[1].0)).await?;
    let names: Vec<&str> = older.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(names, ["job2", "job1", "job0"]);
    // Claimable are only jobs `processing` that no process runs: on SQLite every one (asked at
    // start), on PostgreSQL none of these, whose leases this process holds; never a finished one.
    let unfinished: Vec<String> = (push.claim_unfinished_push_jobs(10).await?)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(!unfinished.contains(&"job1".to_owned()), "{unfinished:?}");
    Ok(())
}

async fn twin_records_check_platforms_and_bindings(stores: Stores) -> TestResult {
    let twins = &*stores.twins;
    let any = || -> super::Check<bool> { Box::new(|_| Ok(())) };
    twins
        .put_sdt_platform("iot", "{\"url\":\"u\"}", any())
        .await?;
    let new_only: super::Check<bool> = Box::new(|exists| match exists {
        false => Ok(()),
        true => Err(StoreError::Exists("platform".into())),
    });
    let twice = twins.put_sdt_platform("iot", "{}", new_only).await;
    assert!(matches!(twice, Err(StoreError::Exists(_))), "{twice:?}");
    assert_eq!(
        twins.sdt_platform("iot").await?.as_deref(),
        Some("{\"url\":\"u\"}")
    );
    let needs_platform = || -> super::Check<Option<String>> {
        Box::new(|platform| match platform {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound("platform".into())),
        })
    };
    let unbound = twins
        .put_sdt_twin(
            ("urn:sm:1", "nowhere"),
            ("{}", "s"),
            needs_platform(),
            any(),
        )
        .await;
    assert!(
        matches!(unbound, Err(StoreError::NotFound(_))),
        "{unbound:?}"
    );
    for id in ["urn:sm:2", "urn:sm:1"] {
        let json = "{\"platform\":\"iot\"}";
        (twins.put_sdt_twin((id, "iot"), (json, "sealed"), needs_platform(), any())).await?;
    }
    assert_eq!(twins.sdt_twin_ids().await?, ["urn:sm:1", "urn:sm:2"]);
    assert_eq!(
        twins.sdt_twin_sealed("urn:sm:1").await?,
        Some(("{\"platform\":\"iot\"}".to_owned(), "sealed".to_owned()))
    );
    assert_eq!(twins.sdt_twins().await?.len(), 2);
    let in_use: super::Check<i64> = Box::new(|twins| match twins {
        0 => Ok(()),
        n => Err(StoreError::InUse {
            platform: "iot".into(),
            twins: n,
        }),
    });
    let refused = twins.delete_sdt_platform("iot", in_use).await;
    assert!(
        matches!(refused, Err(StoreError::InUse { twins: 2, .. })),
        "{refused:?}"
    );
    assert!(twins.delete_sdt_twin("urn:sm:1").await?);
    assert!(twins.delete_sdt_twin("urn:sm:2").await?);
    assert!(!twins.delete_sdt_twin("urn:sm:2").await?);
    let unused: super::Check<i64> = Box::new(|_| Ok(()));
    assert!(twins.delete_sdt_platform("iot", unused).await?);
    let unused: super::Check<i64> = Box::new(|_| Ok(()));
    assert!(!twins.delete_sdt_platform("iot", unused).await?);
    assert!(twins.sdt_platforms().await?.is_empty());
    Ok(())
}

mod backends {
    use super::*;
    use crate::storage::{Database, PgOptions, PgRepository, SqliteRepository, StorageOptions};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_repository_suite_passes_on_sqlite() -> TestResult {
        run("SQLite", |_| async {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("repository.sqlite");
            let database = Arc::new(Database::open(&path, StorageOptions::default())?);
            let sqlite = Arc::new(SqliteRepository::on(database));
            Ok(Stores {
                repository: sqlite.clone(),
                push: sqlite.clone(),
                twins: sqlite,
                _keep: Box::new(dir),
            })
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_repository_suite_passes_on_postgresql() -> TestResult {
        let cluster = aas_conformance_tests::postgres::Postgres::start();
        let port = cluster.port;
        let cluster = &cluster;
        run("PostgreSQL", |n| async move {
            cluster.psql(&format!("CREATE DATABASE suite_{n}"))?;
            // The server reads and writes at read committed whatever the database's default.
            cluster.psql(&format!(
                "ALTER DATABASE suite_{n} SET default_transaction_isolation = 'serializable'"
            ))?;
            let url = format!("postgres://postgres@127.0.0.1:{port}/suite_{n}");
            let pg = Arc::new(PgRepository::open(&url, &PgOptions::default()).await?);
            Ok(Stores {
                repository: pg.clone(),
                push: pg.clone(),
                twins: pg,
                _keep: Box::new(()),
            })
        })
        .await
    }
}
