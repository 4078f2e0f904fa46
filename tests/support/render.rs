//! Repositories that render: a Kustomize base with overlays, and a Helm chart with values.

use super::GitRepo;

/// `base/`: a DaemonSet `agent` (image `registry.example/agent:<tag>`, env `LEVEL=<level>`)
/// and a ConfigMap `agent-config` (`level: <level>`).
pub fn write_base(repo: &GitRepo, tag: &str, level: &str) {
    repo.write(
        "base/kustomization.yaml",
        "resources:\n- daemonset.yaml\n- configmap.yaml\n",
    );
    repo.write(
        "base/daemonset.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels: {{app: agent}}\n  template:\n    metadata:\n      labels: {{app: agent}}\n    spec:\n      containers:\n      - name: agent\n        image: registry.example/agent:{tag}\n        env: [{{name: LEVEL, value: \"{level}\"}}]\n"
        ),
    );
    repo.write(
        "base/configmap.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: agent-config\ndata:\n  level: \"{level}\"\n"),
    );
}

/// `overlays/prod/`: the base with the image patched to `image` (a patch file) and the label
/// `env: prod` added to every object.
pub fn write_prod_overlay(repo: &GitRepo, image: &str) {
    repo.write(
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\nlabels:\n- pairs: {env: prod}\npatches:\n- path: image.yaml\n",
    );
    repo.write(
        "overlays/prod/image.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      containers:\n      - name: agent\n        image: {image}\n"
        ),
    );
}

/// `charts/db/`: a StatefulSet `<release>` with a headless Service and a
/// volumeClaimTemplate, replicas and image from values.
pub fn write_db_chart(repo: &GitRepo) {
    repo.write(
        "charts/db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    );
    repo.write(
        "charts/db/values.yaml",
        "replicas: 1\nimage:\n  repository: registry.example/db\n  tag: \"1.0\"\n",
    );
    repo.write(
        "charts/db/templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  clusterIP: None\n  selector: {app: {{ .Release.Name }}}\n  ports: [{port: 5432, name: pg}]\n",
    );
    repo.write(
        "charts/db/templates/statefulset.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  serviceName: {{ .Release.Name }}\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: {{ .Release.Name }}}}\n  template:\n    metadata: {labels: {app: {{ .Release.Name }}}}\n    spec:\n      containers:\n      - name: db\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n        volumeMounts: [{name: data, mountPath: /data}]\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources: {requests: {storage: 1Gi}}\n",
    );
}

/// `values/prod.yaml` with this replica count and image tag.
pub fn write_db_values(repo: &GitRepo, replicas: u32, tag: &str) {
    repo.write(
        "values/prod.yaml",
        &format!("replicas: {replicas}\nimage:\n  tag: \"{tag}\"\n"),
    );
}

/// A ferry.yaml with one Helm app `app` of `repo`'s `charts/db`, release `db`, in `ns`.
pub fn helm_config(app: &str, repo: &str, ns: &str, extra: &str) -> String {
    format!(
        "apps:\n  - name: {app}\n    repo: {repo}\n    branch: main\n    namespace: {ns}\n    helm:\n      chart: charts/db\n      releaseName: db\n      valuesFiles: [values/prod.yaml]\n{extra}"
    )
}
