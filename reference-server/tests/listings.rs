//! Listings: filters and cursors as the database pages them (the router in process).

use serde_json::{Value, json};

mod support;

use support::{Api, InProcess, TestResult, b64, call};

/// Every item of a listing, following its cursors with `limit`; also the number of pages.
async fn walk(
    server: &impl Api,
    path: &str,
    limit: usize,
) -> Result<(Vec<Value>, usize), Box<dyn std::error::Error>> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next = format!("{path}{separator}limit={limit}");
    loop {
        let (status, body) = call(server, reqwest::Method::GET, &next, None).await?;
        assert_eq!(status, 200, "{next}: {body}");
        let result = body["result"].as_array().cloned().unwrap_or_default();
        assert!(result.len() <= limit, "{next}: {body}");
        items.extend(result);
        pages += 1;
        match body["paging_metadata"]["cursor"].as_str() {
            Some(cursor) => next = format!("{path}{separator}limit={limit}&cursor={cursor}"),
            None => return Ok((items, pages)),
        }
    }
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["id"].as_str()).collect()
}

fn asset_id(name: &str, value: &str) -> String {
    b64(&json!({"name": name, "value": value}).to_string())
}

#[tokio::test]
async fn filtered_listings_page_with_cursors_in_creation_order() -> TestResult {
    let server = InProcess::new()?;
    // Created in an order unlike the ids' own.
    for n in [3, 1, 4, 0, 5, 9, 2, 6] {
        let shell = json!({
            "id": format!("urn:aas:{n}"), "idShort": format!("shell{}", n % 2),
            "modelType": "AssetAdministrationShell",
            "assetInformation": {
                "assetKind": "Instance", "globalAssetId": format!("urn:asset:{n}"),
                "specificAssetIds": [
                    {"name": "parity", "value": (n % 2).to_string()},
                    {"name": "small", "value": (n < 5).to_string()}
                ]
            }
        });
        let (status, body) = call(&server, reqwest::Method::POST, "/shells", Some(shell)).await?;
        assert_eq!(status, 201, "{body}");
        let submodel = json!({
            "id": format!("urn:sm:{n}"), "idShort": "Data", "modelType": "Submodel",
            "semanticId": {"type": "ExternalReference",
                "keys": [{"type": "GlobalReference", "value": format!("urn:sem:{}", n % 3)}]},
            "supplementalSemanticIds": [{"type": "ExternalReference",
                "keys": [{"type": "GlobalReference", "value": "urn:sem:all"}]}],
            "submodelElements": [
                {"modelType": "Property", "idShort": "pa", "valueType": "xs:string"},
                {"modelType": "Property", "idShort": "pb", "valueType": "xs:string"}
            ]
        });
        let (status, body) =
            call(&server, reqwest::Method::POST, "/submodels", Some(submodel)).await?;
        assert_eq!(status, 201, "{body}");
    }

    let (all, pages) = walk(&server, "/shells", 3).await?;
    assert_eq!(
        ids(&all),
        [
            "urn:aas:3",
            "urn:aas:1",
            "urn:aas:4",
            "urn:aas:0",
            "urn:aas:5",
            "urn:aas:9",
            "urn:aas:2",
            "urn:aas:6"
        ]
    );
    assert_eq!(pages, 3);
    // assetIds repeated: all must hold.
    let both = format!(
        "/shells?assetIds={}&assetIds={}",
        asset_id("parity", "1"),
        asset_id("small", "true")
    );
    let (odd_small, _) = walk(&server, &both, 1).await?;
    assert_eq!(ids(&odd_small), ["urn:aas:3", "urn:aas:1"]);
    let global = format!(
        "/shells?assetIds={}&idShort=shell1",
        asset_id("globalAssetId", "urn:asset:9")
    );
    assert_eq!(ids(&walk(&server, &global, 5).await?.0), ["urn:aas:9"]);
    let (even, _) = walk(&server, "/shells?idShort=shell0", 2).await?;
    assert_eq!(
        ids(&even),
        ["urn:aas:4", "urn:aas:0", "urn:aas:2", "urn:aas:6"]
    );
    let (references, _) = walk(&server, &format!("/shells/$reference?{}", &both[8..]), 1).await?;
    assert_eq!(
        references
            .iter()
            .map(|r| r["keys"][0]["value"].as_str().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["urn:aas:3", "urn:aas:1"]
    );

    let semantic = format!("/submodels?semanticId={}", b64("urn:sem:0"));
    assert_eq!(
        ids(&walk(&server, &semantic, 1).await?.0),
        ["urn:sm:3", "urn:sm:0", "urn:sm:9", "urn:sm:6"]
    );
    // A supplemental semantic id matches too.
    let supplemental = format!(
        "/submodels/$metadata?semanticId={}&idShort=Data",
        b64("urn:sem:all")
    );
    assert_eq!(walk(&server, &supplemental, 3).await?.0.len(), 8);
    // $path pages paths, not submodels: 8 submodels of 2 elements, by 3.
    let (paths, pages) = walk(
        &server,
        &format!("/submodels/$path?semanticId={}", b64("urn:sem:0")),
        3,
    )
    .await?;
    assert_eq!(
        paths.iter().filter_map(Value::as_str).collect::<String>(),
        "papbpapbpapbpapb"
    );
    assert_eq!(pages, 3);
    // A next page may ask another limit: every path is still listed once, in order.
    let path = format!("/submodels/$path?semanticId={}", b64("urn:sem:0"));
    let mut listed = String::new();
    let mut next = format!("{path}&limit=3");
    for _ in 0..20 {
        let (status, body) = call(&server, reqwest::Method::GET, &next, None).await?;
        assert_eq!(status, 200, "{next}: {body}");
        for item in body["result"].as_array().into_iter().flatten() {
            listed.push_str(item.as_str().unwrap_or("?"));
        }
        match body["paging_metadata"]["cursor"].as_str() {
            Some(cursor) => next = format!("{path}&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, "papbpapbpapbpapb");

    // A cursor of one listing is refused by another, and a made-up one by all.
    let (_, first) = call(&server, reqwest::Method::GET, "/shells?limit=1", None).await?;
    let cursor = first["paging_metadata"]["cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for bad in [
        format!("/submodels?cursor={cursor}"),
        format!("/submodels/$path?cursor={cursor}"),
        format!("/concept-descriptions?cursor={cursor}"),
        "/shells?cursor=2".to_owned(),
        format!("/shells?cursor={}", b64("shells:x")),
    ] {
        let (status, body) = call(&server, reqwest::Method::GET, &bad, None).await?;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body.to_string().contains("is not one this server gave"),
            "{bad}: {body}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn concept_descriptions_filter_by_is_case_of_data_specification_and_id_short() -> TestResult {
    let server = InProcess::new()?;
    for n in 0..4 {
        let cd = json!({
            "id": format!("urn:cd:{n}"), "idShort": format!("cd{}", n % 2),
            "modelType": "ConceptDescription",
            "isCaseOf": [{"type": "ExternalReference",
                "keys": [{"type": "GlobalReference", "value": format!("urn:case:{}", n % 2)}]}],
            "embeddedDataSpecifications": [{
                "dataSpecification": {"type": "ExternalReference", "keys": [{"type": "GlobalReference",
                    "value": "https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIec61360/3"}]},
                "dataSpecificationContent": {"modelType": "DataSpecificationIec61360",
                    "preferredName": [{"language": "en", "text": "name"}],
                    "definition": [{"language": "en", "text": "what it is"}]}
            }]
        });
        let (status, body) = call(
            &server,
            reqwest::Method::POST,
            "/concept-descriptions",
            Some(cd),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
    }
    let case = format!("/concept-descriptions?isCaseOf={}", b64("urn:case:1"));
    assert_eq!(
        ids(&walk(&server, &case, 1).await?.0),
        ["urn:cd:1", "urn:cd:3"]
    );
    let spec = format!(
        "/concept-descriptions?dataSpecificationRef={}&idShort=cd0",
        b64("https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIec61360/3")
    );
    assert_eq!(
        ids(&walk(&server, &spec, 1).await?.0),
        ["urn:cd:0", "urn:cd:2"]
    );
    Ok(())
}
