//! The AWS tools against moto's server (`moto_server`, PyPI `moto[server]`) on 127.0.0.1, with
//! moto's request authentication on: after the four unauthenticated IAM calls that create a
//! user, its access key and an allow-all policy, every request must carry a valid SigV4
//! signature from that key (a wrong secret is refused), so the signer is checked end to end.

mod common;

use common::harness_with;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use vana_tools_devops::aws::AwsClient;
use vana_tools_devops::{AwsConfig, DevopsConfig, Env};

/// moto_server on a free port; killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_bin() -> std::path::PathBuf {
    let p =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/devops-venv/bin/moto_server");
    assert!(p.exists(), "{} is missing: run scripts/setup-devops.sh (pip install moto[server])", p.display());
    p
}

async fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(moto_bin())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not listen on {port}");
}

fn creds(id: &str, secret: &str) -> HashMap<String, String> {
    HashMap::from([("AWS_ACCESS_KEY_ID".into(), id.into()), ("AWS_SECRET_ACCESS_KEY".into(), secret.into())])
}

fn aws_config(url: &str) -> AwsConfig {
    AwsConfig {
        endpoint_url: url.into(),
        region: "us-east-1".into(),
        credentials_file: "/nonexistent/credentials".into(),
        ..AwsConfig::default()
    }
}

fn client(url: &str, env: HashMap<String, String>) -> AwsClient {
    AwsClient::new(
        aws_config(url),
        Env(Some(env)),
        vana_net::OutboundPolicy::strict(),
        Duration::from_secs(30),
    )
    .unwrap()
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let p: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vana_tools_devops::aws::sigv4::canonical_query(&p).into_bytes()
}

fn tag(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{name}> in {xml}")) + open.len();
    xml[start..start + xml[start..].find('<').unwrap()].to_string()
}

async fn iam(c: &AwsClient, pairs: &[(&str, &str)]) -> String {
    let mut all = pairs.to_vec();
    all.push(("Version", "2010-05-08"));
    let ct = ("content-type", "application/x-www-form-urlencoded".to_string());
    let r = c.send("iam", "POST", "/", &[], &[ct], form(&all)).await.unwrap();
    String::from_utf8(r.body).unwrap()
}

/// Creates an admin user with an access key (the four unauthenticated calls); returns the key.
async fn admin_key(url: &str) -> (String, String) {
    let boot = client(url, creds("AKIDBOOTSTRAP", "bootstrap"));
    iam(&boot, &[("Action", "CreateUser"), ("UserName", "vana")]).await;
    let key = iam(&boot, &[("Action", "CreateAccessKey"), ("UserName", "vana")]).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let p =
        iam(&boot, &[("Action", "CreatePolicy"), ("PolicyName", "all"), ("PolicyDocument", policy)]).await;
    let arn = tag(&p, "Arn");
    iam(&boot, &[("Action", "AttachUserPolicy"), ("UserName", "vana"), ("PolicyArn", &arn)]).await;
    (tag(&key, "AccessKeyId"), tag(&key, "SecretAccessKey"))
}

#[tokio::test]
async fn s3_ec2_and_lambda_against_moto() {
    let moto = start_moto().await;
    let (id, secret) = admin_key(&moto.url).await;
    let h = harness_with(DevopsConfig::default(), aws_config(&moto.url), creds(&id, &secret));

    // S3: create, put (text and a workspace file), list, get into the workspace.
    let out = h.call("s", "aws_create_s3_bucket", json!({"bucket": "vana-artifacts"})).await.unwrap();
    assert_eq!(out["created"], "vana-artifacts");
    h.plant("s", &[("build/report.json", r#"{"passed": 42}"#)]);
    h.call(
        "s",
        "aws_s3_put_object",
        json!({"bucket": "vana-artifacts", "key": "notes/hello world.txt", "text": "hi there"}),
    )
    .await
    .unwrap();
    h.call(
        "s",
        "aws_s3_put_object",
        json!({"bucket": "vana-artifacts", "key": "reports/r1.json", "file": "build/report.json"}),
    )
    .await
    .unwrap();
    let buckets = h.call("s", "aws_s3_list", json!({})).await.unwrap();
    assert!(
        buckets["buckets"].as_array().unwrap().iter().any(|b| b["name"] == "vana-artifacts"),
        "{buckets}"
    );
    let all = h.call("s", "aws_s3_list", json!({"bucket": "vana-artifacts"})).await.unwrap();
    let keys: Vec<&str> =
        all["objects"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["notes/hello world.txt", "reports/r1.json"], "{all}");
    let some =
        h.call("s", "aws_s3_list", json!({"bucket": "vana-artifacts", "prefix": "reports/"})).await.unwrap();
    assert_eq!(some["objects"].as_array().unwrap().len(), 1);
    assert_eq!(some["objects"][0]["size"], 14);
    let got = h
        .call(
            "s",
            "aws_s3_get_object",
            json!({"bucket": "vana-artifacts", "key": "notes/hello world.txt", "output": "dl/hello.txt"}),
        )
        .await
        .unwrap();
    assert_eq!(got["text"], "hi there");
    assert_eq!(h.read("s", "dl/hello.txt"), "hi there");
    let e = h
        .call("s", "aws_s3_get_object", json!({"bucket": "vana-artifacts", "key": "missing"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("NoSuchKey"), "{e}");

    // EC2: run two instances through the API, then describe / stop / start with the tools.
    let c = client(&moto.url, creds(&id, &secret));
    let ct = ("content-type", "application/x-www-form-urlencoded".to_string());
    let images = c
        .send(
            "ec2",
            "POST",
            "/",
            &[],
            std::slice::from_ref(&ct),
            form(&[("Action", "DescribeImages"), ("Version", "2016-11-15")]),
        )
        .await
        .unwrap();
    let ami = tag(&String::from_utf8(images.body).unwrap(), "imageId");
    let run = form(&[
        ("Action", "RunInstances"),
        ("Version", "2016-11-15"),
        ("ImageId", &ami),
        ("MinCount", "2"),
        ("MaxCount", "2"),
        ("InstanceType", "t3.micro"),
    ]);
    c.send("ec2", "POST", "/", &[], &[ct], run).await.unwrap();
    let listed = h.call("s", "aws_list_ec2_instances", json!({"state": "running"})).await.unwrap();
    let ids: Vec<String> = listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert_eq!(listed["instances"][0]["type"], "t3.micro");
    let stopped = h.call("s", "aws_ec2_stop_instances", json!({"instance_ids": [ids[0]]})).await.unwrap();
    assert_eq!(stopped["instances"][0]["previous"], "running", "{stopped}");
    let now_stopped = h.call("s", "aws_list_ec2_instances", json!({"state": "stopped"})).await.unwrap();
    let stopped_ids: Vec<&str> = now_stopped["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(stopped_ids, [ids[0].as_str()], "{now_stopped}");
    let started = h.call("s", "aws_ec2_start_instances", json!({"instance_ids": [ids[0]]})).await.unwrap();
    assert_eq!(started["instances"][0]["previous"], "stopped", "{started}");
    let running = h.call("s", "aws_list_ec2_instances", json!({"state": "running"})).await.unwrap();
    assert_eq!(running["instances"].as_array().unwrap().len(), 2);

    // Lambda: a role, then create from one source file, then update its code.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role =
        iam(&c, &[("Action", "CreateRole"), ("RoleName", "fn"), ("AssumeRolePolicyDocument", trust)]).await;
    let role_arn = tag(&role, "Arn");
    h.plant("s", &[("fn/app.py", "def handler(event, context):\n    return {'ok': True}\n")]);
    let args = json!({"function_name": "hello", "runtime": "python3.12", "handler": "app.handler", "role_arn": role_arn, "code": "fn/app.py"});
    let created = h.call("s", "aws_deploy_lambda_function", args.clone()).await.unwrap();
    assert_eq!(created["action"], "created", "{created}");
    assert_eq!(created["function_name"], "hello");
    assert!(created["code_size"].as_u64().unwrap() > 50, "{created}");
    h.plant(
        "s",
        &[("fn/app.py", "def handler(event, context):\n    return {'ok': 'v2', 'more': [1, 2, 3]}\n")],
    );
    let updated = h.call("s", "aws_deploy_lambda_function", args).await.unwrap();
    assert_eq!(updated["action"], "updated", "{updated}");
    assert_ne!(updated["code_sha256"], created["code_sha256"]);
}

#[tokio::test]
async fn wrong_or_missing_credentials_and_bad_names() {
    let moto = start_moto().await;
    let (id, _secret) = admin_key(&moto.url).await;
    // A wrong secret: moto recomputes the signature and refuses.
    let h = harness_with(DevopsConfig::default(), aws_config(&moto.url), creds(&id, "not-the-secret"));
    let e = h.call("s", "aws_s3_list", json!({})).await.unwrap_err().to_string();
    assert!(e.contains("SignatureDoesNotMatch") || e.contains("403"), "{e}");
    // No credentials anywhere: a clear error naming the variables and the file.
    let h = harness_with(DevopsConfig::default(), aws_config(&moto.url), HashMap::new());
    let e = h.call("s", "aws_list_ec2_instances", json!({})).await.unwrap_err();
    assert!(matches!(e, vana_core::ToolError::Unavailable(_)), "{e}");
    let e = e.to_string();
    assert!(e.contains("AWS_ACCESS_KEY_ID") && e.contains("/nonexistent/credentials"), "{e}");
    // Bad names are refused before any request.
    let e = h.call("s", "aws_create_s3_bucket", json!({"bucket": "../Bad_Bucket"})).await.unwrap_err();
    assert!(matches!(e, vana_core::ToolError::InvalidArgs(_)), "{e}");
    let e = h
        .call("s", "aws_ec2_stop_instances", json!({"instance_ids": ["i-123; rm -rf /"]}))
        .await
        .unwrap_err();
    assert!(matches!(e, vana_core::ToolError::InvalidArgs(_)), "{e}");
}

#[tokio::test]
async fn credentials_from_a_profile_file() {
    let moto = start_moto().await;
    let (id, secret) = admin_key(&moto.url).await;
    let dir = vana_testkit::tempdir();
    let file = dir.path().join("credentials");
    std::fs::write(&file, format!("[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = x\n\n[ci]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n")).unwrap();
    let config = AwsConfig {
        credentials_file: file.display().to_string(),
        profile: "ci".into(),
        ..aws_config(&moto.url)
    };
    let h = harness_with(DevopsConfig::default(), config, HashMap::new());
    let out: Value = h.call("s", "aws_s3_list", json!({})).await.unwrap();
    assert!(out["buckets"].is_array(), "{out}");
}

#[test]
fn mutating_tools_require_approval() {
    use vana_toolkit::ToolSuite;
    let h = common::harness();
    let needs: HashMap<String, bool> =
        h.suite.tools().iter().map(|t| (t.name().to_string(), t.requires_confirmation())).collect();
    for t in [
        "aws_create_s3_bucket",
        "aws_s3_put_object",
        "aws_ec2_start_instances",
        "aws_ec2_stop_instances",
        "aws_deploy_lambda_function",
        "docker_run",
        "docker_build",
        "docker_stop",
    ] {
        assert_eq!(needs.get(t), Some(&true), "{t} must require approval");
    }
    for t in [
        "aws_list_ec2_instances",
        "aws_s3_list",
        "aws_s3_get_object",
        "docker_ps",
        "docker_logs",
        "generate_dockerfile",
    ] {
        assert_eq!(needs.get(t), Some(&false), "{t} is a read");
    }
}
