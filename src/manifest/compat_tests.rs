use super::*;
use serde_json::json;

#[test]
fn octal_modes_in_volumes() {
    let mut v = json!({"spec": {"template": {"spec": {"volumes": [
        {"name": "a", "secret": {"secretName": "s", "defaultMode": "0644",
            "items": [{"key": "k", "path": "p", "mode": "0400"}]}},
        {"name": "b", "configMap": {"name": "c", "defaultMode": "0755"}},
        {"name": "c", "projected": {"defaultMode": "0440", "sources": [
            {"configMap": {"name": "c", "items": [{"key": "k", "path": "p", "mode": "0600"}]}}
        ]}},
        {"name": "d", "secret": {"secretName": "s", "defaultMode": 420}},
        {"name": "e", "configMap": {"name": "c", "defaultMode": "0999"}}
    ]}}}});
    fix_octal_modes(&mut v);
    let vols = &v["spec"]["template"]["spec"]["volumes"];
    assert_eq!(vols[0]["secret"]["defaultMode"], json!(420));
    assert_eq!(vols[0]["secret"]["items"][0]["mode"], json!(256));
    assert_eq!(vols[1]["configMap"]["defaultMode"], json!(493));
    assert_eq!(vols[2]["projected"]["defaultMode"], json!(288));
    assert_eq!(
        vols[2]["projected"]["sources"][0]["configMap"]["items"][0]["mode"],
        json!(384)
    );
    assert_eq!(vols[3]["secret"]["defaultMode"], json!(420));
    assert_eq!(vols[4]["configMap"]["defaultMode"], json!("0999"));
}

#[test]
fn other_strings_are_untouched() {
    let mut v = json!({"data": {"defaultMode": "0644", "mode": "0644"}, "volumes": "0644"});
    let before = v.clone();
    fix_octal_modes(&mut v);
    assert_eq!(v, before);
    assert_eq!(yaml11_octal("0"), None);
    assert_eq!(yaml11_octal("644"), None);
    assert_eq!(yaml11_octal("00"), Some(0));
}
