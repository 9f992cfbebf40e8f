//! The suite as vana-app assembles it: the tools the security agent declares, each with every
//! argument described, only the upload asking for approval, and status naming what to install.

mod common;

use vana_toolkit::ToolSuite;

#[test]
fn the_security_agents_tools_are_registered_with_described_schemas() {
    let dir = std::env::temp_dir().join(vana_testkit::unique("vana-ops-suite"));
    let files = vana_toolkit::SessionFiles::new(vana_toolkit::vana_workspace::Workspaces::new(
        dir.join("workspaces"),
        common::SANDBOX_UID,
        common::SANDBOX_UID,
    ));
    let suite = vana_tools_ops::OpsSuite::new(files, dir.clone(), vana_net::OutboundPolicy::strict());
    let tools = suite.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    let agent: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../agents/security.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    for t in agent["tools"].as_sequence().unwrap().iter().map(|t| t.as_str().unwrap()) {
        assert!(
            t == "validate_code_security" || names.contains(&t),
            "agents/security.yaml lists {t}, not in {names:?}"
        );
    }
    for t in &tools {
        let undescribed = vana_toolkit::schema::undescribed(&t.parameters());
        assert!(undescribed.is_empty(), "{}: {undescribed:?}", t.name());
        assert!(!t.description().is_empty());
        assert_eq!(t.requires_confirmation(), t.name() == "upload_file_virustotal", "{}", t.name());
    }
    // A fresh data dir has no semgrep environment yet: status says how to set it up.
    let status = suite.status();
    let semgrep =
        status.missing.iter().find(|m| m.what.starts_with("semgrep")).expect("semgrep reported missing");
    assert!(semgrep.fix.contains("pip install 'semgrep==1.187.0'"), "{semgrep:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_security_section_of_vana_toml_sets_the_scanners() {
    let toml: vana_tools_ops::security::SecurityToml = toml_like(
        r#"{"clamav_db": "/srv/clamav", "yara_rules": ["/etc/vana/rules.yar"], "extra_ca_roots": ["/etc/vana/ca.pem"],
            "virustotal_key_env": "VT_KEY", "max_file_bytes": 1024}"#,
    );
    let c = vana_tools_ops::security::SecurityConfig::from_toml(
        std::path::Path::new("/data"),
        &toml,
        vana_net::OutboundPolicy::strict(),
    );
    assert_eq!(c.clamav_db, std::path::PathBuf::from("/srv/clamav"));
    assert_eq!(c.yara_rules, vec![std::path::PathBuf::from("/etc/vana/rules.yar")]);
    assert_eq!(c.extra_ca_roots, vec![std::path::PathBuf::from("/etc/vana/ca.pem")]);
    assert_eq!((c.virustotal_key_env.as_str(), c.limits.max_file_bytes), ("VT_KEY", 1024));
    assert_eq!(c.clamscan, std::path::PathBuf::from("clamscan"), "unset fields keep their defaults");
    let bad: Result<vana_tools_ops::security::SecurityToml, _> =
        serde_json::from_str(r#"{"clamav_dir": "/x"}"#);
    assert!(bad.unwrap_err().to_string().contains("unknown field `clamav_dir`"));
}

fn toml_like(json: &str) -> vana_tools_ops::security::SecurityToml {
    serde_json::from_str(json).unwrap()
}
