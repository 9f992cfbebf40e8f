//! AWS: S3 (list, get, put, create bucket), EC2 (describe, start, stop) and Lambda (create or
//! update a function), as SigV4-signed REST/Query calls. No SDK: the signer is [`sigv4`].

pub mod client;
pub mod creds;
pub mod sigv4;
pub mod zip;

pub use client::AwsClient;
use serde_json::{json, Value};

/// Checks an S3 bucket name (3-63 of `a-z 0-9 . -`, starting and ending alphanumeric, no `..`,
/// not an IP address).
pub fn check_bucket(name: &str) -> Result<(), String> {
    let ok = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(format!("bucket {name:?} is not a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')"))
    }
}

/// Checks an object key (1-1024 bytes, no control characters) and encodes it as a path.
pub fn key_path(key: &str) -> Result<String, String> {
    if key.is_empty() || key.len() > 1024 || key.chars().any(char::is_control) {
        return Err(format!("object key {key:?} must be 1-1024 bytes without control characters"));
    }
    Ok(sigv4::uri_encode(key, true))
}

/// Checks EC2 instance ids (`i-` + 8 or 17 hex digits).
pub fn check_instance_ids(ids: &[String]) -> Result<(), String> {
    if ids.is_empty() || ids.len() > 50 {
        return Err("instance_ids: name 1 to 50 instances".into());
    }
    for id in ids {
        let hex = id.strip_prefix("i-").unwrap_or("");
        if !(hex.len() == 8 || hex.len() == 17) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("instance id {id:?} is not an EC2 instance id (i- and 8 or 17 hex digits)"));
        }
    }
    Ok(())
}

fn xml(body: &[u8]) -> Result<roxmltree::Document<'_>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the response is not UTF-8".to_string())?;
    roxmltree::Document::parse(text).map_err(|e| format!("the response is not XML: {e}"))
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children().find(|c| c.tag_name().name() == name)
}

fn text(n: roxmltree::Node, name: &str) -> String {
    child(n, name).and_then(|c| c.text()).unwrap_or("").to_string()
}

/// Lists buckets (no bucket) or the objects under `prefix` of `bucket` (ListObjectsV2).
pub async fn s3_list(
    c: &AwsClient,
    bucket: Option<&str>,
    prefix: &str,
    max_keys: u32,
) -> Result<Value, String> {
    let Some(bucket) = bucket else {
        let r = c.send("s3", "GET", "/", &[], &[], Vec::new()).await?;
        let doc = xml(&r.body)?;
        let buckets: Vec<Value> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Bucket")
            .map(|b| json!({"name": text(b, "Name"), "created": text(b, "CreationDate")}))
            .collect();
        return Ok(json!({"buckets": buckets}));
    };
    check_bucket(bucket)?;
    let mut q =
        vec![("list-type".to_string(), "2".to_string()), ("max-keys".to_string(), max_keys.to_string())];
    if !prefix.is_empty() {
        q.push(("prefix".into(), prefix.into()));
    }
    let r = c.send("s3", "GET", &format!("/{bucket}"), &q, &[], Vec::new()).await?;
    let doc = xml(&r.body)?;
    let root = doc.root_element();
    let objects: Vec<Value> = root
        .children()
        .filter(|n| n.tag_name().name() == "Contents")
        .map(|o| {
            json!({
                "key": text(o, "Key"),
                "size": text(o, "Size").parse::<u64>().unwrap_or(0),
                "last_modified": text(o, "LastModified"),
                "etag": text(o, "ETag").trim_matches('"'),
            })
        })
        .collect();
    Ok(
        json!({"bucket": bucket, "prefix": prefix, "objects": objects, "truncated": text(root, "IsTruncated") == "true"}),
    )
}

/// Creates a bucket (with a LocationConstraint outside us-east-1).
pub async fn s3_create_bucket(c: &AwsClient, bucket: &str) -> Result<Value, String> {
    check_bucket(bucket)?;
    let region = c.region()?;
    let body = if region == "us-east-1" {
        Vec::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
        .into_bytes()
    };
    c.send("s3", "PUT", &format!("/{bucket}"), &[], &[], body).await?;
    Ok(json!({"created": bucket, "region": region}))
}

/// Puts an object.
pub async fn s3_put(
    c: &AwsClient,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<Value, String> {
    check_bucket(bucket)?;
    let path = format!("/{bucket}/{}", key_path(key)?);
    let size = body.len();
    c.send("s3", "PUT", &path, &[], &[("content-type", content_type.to_string())], body).await?;
    Ok(json!({"bucket": bucket, "key": key, "size": size}))
}

/// Gets an object's bytes.
pub async fn s3_get(c: &AwsClient, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    check_bucket(bucket)?;
    let path = format!("/{bucket}/{}", key_path(key)?);
    Ok(c.send("s3", "GET", &path, &[], &[], Vec::new()).await?.body)
}

/// An EC2 Query API call (form-encoded POST, API version 2016-11-15).
async fn ec2(c: &AwsClient, action: &str, params: &[(String, String)]) -> Result<Vec<u8>, String> {
    let mut form =
        vec![("Action".to_string(), action.to_string()), ("Version".to_string(), "2016-11-15".to_string())];
    form.extend(params.iter().cloned());
    let body = sigv4::canonical_query(&form).into_bytes();
    let ct = ("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_string());
    Ok(c.send("ec2", "POST", "/", &[], &[ct], body).await?.body)
}

/// DescribeInstances, optionally filtered by state name (`running`, `stopped`...).
pub async fn ec2_describe(c: &AwsClient, state: Option<&str>) -> Result<Value, String> {
    let mut params = Vec::new();
    if let Some(s) = state {
        let states = ["pending", "running", "shutting-down", "terminated", "stopping", "stopped"];
        if !states.contains(&s) {
            return Err(format!("state {s:?} must be one of {}", states.join(", ")));
        }
        params.push(("Filter.1.Name".to_string(), "instance-state-name".to_string()));
        params.push(("Filter.1.Value.1".to_string(), s.to_string()));
    }
    let body = ec2(c, "DescribeInstances", &params).await?;
    let doc = xml(&body)?;
    let mut out = Vec::new();
    for set in doc.descendants().filter(|n| n.tag_name().name() == "instancesSet") {
        for i in set.children().filter(|n| n.tag_name().name() == "item") {
            let state = child(i, "instanceState").map(|s| text(s, "name")).unwrap_or_default();
            let tags: serde_json::Map<String, Value> = child(i, "tagSet")
                .map(|t| {
                    t.children()
                        .filter(|n| n.tag_name().name() == "item")
                        .map(|n| (text(n, "key"), json!(text(n, "value"))))
                        .collect()
                })
                .unwrap_or_default();
            out.push(json!({
                "instance_id": text(i, "instanceId"),
                "type": text(i, "instanceType"),
                "state": state,
                "image_id": text(i, "imageId"),
                "private_ip": text(i, "privateIpAddress"),
                "public_ip": text(i, "ipAddress"),
                "launch_time": text(i, "launchTime"),
                "tags": tags,
            }));
        }
    }
    Ok(json!({"region": c.region()?, "instances": out}))
}

/// StartInstances or StopInstances; returns each instance's state change.
pub async fn ec2_start_stop(c: &AwsClient, start: bool, ids: &[String]) -> Result<Value, String> {
    check_instance_ids(ids)?;
    let params: Vec<(String, String)> =
        ids.iter().enumerate().map(|(n, id)| (format!("InstanceId.{}", n + 1), id.clone())).collect();
    let action = if start { "StartInstances" } else { "StopInstances" };
    let body = ec2(c, action, &params).await?;
    let doc = xml(&body)?;
    let changes: Vec<Value> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "item" && child(*n, "instanceId").is_some())
        .map(|i| {
            json!({
                "instance_id": text(i, "instanceId"),
                "previous": child(i, "previousState").map(|s| text(s, "name")).unwrap_or_default(),
                "current": child(i, "currentState").map(|s| text(s, "name")).unwrap_or_default(),
            })
        })
        .collect();
    Ok(json!({"action": action, "instances": changes}))
}

/// What a Lambda function is made of.
pub struct LambdaSpec<'a> {
    /// Function name.
    pub name: &'a str,
    /// Runtime (`python3.12`, `nodejs22.x`...).
    pub runtime: &'a str,
    /// Handler (`app.handler`).
    pub handler: &'a str,
    /// Execution role ARN.
    pub role: &'a str,
    /// The deployment package (a zip).
    pub zip: &'a [u8],
    /// Seconds.
    pub timeout: u32,
    /// MiB.
    pub memory: u32,
}

/// Checks a Lambda function name and the other plain fields.
pub fn check_lambda(s: &LambdaSpec) -> Result<(), String> {
    let name_ok = (1..=64).contains(&s.name.len())
        && s.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok {
        return Err(format!("function_name {:?} must be 1-64 of A-Z a-z 0-9 - _", s.name));
    }
    let plain = |v: &str| !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| b.is_ascii_graphic());
    if !plain(s.runtime) || !plain(s.handler) {
        return Err("runtime and handler must be plain names (e.g. python3.12, app.handler)".into());
    }
    if !s.role.starts_with("arn:aws") || !plain(s.role) {
        return Err(format!(
            "role_arn {:?} must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
            s.role
        ));
    }
    if !(1..=900).contains(&s.timeout) || !(128..=10_240).contains(&s.memory) {
        return Err("timeout_secs must be 1-900 and memory_mb 128-10240".into());
    }
    Ok(())
}

/// CreateFunction; when the function exists, UpdateFunctionCode instead.
pub async fn lambda_deploy(c: &AwsClient, s: &LambdaSpec<'_>) -> Result<Value, String> {
    use base64::Engine;
    check_lambda(s)?;
    let zip = base64::engine::general_purpose::STANDARD.encode(s.zip);
    let ct = ("content-type", "application/json".to_string());
    let create = json!({
        "FunctionName": s.name, "Runtime": s.runtime, "Role": s.role, "Handler": s.handler,
        "Code": {"ZipFile": zip}, "Timeout": s.timeout, "MemorySize": s.memory, "Publish": true,
    });
    let body = serde_json::to_vec(&create).map_err(|e| e.to_string())?;
    let (action, resp) =
        match c.send("lambda", "POST", "/2015-03-31/functions", &[], std::slice::from_ref(&ct), body).await {
            Ok(r) => ("created", r),
            Err(e) if e.contains("ResourceConflictException") => {
                let body = serde_json::to_vec(&json!({"ZipFile": zip, "Publish": true}))
                    .map_err(|e| e.to_string())?;
                let path = format!("/2015-03-31/functions/{}/code", s.name);
                ("updated", c.send("lambda", "PUT", &path, &[], &[ct], body).await?)
            }
            Err(e) => return Err(e),
        };
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    Ok(json!({
        "action": action,
        "function_name": v["FunctionName"], "function_arn": v["FunctionArn"], "runtime": v["Runtime"],
        "version": v["Version"], "code_size": v["CodeSize"], "code_sha256": v["CodeSha256"], "state": v["State"],
    }))
}
