//! Listings that page in the database. Each element table has a stable `seq` (its
//! `INTEGER PRIMARY KEY`, see the migrations): a page is the next `limit` rows after the
//! cursor's `seq` in `seq` order, found through an index: the table's own key without a filter,
//! else the side table `<table>_keys` of the values filters match (idShort, asset ids, semantic
//! ids, concept description references; written with each element). One more row than asked tells
//! whether a next page exists. So a page reads and decodes `limit + 1` rows whatever the size
//! of the table (with several filters, the first leads and the others are checked per row it
//! yields: the cost then grows with the rows the leading filter matches that the others
//! refuse, never with the rows it does not match).
//!
//! The conditions and cursors are those of every backend (`storage/paging.rs`).

use rusqlite::types::ToSql;

use super::super::paging::{Condition, cursor_after, listing_cursor};
use super::{Collection, Page, SqliteRepository, StorageError, decode};

/// The query of one page: `SELECT seq, id, json`; `?1, ?2…` are the conditions' kinds and
/// values in turn, then comes the cursor's `seq`. No `LIMIT ?`: SQLite would prepare the
/// statement again at every run (its plan depends on the bound row count); the caller stops
/// stepping after the page's rows. The first condition leads:
/// its index range (kind, value, seq) yields the matching elements in seq order from the
/// cursor on (CROSS JOIN keeps SQLite from starting at the element table instead, which with
/// few matches reads the whole table to fill a page); the others are index look-ups per row.
fn page_sql(table: &str, conditions: &[Condition<'_>]) -> String {
    let mut parameter = 0;
    let mut next = || {
        parameter += 1;
        parameter
    };
    let (mut sql, key) = match conditions.first() {
        Some(_) => {
            let (kind, value) = (next(), next());
            (
                format!(
                    "SELECT t.seq, t.id, t.json FROM {table}_keys AS l \
                     CROSS JOIN {table} AS t ON t.seq = l.owner \
                     WHERE l.kind = ?{kind} AND l.value = ?{value}"
                ),
                "l.owner",
            )
        }
        None => (
            format!("SELECT t.seq, t.id, t.json FROM {table} AS t WHERE 1"),
            "t.seq",
        ),
    };
    for _ in conditions.iter().skip(1) {
        let (kind, value) = (next(), next());
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM {table}_keys AS k \
             WHERE k.kind = ?{kind} AND k.value = ?{value} AND k.owner = t.seq)"
        );
    }
    let after = next();
    sql + &format!(" AND {key} > ?{after} ORDER BY {key}")
}

/// The conditions' kinds and values, in the order [`page_sql`] numbers them.
fn values<'a>(conditions: &'a [Condition<'a>]) -> Vec<&'a str> {
    conditions
        .iter()
        .flat_map(|c| [c.kind.as_str(), c.value])
        .collect()
}

impl SqliteRepository {
    /// One page of `collection` with `conditions`, after `cursor`.
    pub(super) fn list<T: aas_serde::json::FromJson>(
        &self,
        collection: Collection,
        conditions: &[Condition<'_>],
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<T>, StorageError> {
        let table = collection.table();
        let after = listing_cursor(table, cursor)?;
        let values = values(conditions);
        let mut parameters: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        parameters.push(&after);
        let connection = self.read();
        let mut statement = connection.prepare_cached(&page_sql(table, conditions))?;
        let found = statement.query_map(parameters.as_slice(), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for row in found {
            let (seq, id, json) = row?;
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(decode(&id, &json)?);
            last = Some(seq);
        }
        Ok(Page {
            items,
            cursor: last.filter(|_| more).map(|seq| cursor_after(table, seq)),
        })
    }

    /// How SQLite runs the page query of `collection` with `conditions` (`EXPLAIN QUERY
    /// PLAN`'s details): the tests check that no step scans a table.
    #[cfg(test)]
    pub(super) fn listing_plan(
        &self,
        collection: Collection,
        conditions: &[Condition<'_>],
    ) -> Result<Vec<String>, StorageError> {
        let values = values(conditions);
        let mut parameters: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        parameters.push(&0);
        let connection = self.read();
        let mut statement = connection.prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            page_sql(collection.table(), conditions)
        ))?;
        let details = statement
            .query_map(parameters.as_slice(), |row| row.get::<_, String>(3))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ConceptDescriptionFilter, ShellFilter, SubmodelFilter};
    use aas_model::{AssetAdministrationShell, AssetInformation, AssetKind, Submodel};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn conditions_are_numbered_in_the_order_of_their_values() {
        let filter = ShellFilter {
            id_short: Some("short".into()),
            asset_ids: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        };
        let conditions = filter.conditions();
        assert_eq!(
            values(&conditions),
            ["asset:a", "1", "asset:b", "2", "idShort", "short"]
        );
        let sql = page_sql("shells", &conditions);
        assert!(sql.contains("l.kind = ?1 AND l.value = ?2"), "{sql}");
        assert!(sql.contains("k.kind = ?3 AND k.value = ?4"), "{sql}");
        assert!(sql.contains("k.kind = ?5 AND k.value = ?6"), "{sql}");
        assert!(sql.ends_with("l.owner > ?7 ORDER BY l.owner"), "{sql}");
    }

    fn shell(n: usize) -> AssetAdministrationShell {
        let mut info = AssetInformation::new(AssetKind::Instance);
        info.global_asset_id = Some(format!("urn:asset:{n}"));
        info.specific_asset_ids = Some(vec![
            aas_model::SpecificAssetId::new("serial", format!("{}", n % 10)),
            aas_model::SpecificAssetId::new("line", format!("{}", n % 3)),
        ]);
        let mut shell = AssetAdministrationShell::new(format!("urn:aas:{n}"), info);
        shell.id_short = Some(format!("shell{}", n % 4));
        shell
    }

    /// The statements of the frequent reads (a submodel's JSON, a page of an unfiltered
    /// listing, the due outbox entries, the event feed, the dead letters) are prepared once
    /// per connection: run again through rusqlite's statement cache, SQLite uses them as
    /// prepared. A statement whose plan looked at a bound value (`LIMIT ?`, the `?1` of a
    /// `LEFT JOIN`) is expired when the cache clears its bindings, and prepared again at its
    /// next run: the submodel's `LEFT JOIN` cost 7 % of the server's CPU under GET and PUT
    /// load. A filtered page still is (its plan estimates the rows of the leading filter's
    /// bound value): one preparation per page of up to `limit` rows.
    #[test]
    fn hot_statements_are_prepared_once() -> TestResult {
        use rusqlite::StatementStatus::{RePrepare, Run};
        let dir = tempfile::tempdir()?;
        let repository = SqliteRepository::open(&dir.path().join("aas.sqlite"))?;
        for n in 0..5 {
            repository.put_shell(&shell(n), &|_| Vec::new())?;
            let mut submodel = Submodel::new(format!("urn:sm:{n}"));
            submodel.id_short = Some(format!("sm{}", n % 2));
            repository.put_submodel(&submodel, &|_| Vec::new())?;
        }
        let filter = ShellFilter {
            id_short: Some("shell1".into()),
            ..ShellFilter::default()
        };
        let mut cursor = None;
        for n in 1..4 {
            assert!(repository.submodel_json(&format!("urn:sm:{n}"))?.is_some());
            let page = repository.shells(n, cursor.as_deref())?;
            cursor = page.cursor;
            repository.shells_where(&filter, n, None)?;
            repository.outbox(n)?;
            repository.events(None, n, 1 << 20, None)?;
            repository.dead_letters(n, None)?;
        }
        // The statements as the repository runs them (the same text finds the same cached
        // statement; `Run` says it is the one that ran).
        let reader = [
            super::super::SUBMODEL_JSON.to_owned(),
            page_sql("shells", &[]),
            super::super::EVENTS_AFTER.to_owned(),
            super::super::DEAD_LETTERS_AFTER.to_owned(),
        ];
        for sql in &reader {
            let connection = repository.read();
            let statement = connection.prepare_cached(sql)?;
            assert!(statement.get_status(Run) > 0, "not run: {sql}");
            assert_eq!(statement.get_status(RePrepare), 0, "{sql}");
        }
        let writer = repository.lock();
        let statement = writer.prepare_cached(super::super::OUTBOX_DUE)?;
        assert!(
            statement.get_status(Run) > 0,
            "the outbox query did not run"
        );
        assert_eq!(statement.get_status(RePrepare), 0, "the outbox query");
        drop(statement);
        drop(writer);
        // Without `LIMIT` a page is as cheap only if rows come in key order as they are read:
        // no step sorts them first (which would read every matching row).
        for (sql, values) in [
            (super::super::EVENTS_AFTER, &[0i64, 0][..]),
            (super::super::OUTBOX_DUE, &[0][..]),
        ] {
            let plan = repository
                .read()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                .query_map(rusqlite::params_from_iter(values), |row| {
                    row.get::<_, String>(3)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{sql}: {plan:?}"
            );
        }
        Ok(())
    }

    /// Every page query reads through an index: the steps are SEARCHes (index ranges or key
    /// look-ups), never a SCAN of a table, and none sorts in a temporary b-tree; a filtered
    /// one starts with an equality on an indexed filter column (not the table's key range,
    /// which would read every row from the cursor on to find the matching ones). So a page
    /// reads the rows it lists (and one more), whatever the size of the table.
    #[test]
    fn every_listing_query_searches_an_index_and_never_scans() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        for n in 0..300 {
            repository.put_shell(&shell(n), &|_| Vec::new())?;
            let mut submodel = Submodel::new(format!("urn:sm:{n}"));
            submodel.id_short = Some(format!("sm{}", n % 4));
            repository.put_submodel(&submodel, &|_| Vec::new())?;
        }
        repository.read().execute_batch("ANALYZE")?;
        let shells = [
            ShellFilter::default(),
            ShellFilter {
                id_short: Some("shell1".into()),
                ..ShellFilter::default()
            },
            ShellFilter {
                id_short: Some("shell1".into()),
                asset_ids: vec![
                    ("serial".into(), "3".into()),
                    ("globalAssetId".into(), "urn:asset:3".into()),
                ],
            },
        ];
        let submodels = [
            SubmodelFilter::default(),
            SubmodelFilter {
                id_short: Some("sm1".into()),
                semantic_id: Some("urn:semantic:1".into()),
            },
        ];
        let concept_descriptions = [ConceptDescriptionFilter {
            id_short: Some("cd".into()),
            is_case_of: Some("urn:case".into()),
            data_specification: Some("urn:ds".into()),
        }];
        let mut plans = Vec::new();
        for filter in &shells {
            plans.push(repository.listing_plan(Collection::Shells, &filter.conditions())?);
        }
        for filter in &submodels {
            plans.push(repository.listing_plan(Collection::Submodels, &filter.conditions())?);
        }
        for filter in &concept_descriptions {
            plans.push(
                repository.listing_plan(Collection::ConceptDescriptions, &filter.conditions())?,
            );
        }
        let unfiltered = "SEARCH t USING INTEGER PRIMARY KEY (rowid>?)";
        assert_eq!(plans[0], [unfiltered]);
        assert_eq!(plans[3], [unfiltered]);
        assert!(
            plans[1][0].contains("USING PRIMARY KEY (kind=? AND value=? AND owner>?)"),
            "{:?}",
            plans[1]
        );
        for plan in &plans[1..] {
            if plan[0] != unfiltered {
                assert!(plan[0].contains("=? AND"), "{plan:#?}");
            }
        }
        assert_eq!(plans.iter().filter(|p| p[0] == unfiltered).count(), 2);
        for plan in plans {
            assert!(
                plan.iter()
                    .all(|step| step.starts_with("SEARCH") || step.starts_with("CORRELATED")),
                "{plan:#?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{plan:#?}"
            );
        }
        Ok(())
    }

    #[test]
    fn filters_keep_what_matches_all_of_them_and_page_in_creation_order() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        for n in 0..60 {
            repository.put_shell(&shell(n), &|_| Vec::new())?;
        }
        // serial 3 (n % 10 == 3) and line 0 (n % 3 == 0): 3, 33; idShort shell1 (n % 4 == 1): 33.
        let filter = ShellFilter {
            id_short: None,
            asset_ids: vec![("serial".into(), "3".into()), ("line".into(), "0".into())],
        };
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = repository.shells_where(&filter, 1, cursor.as_deref())?;
            seen.extend(page.items.into_iter().map(|s| s.id));
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["urn:aas:3", "urn:aas:33"]);
        let with_id_short = ShellFilter {
            id_short: Some("shell1".into()),
            ..filter.clone()
        };
        let page = repository.shells_where(&with_id_short, 10, None)?;
        assert_eq!(
            page.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["urn:aas:33"]
        );
        let global = ShellFilter {
            id_short: None,
            asset_ids: vec![("globalAssetId".into(), "urn:asset:7".into())],
        };
        assert_eq!(repository.shells_where(&global, 10, None)?.items.len(), 1);

        // A replace keeps the element's place and re-indexes it; a delete un-indexes it.
        let mut changed = shell(3);
        changed.asset_information.specific_asset_ids =
            Some(vec![aas_model::SpecificAssetId::new("serial", "x")]);
        repository.put_shell(&changed, &|_| Vec::new())?;
        let page = repository.shells_where(&filter, 10, None)?;
        assert_eq!(
            page.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["urn:aas:33"]
        );
        repository.delete_shell("urn:aas:33", &|_| Vec::new())?;
        assert!(repository.shells_where(&filter, 10, None)?.items.is_empty());
        let all: Vec<String> = repository
            .shells(100, None)?
            .items
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(all.len(), 59);
        assert_eq!(all[3], "urn:aas:3", "a replace keeps its place");
        Ok(())
    }

    /// An element that names one key twice (a semantic id repeated as a supplemental one) is
    /// stored, replaced and found once.
    #[test]
    fn an_element_naming_one_key_twice_is_replaced_and_found_once() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        let mut submodel = Submodel::new("urn:sm:twice");
        submodel.semantic_id = Some(aas_model::Reference::global("urn:sem:x"));
        submodel.supplemental_semantic_ids = Some(vec![aas_model::Reference::global("urn:sem:x")]);
        repository.put_submodel(&submodel, &|_| Vec::new())?;
        // Its keys are inserted once each (inside an upsert's trigger, a duplicate aborted it).
        submodel.id_short = Some("Again".into());
        repository.put_submodel(&submodel, &|_| Vec::new())?;
        let filter = SubmodelFilter {
            semantic_id: Some("urn:sem:x".into()),
            ..SubmodelFilter::default()
        };
        let found = repository.submodels_where(&filter, 10, None)?.items;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id_short.as_deref(), Some("Again"));
        Ok(())
    }

    #[test]
    fn ids_are_listed_in_creation_order_and_a_replace_keeps_its_place() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        for n in [2, 0, 1] {
            repository.put_shell(&shell(n), &|_| Vec::new())?;
        }
        repository.put_shell(&shell(2), &|_| Vec::new())?;
        repository.delete_shell("urn:aas:0", &|_| Vec::new())?;
        assert_eq!(
            repository.ids(crate::storage::Collection::Shells)?,
            ["urn:aas:2", "urn:aas:1"]
        );
        assert!(
            repository
                .ids(crate::storage::Collection::Submodels)?
                .is_empty()
        );
        Ok(())
    }

    /// Keys follow replaces and deletes; a delete in any SQL takes its keys (the delete
    /// trigger), and an insert that gets a freed seq gets only its own keys.
    #[test]
    fn keys_follow_replaces_and_deletes() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        for n in 0..3 {
            repository.put_shell(&shell(n), &|_| Vec::new())?;
        }
        let with_serial = |serial: &str| {
            aas_serde::json::from_str::<AssetAdministrationShell>(&format!(
                r#"{{"modelType":"AssetAdministrationShell","id":"urn:aas:2","assetInformation":{{"assetKind":"Instance","specificAssetIds":[{{"name":"serial","value":"{serial}"}}]}}}}"#
            ))
        };
        let serial = |value: &str| ShellFilter {
            id_short: None,
            asset_ids: vec![("serial".into(), value.into())],
        };
        let found = |filter: &ShellFilter| -> Result<Vec<String>, StorageError> {
            Ok(repository
                .shells_where(filter, 10, None)?
                .items
                .into_iter()
                .map(|s| s.id)
                .collect())
        };
        repository.put_shell(&with_serial("replaced")?, &|_| Vec::new())?;
        assert_eq!(found(&serial("2"))?, Vec::<String>::new());
        assert_eq!(found(&serial("replaced"))?, ["urn:aas:2"]);
        repository
            .lock()
            .execute("DELETE FROM shells WHERE id = 'urn:aas:2'", [])?;
        assert!(found(&serial("replaced"))?.is_empty());
        // The freed seq goes to the next insert: it gets only its own keys.
        repository.put_shell(&with_serial("again")?, &|_| Vec::new())?;
        assert_eq!(found(&serial("again"))?, ["urn:aas:2"]);
        assert!(found(&serial("replaced"))?.is_empty());
        let stale: i64 = repository.lock().query_row(
            "SELECT count(*) FROM shells_keys WHERE owner NOT IN (SELECT seq FROM shells)",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(stale, 0);
        Ok(())
    }
}
