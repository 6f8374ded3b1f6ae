//! Every COMPUTE contract of the shared corpus (`../shared/onex-corpus/valid/nodes/`, the
//! five with `node_type: COMPUTE_GENERIC` or `compute`) compiles through `#[compute_node]`
//! unchanged, and each node answers one request through `ComputeNode::process_json`.
//!
//! The contracts are read where they are, through `../../shared/` from this file (so this
//! test needs `../shared` beside the clone, as `.ci/run` does). Where a contract only names a
//! Python model (`input_model: omnibase_core.models….ModelX`), the Rust type of that name is
//! written here, next to the attribute, with the fields the Python model documents; models
//! the contract defines in `definitions` are generated. The handlers are small Rust versions
//! of what each contract describes: enough to check that a real request goes in and the
//! typed reply comes out, not ports of the Python nodes.
//!
//! All five are consistent contracts: none needed a compile-fail case instead.

use onex_runtime::{ComputeNode, ErrorCode, NodeKind, RoutingStrategy};

/// A JSON envelope around `payload`, with a fixed correlation id.
fn envelope(payload: &str) -> Vec<u8> {
    format!(
        r#"{{"payload": {payload},
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z",
            "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}}"#
    )
    .into_bytes()
}

/// `omnibase_core/examples/contracts/compute/user_profile_normalizer.yaml`: a `compute:`
/// pipeline block and no `input_model`/`output_model`, `handler_routing` or `name`. onex
/// lowers it to one operation, `process`, from JSON to JSON (the pipeline itself is Python
/// ONEX's declarative executor, which onex does not interpret: the handler below performs its
/// steps). The node's name is the struct's snake-case name.
mod user_profile_normalizer {
    use onex_runtime::{JsonValue, OnexError, compute_node};
    use serde_json::{Map, json};

    #[compute_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__examples__contracts__compute__user_profile_normalizer.yaml"
    )]
    pub struct UserProfileNormalizer;

    /// `$.input.<path>` of the pipeline.
    fn at<'a>(input: &'a JsonValue, path: &[&str]) -> Option<&'a JsonValue> {
        path.iter().try_fold(input, |v, key| v.get(key))
    }

    fn text<'a>(input: &'a JsonValue, field: &str) -> Result<&'a str, OnexError> {
        input.get(field).and_then(JsonValue::as_str).ok_or_else(|| {
            OnexError::validation(format!("`{field}` must be a string"))
                .with_context("field", field)
        })
    }

    impl UserProfileNormalizerHandler for UserProfileNormalizer {
        /// The contract's steps: validate the input, trim the display name (the contract also
        /// NFC-normalizes it, which needs Unicode tables this test does not pull in), lower-case
        /// the e-mail, keep the phone's digits, pick `metadata.ids.user_id`, pass `bio`
        /// through, and map the result.
        fn handle(&self, input: JsonValue) -> Result<JsonValue, OnexError> {
            let display_name = text(&input, "display_name")?.trim();
            let email = text(&input, "email")?.to_lowercase();
            let phone: String = input
                .get("phone")
                .and_then(JsonValue::as_str)
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let mut out = Map::new();
            out.insert("display_name".into(), json!(display_name));
            out.insert("email".into(), json!(email));
            out.insert("phone".into(), json!(phone));
            for (field, path) in [
                ("user_id", &["metadata", "ids", "user_id"][..]),
                ("bio", &["bio"][..]),
                ("created_at", &["created_at"][..]),
                ("preferences", &["preferences"][..]),
                ("country_code", &["address", "country_code"][..]),
            ] {
                if let Some(v) = at(&input, path) {
                    out.insert(field.into(), v.clone());
                }
            }
            Ok(JsonValue::Object(out))
        }
    }
}

#[test]
fn user_profile_normalizer() {
    use user_profile_normalizer::UserProfileNormalizer;
    // The example input of the contract's comments (with a precomposed é).
    let reply = UserProfileNormalizer
        .process_json(&envelope(
            r#"{"display_name": "  José Smith  ", "email": "Jose.Smith@EXAMPLE.COM",
                "phone": "+1 (555) 123-4567", "bio": "Software developer and coffee enthusiast.",
                "created_at": "2024-01-15T10:30:00Z",
                "preferences": {"theme": "dark", "notifications": true},
                "address": {"country_code": "US", "postal_code": "12345"},
                "metadata": {"ids": {"user_id": "usr_12345", "org_id": "org_789"}}}"#,
        ))
        .expect("the profile normalizes");
    assert_eq!(
        reply.payload,
        serde_json::json!({
            "display_name": "José Smith",
            "email": "jose.smith@example.com",
            "phone": "15551234567",
            "user_id": "usr_12345",
            "bio": "Software developer and coffee enthusiast.",
            "created_at": "2024-01-15T10:30:00Z",
            "preferences": {"theme": "dark", "notifications": true},
            "country_code": "US"
        })
    );
    assert_eq!(reply.payload_type.as_deref(), Some("JsonValue"));
    let err = UserProfileNormalizer
        .process_json(&envelope(r#"{"email": "a@b.c"}"#))
        .expect_err("no display name");
    assert_eq!(err.code(), &ErrorCode::Validation);

    let contract = <UserProfileNormalizer as ComputeNode>::CONTRACT;
    assert_eq!(contract.kind, NodeKind::Compute);
    assert_eq!(contract.name, "user_profile_normalizer");
    assert_eq!(contract.routing, RoutingStrategy::Single);
    assert_eq!(contract.operations[0].input_type, "JsonValue");
    assert!(!contract.fingerprint_drifted());
}

/// `omnibase_core/src/omnibase_core/nodes/node_no_utcnow_check_compute/contract.yaml`:
/// lower-case `node_type: compute`, dotted model paths, `handler_routing` with only a
/// `default_handler` (so one operation, `process`), `descriptor.purity: pure`.
mod no_utcnow_check {
    use onex_runtime::{OnexError, compute_node};
    use serde::{Deserialize, Serialize};

    /// One file to scan.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelSourceFile {
        /// Its path (only reported).
        pub path: String,
        /// Its Python source.
        pub source: String,
    }

    /// `omnibase_core.models.nodes.no_utcnow_check.….ModelNoUtcnowCheckInput`: explicit
    /// `(path, source)` pairs, so the node never touches the filesystem.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelNoUtcnowCheckInput {
        /// The files to scan.
        pub files: Vec<ModelSourceFile>,
    }

    /// One finding.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelValidationFinding {
        /// The file.
        pub path: String,
        /// 1-based line.
        pub line: usize,
        /// What is wrong.
        pub message: String,
    }

    /// `omnibase_core.models.validation.model_validation_report.ModelValidationReport`.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelValidationReport {
        /// No findings.
        pub passed: bool,
        /// Files scanned.
        pub files_checked: usize,
        /// The findings, in file and line order.
        pub findings: Vec<ModelValidationFinding>,
    }

    #[compute_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_core__src__omnibase_core__nodes__node_no_utcnow_check_compute__contract.yaml"
    )]
    pub struct NodeNoUtcnowCheckCompute;

    /// True when `line` accesses an attribute named exactly `utcnow` (`x.utcnow`, called or
    /// not), outside a comment. A line scanner, not Python's `ast`: strings are not skipped.
    fn accesses_utcnow(line: &str) -> bool {
        let code = line.split('#').next().unwrap_or_default();
        code.match_indices(".utcnow").any(|(at, m)| {
            !code[at + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    impl NodeNoUtcnowCheckComputeHandler for NodeNoUtcnowCheckCompute {
        fn handle(
            &self,
            input: ModelNoUtcnowCheckInput,
        ) -> Result<ModelValidationReport, OnexError> {
            let findings: Vec<ModelValidationFinding> = input
                .files
                .iter()
                .flat_map(|file| {
                    file.source
                        .lines()
                        .enumerate()
                        .filter(|(_, line)| accesses_utcnow(line))
                        .map(|(n, _)| ModelValidationFinding {
                            path: file.path.clone(),
                            line: n + 1,
                            message: "datetime.utcnow() is deprecated: use datetime.now(UTC)"
                                .to_owned(),
                        })
                })
                .collect();
            Ok(ModelValidationReport {
                passed: findings.is_empty(),
                files_checked: input.files.len(),
                findings,
            })
        }
    }
}

#[test]
fn no_utcnow_check() {
    use no_utcnow_check::NodeNoUtcnowCheckCompute;
    let reply = NodeNoUtcnowCheckCompute
        .process_json(&envelope(
            r#"{"files": [
                {"path": "a.py", "source": "import datetime\nnow = datetime.datetime.utcnow()\n"},
                {"path": "b.py", "source": "f = datetime.utcnow  # a reference counts\nx = obj.utcnow_like()\n# datetime.utcnow() in a comment\n"},
                {"path": "c.py", "source": "from datetime import UTC, datetime\nnow = datetime.now(UTC)\n"}
            ]}"#,
        ))
        .expect("the scan runs");
    assert_eq!(reply.payload["passed"], false);
    assert_eq!(reply.payload["files_checked"], 3);
    let findings: Vec<(String, u64)> = reply.payload["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(findings, [("a.py".to_owned(), 2), ("b.py".to_owned(), 1)]);

    let contract = <NodeNoUtcnowCheckCompute as ComputeNode>::CONTRACT;
    assert_eq!(contract.kind, NodeKind::Compute);
    assert_eq!(contract.node_type, "compute");
    assert_eq!(contract.routing, RoutingStrategy::Single);
    assert_eq!(contract.operations[0].input_type, "ModelNoUtcnowCheckInput");
    assert_eq!(contract.operations[0].output_type, "ModelValidationReport");
}

/// `omnibase_infra/src/omnibase_infra/nodes/node_scope_extract_compute/contract.yaml`:
/// `operation_match` with one handler (`extract_scope`), `{name, module}` models, a string
/// `node_version`.
mod scope_extract {
    use onex_runtime::{OnexError, compute_node};
    use serde::{Deserialize, Serialize};

    /// `ModelScopeExtractInput`: plan text, and where the caller will write the result.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelScopeExtractInput {
        /// The plan's Markdown.
        pub plan_content: String,
        /// Carried through unchanged.
        #[serde(default)]
        pub output_path: Option<String>,
    }

    /// `ModelScopeExtracted`: the scope manifest.
    #[derive(Debug, Default, Serialize, Deserialize)]
    pub struct ModelScopeExtracted {
        /// Files named in the plan.
        pub files: Vec<String>,
        /// Directories named in the plan.
        pub directories: Vec<String>,
        /// Repositories (`Repo: …` lines).
        pub repos: Vec<String>,
        /// Systems (`System: …` lines).
        pub systems: Vec<String>,
        /// From the input.
        pub output_path: Option<String>,
    }

    #[compute_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_scope_extract_compute__contract.yaml"
    )]
    pub struct NodeScopeExtractCompute;

    fn push_unique(list: &mut Vec<String>, item: &str) {
        if !list.iter().any(|i| i == item) {
            list.push(item.to_owned());
        }
    }

    impl NodeScopeExtractComputeHandler for NodeScopeExtractCompute {
        /// Back-quoted paths are files (with an extension) or directories (ending in `/`);
        /// `Repo:` and `System:` lines name repositories and systems.
        fn extract_scope(
            &self,
            input: ModelScopeExtractInput,
        ) -> Result<ModelScopeExtracted, OnexError> {
            let mut out = ModelScopeExtracted {
                output_path: input.output_path,
                ..ModelScopeExtracted::default()
            };
            for line in input.plan_content.lines() {
                let line = line.trim().trim_start_matches("- ");
                if let Some(repo) = line.strip_prefix("Repo:") {
                    push_unique(&mut out.repos, repo.trim());
                } else if let Some(system) = line.strip_prefix("System:") {
                    push_unique(&mut out.systems, system.trim());
                }
                for (i, quoted) in line.split('`').enumerate() {
                    if i % 2 == 0 || quoted.contains(' ') {
                        continue;
                    }
                    if quoted.ends_with('/') {
                        push_unique(&mut out.directories, quoted);
                    } else if quoted.rsplit('/').next().is_some_and(|f| f.contains('.')) {
                        push_unique(&mut out.files, quoted);
                    }
                }
            }
            Ok(out)
        }
    }
}

#[test]
fn scope_extract() {
    use scope_extract::NodeScopeExtractCompute;
    let plan = serde_json::json!({
        "operation": "extract_scope",
        "plan_content": "# Plan\nRepo: omnibase_infra\nSystem: kafka\n- edit `src/nodes/handler.py` and `src/nodes/models/`\n- run `uv run pytest` then re-edit `src/nodes/handler.py`\n",
        "output_path": "out/scope.json"
    });
    let reply = NodeScopeExtractCompute
        .process_json(&envelope(&plan.to_string()))
        .expect("the scope is extracted");
    assert_eq!(
        reply.payload,
        serde_json::json!({
            "files": ["src/nodes/handler.py"],
            "directories": ["src/nodes/models/"],
            "repos": ["omnibase_infra"],
            "systems": ["kafka"],
            "output_path": "out/scope.json"
        })
    );
    // Operation routing: the payload must name the operation.
    let err = NodeScopeExtractCompute
        .process_json(&envelope(r#"{"plan_content": ""}"#))
        .expect_err("no operation");
    assert_eq!(err.code(), &ErrorCode::InvalidInput);

    let contract = <NodeScopeExtractCompute as ComputeNode>::CONTRACT;
    assert_eq!(contract.routing, RoutingStrategy::OperationMatch);
    assert_eq!(contract.operations[0].name, "extract_scope");
    assert_eq!(contract.node_version.to_string(), "1.1.1");
}

/// `omnibase_infra/src/omnibase_infra/nodes/node_contract_validate_compute/contract.yaml`:
/// `operation_match` with one handler (`validate_contract`), plus `io_operations`,
/// `dependencies` and `health_check` sections that onex keeps but does not execute. Its
/// handler validates contract YAML with onex's own contract layer.
mod contract_validate {
    use onex_runtime::{ErrorCode, OnexError, compute_node};
    use serde::{Deserialize, Serialize};

    /// `ModelContractValidateInput` (the fields listed in the contract's `io_operations`).
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelContractValidateInput {
        /// The contract's YAML text.
        #[serde(default)]
        pub contract_content: Option<String>,
        /// The kind the contract must have (`effect`, `compute`, …).
        #[serde(default)]
        pub contract_type: Option<String>,
        /// Model source to score (not supported here).
        #[serde(default)]
        pub model_code: Option<String>,
        /// A file to read instead (not supported: the node stays pure).
        #[serde(default)]
        pub file_path: Option<String>,
        /// Base directory for `file_path`.
        #[serde(default)]
        pub base_dir: Option<String>,
    }

    /// `ModelContractValidationResult` (the fields listed in `io_operations`).
    #[derive(Debug, Serialize, Deserialize)]
    pub struct ModelContractValidationResult {
        /// No errors.
        pub is_valid: bool,
        /// 1.0 minus 0.25 per error, at least 0.
        pub score: f64,
        /// Errors, rendered `contract.yaml:LINE:COL: message`.
        pub violations: Vec<String>,
        /// Warnings, rendered the same way.
        pub warnings: Vec<String>,
        /// Help lines of the errors.
        pub suggestions: Vec<String>,
    }

    #[compute_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_contract_validate_compute__contract.yaml"
    )]
    pub struct NodeContractValidateCompute;

    impl NodeContractValidateComputeHandler for NodeContractValidateCompute {
        fn validate_contract(
            &self,
            input: ModelContractValidateInput,
        ) -> Result<ModelContractValidationResult, OnexError> {
            let Some(content) = input.contract_content else {
                return Err(OnexError::new(
                    ErrorCode::UnsupportedOperation,
                    "only `contract_content` is supported: reading `file_path` would not be pure",
                ));
            };
            let path = std::path::Path::new("contract.yaml");
            let loaded = onex_contracts::load_source(path, "contract.yaml", content);
            let mut violations: Vec<String> = loaded.errors().map(|d| loaded.render(d)).collect();
            let suggestions = loaded.errors().filter_map(|d| d.help.clone()).collect();
            if let (Some(expected), Some(kind)) = (
                input.contract_type,
                loaded.contract.as_ref().and_then(|c| c.node_kind()),
            ) && !kind.to_string().eq_ignore_ascii_case(&expected)
            {
                violations.push(format!(
                    "`contract_type` is {expected}, the contract is {kind}"
                ));
            }
            let warnings = loaded.warnings().map(|d| loaded.render(d)).collect();
            Ok(ModelContractValidationResult {
                is_valid: violations.is_empty(),
                score: (1.0 - 0.25 * violations.len() as f64).max(0.0),
                violations,
                warnings,
                suggestions,
            })
        }
    }
}

#[test]
fn contract_validate() {
    use contract_validate::NodeContractValidateCompute;
    let request = |content: &str, kind: &str| {
        let payload = serde_json::json!({
            "operation": "validate_contract",
            "contract_content": content,
            "contract_type": kind,
        });
        NodeContractValidateCompute.process_json(&envelope(&payload.to_string()))
    };
    let good = "name: n\nnode_type: COMPUTE_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\ninput_model: ModelIn\noutput_model: ModelOut\n";
    let reply = request(good, "compute").expect("validates");
    assert_eq!(reply.payload["is_valid"], true, "{}", reply.payload);
    assert_eq!(reply.payload["score"], 1.0);

    let reply = request(good, "effect").expect("validates");
    assert_eq!(reply.payload["is_valid"], false);
    assert_eq!(
        reply.payload["violations"][0],
        "`contract_type` is effect, the contract is compute"
    );

    let bad = "name: n\nnode_type: COMPUTE_GENERIC\ncontract_version: {major: 1, minor: 0}\n";
    let reply = request(bad, "compute").expect("validates");
    assert_eq!(reply.payload["is_valid"], false);
    let first = reply.payload["violations"][0].as_str().unwrap();
    assert!(first.starts_with("contract.yaml:3:"), "{first}");

    let contract = <NodeContractValidateCompute as ComputeNode>::CONTRACT;
    assert_eq!(contract.operations[0].name, "validate_contract");
    assert_eq!(
        contract.operations[0].output_type,
        "ModelContractValidationResult"
    );
}

/// `omnibase_infra/src/omnibase_infra/nodes/node_architecture_validator/contract.yaml`: no
/// routing (one operation, `process`) and models generated from its `definitions`,
/// including a map of `$ref`'d violations and an inline severity enum.
mod architecture_validator {
    use std::collections::BTreeMap;

    use onex_runtime::{OnexError, compute_node};

    use node_architecture_validator::{
        ModelArchitectureValidationRequest, ModelArchitectureValidationResult,
        ModelArchitectureViolation, ModelArchitectureViolationSeverity,
    };

    #[compute_node(
        contract = "../../shared/onex-corpus/valid/nodes/omnibase_infra__src__omnibase_infra__nodes__node_architecture_validator__contract.yaml"
    )]
    pub struct NodeArchitectureValidator;

    /// `**/x/**`-style patterns only: the path has a `/x/` segment.
    fn ignored(path: &str, patterns: &[String]) -> bool {
        patterns.iter().any(|p| {
            let segment = p.trim_start_matches("**/").trim_end_matches("/**");
            format!("/{path}/").contains(&format!("/{segment}/"))
        })
    }

    impl NodeArchitectureValidatorHandler for NodeArchitectureValidator {
        /// A path-only pass (a compute node reads no files): an FSM module inside an
        /// orchestrator node breaks ARCH-003 (ERROR); a handler module outside `handlers/`
        /// is flagged under ARCH-001 (WARNING, an ERROR in strict mode).
        fn handle(
            &self,
            input: ModelArchitectureValidationRequest,
        ) -> Result<ModelArchitectureValidationResult, OnexError> {
            let rules = input.rules.unwrap_or_default();
            let wanted = |rule: &str| rules.is_empty() || rules.iter().any(|r| r == rule);
            let patterns = input.ignore_patterns.unwrap_or_default();
            let mut by_rule: BTreeMap<String, Vec<ModelArchitectureViolation>> = BTreeMap::new();
            for path in input.paths.iter().filter(|p| !ignored(p, &patterns)) {
                let file = path.rsplit('/').next().unwrap_or(path);
                let found = if path.contains("orchestrator") && file.starts_with("fsm") {
                    Some(("ARCH-003", ModelArchitectureViolationSeverity::Error))
                } else if file.starts_with("handler_") && !path.contains("/handlers/") {
                    Some(("ARCH-001", ModelArchitectureViolationSeverity::Warning))
                } else {
                    None
                };
                if let Some((rule, severity)) = found.filter(|(rule, _)| wanted(rule)) {
                    by_rule
                        .entry(rule.to_owned())
                        .or_default()
                        .push(ModelArchitectureViolation {
                            rule_id: rule.to_owned(),
                            severity,
                            file_path: path.clone(),
                            line_number: None,
                            description: format!("{rule} pattern in `{path}`"),
                            suggested_fix: None,
                        });
                }
            }
            let all = || by_rule.values().flatten();
            let blocking = all()
                .filter(|v| {
                    v.severity == ModelArchitectureViolationSeverity::Error
                        || (input.strict_mode
                            && v.severity == ModelArchitectureViolationSeverity::Warning)
                })
                .count();
            let total = all().count();
            Ok(ModelArchitectureValidationResult {
                passed: blocking == 0,
                total_violations: total as i64,
                summary: Some(format!(
                    "{total} violation(s), {blocking} blocking, in {} path(s)",
                    input.paths.len()
                )),
                violations_by_rule: Some(by_rule),
                correlation_id: input.correlation_id,
            })
        }
    }
}

#[test]
fn architecture_validator() {
    use architecture_validator::NodeArchitectureValidator;
    let payload = r#"{"paths": ["nodes/node_x_orchestrator/fsm_steps.py",
                                "nodes/node_y_effect/handler_y.py",
                                "nodes/node_y_effect/handlers/handler_y.py",
                                "nodes/tests/handler_mock.py"],
                      "ignore_patterns": ["**/tests/**"],
                      "correlation_id": "req-42"}"#;
    let reply = NodeArchitectureValidator
        .process_json(&envelope(payload))
        .expect("validates");
    let result = &reply.payload;
    assert_eq!(result["passed"], false);
    assert_eq!(result["total_violations"], 2);
    assert_eq!(result["correlation_id"], "req-42");
    assert_eq!(
        result["violations_by_rule"]["ARCH-003"][0]["severity"],
        "ERROR"
    );
    assert_eq!(
        result["violations_by_rule"]["ARCH-001"][0]["file_path"],
        "nodes/node_y_effect/handler_y.py"
    );
    // `strict_mode` has a contract default (false); `correlation_id` is required.
    let err = NodeArchitectureValidator
        .process_json(&envelope(r#"{"paths": []}"#))
        .expect_err("correlation_id is required");
    assert_eq!(err.code(), &ErrorCode::InvalidInput);

    let contract = <NodeArchitectureValidator as ComputeNode>::CONTRACT;
    assert_eq!(contract.name, "node_architecture_validator");
    assert_eq!(
        contract.operations[0].input_type,
        "ModelArchitectureValidationRequest"
    );
}
