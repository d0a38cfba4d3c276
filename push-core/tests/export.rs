//! The environment export ([`push_core::Export`]): what `gather` takes from a source, and AASX
//! pushes carrying the source's files.

mod support;

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, Environment, Submodel};
use async_trait::async_trait;
use bytes::Bytes;
use push_core::{
    ConceptDescriptions, Export, ExportError, ExportFile, JobState, MemoryJobStore, PushEngine,
    PushRequest, SerializationFormat, Source, SourceError, TargetConfig, TargetOptions,
};
use support::{EnvironmentSource, OneTarget};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn environment() -> Result<Environment, Box<dyn std::error::Error>> {
    let json = serde_json::json!({
        "assetAdministrationShells": [{
            "id": "urn:aas:1", "modelType": "AssetAdministrationShell",
            "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:asset:1",
                "defaultThumbnail": {"path": "/aasx/thumb.png", "contentType": "image/png"}}
        }],
        "submodels": [{
            "id": "urn:sm:1", "modelType": "Submodel",
            "semanticId": {"type": "ExternalReference",
                "keys": [{"type": "GlobalReference", "value": "urn:cd:top"}]},
            "submodelElements": [{
                "modelType": "SubmodelElementCollection", "idShort": "Docs",
                "value": [{"modelType": "File", "idShort": "Manual",
                    "contentType": "application/pdf", "value": "/aasx/files/manual.pdf",
                    "semanticId": {"type": "ExternalReference",
                        "keys": [{"type": "GlobalReference", "value": "urn:cd:deep"}]}}]
            }]
        }, {"id": "urn:sm:2", "modelType": "Submodel"}],
        "conceptDescriptions": [
            {"id": "urn:cd:top", "modelType": "ConceptDescription"},
            {"id": "urn:cd:deep", "modelType": "ConceptDescription"},
            {"id": "urn:cd:unreferenced", "modelType": "ConceptDescription"}
        ]
    });
    Ok(aas_serde::json::from_slice(&serde_json::to_vec(&json)?)?)
}

/// The environment's elements, with a thumbnail for each shell and the manual for `urn:sm:1`.
struct WithFiles(EnvironmentSource);

#[async_trait]
impl Source for WithFiles {
    async fn shell(&self, id: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        self.0.shell(id).await
    }
    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        self.0.submodel(id).await
    }
    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<Arc<aas_model::ConceptDescription>>, SourceError> {
        self.0.concept_description(id).await
    }
    async fn files(
        &self,
        shells: &[Arc<AssetAdministrationShell>],
        submodels: &[Arc<Submodel>],
    ) -> Result<Vec<ExportFile>, SourceError> {
        let mut files = Vec::new();
        for shell in shells {
            if let Some(thumbnail) = &shell.asset_information.default_thumbnail {
                files.push(ExportFile {
                    path: thumbnail.path.clone(),
                    content_type: "image/png".into(),
                    bytes: Bytes::from_static(b"\x89PNG thumb"),
                    thumbnail: true,
                });
            }
        }
        if submodels.iter().any(|s| s.id == "urn:sm:1") {
            files.push(ExportFile {
                path: "/aasx/files/manual.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: Bytes::from_static(b"%PDF manual"),
                thumbnail: false,
            });
        }
        Ok(files)
    }
}

fn ids(export: &Export) -> Vec<&str> {
    export
        .concept_descriptions
        .iter()
        .map(|cd| cd.id.as_str())
        .collect()
}

#[tokio::test]
async fn gather_takes_the_referenced_concept_descriptions_and_files_only_when_asked() -> TestResult
{
    let source = WithFiles(EnvironmentSource(environment()?));
    let both = ["urn:sm:1", "urn:sm:2"];
    let referenced = Export::gather(&source, &["urn:aas:1"], &both, true, false).await?;
    assert_eq!(referenced.counts(), (1, 2, 2));
    assert_eq!(ids(&referenced), ["urn:cd:deep", "urn:cd:top"], "sorted");
    assert!(referenced.files.is_empty(), "files only when asked");

    let none = Export::gather(&source, &[], &both, false, true).await?;
    assert_eq!(none.counts(), (0, 2, 0));
    assert_eq!(none.files.len(), 1, "the manual");

    let listed = ConceptDescriptions::These(vec!["urn:cd:unreferenced".into(), "urn:no".into()]);
    let these = Export::gather(&source, &[], &[], listed, false).await?;
    assert_eq!(
        ids(&these),
        ["urn:cd:unreferenced"],
        "unknown ones left out"
    );
    assert_eq!(these.counts(), (0, 0, 1), "naming nothing is no error here");
    Ok(())
}

#[tokio::test]
async fn gather_lists_every_unknown_id() -> TestResult {
    let source = EnvironmentSource(environment()?);
    let refused = Export::gather(&source, &["urn:no:shell"], &["urn:no:sm"], true, false).await;
    match refused {
        Err(ExportError::UnknownIds(unknown)) => {
            assert_eq!(
                unknown,
                [r#"shell "urn:no:shell""#, r#"submodel "urn:no:sm""#]
            );
        }
        other => return Err(format!("{other:?}").into()),
    }
    Ok(())
}

#[tokio::test]
async fn an_aasx_push_carries_the_thumbnail_and_the_files_of_the_source() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target", "type": "local-directory", "configuration": {"path": dir.path()}
    }))?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(WithFiles(EnvironmentSource(environment()?))),
        Arc::new(jobs.clone()),
        Arc::new(OneTarget(Arc::new(
            config.build(&TargetOptions::default().with_local_root(dir.path()))?,
        ))),
        1,
    );
    for format in [SerializationFormat::AasxXml, SerializationFormat::AasxJson] {
        let job = push_core::PushJob::new(PushRequest {
            push_target_name: "target".into(),
            serialization_format: format,
            shell_ids: vec!["urn:aas:1".into()],
            submodel_ids: vec!["urn:sm:1".into()],
            include_concept_descriptions: true,
            blob_name: Some("env.aasx".into()),
            aas_version: None,
            allow_loss: false,
        });
        let done = engine.run(job).await;
        assert_eq!(done.state, JobState::Completed, "{:?}", done.message);
        let bytes = std::fs::read(dir.path().join("env.aasx"))?;
        let mut package = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(bytes))?;
        let thumbnail = package
            .thumbnail()
            .map(str::to_owned)
            .ok_or("no thumbnail")?;
        assert!(thumbnail.ends_with("aasx/thumb.png"), "{thumbnail}");
        let manual = package
            .supplementary_files()
            .iter()
            .find(|part| part.ends_with("aasx/files/manual.pdf"))
            .cloned()
            .ok_or("no manual")?;
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut package.open(&manual)?, &mut content)?;
        assert_eq!(content, b"%PDF manual");
    }
    Ok(())
}

#[test]
fn every_format_has_one_mime_type_that_names_it_back_and_accept_honours_q_values() {
    for format in SerializationFormat::ALL {
        assert_eq!(
            SerializationFormat::from_mime_type(format.mime_type()),
            Some(format)
        );
        assert_eq!(
            serde_json::to_value(format).ok(),
            Some(serde_json::Value::from(format.mime_type())),
            "the name in push requests"
        );
    }
    let negotiate = SerializationFormat::negotiate;
    assert_eq!(negotiate(None), Some(SerializationFormat::Json));
    assert_eq!(negotiate(Some("*/*")), Some(SerializationFormat::Json));
    assert_eq!(
        negotiate(Some("text/csv, text/xml;q=0.9")),
        Some(SerializationFormat::Xml)
    );
    assert_eq!(
        negotiate(Some("application/aasx+xml")),
        Some(SerializationFormat::AasxXml)
    );
    assert_eq!(
        negotiate(Some("APPLICATION/asset-administration-shell-package+json")),
        Some(SerializationFormat::AasxJson)
    );
    assert_eq!(negotiate(Some("text/csv")), None);
    // Weights: q=0 excludes, the highest weight wins, the order breaks ties, the most specific
    // range decides a format's weight.
    let cases = [
        ("application/json;q=0", None),
        ("application/json; q=0, */*;q=0", None),
        ("", Some(SerializationFormat::Json)),
        ("application/*", Some(SerializationFormat::Json)),
        // Other names count only when named: the answer is application/xml.
        ("text/*", None),
        (
            "application/json;q=0.5, application/xml",
            Some(SerializationFormat::Xml),
        ),
        (
            "application/xml;q=0.9, application/json;q=0.91",
            Some(SerializationFormat::Json),
        ),
        (
            "application/xml, application/json",
            Some(SerializationFormat::Xml),
        ),
        (
            "application/json, application/xml",
            Some(SerializationFormat::Json),
        ),
        ("*/*, application/xml", Some(SerializationFormat::Json)),
        ("*/*;q=0.1, application/xml", Some(SerializationFormat::Xml)),
        ("application/json;q=0, */*", Some(SerializationFormat::Xml)),
        (
            "application/json;q=0, application/xml;q=0, */*",
            Some(SerializationFormat::AasxJson),
        ),
        (
            "application/*;q=0, text/xml;q=0.2",
            Some(SerializationFormat::Xml),
        ),
        ("APPLICATION/XML;Q=1.0", Some(SerializationFormat::Xml)),
        (
            "application/aasx+xml;q=1, application/xml;q=1.000",
            Some(SerializationFormat::AasxXml),
        ),
        // A range with a weight that is no weight is ignored.
        (
            "application/xml;q=high, application/json;q=0.1",
            Some(SerializationFormat::Json),
        ),
        ("application/xml;q=2", None),
        ("not a type", None),
    ];
    for (accept, format) in cases {
        assert_eq!(negotiate(Some(accept)), format, "Accept: {accept}");
    }
    assert_eq!(
        SerializationFormat::AasxXml.content_type(),
        "application/asset-administration-shell-package"
    );
}
