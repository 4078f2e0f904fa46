use super::*;
use serde_json::json;

fn secret(data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
                "team": "infra"
            }
        },
        "type": "Opaque",
        "data": data
    })
}

#[test]
fn hides_values_but_differences_stay_visible() {
    let a = mask_secret(&secret(
        json!({"password": "aHVudGVyMg==", "user": "YWRtaW4="}),
    ));
    let b = mask_secret(&secret(json!({"password": "c2VjcmV0", "user": "YWRtaW4="})));
    let text = a.to_string() + &b.to_string();
    assert!(!text.contains("aHVudGVyMg"), "{text}");
    assert!(!text.contains("c2VjcmV0"), "{text}");
    let pa = a["data"]["password"].as_str().unwrap_or_default();
    assert!(pa.starts_with("<masked: 7 bytes (hmac:"), "{pa}");
    assert_ne!(a["data"]["password"], b["data"]["password"]);
    assert_eq!(a["data"]["user"], b["data"]["user"]);
    assert_eq!(
        a["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        json!("<masked>")
    );
    assert_eq!(a["metadata"]["annotations"]["team"], json!("infra"));
    assert_eq!(a["type"], json!("Opaque"));
    let changes = super::super::field_changes(&a, &b);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, "data.password");
}

#[test]
fn string_data_masks_like_decoded_data() {
    let mut s = secret(json!({"user": "YWRtaW4="}));
    s["stringData"] = json!({"user": "admin"});
    let m = mask_secret(&s);
    assert_eq!(m["stringData"]["user"], m["data"]["user"]);
    assert!(!m.to_string().contains("admin"));
}

#[test]
fn non_secrets_unchanged() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}});
    assert_eq!(mask_secret(&cm), cm);
    let crd = json!({"apiVersion": "example.com/v1", "kind": "Secret", "data": {"k": "v"}});
    assert_eq!(mask_secret(&crd), crd);
    assert_eq!(mask_secret(&json!(null)), json!(null));
    let odd = json!({"kind": "Secret", "data": [1], "metadata": "x"});
    assert_eq!(mask_secret(&odd), odd);
}

#[test]
fn base64_decoding() {
    assert_eq!(decode_base64("aHVudGVyMg=="), Some(b"hunter2".to_vec()));
    assert_eq!(decode_base64("YWRtaW4="), Some(b"admin".to_vec()));
    assert_eq!(decode_base64(""), Some(Vec::new()));
    assert_eq!(decode_base64("a"), None);
    assert_eq!(decode_base64("a b"), None);
}
