use super::*;
use crate::manifest::{parse_bundle, Limits};

const KUSTOMIZE_OUT: &str = "\
apiVersion: v1
data:
  x: \"1\"
kind: ConfigMap
metadata:
  annotations:
    config.kubernetes.io/origin: |
      configuredIn: ../repo/base/kustomization.yaml
      configuredBy:
        apiVersion: builtin
        kind: ConfigMapGenerator
  labels:
    env: prod
  name: prod-gen-hmg6f82fh6
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: ../repo/base/ds.yaml
    team: logs
  name: prod-agent
spec: {}
";

fn info(tool: RenderKind) -> RenderInfo {
    RenderInfo {
        tool,
        version: "v0".into(),
        root: "overlays/prod".into(),
        files_read: 3,
        elapsed_ms: 1,
        reads: Default::default(),
    }
}

fn sources(path: &str) -> Option<String> {
    match path {
        "base/kustomization.yaml" => Some("resources: [ds.yaml]\nconfigMapGenerator:\n- name: gen\n  literals: [x=1]\n".into()),
        "base/ds.yaml" => Some("# agent\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n".into()),
        "charts/db/templates/sts.yaml" => Some("{{- range .Values.dbs }}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ . }}\n{{- end }}\n".into()),
        _ => None,
    }
}

#[test]
fn kustomize_objects_point_at_their_source_file_and_line() {
    let file_of = |raw: &str| raw.strip_prefix("../repo/").unwrap_or(raw).to_string();
    let rendered = Rendered::new(
        KUSTOMIZE_OUT.as_bytes().to_vec(),
        info(RenderKind::Kustomize),
        &file_of,
        &sources,
    );
    let mut bundle =
        parse_bundle(std::slice::from_ref(&rendered.file), &Limits::default()).unwrap();
    rendered.attach_origins(&mut bundle);
    let generated = &bundle.resources[0];
    assert_eq!(generated.origin.to_string(), "base/kustomization.yaml:3");
    // The only annotation was ferry's: `annotations` is gone, not left empty.
    assert_eq!(generated.object["metadata"].get("annotations"), None);
    let ds = &bundle.resources[1];
    assert_eq!(ds.origin.to_string(), "base/ds.yaml:7");
    assert_eq!(ds.origin.document, 1);
    assert_eq!(
        ds.object["metadata"]["annotations"],
        serde_json::json!({"team": "logs"})
    );
}

#[test]
fn helm_documents_point_at_their_template() {
    let out = "---\n# Source: db/templates/sts.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: a\n\
               ---\n# Source: db/templates/sts.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: b\n";
    let file_of = |raw: &str| super::super::helm::source_path("charts/db", "db", raw);
    let rendered = Rendered::new(
        out.as_bytes().to_vec(),
        info(RenderKind::Helm),
        &file_of,
        &sources,
    );
    let mut bundle =
        parse_bundle(std::slice::from_ref(&rendered.file), &Limits::default()).unwrap();
    rendered.attach_origins(&mut bundle);
    assert_eq!(
        bundle.resources[0].origin.to_string(),
        "charts/db/templates/sts.yaml:3"
    );
    assert_eq!(
        bundle.resources[1].origin.file,
        "charts/db/templates/sts.yaml"
    );
}

#[test]
fn problems_in_the_output_move_to_the_source() {
    let out = "---\n# Source: db/templates/sts.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  labels: {}\n";
    let file_of = |raw: &str| super::super::helm::source_path("charts/db", "db", raw);
    let rendered = Rendered::new(
        out.as_bytes().to_vec(),
        info(RenderKind::Helm),
        &file_of,
        &sources,
    );
    let err = parse_bundle(std::slice::from_ref(&rendered.file), &Limits::default()).unwrap_err();
    let located = rendered.locate(err.problems().to_vec());
    assert_eq!(
        located[0].to_string(),
        "charts/db/templates/sts.yaml:3: missing metadata.name (rendered by helm, its output line 3)"
    );
}

#[test]
fn facts_are_read_off_canonical_yaml() {
    let facts = facts(
        KUSTOMIZE_OUT.split("---\n").nth(1).unwrap(),
        RenderKind::Kustomize,
    );
    assert_eq!(
        facts,
        DocFacts {
            file: Some("../repo/base/ds.yaml".into()),
            generated: false,
            kind: Some("DaemonSet".into()),
            name: Some("prod-agent".into()),
        }
    );
}
