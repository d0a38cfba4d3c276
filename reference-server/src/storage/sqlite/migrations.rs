//! Versioned schema migrations. Each store on the database file (the repository, the push
//! targets and jobs, the twins) has a numbered list of migrations and its version in `schema_versions`
//! (a table, not `PRAGMA user_version`, because several stores share the file and each moves
//! on its own). Opening applies each store's missing migrations in order, in one
//! `BEGIN IMMEDIATE` transaction per store (a concurrent opener waits and then finds them
//! applied), and refuses a database whose store is newer than this build knows: an older
//! server would misread tables it does not
//! know the shape of.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StorageError;

/// One step of a store's schema.
pub(crate) struct Migration {
    /// 1, 2, 3…: the version the database has after this step.
    pub version: u32,
    /// What it does (logged when applied).
    pub what: &'static str,
    pub apply: fn(&Transaction<'_>) -> rusqlite::Result<()>,
}

/// The store name of the repository's tables in `schema_versions`.
pub(crate) const REPOSITORY: &str = "repository";

/// The repository's migrations, oldest first. Never edit one that shipped: add another.
pub(crate) const REPOSITORY_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "the tables of databases made before versions were tracked",
        apply: baseline,
    },
    Migration {
        version: 2,
        what: "stable listing keys (seq) for shells, submodels and concept descriptions",
        apply: listing_keys,
    },
    Migration {
        version: 3,
        what: "indexed idShort, asset ids, semantic ids and references for the listing filters",
        apply: filter_indexes,
    },
    Migration {
        version: 4,
        what: "the listing filters' keys written with each element instead of by triggers",
        apply: keys_written_by_writes,
    },
];

/// The store name of the push targets and jobs in `schema_versions`.
pub(crate) const PUSH: &str = "push";

/// The push store's migrations, oldest first. Never edit one that shipped: add another.
pub(crate) const PUSH_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    what: "push targets and jobs, as the push store created them before versions were tracked",
    apply: push_baseline,
}];

/// The store name of the synchronized twins' platforms and bindings in `schema_versions`.
pub(crate) const TWINS: &str = "twins";

/// The twin store's migrations, oldest first. Never edit one that shipped: add another.
pub(crate) const TWIN_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    what: "twin platforms and bindings, as the twin store created them before versions were \
           tracked",
    apply: twin_baseline,
}];

/// Every store on the database file and its migrations: opening a database migrates them all.
pub(crate) const STORES: [(&str, &[Migration]); 3] = [
    (REPOSITORY, REPOSITORY_MIGRATIONS),
    (PUSH, PUSH_MIGRATIONS),
    (TWINS, TWIN_MIGRATIONS),
];

/// Brings `store` to the newest of `migrations` (sorted by version).
pub(crate) fn migrate(
    connection: &mut Connection,
    store: &str,
    migrations: &[Migration],
) -> Result<(), StorageError> {
    let known = migrations.last().map_or(0, |m| m.version);
    // A table rebuild drops and renames tables that others refer to; with foreign keys on, the
    // drop would cascade into `shell_submodels`. The pragma is a no-op inside a transaction, so
    // it is switched around it (and back to what the connection had).
    let foreign_keys: bool = connection.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    connection.pragma_update(None, "foreign_keys", false)?;
    let outcome = apply_missing(connection, store, migrations, known);
    connection.pragma_update(None, "foreign_keys", foreign_keys)?;
    outcome
}

fn apply_missing(
    connection: &mut Connection,
    store: &str,
    migrations: &[Migration],
    known: u32,
) -> Result<(), StorageError> {
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_versions (
             store TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)",
    )?;
    let found: u32 = tx
        .query_row(
            "SELECT version FROM schema_versions WHERE store = ?1",
            [store],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if found > known {
        return Err(StorageError::NewerSchema {
            store: store.to_owned(),
            found,
            known,
        });
    }
    if found == known {
        return Ok(());
    }
    for migration in migrations.iter().filter(|m| m.version > found) {
        tracing::info!(
            store,
            version = migration.version,
            "migrating the database: {}",
            migration.what
        );
        (migration.apply)(&tx)?;
    }
    tx.execute(
        "INSERT INTO schema_versions (store, version) VALUES (?1, ?2) \
         ON CONFLICT(store) DO UPDATE SET version = excluded.version",
        params![store, known],
    )?;
    tx.commit()?;
    Ok(())
}

/// Version 1: the tables as the servers before tracking made them, created where missing, and
/// the outbox columns that came with the event log added where a database lacks them. Written
/// to accept every earlier state, since those databases carry no version.
fn baseline(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "
CREATE TABLE IF NOT EXISTS shells (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submodels (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
-- A submodel's JSON without blob values (Part 2's default answer), for those that have some.
CREATE TABLE IF NOT EXISTS submodel_views (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS concept_descriptions (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shell_submodels (
    shell_id TEXT NOT NULL REFERENCES shells(id) ON DELETE CASCADE,
    submodel_id TEXT NOT NULL,
    PRIMARY KEY (shell_id, submodel_id));
CREATE INDEX IF NOT EXISTS shell_submodels_by_submodel ON shell_submodels(submodel_id);
CREATE TABLE IF NOT EXISTS attachments (
    owner TEXT NOT NULL, path TEXT NOT NULL, content_type TEXT NOT NULL, file_name TEXT NOT NULL,
    bytes BLOB NOT NULL, PRIMARY KEY (owner, path));
CREATE TABLE IF NOT EXISTS outbox (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL);
-- The event feed: every event, complete, for the retention period (time_ns: the event's
-- timestamp in nanoseconds since 1970 UTC).
CREATE TABLE IF NOT EXISTS event_log (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, time_ns INTEGER NOT NULL,
    payload BLOB NOT NULL, reference_only INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS event_log_by_time ON event_log(time_ns);
-- Facts about the database itself: `aas-version`, the AAS version its data was verified under.
CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
-- Outbox entries that could not be published (sequence: the outbox's).
CREATE TABLE IF NOT EXISTS dead_letters (
    sequence INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, event INTEGER,
    attempts INTEGER NOT NULL, error TEXT NOT NULL, failed_us INTEGER NOT NULL);
",
    )?;
    // The outbox gained with the event log: the event log entry (`event`; an empty `payload`
    // means the log's), failed attempts, when the next attempt is due, and the last error.
    const OUTBOX_COLUMNS: [(&str, &str); 4] = [
        ("event", "INTEGER"),
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
        ("due_us", "INTEGER NOT NULL DEFAULT 0"),
        ("error", "TEXT"),
    ];
    let existing = {
        let mut statement = tx.prepare("SELECT name FROM pragma_table_info('outbox')")?;
        statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?
    };
    for (name, definition) in OUTBOX_COLUMNS {
        if !existing.iter().any(|column| column == name) {
            tx.execute_batch(&format!(
                "ALTER TABLE outbox ADD COLUMN {name} {definition}"
            ))?;
        }
    }
    tx.execute_batch("CREATE INDEX IF NOT EXISTS outbox_by_event ON outbox(event);")
}

/// Version 2: the element tables get an `INTEGER PRIMARY KEY` (`seq`), the key listings page
/// on. A rowid without it may change on `VACUUM`, which would move a cursor; `seq` never
/// changes (a replace updates the row in place, `ON CONFLICT(id) DO UPDATE`), so a cursor stays
/// valid under concurrent writes. The rows keep their order (their old rowid becomes `seq`).
fn listing_keys(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for table in ELEMENT_TABLES {
        tx.execute_batch(&format!(
            "CREATE TABLE {table}_v2 (
                 seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, json TEXT NOT NULL);
             INSERT INTO {table}_v2 (seq, id, json)
                 SELECT rowid, id, json FROM {table} ORDER BY rowid;
             DROP TABLE {table};
             ALTER TABLE {table}_v2 RENAME TO {table};"
        ))?;
    }
    Ok(())
}

/// Push version 1: the tables the push store's bootstrap made (`IF NOT EXISTS`, so a database
/// that has them keeps them and their rows): targets with their secrets sealed beside the
/// redacted form the API shows, and job records.
fn push_baseline(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS push_targets (
             name TEXT PRIMARY KEY NOT NULL, redacted TEXT NOT NULL, sealed TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS push_jobs (
             sequence INTEGER PRIMARY KEY AUTOINCREMENT, identifier TEXT UNIQUE NOT NULL,
             state TEXT NOT NULL, json TEXT NOT NULL);",
    )
}

/// Twins version 1: the tables the twin store's bootstrap made (kept with their rows where
/// they exist): platforms, and bindings with their credentials sealed.
fn twin_baseline(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS sdt_platforms (
             name TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS sdt_twins (
             submodel_id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL, sealed TEXT NOT NULL);",
    )
}

/// Version 4: the filter keys are written with each element, from its model (`FilterKeys`),
/// instead of by triggers that read them back from the element's JSON: the triggers copied
/// the JSON (50 KB of a typical submodel) several times per write and cost about 7 % of a
/// PUT. The keys there are stay; a deleted element's still go by trigger.
fn keys_written_by_writes(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for table in ELEMENT_TABLES {
        tx.execute_batch(&format!(
            "DROP TRIGGER {table}_keys_on_insert; DROP TRIGGER {table}_keys_on_update;"
        ))?;
    }
    Ok(())
}

const ELEMENT_TABLES: [&str; 3] = ["shells", "submodels", "concept_descriptions"];

/// A value a listing filters on, read from an element's JSON: `kind` and `value` are SQL
/// expressions, over `a.value` (each item of the array at `array`) or over `j.b` (the whole
/// element) when `array` is `None`.
struct Key {
    array: Option<&'static str>,
    kind: &'static str,
    value: &'static str,
}

/// The keys of each element table, in `<table>_keys (kind, value, owner)`:
///
/// - shells: `idShort`; `asset:<name>` for each specific asset id, and `asset:globalAssetId`
///   for the global asset id (the `assetIds` filter matches either by name);
/// - submodels: `idShort`; `semanticId` for the first key's value of the semantic id and of
///   each supplemental semantic id;
/// - concept descriptions: `idShort`; `isCaseOf` (each `isCaseOf`'s first key's value) and
///   `dataSpecification` (each embedded data specification's `dataSpecification`'s).
fn keys_of(table: &str) -> &'static [Key] {
    const ID_SHORT: Key = Key {
        array: None,
        kind: "'idShort'",
        value: "j.b ->> '$.idShort'",
    };
    match table {
        "shells" => &[
            ID_SHORT,
            Key {
                array: None,
                kind: "'asset:globalAssetId'",
                value: "j.b ->> '$.assetInformation.globalAssetId'",
            },
            Key {
                array: Some("$.assetInformation.specificAssetIds"),
                kind: "'asset:' || (a.value ->> '$.name')",
                value: "a.value ->> '$.value'",
            },
        ],
        "submodels" => &[
            ID_SHORT,
            Key {
                array: None,
                kind: "'semanticId'",
                value: "j.b ->> '$.semanticId.keys[0].value'",
            },
            Key {
                array: Some("$.supplementalSemanticIds"),
                kind: "'semanticId'",
                value: "a.value ->> '$.keys[0].value'",
            },
        ],
        _ => &[
            ID_SHORT,
            Key {
                array: Some("$.isCaseOf"),
                kind: "'isCaseOf'",
                value: "a.value ->> '$.keys[0].value'",
            },
            Key {
                array: Some("$.embeddedDataSpecifications"),
                kind: "'dataSpecification'",
                value: "a.value ->> '$.dataSpecification.keys[0].value'",
            },
        ],
    }
}

/// The top-level member of `table`'s JSON that holds the bulk of an element and none of its
/// keys: `submodelElements` of a submodel and `submodels` of a shell, the last members as
/// aas-serde writes them (its schema order). The keys are read from the JSON before it.
fn bulk_member(table: &str) -> Option<&'static str> {
    match table {
        "submodels" => Some("submodelElements"),
        "shells" => Some("submodels"),
        _ => None,
    }
}

/// The statement that inserts the keys of `table`'s element `row` (`NEW` in a trigger), or of
/// every row (`None`). It parses the element's JSON once: `j.b` is its JSONB (the subquery's
/// LIMIT keeps SQLite from copying the `jsonb(…)` call into each use), every value is read
/// from that, and the pairs of all keys go through one `json_each`. A statement per key would
/// parse a 50 KB submodel once per key and make writes notably slower.
///
/// Only the part before the bulk member is parsed (`{…` up to `,"submodelElements":`, closed
/// with `}`): the keys come before it, and the parse costs the size of the element's header,
/// not of its elements. The cut is always at the top-level member: in JSON text a `"` inside a
/// string is escaped, so `,"submodelElements":` occurs only as a member name, and no nested
/// object of a submodel (or shell) has a member of that name. JSON written otherwise (spaces,
/// another member order) without that text is parsed whole.
fn insert_keys(table: &str, row: Option<&str>) -> String {
    let (source, from) = match row {
        Some(row) => (row.to_owned(), String::new()),
        None => ("e".to_owned(), format!("FROM {table} AS e")),
    };
    let json = format!("{source}.json");
    let parsed = match bulk_member(table) {
        Some(member) => {
            let at = format!("instr({json}, ',\"{member}\":')");
            format!(
                "jsonb(CASE WHEN {at} > 0 THEN substr({json}, 1, {at} - 1) || '}}' ELSE {json} END)"
            )
        }
        None => format!("jsonb({json})"),
    };
    let mut fixed = Vec::new();
    let mut arrays = Vec::new();
    for key in keys_of(table) {
        let pair = format!("json_array({}, {})", key.kind, key.value);
        match key.array {
            None => fixed.push(pair),
            Some(path) => arrays.push(format!(
                "json((SELECT json_group_array({pair}) FROM json_each(j.b, '{path}') AS a))"
            )),
        }
    }
    let groups = std::iter::once(format!("json_array({})", fixed.join(", ")))
        .chain(arrays)
        .collect::<Vec<_>>()
        .join(",\n                 ");
    format!(
        "INSERT OR IGNORE INTO {table}_keys (kind, value, owner)
         SELECT DISTINCT pair.value ->> 0, pair.value ->> 1, j.seq
         FROM (SELECT {parsed} AS b, {source}.seq AS seq {from} LIMIT -1) AS j,
              json_each(json_array(
                 {groups})) AS g,
              json_each(g.value) AS pair
         WHERE pair.value ->> 0 IS NOT NULL AND pair.value ->> 1 IS NOT NULL;"
    )
}

/// Version 3: a side table per element table of the values the listing filters match, kept by
/// triggers on the element tables (so every writer, whatever its SQL, keeps them right) and
/// filled from the rows there are. Each is keyed (kind, value, owner's seq): a filter is one
/// index range, in seq order, and a page costs the rows it reads, not the table.
///
/// An element may name one key twice (a semantic id repeated as a supplemental one, two equal
/// specific asset ids): the keys are inserted DISTINCT, because `OR IGNORE` does not hold
/// inside a trigger run by an upsert (`ON CONFLICT DO UPDATE` aborts on any conflict in its
/// triggers), so a duplicate would fail every replace of the element.
///
/// An insert first clears the keys of its seq: `INSERT OR REPLACE` deletes the old row without
/// firing the delete trigger (unless recursive triggers are on), and SQLite may hand a freed
/// seq to the next insert; keys left behind by a deleted row then never match (the listing
/// joins on the element row). Writers should still replace with `ON CONFLICT(id) DO UPDATE`,
/// which keeps the element's seq and so its place in listings.
fn filter_indexes(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for table in ELEMENT_TABLES {
        let from_new = insert_keys(table, Some("NEW"));
        tx.execute_batch(&format!(
            "CREATE TABLE {table}_keys (
                 kind TEXT NOT NULL, value TEXT NOT NULL, owner INTEGER NOT NULL,
                 PRIMARY KEY (kind, value, owner)) WITHOUT ROWID;
             CREATE INDEX {table}_keys_by_owner ON {table}_keys(owner);
             CREATE TRIGGER {table}_keys_on_insert AFTER INSERT ON {table} BEGIN
                 DELETE FROM {table}_keys WHERE owner = NEW.seq;
                 {from_new}
             END;
             CREATE TRIGGER {table}_keys_on_update AFTER UPDATE OF json ON {table} BEGIN
                 DELETE FROM {table}_keys WHERE owner = OLD.seq;
                 {from_new}
             END;
             CREATE TRIGGER {table}_keys_on_delete AFTER DELETE ON {table} BEGIN
                 DELETE FROM {table}_keys WHERE owner = OLD.seq;
             END;
             {}",
            insert_keys(table, None)
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::storage::{
        ConceptDescriptionFilter, Database, ShellFilter, SqliteRepository, StorageOptions,
        SubmodelFilter, Write,
    };

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn version_of(path: &std::path::Path) -> Result<u32, Box<dyn std::error::Error>> {
        let connection = Connection::open(path)?;
        Ok(connection.query_row(
            "SELECT version FROM schema_versions WHERE store = ?1",
            [REPOSITORY],
            |row| row.get(0),
        )?)
    }

    #[test]
    fn a_new_database_gets_every_migration_and_reopening_applies_none() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let newest = REPOSITORY_MIGRATIONS.last().map_or(0, |m| m.version);
        assert!(
            REPOSITORY_MIGRATIONS
                .iter()
                .enumerate()
                .all(|(i, m)| m.version as usize == i + 1),
            "versions are 1, 2, 3… in order"
        );
        drop(SqliteRepository::open(&path)?);
        assert_eq!(version_of(&path)?, newest);
        let repository = SqliteRepository::open(&path)?;
        repository.put_submodel(&aas_model::Submodel::new("urn:sm:1"), &|_| Vec::new())?;
        drop(repository);
        assert_eq!(version_of(&path)?, newest);
        assert_eq!(
            SqliteRepository::open(&path)?
                .submodels(10, None)?
                .items
                .len(),
            1
        );
        Ok(())
    }

    #[test]
    fn a_database_of_a_newer_schema_is_refused_naming_both_versions() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        drop(SqliteRepository::open(&path)?);
        let known = REPOSITORY_MIGRATIONS.last().map_or(0, |m| m.version);
        Connection::open(&path)?.execute(
            "UPDATE schema_versions SET version = ?1 WHERE store = ?2",
            params![known + 1, REPOSITORY],
        )?;
        match SqliteRepository::open(&path) {
            Err(error @ StorageError::NewerSchema { .. }) => {
                let text = error.to_string();
                assert!(
                    text.contains(&format!("schema version {}", known + 1)),
                    "{text}"
                );
                assert!(
                    text.contains(&format!("version {known}, the newest")),
                    "{text}"
                );
                assert!(text.contains("use a newer server"), "{text}");
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
        // Refused without a change.
        assert_eq!(version_of(&path)?, known + 1);
        Ok(())
    }

    /// A database as the servers before versioned migrations left it (542e431's tables:
    /// rowid tables keyed by id, an outbox without the event log's columns).
    #[test]
    fn an_unversioned_database_is_migrated_keeping_its_rows_order_and_filters() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        {
            let old = Connection::open(&path)?;
            old.execute_batch(
                "CREATE TABLE shells (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
                 CREATE TABLE submodels (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
                 CREATE TABLE concept_descriptions (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
                 CREATE TABLE shell_submodels (
                     shell_id TEXT NOT NULL REFERENCES shells(id) ON DELETE CASCADE,
                     submodel_id TEXT NOT NULL, PRIMARY KEY (shell_id, submodel_id));
                 CREATE TABLE outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                     topic TEXT NOT NULL, payload BLOB NOT NULL);",
            )?;
            // Ids out of alphabetical order: the listing keeps the order of creation.
            for (n, id) in ["urn:aas:b", "urn:aas:a", "urn:aas:c"].iter().enumerate() {
                let json = format!(
                    r#"{{"id":"{id}","idShort":"s{n}","modelType":"AssetAdministrationShell","assetInformation":{{"assetKind":"Instance","globalAssetId":"urn:asset:{n}","specificAssetIds":[{{"name":"serial","value":"{n}"}}]}},"submodels":[{{"type":"ModelReference","keys":[{{"type":"Submodel","value":"urn:sm:1"}}]}}]}}"#
                );
                old.execute(
                    "INSERT INTO shells (id, json) VALUES (?1, ?2)",
                    [id, &json.as_str()],
                )?;
                old.execute(
                    "INSERT INTO shell_submodels (shell_id, submodel_id) VALUES (?1, 'urn:sm:1')",
                    [id],
                )?;
            }
            old.execute(
                "INSERT INTO submodels (id, json) VALUES ('urn:sm:1', ?1)",
                [r#"{"id":"urn:sm:1","modelType":"Submodel","semanticId":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"urn:sem:1"}]}}"#],
            )?;
            old.execute(
                "INSERT INTO concept_descriptions (id, json) VALUES ('urn:cd:1', ?1)",
                [r#"{"id":"urn:cd:1","idShort":"cd","modelType":"ConceptDescription","isCaseOf":[{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"urn:case:1"}]}]}"#],
            )?;
        }
        let repository = SqliteRepository::open(&path)?;
        let ids: Vec<String> = repository
            .shells(10, None)?
            .items
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["urn:aas:b", "urn:aas:a", "urn:aas:c"]);
        let by_asset = ShellFilter {
            id_short: None,
            asset_ids: vec![("serial".into(), "1".into())],
        };
        let found = repository.shells_where(&by_asset, 10, None)?.items;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "urn:aas:a");
        let by_global = ShellFilter {
            id_short: Some("s2".into()),
            asset_ids: vec![("globalAssetId".into(), "urn:asset:2".into())],
        };
        assert_eq!(
            repository.shells_where(&by_global, 10, None)?.items[0].id,
            "urn:aas:c"
        );
        let by_semantic = SubmodelFilter {
            id_short: None,
            semantic_id: Some("urn:sem:1".into()),
        };
        assert_eq!(
            repository
                .submodels_where(&by_semantic, 10, None)?
                .items
                .len(),
            1
        );
        let by_case = ConceptDescriptionFilter {
            is_case_of: Some("urn:case:1".into()),
            ..ConceptDescriptionFilter::default()
        };
        assert_eq!(
            repository
                .concept_descriptions_where(&by_case, 10, None)?
                .items
                .len(),
            1
        );
        // The links to shells survived the rebuild of `shells`, and still cascade.
        let change =
            repository.put_submodel(&aas_model::Submodel::new("urn:sm:1"), &|_| Vec::new())?;
        assert_eq!(change.affected_shell_ids.len(), 3);
        repository.delete_shell("urn:aas:a", &|_| Vec::new())?;
        let change =
            repository.put_submodel(&aas_model::Submodel::new("urn:sm:1"), &|_| Vec::new())?;
        assert_eq!(change.affected_shell_ids.len(), 2);
        Ok(())
    }

    fn version_of_store(
        path: &std::path::Path,
        store: &str,
    ) -> Result<Option<u32>, Box<dyn std::error::Error>> {
        let connection = Connection::open(path)?;
        Ok(connection
            .query_row(
                "SELECT version FROM schema_versions WHERE store = ?1",
                [store],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn newest(migrations: &[Migration]) -> u32 {
        migrations.last().map_or(0, |m| m.version)
    }

    fn open_database(path: &std::path::Path) -> Result<Arc<Database>, StorageError> {
        Ok(Arc::new(Database::open(path, StorageOptions::default())?))
    }

    fn platform() -> Result<sdt_core::Platform, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "name": "iot", "base_url": "http://127.0.0.1:9", "authentication": "none"}))
    }

    /// A database as the push and twin stores left it before their tables were versioned:
    /// made by their `CREATE TABLE IF NOT EXISTS` bootstraps (the text as they ran it), with
    /// rows, beside the repository's tables.
    #[tokio::test]
    async fn the_push_and_twin_tables_of_the_old_bootstraps_are_adopted_with_their_rows()
    -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let request: push_core::PushRequest = serde_json::from_value(serde_json::json!({
            "pushTargetName": "lake", "serializationFormat": "application/json",
            "submodelIds": ["urn:sm:1"]}))?;
        let job = push_core::PushJob::new(request);
        let platform = platform()?;
        {
            drop(SqliteRepository::open(&path)?);
            let old = Connection::open(&path)?;
            old.execute_batch(
                "DELETE FROM schema_versions WHERE store <> 'repository';
                 DROP TABLE push_targets; DROP TABLE push_jobs;
                 DROP TABLE sdt_platforms; DROP TABLE sdt_twins;",
            )?;
            // The push store's bootstrap (push.rs before the push migrations).
            old.execute_batch(
                "
CREATE TABLE IF NOT EXISTS push_targets (
    name TEXT PRIMARY KEY NOT NULL, redacted TEXT NOT NULL, sealed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS push_jobs (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, identifier TEXT UNIQUE NOT NULL,
    state TEXT NOT NULL, json TEXT NOT NULL);
",
            )?;
            // The twin store's bootstrap (sync.rs before the twin migrations).
            old.execute_batch(
                "CREATE TABLE IF NOT EXISTS sdt_platforms (name TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS sdt_twins (submodel_id TEXT PRIMARY KEY NOT NULL,
                 json TEXT NOT NULL, sealed TEXT NOT NULL);",
            )?;
            old.execute(
                "INSERT INTO push_targets (name, redacted, sealed) VALUES ('lake', ?1, 'sealed')",
                [r#"{"name":"lake","type":"azure-blob-storage"}"#],
            )?;
            old.execute(
                "INSERT INTO push_jobs (identifier, state, json) VALUES (?1, 'processing', ?2)",
                [&job.identifier, &serde_json::to_string(&job)?],
            )?;
            old.execute(
                "INSERT INTO sdt_platforms (name, json) VALUES ('iot', ?1)",
                [serde_json::to_string(&platform)?],
            )?;
            old.execute(
                "INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES ('urn:sm:1', ?1, 'sealed')",
                [r#"{"submodel_id":"urn:sm:1","platform":"iot"}"#],
            )?;
        }
        assert_eq!(
            version_of_store(&path, PUSH)?,
            None,
            "unversioned to begin with"
        );
        for _ in 0..2 {
            let records = Arc::new(SqliteRepository::on(open_database(&path)?));
            let key = crate::secrets::SecretKey::load(dir.path())?;
            let push = crate::push::PushStore::new(records.clone(), key, false);
            assert_eq!(
                push.targets().await?,
                [serde_json::json!({"name": "lake", "type": "azure-blob-storage"})]
            );
            assert_eq!(push.job(&job.identifier).await?, Some(job.clone()));
            assert_eq!(
                push.unfinished(usize::MAX).await?,
                std::slice::from_ref(&job)
            );
            let twins = crate::sync::SdtStore::new(records);
            assert_eq!(twins.platform("iot").await?, Some(platform.clone()));
            assert_eq!(
                twins.twins().await?,
                [serde_json::json!({"submodel_id": "urn:sm:1", "platform": "iot"})]
            );
            assert_eq!(
                version_of_store(&path, PUSH)?,
                Some(newest(PUSH_MIGRATIONS))
            );
            assert_eq!(
                version_of_store(&path, TWINS)?,
                Some(newest(TWIN_MIGRATIONS))
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_new_database_gets_the_push_and_twin_tables_at_their_newest_versions() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let records = Arc::new(SqliteRepository::on(open_database(&path)?));
        assert_eq!(
            version_of_store(&path, PUSH)?,
            Some(newest(PUSH_MIGRATIONS))
        );
        assert_eq!(
            version_of_store(&path, TWINS)?,
            Some(newest(TWIN_MIGRATIONS))
        );
        let twins = crate::sync::SdtStore::new(records.clone());
        twins.put_platform(&platform()?, Write::Create).await?;
        let key = crate::secrets::SecretKey::load(dir.path())?;
        let push = crate::push::PushStore::new(records, key, false);
        assert_eq!(push.jobs(10, None).await?.0, []);
        drop((push, twins));
        let reopened = Arc::new(SqliteRepository::on(open_database(&path)?));
        let reopened = crate::sync::SdtStore::new(reopened);
        assert_eq!(reopened.platform("iot").await?, Some(platform()?));
        Ok(())
    }

    #[test]
    fn a_database_whose_push_or_twin_tables_are_newer_is_refused_naming_the_store() -> TestResult {
        for (store, migrations) in [(PUSH, PUSH_MIGRATIONS), (TWINS, TWIN_MIGRATIONS)] {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("repository.sqlite");
            drop(open_database(&path)?);
            let known = newest(migrations);
            Connection::open(&path)?.execute(
                "UPDATE schema_versions SET version = ?1 WHERE store = ?2",
                params![known + 1, store],
            )?;
            match open_database(&path) {
                Err(StorageError::NewerSchema {
                    store: refused,
                    found,
                    known: newest_known,
                }) => {
                    assert_eq!(
                        (refused.as_str(), found, newest_known),
                        (store, known + 1, known)
                    );
                }
                other => panic!("{store}: expected NewerSchema, got {other:?}"),
            }
            assert_eq!(version_of_store(&path, store)?, Some(known + 1));
        }
        Ok(())
    }

    /// The keys writes store from the model (`FilterKeys`) are those the SQL of version 3
    /// reads from the stored JSON (what the triggers wrote until version 4, and what filled
    /// the tables of older databases): every shell, submodel and concept description of both
    /// aas-core testgen corpora.
    #[test]
    fn keys_from_the_model_equal_the_keys_read_from_the_json() -> TestResult {
        use aas_conformance_tests::{Corpus, Verdict};
        let repository = SqliteRepository::in_memory()?;
        let mut elements = 0;
        for corpus in [Corpus::V3_0, Corpus::V3_1] {
            for path in corpus.files("Json", Verdict::Ok) {
                let Ok(aas_serde::Document::Environment(env)) = corpus.read_json(&path) else {
                    continue;
                };
                // The files share ids: each element is stored under one of its own.
                for mut shell in env.asset_administration_shells.into_iter().flatten() {
                    elements += 1;
                    shell.id = format!("{}#{elements}", shell.id);
                    repository.put_shell(&shell, &|_| Vec::new())?;
                }
                for mut submodel in env.submodels.into_iter().flatten() {
                    elements += 1;
                    submodel.id = format!("{}#{elements}", submodel.id);
                    repository.put_submodel(&submodel, &|_| Vec::new())?;
                }
                for mut cd in env.concept_descriptions.into_iter().flatten() {
                    elements += 1;
                    cd.id = format!("{}#{elements}", cd.id);
                    repository.put_concept_description(&cd)?;
                }
            }
        }
        assert!(elements > 300, "{elements} elements");
        let connection = repository.lock();
        let keys = |table: &str| -> rusqlite::Result<Vec<(String, String, i64)>> {
            connection
                .prepare(&format!(
                    "SELECT kind, value, owner FROM {table}_keys ORDER BY 1, 2, 3"
                ))?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect()
        };
        for table in ELEMENT_TABLES {
            let written = keys(table)?;
            assert!(written.len() > 50, "{table}: {} keys", written.len());
            connection.execute_batch(&format!(
                "DELETE FROM {table}_keys; {}",
                insert_keys(table, None)
            ))?;
            assert_eq!(written, keys(table)?, "{table}");
        }
        Ok(())
    }
}
