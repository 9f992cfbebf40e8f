//! The built-in agent catalog, embedded in the binary from the repository's `agents/` folder.

use vana_core::catalog::{Catalog, CatalogError};

/// The built-in agent files: (file name, YAML text).
pub const BUILTIN_AGENTS: &[(&str, &str)] = &[
    ("vana.yaml", include_str!("../../../agents/vana.yaml")),
    ("code_execution.yaml", include_str!("../../../agents/code_execution.yaml")),
    ("data_science.yaml", include_str!("../../../agents/data_science.yaml")),
    ("browser_automation.yaml", include_str!("../../../agents/browser_automation.yaml")),
    ("research.yaml", include_str!("../../../agents/research.yaml")),
    ("database.yaml", include_str!("../../../agents/database.yaml")),
    ("devops.yaml", include_str!("../../../agents/devops.yaml")),
    ("security.yaml", include_str!("../../../agents/security.yaml")),
    ("creative_design.yaml", include_str!("../../../agents/creative_design.yaml")),
    ("enterprise_integration.yaml", include_str!("../../../agents/enterprise_integration.yaml")),
    ("advanced_analytics.yaml", include_str!("../../../agents/advanced_analytics.yaml")),
    ("nlp.yaml", include_str!("../../../agents/nlp.yaml")),
];

/// The built-in catalog, plus the user's directory when it exists.
pub fn load(user_dir: &str) -> Result<Catalog, CatalogError> {
    let mut c = Catalog::from_builtin(BUILTIN_AGENTS)?;
    let dir = std::path::Path::new(user_dir);
    if dir.is_dir() {
        c.load_dir(dir)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_holds_the_orchestrator_and_every_specialist_of_the_plan() {
        let c = Catalog::from_builtin(BUILTIN_AGENTS).unwrap();
        let vana = c.get("vana").unwrap().0;
        for s in [
            "code_execution",
            "data_science",
            "browser_automation",
            "research",
            "database",
            "devops",
            "security",
            "creative_design",
            "enterprise_integration",
            "advanced_analytics",
            "nlp",
        ] {
            let (spec, _) = c.get(s).unwrap_or_else(|| panic!("{s} missing"));
            assert!(spec.instruction.len() > 100, "{s} needs a real instruction");
            assert!(!spec.tools.is_empty() || !spec.mcp_servers.is_empty(), "{s} lists no tools");
            assert!(vana.sub_agents.contains(&s.to_string()), "vana cannot reach {s}");
        }
    }
}
