//! The agent catalog: agents declared in YAML, the built-in set overridable by a user's files,
//! built into an agent tree.

use crate::agent::{Agent, AgentTool, LlmAgent, WorkflowAgent, WorkflowKind};
use crate::availability::{self, ToolAvailability};
use crate::model::ModelResolver;
use crate::tool::{Tool, ToolRegistry};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What kind of agent a spec declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// Model-driven (the default).
    #[default]
    Llm,
    /// Runs sub-agents in order.
    Sequential,
    /// Runs sub-agents concurrently.
    Parallel,
    /// Runs sub-agents in a loop.
    Loop,
}

/// One agent as declared in YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Unique name (letters, digits, `_`).
    pub name: String,
    /// What the agent is for; shown in listings and to agents that delegate.
    pub description: String,
    /// Agent kind.
    #[serde(default)]
    pub kind: AgentKind,
    /// System instruction (`{state_key}` placeholders allowed).
    #[serde(default)]
    pub instruction: String,
    /// Model string; the config's default model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// Names of the tools it gets.
    #[serde(default)]
    pub tools: Vec<String>,
    /// MCP servers whose tools it gets.
    #[serde(default)]
    pub mcp_servers: Vec<String>,
    /// Agents it can transfer to (or, for workflow kinds, runs).
    #[serde(default)]
    pub sub_agents: Vec<String>,
    /// Agents it calls as tools.
    #[serde(default)]
    pub agent_tools: Vec<String>,
    /// State key that receives its final answer.
    #[serde(default)]
    pub output_key: Option<String>,
    /// Iteration limit of a loop agent.
    #[serde(default)]
    pub max_iterations: Option<u32>,
    /// Example requests it handles (used for routing).
    #[serde(default)]
    pub examples: Vec<String>,
}

/// Where a spec came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecSource {
    /// Shipped in the binary (file name).
    Builtin(String),
    /// Read from the user's directory.
    File(PathBuf),
}

impl std::fmt::Display for SpecSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecSource::Builtin(n) => write!(f, "built-in agents/{n}"),
            SpecSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Why the catalog could not be loaded or built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file is not valid agent YAML; names the file, line and field.
    #[error("{source_name}: {message}")]
    Parse {
        /// The file.
        source_name: String,
        /// serde's message (with line, column and field).
        message: String,
    },
    /// A reference or value is wrong.
    #[error("{source_name}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        source_name: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A directory could not be read.
    #[error("cannot read agent directory {path}: {message}")]
    Io {
        /// The directory.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// No agent of that name.
    #[error("unknown agent `{0}`; run `vana agents list` to see the catalog")]
    UnknownAgent(String),
}

/// The set of declared agents.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    specs: BTreeMap<String, (AgentSpec, SpecSource)>,
}

impl Catalog {
    /// Parses the built-in files (name, YAML text).
    pub fn from_builtin(files: &[(&str, &str)]) -> Result<Self, CatalogError> {
        let mut c = Catalog::default();
        for (name, text) in files {
            c.add_yaml(text, SpecSource::Builtin(name.to_string()))?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Adds or overrides agents from every `*.yaml`/`*.yml` file of a directory.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), CatalogError> {
        let io =
            |e: std::io::Error| CatalogError::Io { path: dir.display().to_string(), message: e.to_string() };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(io)?;
            self.add_yaml(&text, SpecSource::File(p))?;
        }
        self.validate()
    }

    /// Adds one spec from YAML text.
    pub fn add_yaml(&mut self, text: &str, source: SpecSource) -> Result<(), CatalogError> {
        let spec: AgentSpec = serde_yaml::from_str(text)
            .map_err(|e| CatalogError::Parse { source_name: source.to_string(), message: e.to_string() })?;
        let valid_name =
            !spec.name.is_empty() && spec.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(CatalogError::Invalid {
                source_name: source.to_string(),
                field: "name".into(),
                message: format!("`{}` is not a valid agent name (use letters, digits and _)", spec.name),
            });
        }
        if spec.kind == AgentKind::Loop && spec.max_iterations.is_none() {
            return Err(CatalogError::Invalid {
                source_name: source.to_string(),
                field: "max_iterations".into(),
                message: "a loop agent needs max_iterations".into(),
            });
        }
        self.specs.insert(spec.name.clone(), (spec, source));
        Ok(())
    }

    /// Checks every sub-agent and agent-tool reference resolves and there are no cycles.
    pub fn validate(&self) -> Result<(), CatalogError> {
        for (spec, source) in self.specs.values() {
            for (field, names) in [("sub_agents", &spec.sub_agents), ("agent_tools", &spec.agent_tools)] {
                for n in names {
                    if !self.specs.contains_key(n) {
                        return Err(CatalogError::Invalid {
                            source_name: source.to_string(),
                            field: field.into(),
                            message: format!("unknown agent `{n}`"),
                        });
                    }
                }
            }
        }
        for name in self.specs.keys() {
            self.check_cycle(name, &mut Vec::new())?;
        }
        Ok(())
    }

    fn check_cycle(&self, name: &str, path: &mut Vec<String>) -> Result<(), CatalogError> {
        if path.iter().any(|p| p == name) {
            let (_, source) = &self.specs[name];
            return Err(CatalogError::Invalid {
                source_name: source.to_string(),
                field: "sub_agents".into(),
                message: format!("cycle: {} -> {name}", path.join(" -> ")),
            });
        }
        path.push(name.to_string());
        let (spec, _) = &self.specs[name];
        for child in spec.sub_agents.iter().chain(&spec.agent_tools) {
            self.check_cycle(child, path)?;
        }
        path.pop();
        Ok(())
    }

    /// The spec of an agent and where it came from.
    pub fn get(&self, name: &str) -> Option<(&AgentSpec, &SpecSource)> {
        self.specs.get(name).map(|(s, src)| (s, src))
    }

    /// All specs, sorted by name.
    pub fn specs(&self) -> impl Iterator<Item = (&AgentSpec, &SpecSource)> {
        self.specs.values().map(|(s, src)| (s, src))
    }

    /// Which of an agent's declared tools exist (`extra_tools`: MCP tools per agent).
    pub fn availability(
        &self,
        name: &str,
        tools: &ToolRegistry,
        extra_tools: &HashMap<String, Vec<Arc<dyn Tool>>>,
    ) -> ToolAvailability {
        let Some((spec, _)) = self.specs.get(name) else { return ToolAvailability::default() };
        let missing: Vec<String> = spec.tools.iter().filter(|t| tools.get(t).is_none()).cloned().collect();
        let extra = extra_tools.get(name).map(Vec::len).unwrap_or(0);
        ToolAvailability {
            available: spec.tools.len() - missing.len() + extra + spec.agent_tools.len(),
            missing,
            declares_tools: !spec.tools.is_empty() || !spec.mcp_servers.is_empty(),
        }
    }

    /// The agents (other than workflow children) that declare tools and have none of them
    /// here, with what they lack: they are never transfer targets.
    pub fn unavailable(
        &self,
        tools: &ToolRegistry,
        extra_tools: &HashMap<String, Vec<Arc<dyn Tool>>>,
    ) -> BTreeMap<String, ToolAvailability> {
        self.specs
            .keys()
            .map(|n| (n.clone(), self.availability(n, tools, extra_tools)))
            .filter(|(_, a)| a.none_available())
            .collect()
    }

    /// Builds the agent tree rooted at `root`. Declared tools that do not exist are left out
    /// (listed by [`Catalog::availability`]) and the agent's instruction says so; sub-agents
    /// with none of their tools are not transfer targets ([`Catalog::unavailable`]);
    /// `extra_tools` adds tools per agent (e.g. MCP).
    pub fn build(
        &self,
        root: &str,
        tools: &ToolRegistry,
        extra_tools: &HashMap<String, Vec<Arc<dyn Tool>>>,
        models: &dyn ModelResolver,
    ) -> Result<Arc<dyn Agent>, CatalogError> {
        let mut built = HashMap::new();
        self.build_one(root, tools, extra_tools, models, &mut built)
    }

    fn build_one(
        &self,
        name: &str,
        tools: &ToolRegistry,
        extra: &HashMap<String, Vec<Arc<dyn Tool>>>,
        models: &dyn ModelResolver,
        built: &mut HashMap<String, Arc<dyn Agent>>,
    ) -> Result<Arc<dyn Agent>, CatalogError> {
        if let Some(a) = built.get(name) {
            return Ok(a.clone());
        }
        let (spec, source) = self.specs.get(name).ok_or_else(|| CatalogError::UnknownAgent(name.into()))?;
        let mut subs = Vec::new();
        // A model-driven agent never transfers to a specialist that has none of its tools;
        // its instruction says which ones and what they lack.
        let mut unavailable_subs = Vec::new();
        for s in &spec.sub_agents {
            let a = self.availability(s, tools, extra);
            if spec.kind == AgentKind::Llm && a.none_available() {
                unavailable_subs.push((s.clone(), a));
                continue;
            }
            subs.push(self.build_one(s, tools, extra, models, built)?);
        }
        let agent: Arc<dyn Agent> = match spec.kind {
            AgentKind::Llm => {
                let model_name = spec.model.clone().unwrap_or_else(|| models.default_model());
                let model = models.resolve(&model_name).map_err(|e| CatalogError::Invalid {
                    source_name: source.to_string(),
                    field: "model".into(),
                    message: e.to_string(),
                })?;
                let own = self.availability(name, tools, extra);
                let instruction = availability::instruction(&spec.instruction, &own, &unavailable_subs);
                let mut b = LlmAgent::builder(&spec.name, model)
                    .description(&spec.description)
                    .instruction(&instruction)
                    .tools(spec.tools.iter().filter_map(|t| tools.get(t)))
                    .tools(extra.get(&spec.name).cloned().unwrap_or_default());
                for at in &spec.agent_tools {
                    let child = self.build_one(at, tools, extra, models, built)?;
                    b = b.tool(AgentTool::new(child));
                }
                for s in subs {
                    b = b.sub_agent(s);
                }
                if let Some(k) = &spec.output_key {
                    b = b.output_key(k);
                }
                b.build()
            }
            AgentKind::Sequential => {
                WorkflowAgent::new(WorkflowKind::Sequential, &spec.name, &spec.description, subs)
            }
            AgentKind::Parallel => {
                WorkflowAgent::new(WorkflowKind::Parallel, &spec.name, &spec.description, subs)
            }
            AgentKind::Loop => {
                let kind = WorkflowKind::Loop { max_iterations: spec.max_iterations.unwrap_or(1) };
                WorkflowAgent::new(kind, &spec.name, &spec.description, subs)
            }
        };
        built.insert(name.to_string(), agent.clone());
        Ok(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_file_names_file_line_and_field() {
        let mut c = Catalog::default();
        let err = c
            .add_yaml("name: x\ndescription: d\ntoolz: [a]\n", SpecSource::File("/tmp/x.yaml".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/tmp/x.yaml"), "{err}");
        assert!(err.contains("toolz"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_sub_agent_and_cycles_are_rejected() {
        let err =
            Catalog::from_builtin(&[("a.yaml", "name: a\ndescription: d\nsub_agents: [b]\n")]).unwrap_err();
        assert!(err.to_string().contains("unknown agent `b`"), "{err}");
        let err = Catalog::from_builtin(&[
            ("a.yaml", "name: a\ndescription: d\nsub_agents: [b]\n"),
            ("b.yaml", "name: b\ndescription: d\nsub_agents: [a]\n"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }
}
