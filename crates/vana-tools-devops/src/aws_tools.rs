//! The AWS tools. Reads run freely; every call that changes something in the account
//! (create bucket, put object, start/stop instances, deploy a function) requires approval.

use crate::aws::{self, AwsClient};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::{SessionFiles, TypedTool};

/// The shared client (or why there is none, e.g. a bad `[aws] endpoint_url`).
pub(crate) type Client = Arc<Result<AwsClient, String>>;

fn client(c: &Client) -> Result<&AwsClient, ToolError> {
    c.as_ref().as_ref().map_err(|e| ToolError::Unavailable(e.clone()))
}

/// AWS errors: missing credentials are `Unavailable`; bad names are arguments; the rest failed.
fn fail(e: String) -> ToolError {
    if e.starts_with("no AWS credentials") {
        ToolError::Unavailable(e)
    } else if e.contains("is not a valid") || e.contains("must be") || e.contains("is not an") {
        ToolError::InvalidArgs(e)
    } else {
        ToolError::Failed(e)
    }
}

macro_rules! aws_tool {
    ($ty:ident, $name:literal, $confirm:expr, $desc:literal) => {
        #[doc = concat!("`", $name, "`.")]
        pub struct $ty {
            pub(crate) aws: Client,
            #[allow(dead_code)]
            pub(crate) files: SessionFiles,
        }
        impl $ty {
            const NAME: &'static str = $name;
            const DESC: &'static str = $desc;
            const CONFIRM: bool = $confirm;
        }
    };
}

aws_tool!(ListEc2Instances, "aws_list_ec2_instances", false, "List EC2 instances in the configured region (id, type, state, IPs, tags), optionally only those in one state.");
aws_tool!(
    Ec2Start,
    "aws_ec2_start_instances",
    true,
    "Start stopped EC2 instances by id (requires approval)."
);
aws_tool!(Ec2Stop, "aws_ec2_stop_instances", true, "Stop running EC2 instances by id (requires approval).");
aws_tool!(
    CreateS3Bucket,
    "aws_create_s3_bucket",
    true,
    "Create an S3 bucket in the configured region (requires approval)."
);
aws_tool!(S3List, "aws_s3_list", false, "List S3 buckets, or the objects of a bucket under a prefix.");
aws_tool!(
    S3Get,
    "aws_s3_get_object",
    false,
    "Download an S3 object into a workspace file (and return it when it is short text)."
);
aws_tool!(
    S3Put,
    "aws_s3_put_object",
    true,
    "Upload a workspace file (or given text) as an S3 object (requires approval)."
);
aws_tool!(DeployLambda, "aws_deploy_lambda_function", true, "Create a Lambda function from a workspace file (a .zip package, or one source file zipped for you), or update its code when it exists (requires approval).");

/// Arguments of `aws_list_ec2_instances`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEc2Args {
    /// Only instances in this state: pending, running, shutting-down, terminated, stopping, stopped.
    #[serde(default)]
    pub state: Option<String>,
}

#[async_trait]
impl TypedTool for ListEc2Instances {
    type Args = ListEc2Args;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: ListEc2Args, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::ec2_describe(c, a.state.as_deref()).await.map_err(fail)?))
    }
}

/// Arguments of the EC2 start/stop tools.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancesArgs {
    /// Instance ids (`i-0123456789abcdef0`).
    pub instance_ids: Vec<String>,
}

#[async_trait]
impl TypedTool for Ec2Start {
    type Args = InstancesArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: InstancesArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::ec2_start_stop(c, true, &a.instance_ids).await.map_err(fail)?))
    }
}

#[async_trait]
impl TypedTool for Ec2Stop {
    type Args = InstancesArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: InstancesArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::ec2_start_stop(c, false, &a.instance_ids).await.map_err(fail)?))
    }
}

/// Arguments of `aws_create_s3_bucket`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketArgs {
    /// The bucket name (3-63 of a-z, 0-9, '.', '-').
    pub bucket: String,
}

#[async_trait]
impl TypedTool for CreateS3Bucket {
    type Args = BucketArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: BucketArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        aws::check_bucket(&a.bucket).map_err(ToolError::InvalidArgs)?;
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::s3_create_bucket(c, &a.bucket).await.map_err(fail)?))
    }
}

/// Arguments of `aws_s3_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3ListArgs {
    /// The bucket (omit to list the buckets).
    #[serde(default)]
    pub bucket: Option<String>,
    /// Only keys starting with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// At most this many keys (1-1000, default 100).
    #[serde(default)]
    pub max_keys: Option<u32>,
}

#[async_trait]
impl TypedTool for S3List {
    type Args = S3ListArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: S3ListArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let max = a.max_keys.unwrap_or(100).clamp(1, 1000);
        let c = client(&self.aws)?;
        let v = aws::s3_list(c, a.bucket.as_deref(), a.prefix.as_deref().unwrap_or(""), max)
            .await
            .map_err(fail)?;
        Ok(ToolOutput::json(v))
    }
}

/// Arguments of `aws_s3_get_object`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3GetArgs {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The workspace file to write (default: the key's last segment).
    #[serde(default)]
    pub output: Option<String>,
}

#[async_trait]
impl TypedTool for S3Get {
    type Args = S3GetArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: S3GetArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let output =
            a.output.clone().unwrap_or_else(|| a.key.rsplit('/').next().unwrap_or("object").to_string());
        // Checked before anything is fetched.
        vana_toolkit::vana_workspace::normalize(&output).map_err(vana_toolkit::tool_error)?;
        let c = client(&self.aws)?;
        let body = aws::s3_get(c, &a.bucket, &a.key).await.map_err(fail)?;
        let written = self.files.write(&ctx, &output, &body)?;
        let text = std::str::from_utf8(&body).ok().filter(|t| t.len() <= 8192);
        Ok(ToolOutput::json(
            json!({"bucket": a.bucket, "key": a.key, "size": body.len(), "written": written, "text": text}),
        ))
    }
}

/// Arguments of `aws_s3_put_object`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S3PutArgs {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The workspace file to upload (or give `text`).
    #[serde(default)]
    pub file: Option<String>,
    /// Text to upload instead of a file.
    #[serde(default)]
    pub text: Option<String>,
    /// Content-Type (default `application/octet-stream`, `text/plain; charset=utf-8` for text).
    #[serde(default)]
    pub content_type: Option<String>,
}

/// Bytes one upload may carry (single PUT; multipart is not implemented).
const MAX_PUT: u64 = 256 << 20;

#[async_trait]
impl TypedTool for S3Put {
    type Args = S3PutArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: S3PutArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        aws::check_bucket(&a.bucket).map_err(ToolError::InvalidArgs)?;
        aws::key_path(&a.key).map_err(ToolError::InvalidArgs)?;
        let (body, default_ct) = match (&a.file, &a.text) {
            (Some(f), None) => (self.files.read(&ctx, f, MAX_PUT)?, "application/octet-stream"),
            (None, Some(t)) => (t.clone().into_bytes(), "text/plain; charset=utf-8"),
            _ => return Err(ToolError::InvalidArgs("give exactly one of file or text".into())),
        };
        let ct = a.content_type.as_deref().unwrap_or(default_ct);
        if ct.chars().any(char::is_control) || ct.len() > 200 {
            return Err(ToolError::InvalidArgs("content_type must be one short line".into()));
        }
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::s3_put(c, &a.bucket, &a.key, body, ct).await.map_err(fail)?))
    }
}

/// Arguments of `aws_deploy_lambda_function`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaArgs {
    /// The function name.
    pub function_name: String,
    /// The runtime, e.g. `python3.12`, `nodejs22.x`.
    pub runtime: String,
    /// The handler, e.g. `app.handler` (file `app.py`, function `handler`).
    pub handler: String,
    /// The execution role's ARN.
    pub role_arn: String,
    /// The workspace file: a `.zip` deployment package, or one source file (zipped under its name).
    pub code: String,
    /// Seconds (1-900, default 30).
    #[serde(default)]
    pub timeout_secs: Option<u32>,
    /// MiB (128-10240, default 256).
    #[serde(default)]
    pub memory_mb: Option<u32>,
}

#[async_trait]
impl TypedTool for DeployLambda {
    type Args = LambdaArgs;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn description(&self) -> &'static str {
        Self::DESC
    }
    fn requires_confirmation(&self) -> bool {
        Self::CONFIRM
    }
    async fn run(&self, a: LambdaArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let data = self.files.read(&ctx, &a.code, 50 << 20)?;
        let zip = if a.code.ends_with(".zip") {
            data
        } else {
            aws::zip::single_file(a.code.rsplit('/').next().unwrap_or("code"), &data)
        };
        let spec = aws::LambdaSpec {
            name: &a.function_name,
            runtime: &a.runtime,
            handler: &a.handler,
            role: &a.role_arn,
            zip: &zip,
            timeout: a.timeout_secs.unwrap_or(30),
            memory: a.memory_mb.unwrap_or(256),
        };
        aws::check_lambda(&spec).map_err(ToolError::InvalidArgs)?;
        let c = client(&self.aws)?;
        Ok(ToolOutput::json(aws::lambda_deploy(c, &spec).await.map_err(fail)?))
    }
}
