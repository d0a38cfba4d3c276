//! Template renders per second: the contract's Python template (`DT:data`), a mustache
//! command, and the JSONPath extraction, over the §4 answers.
//!
//! ```sh
//! cargo bench -p sdt-core --bench templates
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sdt_core::jsonpath::JsonPath;
use sdt_core::mustache::MustacheTemplate;
use sdt_core::python_format::PythonTemplate;
use serde_json::json;

fn templates(c: &mut Criterion) {
    let variables = json!({"x": 1.5, "y": 2, "z": 3, "on": "false"});
    let variables = variables.as_object().cloned().unwrap_or_default();
    let python = PythonTemplate::parse(r#"{{"coordX":{x},"coordY":{y},"coordZ":{z}}}"#).unwrap();
    let mustache = MustacheTemplate::parse(r#"{"on":{{on}}}"#).unwrap();
    let context = serde_json::Value::Object(variables.clone());
    let path = JsonPath::parse("$[?value.addr='3ef8'].value.position[0]").unwrap();
    let answer = json!([{"value":{"addr":"3ef8","position":[1.5,2,3]}},{"value":{"addr":"aaaa","position":[9,9,9]}}]);

    let mut group = c.benchmark_group("sdt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("python str.format (DT:data)", |b| {
        b.iter(|| python.render(black_box(&variables)).unwrap())
    });
    group.bench_function("mustache (command req)", |b| {
        b.iter(|| mustache.render(black_box(&context)).unwrap())
    });
    group.bench_function("jsonpath-ng filter path", |b| {
        b.iter(|| path.query(black_box(&answer)))
    });
    group.finish();
}

criterion_group!(benches, templates);
criterion_main!(benches);
