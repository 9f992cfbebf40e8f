//! CI pipelines for a detected [`Project`]: GitHub Actions (one workflow, jobs `test`, `build`
//! and `deploy`, actions pinned to release tags, least-privilege `permissions`) and GitLab CI
//! (stages `test`, `build`, `deploy`), each deploying only from the default branch.

use crate::project::{Language, Project};

/// Where an image is pushed.
pub struct Target<'a> {
    /// Image name without registry, e.g. `my-service`.
    pub image: &'a str,
    /// The deploy command run in the deploy job (empty: a `kubectl set image` on `deployment`).
    pub deploy_command: &'a str,
    /// The Kubernetes deployment the default deploy command updates.
    pub deployment: &'a str,
}

/// The language's setup action and test commands (GitHub Actions).
fn gha_setup(p: &Project) -> (String, Vec<String>) {
    match p.language {
        Language::Python => (
            "      - uses: actions/setup-python@v5\n        with:\n          python-version: \"3.12\"\n          cache: pip\n".into(),
            if p.has_build {
                vec!["python -m pip install .".into(), "python -m pip install pytest".into(), "python -m pytest".into()]
            } else {
                vec!["python -m pip install -r requirements.txt".into(), "python -m pip install pytest".into(), "python -m pytest".into()]
            },
        ),
        Language::Node => {
            let cache = match p.package_manager.as_str() {
                "pnpm" => "pnpm",
                "yarn" => "yarn",
                _ => "npm",
            };
            let install = match cache {
                "pnpm" => "corepack enable && pnpm install --frozen-lockfile",
                "yarn" => "corepack enable && yarn install --frozen-lockfile",
                _ if p.files.contains("package-lock.json") => "npm ci",
                _ => "npm install",
            };
            let cache_line = if p.files.contains("package-lock.json") || cache != "npm" {
                format!("          cache: {cache}\n")
            } else {
                String::new()
            };
            (
                format!("      - uses: actions/setup-node@v4\n        with:\n          node-version: \"22\"\n{cache_line}"),
                vec![install.into(), format!("{cache} test")],
            )
        }
        Language::Go => (
            "      - uses: actions/setup-go@v5\n        with:\n          go-version-file: go.mod\n".into(),
            vec!["go vet ./...".into(), "go test ./...".into()],
        ),
        Language::Rust => (String::new(), vec!["cargo test --locked".into()]),
    }
}

/// The GitHub Actions workflow (`.github/workflows/ci.yml`).
pub fn github_actions(p: &Project, t: &Target) -> String {
    let (setup, test) = gha_setup(p);
    let wd = if p.dir.is_empty() {
        String::new()
    } else {
        format!("    defaults:\n      run:\n        working-directory: {}\n", p.dir)
    };
    let ctx = if p.dir.is_empty() { ".".to_string() } else { p.dir.clone() };
    let test_steps: String = test.iter().map(|c| format!("      - run: {c}\n")).collect();
    let deploy = if t.deploy_command.is_empty() {
        format!(
            "kubectl set image deployment/{d} {d}=ghcr.io/${{{{ github.repository_owner }}}}/{i}:${{{{ github.sha }}}}",
            d = t.deployment,
            i = t.image
        )
    } else {
        t.deploy_command.to_string()
    };
    format!(
        "name: ci\n\
\n\
on:\n  push:\n    branches: [main]\n  pull_request:\n\
\n\
permissions:\n  contents: read\n\
\n\
concurrency:\n  group: ci-${{{{ github.ref }}}}\n  cancel-in-progress: true\n\
\n\
jobs:\n\
\x20 test:\n    runs-on: ubuntu-22.04\n{wd}    steps:\n      - uses: actions/checkout@v4\n{setup}{test_steps}\
\n\
\x20 build:\n    needs: test\n    runs-on: ubuntu-22.04\n    permissions:\n      contents: read\n      packages: write\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/setup-buildx-action@v3\n      - uses: docker/login-action@v3\n        if: github.event_name == 'push'\n        with:\n          registry: ghcr.io\n          username: ${{{{ github.actor }}}}\n          password: ${{{{ secrets.GITHUB_TOKEN }}}}\n      - uses: docker/build-push-action@v6\n        with:\n          context: {ctx}\n          push: ${{{{ github.event_name == 'push' }}}}\n          tags: ghcr.io/${{{{ github.repository_owner }}}}/{image}:${{{{ github.sha }}}}\n\
\n\
\x20 deploy:\n    needs: build\n    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n    runs-on: ubuntu-22.04\n    environment: production\n    steps:\n      - uses: actions/checkout@v4\n      - name: Deploy\n        env:\n          IMAGE: ghcr.io/${{{{ github.repository_owner }}}}/{image}:${{{{ github.sha }}}}\n        run: {deploy}\n",
        image = t.image,
        deploy = serde_json::to_string(&deploy).unwrap_or_default()
    )
}

/// The GitLab CI pipeline (`.gitlab-ci.yml`).
pub fn gitlab_ci(p: &Project, t: &Target) -> String {
    let (image, test): (&str, Vec<String>) = match p.language {
        Language::Python => (crate::dockerfile::images::PYTHON, gha_setup(p).1),
        Language::Node => (crate::dockerfile::images::NODE, gha_setup(p).1),
        Language::Go => (crate::dockerfile::images::GO, gha_setup(p).1),
        Language::Rust => (crate::dockerfile::images::RUST, gha_setup(p).1),
    };
    let cd = if p.dir.is_empty() { String::new() } else { format!("    - cd {}\n", p.dir) };
    let ctx = if p.dir.is_empty() { ".".to_string() } else { p.dir.clone() };
    let test_lines: String = test.iter().map(|c| format!("    - {c}\n")).collect();
    let deploy = if t.deploy_command.is_empty() {
        format!(
            "kubectl set image deployment/{d} {d}=\"$CI_REGISTRY_IMAGE/{i}:$CI_COMMIT_SHA\"",
            d = t.deployment,
            i = t.image
        )
    } else {
        t.deploy_command.to_string()
    };
    format!(
        "stages:\n  - test\n  - build\n  - deploy\n\
\n\
test:\n  stage: test\n  image: {image}\n  script:\n{cd}{test_lines}\
\n\
build:\n  stage: build\n  image: docker:27.4.1\n  services:\n    - docker:27.4.1-dind\n  variables:\n    DOCKER_TLS_CERTDIR: \"/certs\"\n  script:\n    - echo \"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" --password-stdin \"$CI_REGISTRY\"\n    - docker build -t \"$CI_REGISTRY_IMAGE/{img}:$CI_COMMIT_SHA\" {ctx}\n    - docker push \"$CI_REGISTRY_IMAGE/{img}:$CI_COMMIT_SHA\"\n\
\n\
deploy:\n  stage: deploy\n  image: bitnami/kubectl:1.31.4\n  environment:\n    name: production\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n  script:\n    - {deploy}\n",
        img = t.image,
        deploy = serde_json::to_string(&deploy).unwrap_or_default()
    )
}
