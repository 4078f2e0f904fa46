use super::*;
use serde_json::json;

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

#[test]
fn prefers_name_then_falls_back() {
    let a = items(json!([{"name": "a", "port": 1}, {"name": "b", "port": 2}]));
    let key = choose_key(&[&a, &a]);
    assert_eq!(key.map(|k| k.field), Some("name"));

    let b = items(json!([{"port": 1}, {"name": "b", "port": 2}]));
    assert_eq!(choose_key(&[&a, &b]).map(|k| k.field), Some("port"));

    let dup = items(json!([{"x": 1}, {"x": 1}]));
    assert_eq!(choose_key(&[&dup, &dup]), None);
    let scalars = items(json!(["a", "b"]));
    assert_eq!(choose_key(&[&scalars, &scalars]), None);
}

#[test]
fn container_ports_use_protocol_only_when_needed() {
    let tcp_only = items(json!([{"containerPort": 80}, {"containerPort": 443}]));
    let k = choose_key(&[&tcp_only, &tcp_only]);
    assert_eq!(k.map(|k| k.with_protocol), Some(false));

    let dns = items(json!([
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 53}
    ]));
    let k = choose_key(&[&dns, &dns]);
    assert_eq!(
        k.map(|k| (k.field, k.with_protocol)),
        Some(("containerPort", true))
    );
    let rendered = k.map(|k| k.of(&dns[1]));
    assert_eq!(
        rendered,
        Some(vec![
            ("containerPort".to_string(), json!(53)),
            ("protocol".to_string(), json!("TCP"))
        ])
    );
}

#[test]
fn numbers_compare_numerically() {
    let p = FieldPath::root().field("x");
    assert!(scalars_equal(&p, &json!(1), &json!(1.0)));
    assert!(!scalars_equal(&p, &json!(1), &json!(1.5)));
    assert!(!scalars_equal(&p, &json!(1), &json!("1")));
    assert!(!scalars_equal(&p, &json!("500m"), &json!(0.5)));
    let q = FieldPath::root().field("limits").field("cpu");
    assert!(scalars_equal(&q, &json!("500m"), &json!(0.5)));
    assert!(!scalars_equal(&q, &json!("1Gi"), &json!("1G")));
    assert!(scalars_equal(&q, &json!("abc"), &json!("abc")));
}
