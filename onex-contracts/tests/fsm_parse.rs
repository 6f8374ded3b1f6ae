//! Reducer state machines: parsing both dialects, guard expressions, the machine checks and
//! the guard-vs-context-model checks (DESIGN.md §4.4, §5).
//!
//! The corpus and vector parts are skipped (with a printed reason) when `../shared` is absent.

mod common;
use common::{shared, yaml_files};

use std::path::Path;

use onex_contracts::fsm::{Dialect, Fsm, Literal, Op, Operand};
use onex_contracts::{Loaded, Severity, load_file, load_source};

/// Every finding, rendered (`file:LINE:COL: message\n  help: …`).
fn rendered(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .map(|d| loaded.render(d))
        .collect()
}

/// Findings whose code starts with `fsm-`.
fn fsm_findings(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with("fsm-"))
        .map(|d| loaded.render(d))
        .collect()
}

fn load(yaml: &str) -> Loaded {
    load_source(Path::new("fsm.yaml"), "fsm.yaml", yaml.to_owned())
}

/// Loads a contract and returns every finding (there must be an FSM).
fn check(yaml: &str) -> Vec<String> {
    let loaded = load(yaml);
    assert!(loaded.fsm.is_some(), "no FSM: {:#?}", loaded.diagnostics);
    rendered(&loaded)
}

const HEAD: &str = "node_type: REDUCER_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\n";

/// `HEAD` (lines 1-2) + `body` (from line 3).
fn contract(body: &str) -> String {
    format!("{HEAD}{body}")
}

// ---------------------------------------------------------------------------------------
// (1) The corpus and the vector contracts.
// ---------------------------------------------------------------------------------------

#[test]
fn every_corpus_state_machine_parses_without_findings() {
    let Some(shared) = shared() else { return };
    let mut seen = Vec::new();
    let mut failures = Vec::new();
    for path in yaml_files(&shared.join("onex-corpus/valid/nodes")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = load_file(&path, &name);
        let Some(fsm) = &loaded.fsm else { continue };
        failures.extend(loaded.errors().map(|d| loaded.render(d)));
        failures.extend(fsm_findings(&loaded));
        seen.push((
            name.trim_end_matches(".yaml").to_owned(),
            fsm.dialect,
            fsm.states.len(),
            fsm.transitions.len(),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let core = Dialect::StateTransitions;
    let infra = Dialect::StateMachine;
    // The counts INDEX.md gives for each block.
    let expected = [
        (
            "omnibase_core__contracts__runtime__contract_registry_reducer",
            core,
            4,
            5,
        ),
        (
            "omnibase_core__contracts__runtime__node_graph_reducer",
            core,
            5,
            6,
        ),
        (
            "omnibase_core__examples__contracts__reducer_metrics_aggregator",
            core,
            6,
            7,
        ),
        (
            "omnibase_infra__src__omnibase_infra__nodes__node_node_graph_reducer__contract",
            core,
            5,
            6,
        ),
        (
            "omnibase_infra__src__omnibase_infra__nodes__node_registration_reducer__contract",
            infra,
            4,
            6,
        ),
        (
            "omnibase_infra__src__omnibase_infra__nodes__node_routing_score_reducer__contract",
            infra,
            3,
            5,
        ),
        (
            "omnibase_infra__src__omnibase_infra__nodes__node_scope_workflow_reducer__contract",
            infra,
            6,
            7,
        ),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, d, s, t)| (n.to_string(), *d, *s, *t))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn corpus_blocks_read_as_the_reference_does() {
    let Some(shared) = shared() else { return };
    let nodes = shared.join("onex-corpus/valid/nodes");

    let loaded = load_file(
        &nodes.join("omnibase_core__examples__contracts__reducer_metrics_aggregator.yaml"),
        "m.yaml",
    );
    let fsm = loaded.fsm.unwrap();
    assert_eq!(fsm.name.as_ref().unwrap().value, "metrics_aggregation_fsm");
    assert_eq!(fsm.initial.as_ref().unwrap().value, "idle");
    assert!(fsm.persistence);
    let terminal: Vec<&str> = fsm
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(terminal, ["completed", "failed"]);
    let error: Vec<&str> = fsm
        .states
        .iter()
        .filter(|s| s.error)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(error, ["failed"]);
    let collect = &fsm.transitions[0];
    assert_eq!(collect.name.value, "start_collection");
    assert_eq!(collect.priority, 0);
    let guard = collect.conditions[0].guard.as_ref().unwrap();
    assert_eq!(guard.path, ["data_sources"]);
    assert_eq!(
        (guard.op, guard.op_text.as_str()),
        (Op::MinLength, "min_length")
    );
    assert_eq!(guard.operand, Operand::Length(1));
    let retry = fsm.transitions[3].conditions[0].guard.as_ref().unwrap();
    assert_eq!((retry.op, retry.op_text.as_str()), (Op::Lt, "less_than"));
    assert_eq!(retry.operand, Operand::Literal(Literal::new("3")));
    assert!(fsm.transitions[5].is_wildcard());

    // The infra dialect: synthesized names, two-token guards lowered, `is_valid` from
    // `validation.rules`.
    let loaded = load_file(
        &nodes.join(
            "omnibase_infra__src__omnibase_infra__nodes__node_registration_reducer__contract.yaml",
        ),
        "r.yaml",
    );
    let fsm = loaded.fsm.unwrap();
    assert_eq!(fsm.dialect, Dialect::StateMachine);
    let names: Vec<&str> = fsm.transitions.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "idle_to_pending_on_introspection_received",
            "pending_to_complete_on_postgres_confirmed",
            "pending_to_failed_on_error_received",
            "failed_to_idle_on_reset",
            "complete_to_idle_on_reset",
            "idle_to_failed_on_validation_failed",
        ]
    );
    let guards: Vec<_> = fsm.transitions[0]
        .conditions
        .iter()
        .map(|c| c.guard.clone().unwrap())
        .collect();
    assert_eq!(guards[0].path, ["node_id"]);
    assert_eq!(
        (guards[0].op, guards[0].op_text.as_str()),
        (Op::Exists, "is_present")
    );
    assert_eq!(guards[0].operand, Operand::None);
    assert_eq!(
        (guards[1].op, guards[1].op_text.as_str()),
        (Op::In, "is_valid")
    );
    let members: Vec<&str> = match &guards[1].operand {
        Operand::List(items) => items.iter().map(|l| l.text.as_str()).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(members, ["effect", "compute", "reducer", "orchestrator"]);

    let loaded = load_file(
        &nodes.join("omnibase_infra__src__omnibase_infra__nodes__node_scope_workflow_reducer__contract.yaml"),
        "s.yaml",
    );
    assert!(!loaded.fsm.unwrap().persistence);
}

fn vector(shared: &Path, name: &str) -> Loaded {
    load_file(&shared.join("onex-vectors/fsm_contracts").join(name), name)
}

#[test]
fn synthetic_vector_contracts_parse() {
    let Some(shared) = shared() else { return };
    for name in [
        "synthetic_fsm_collector.yaml",
        "synthetic_fsm_review_pipeline.yaml",
    ] {
        let loaded = vector(&shared, name);
        assert_eq!(rendered(&loaded), Vec::<String>::new(), "{name}");
        let fsm = loaded.fsm.unwrap();
        assert!(
            fsm.transitions
                .iter()
                .flat_map(|t| &t.conditions)
                .all(|c| c.guard.is_some())
        );
    }
    let fsm = vector(&shared, "synthetic_fsm_collector.yaml").fsm.unwrap();
    let email = fsm.transitions[5].conditions[0].guard.as_ref().unwrap();
    assert_eq!(
        email.operand,
        Operand::Pattern(r"^[a-z]+@example\.com$".into()),
        "stored as written"
    );
    let not_exists = fsm.transitions[1].conditions[0].guard.as_ref().unwrap();
    assert_eq!(
        (not_exists.op, &not_exists.operand),
        (Op::NotExists, &Operand::None)
    );
    assert!(!fsm.persistence);
}

#[test]
fn synthetic_edge_cases_report_exactly_the_expected_rejections() {
    let Some(shared) = shared() else { return };
    let loaded = vector(&shared, "synthetic_fsm_edge_cases.yaml");
    let f = "synthetic_fsm_edge_cases.yaml";
    assert_eq!(
        rendered(&loaded),
        [
            format!(
                "{f}:34:85: field `_secret` in condition `_secret == x` starts with `_`\n  help: fields starting with `_` are private: the Python reference never reads them (the condition is always false); rename the field"
            ),
            format!(
                "{f}:43:97: field `_id` in condition `user._id == 1` starts with `_`\n  help: fields starting with `_` are private: the Python reference never reads them (the condition is always false); rename the field"
            ),
            format!(
                "{f}:52:93: field path `a..b` in condition `a..b == 1` has an empty segment\n  help: field paths are names separated by single dots, e.g. `user.role`"
            ),
            format!(
                "{f}:61:99: `abc` in condition `count > abc` is not a number, and `>` compares numbers\n  help: write a finite number such as `3` or `-2.5` (the Python reference silently evaluates this condition as false)"
            ),
            format!(
                "{f}:133:104: `[unclosed` in condition `code matches [unclosed` is not a valid regular expression: unclosed character class\n  help: patterns use Rust `regex` syntax (no look-around or back-references) and match at the start of the value, like Python's `re.match`"
            ),
        ]
    );
    let fsm = loaded.fsm.unwrap();
    // The rejected conditions keep no guard; the rest parse.
    let rejected: Vec<&str> = fsm
        .transitions
        .iter()
        .flat_map(|t| &t.conditions)
        .filter(|c| c.guard.is_none())
        .map(|c| c.expression.as_str())
        .collect();
    assert_eq!(
        rejected,
        [
            "_secret == x",
            "user._id == 1",
            "a..b == 1",
            "count > abc",
            "code matches [unclosed"
        ]
    );
    // Action names over 128 characters (a pydantic limit of the reference) are fine.
    assert!(fsm.actions().iter().any(|a| a.len() > 128));
    let deep = fsm.transitions[12].conditions[0].guard.as_ref().unwrap();
    assert_eq!(deep.path, ["a", "b", "c"]);
    let neg = fsm.transitions[13].conditions[0].guard.as_ref().unwrap();
    assert_eq!(neg.operand, Operand::Literal(Literal::new("-2.5")));
}

#[test]
fn operator_matrix_reports_its_bad_expressions_and_its_dead_end() {
    let Some(shared) = shared() else { return };
    let loaded = vector(&shared, "synthetic_fsm_operator_matrix.yaml");
    let codes: Vec<(u32, &str)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.loc.line, d.code))
        .collect();
    // `hit` has no way out and is not terminal: a truth table, not a real machine. onex
    // reports it (the reference's model does not check dead ends).
    assert_eq!(
        codes,
        [
            (18, "fsm-dead-end"),
            (250, "fsm-bad-pattern"),
            (271, "fsm-bad-operand"),
            (278, "fsm-bad-field"),
            (285, "fsm-bad-field"),
        ]
    );
    let fsm = loaded.fsm.unwrap();
    assert_eq!(fsm.transitions.len(), 38);
    let parsed = fsm
        .transitions
        .iter()
        .filter(|t| t.conditions[0].guard.is_some())
        .count();
    assert_eq!(parsed, 34);
}

// ---------------------------------------------------------------------------------------
// (2) One inline contract per check: exact message and line:col.
// ---------------------------------------------------------------------------------------

/// A valid machine: idle --go--> busy --finish--> done (terminal). Lines 3-12.
const BASE: &str = "\
state_transitions:
  state_machine_name: m
  initial_state: idle
  terminal_states: [done]
  states:
    - state_name: idle
    - state_name: busy
    - state_name: done
  transitions:
    - {transition_name: start, from_state: idle, to_state: busy, trigger: go}
    - {transition_name: finish, from_state: busy, to_state: done, trigger: finish}
";

#[test]
fn the_base_machine_is_clean() {
    assert_eq!(check(&contract(BASE)), Vec::<String>::new());
}

/// BASE with one guarded transition added (line 14), `expression` written as given.
fn guarded(expression: &str) -> Vec<String> {
    let yaml = contract(&format!(
        "{BASE}    - transition_name: retry\n      from_state: busy\n      to_state: busy\n      trigger: retry\n      conditions:\n        - expression: {expression}\n"
    ));
    check(&yaml)
}

#[test]
fn expression_errors_point_at_the_token() {
    // Line 19: `        - expression: ` is 22 characters, so the value starts at column 23.
    assert_eq!(
        guarded("count greater_then 3"),
        [
            "fsm.yaml:19:29: unknown operator `greater_then` in condition `count greater_then 3`\n  help: did you mean `greater_than`?"
        ]
    );
    // Quoted: one more column.
    assert_eq!(
        guarded("\"count = 3\""),
        [
            "fsm.yaml:19:30: unknown operator `=` in condition `count = 3`\n  help: did you mean `==`?"
        ]
    );
    assert_eq!(
        guarded("'count > many'"),
        [
            "fsm.yaml:19:32: `many` in condition `count > many` is not a number, and `>` compares numbers\n  help: write a finite number such as `3` or `-2.5` (the Python reference silently evaluates this condition as false)"
        ]
    );
    // An escaped quote before a token: its column cannot be known, so the expression's is
    // used. (Escapes of ordinary characters, like `\x41`, cannot be seen after unescaping:
    // tokens after them are located as if unescaped.)
    assert_eq!(
        guarded("\"a\\\"b >= x\""),
        [
            "fsm.yaml:19:23: `x` in condition `a\"b >= x` is not a number, and `>=` compares numbers\n  help: write a finite number such as `3` or `-2.5` (the Python reference silently evaluates this condition as false)",
            "fsm.yaml:19:24: `a\"b` in condition `a\"b >= x` is not a field name\n  help: field names start with a letter and hold letters, digits and `_`",
        ]
    );
    assert_eq!(
        guarded("count bogus 3"),
        [
            "fsm.yaml:19:29: unknown operator `bogus` in condition `count bogus 3`\n  help: the operators are: == equals != not_equals < less_than > greater_than <= less_than_or_equal >= greater_than_or_equal min_length max_length exists not_exists in not_in contains matches is_present present is_absent is_missing is_not_present absent is_empty is_not_empty is_valid"
        ]
    );
}

#[test]
fn expression_shape_errors() {
    assert_eq!(
        guarded("\"status in a, b\""),
        [
            "fsm.yaml:19:37: condition `status in a, b` has 4 tokens; a condition has exactly three\n  help: write the members of `in`/`not_in` without spaces: `status in a,b,c`"
        ]
    );
    assert_eq!(
        guarded("ready"),
        [
            "fsm.yaml:19:23: condition `ready` has no operator: `ready` alone is not a condition\n  help: a condition is `field operator value` (e.g. `retry_count less_than 3`), or `field exists`"
        ]
    );
    assert_eq!(
        guarded("count less_than"),
        [
            "fsm.yaml:19:29: condition `count less_than` has no value after `less_than`\n  help: `less_than` compares the field with a value: `count less_than <value>`"
        ]
    );
    assert_eq!(
        guarded("\"  \""),
        [
            "fsm.yaml:19:23: the condition's expression is empty\n  help: a condition is `field operator value` (e.g. `retry_count less_than 3`), or `field exists`"
        ]
    );
}

#[test]
fn field_path_errors() {
    assert_eq!(
        guarded("_secret == x"),
        [
            "fsm.yaml:19:23: field `_secret` in condition `_secret == x` starts with `_`\n  help: fields starting with `_` are private: the Python reference never reads them (the condition is always false); rename the field"
        ]
    );
    assert_eq!(
        guarded("user._id == 1"),
        [
            "fsm.yaml:19:28: field `_id` in condition `user._id == 1` starts with `_`\n  help: fields starting with `_` are private: the Python reference never reads them (the condition is always false); rename the field"
        ]
    );
    assert_eq!(
        guarded("a..b == 1"),
        [
            "fsm.yaml:19:25: field path `a..b` in condition `a..b == 1` has an empty segment\n  help: field paths are names separated by single dots, e.g. `user.role`"
        ]
    );
    assert_eq!(
        guarded("user.first-name == x"),
        [
            "fsm.yaml:19:28: `first-name` in condition `user.first-name == x` is not a field name\n  help: field names start with a letter and hold letters, digits and `_`"
        ]
    );
}

#[test]
fn operand_errors() {
    assert_eq!(
        guarded("items min_length -1"),
        [
            "fsm.yaml:19:40: `-1` in condition `items min_length -1` is not a length: `min_length` takes a non-negative integer\n  help: write a count, e.g. `min_length 1`"
        ]
    );
    assert_eq!(
        guarded("count >= inf"),
        [
            "fsm.yaml:19:32: `inf` in condition `count >= inf` is not a number, and `>=` compares numbers\n  help: write a finite number such as `3` or `-2.5` (the Python reference silently evaluates this condition as false)"
        ]
    );
    assert_eq!(
        guarded("mode not_in a,,b"),
        [
            "fsm.yaml:19:35: `a,,b` in condition `mode not_in a,,b` has an empty member\n  help: `not_in` takes comma-separated values without empty entries: `a,b,c`"
        ]
    );
    assert_eq!(
        guarded("\"code matches (?=x)\""),
        [
            "fsm.yaml:19:37: `(?=x)` in condition `code matches (?=x)` is not a valid regular expression: look-around, including look-ahead and look-behind, is not supported\n  help: patterns use Rust `regex` syntax (no look-around or back-references) and match at the start of the value, like Python's `re.match`"
        ]
    );
    assert_eq!(
        guarded("kind is_valid"),
        [
            "fsm.yaml:19:28: condition `kind is_valid` uses `is_valid`, which needs a `validation.rules` entry for `kind` with `valid_values`\n  help: add `validation: {rules: [{field: kind, valid_values: [a, b]}]}` at the top level, or write `kind in a,b`"
        ]
    );
}

#[test]
fn operators_and_aliases_parse() {
    let yaml = contract(&format!(
        "{BASE}    - transition_name: retry
      from_state: busy
      to_state: busy
      trigger: retry
      conditions:
        - {{expression: 'a == 1'}}
        - {{expression: 'a not_equals x'}}
        - {{expression: 'a less_than_or_equal -0.5'}}
        - {{expression: 'a exists _'}}
        - {{expression: 'a is_missing'}}
        - {{expression: 'a is_empty'}}
        - {{expression: 'a is_not_empty x'}}
        - {{expression: 'a in x,None'}}
        - {{expression: 'a contains y'}}
        - {{expression: 'a.b matches ^v[0-9]+'}}
        - {{expression: 'a max_length 3', required: false}}
validation:
  rules:
    - {{field: a, valid_values: [x, y]}}
"
    ));
    let loaded = load(&yaml);
    // `validation` is an unknown top-level key (a warning); nothing else.
    assert!(!loaded.has_errors(), "{:#?}", rendered(&loaded));
    let fsm = loaded.fsm.unwrap();
    let got: Vec<(Op, &str, &Operand, bool)> = fsm.transitions[2]
        .conditions
        .iter()
        .map(|c| {
            let g = c.guard.as_ref().unwrap();
            (g.op, g.op_text.as_str(), &g.operand, c.required)
        })
        .collect();
    let lit = |s: &str| Operand::Literal(Literal::new(s));
    assert_eq!(
        got,
        [
            (Op::Eq, "==", &lit("1"), true),
            (Op::Ne, "not_equals", &lit("x"), true),
            (Op::Le, "less_than_or_equal", &lit("-0.5"), true),
            (Op::Exists, "exists", &Operand::None, true),
            (Op::NotExists, "is_missing", &Operand::None, true),
            (Op::MaxLength, "is_empty", &Operand::Length(0), true),
            (Op::MinLength, "is_not_empty", &Operand::Length(1), true),
            (
                Op::In,
                "in",
                &Operand::List(vec![Literal::new("x"), Literal::new("None")]),
                true
            ),
            (Op::Contains, "contains", &lit("y"), true),
            (
                Op::Matches,
                "matches",
                &Operand::Pattern("^v[0-9]+".into()),
                true
            ),
            (Op::MaxLength, "max_length", &Operand::Length(3), false),
        ]
    );
    assert!(Literal::new("None").none);
    assert_eq!(fsm.transitions[2].required().count(), 10);
}

#[test]
fn unknown_keys_in_the_block_are_errors_with_suggestions() {
    let yaml = contract(
        "\
state_transitions:
  initial_state: idle
  terminal_state: [done]
  states:
    - {state_name: idle, entry_action: [x]}
    - {state_name: done, is_terminal: true}
  transitions:
    - {from_state: idle, to_state: done, trigger: go, priorty: 2}
    - from_state: idle
      to_state: done
      trigger: stop
      conditions: [{expresion: a exists}]
      actions: [{action_name: x, is_critcal: true}, log_it]
",
    );
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:5:3: unknown key `terminal_state` in `state_transitions`\n  help: did you mean `terminal_states`?",
            "fsm.yaml:7:26: unknown key `entry_action` in `state_transitions.states[0]`\n  help: did you mean `entry_actions`?",
            "fsm.yaml:10:55: unknown key `priorty` in `state_transitions.transitions[0]`\n  help: did you mean `priority`?",
            "fsm.yaml:14:21: unknown key `expresion` in `state_transitions.transitions[1].conditions[0]`\n  help: did you mean `expression`?",
            "fsm.yaml:15:34: unknown key `is_critcal` in `state_transitions.transitions[1].actions[0]`\n  help: did you mean `is_critical`?",
            "fsm.yaml:15:53: `state_transitions.transitions[1].actions[1]` must be a mapping, found a string\n  help: write each action as `- action_name: name` (with `action_type: …`)",
        ]
    );
}

#[test]
fn infra_dialect_names_wildcards_any() {
    let yaml = contract(
        "\
state_machine:
  initial_state: a
  states:
    - {state_name: a}
    - {state_name: b, is_terminal: true}
  transitions:
    - {from_state: a, to_state: b, trigger: go}
    - {from_state: '*', to_state: b, trigger: stop}
",
    );
    let loaded = load(&yaml);
    assert_eq!(rendered(&loaded), Vec::<String>::new());
    let fsm = loaded.fsm.unwrap();
    assert_eq!(fsm.dialect, Dialect::StateMachine);
    assert_eq!(fsm.transitions[1].name.value, "any_to_b_on_stop");
    // A synthesized name is located at its transition.
    assert_eq!(
        (
            fsm.transitions[0].name.loc.line,
            fsm.transitions[0].name.loc.col
        ),
        (9, 7)
    );
}

#[test]
fn both_blocks_are_reported() {
    let yaml = contract(&format!("{BASE}state_machine: {{initial_state: x}}\n"));
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:14:16: the contract has both `state_transitions` and `state_machine`; onex reads `state_transitions`\n  help: keep one state machine block: `state_transitions` (core) or `state_machine` (infra)"
        ]
    );
}

#[test]
fn no_states() {
    let yaml = contract("state_transitions:\n  initial_state: idle\n  states: []\n");
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:4:3: `state_transitions` declares no states\n  help: add `states:` with at least one `- state_name: …` entry",
            "fsm.yaml:4:18: `initial_state` `idle` is not a state\n  help: the state machine declares no states",
        ]
    );
}

#[test]
fn missing_and_unknown_initial_state() {
    let yaml = contract(&BASE.replace("  initial_state: idle\n", ""));
    let found = check(&yaml);
    assert_eq!(
        found[0],
        "fsm.yaml:4:3: `state_transitions` has no `initial_state`\n  help: add `initial_state: <state>` naming one of: idle, busy, done"
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let yaml = contract(&BASE.replace("initial_state: idle", "initial_state: idel"));
    assert_eq!(
        check(&yaml),
        ["fsm.yaml:5:18: `initial_state` `idel` is not a state\n  help: did you mean `idle`?"]
    );
}

#[test]
fn duplicate_state() {
    let yaml = contract(&BASE.replace(
        "    - state_name: done\n",
        "    - state_name: done\n    - state_name: busy\n",
    ));
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:11:19: state `busy` is declared twice (first at 9:19)\n  help: state names must be unique: remove or rename one of them"
        ]
    );
}

#[test]
fn unknown_endpoints_and_special_state_lists() {
    let yaml = contract(
        &BASE
            .replace(
                "from_state: busy, to_state: done",
                "from_state: bsy, to_state: gone",
            )
            .replace(
                "terminal_states: [done]",
                "terminal_states: [done, fini]\n  error_states: [oops]",
            ),
    );
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:6:27: `terminal_states` names `fini`, which is not a state\n  help: the declared states are: idle, busy, done",
            "fsm.yaml:7:18: `error_states` names `oops`, which is not a state\n  help: the declared states are: idle, busy, done",
            // A cascade, but true: with `finish` broken, `idle` can no longer finish.
            "fsm.yaml:9:19: no terminal state can be reached from state `idle`\n  help: every path from `idle` cycles among non-terminal states; add a transition towards a terminal state (done) if the machine should finish (a lifecycle that loops on purpose can ignore this warning)",
            "fsm.yaml:10:19: state `busy` is not terminal but has no transition out of it\n  help: add a transition from `busy`, or mark it terminal (`is_terminal: true` or list it in `terminal_states`)",
            "fsm.yaml:11:19: state `done` cannot be reached from the initial state `idle`\n  help: add a transition into `done`, or remove the state",
            "fsm.yaml:14:45: transition `finish` starts from `bsy`, which is not a state\n  help: did you mean `busy`?",
            "fsm.yaml:14:60: transition `finish` goes to `gone`, which is not a state\n  help: did you mean `done`?",
        ]
    );
}

#[test]
fn wildcard_target() {
    let yaml = contract(&format!(
        "{BASE}    - {{transition_name: everywhere, from_state: busy, to_state: '*', trigger: jump}}\n"
    ));
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:14:65: transition `everywhere` has `to_state: \"*\"`; `*` is only allowed as `from_state`\n  help: name the state the transition goes to"
        ]
    );
}

#[test]
fn terminal_exit_and_wildcards_from_terminals() {
    let yaml = contract(&format!(
        "{BASE}    - {{transition_name: revive, from_state: done, to_state: idle, trigger: revive}}\n    - {{transition_name: reset, from_state: '*', to_state: idle, trigger: reset}}\n"
    ));
    // Only the explicit exit is an error: wildcards apply to terminal states too.
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:14:45: transition `revive` leaves terminal state `done`\n  help: terminal states have no outgoing transitions: remove the transition, or make `done` non-terminal (drop `is_terminal: true` / its `terminal_states` entry)"
        ]
    );
}

#[test]
fn duplicate_transition() {
    let yaml = contract(&format!(
        "{BASE}    - {{transition_name: start_again, from_state: idle, to_state: done, trigger: go, priority: 0}}\n    - {{transition_name: start_first, from_state: idle, to_state: done, trigger: go, priority: 5}}\n"
    ));
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:14:81: transitions `start` and `start_again` both handle `go` from `idle` at priority 0\n  help: give one of them a different `priority` (the higher one is tried first), or merge them"
        ]
    );
}

#[test]
fn unreachable_state() {
    let body = BASE.replace(
        "    - state_name: done\n",
        "    - state_name: done\n    - state_name: island\n",
    ) + "    - {transition_name: leave, from_state: island, to_state: done, trigger: leave}\n";
    let yaml = contract(&body);
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:11:19: state `island` cannot be reached from the initial state `idle`\n  help: add a transition into `island`, or remove the state"
        ]
    );
}

#[test]
fn dead_end() {
    let yaml = contract(&BASE.replace(
        "trigger: go}",
        "trigger: go}\n    - {transition_name: stall, from_state: idle, to_state: stuck, trigger: stall}",
    ).replace(
        "    - state_name: done\n",
        "    - state_name: done\n    - state_name: stuck\n",
    ));
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:11:19: state `stuck` is not terminal but has no transition out of it\n  help: add a transition from `stuck`, or mark it terminal (`is_terminal: true` or list it in `terminal_states`)"
        ]
    );
    // A wildcard is a way out of every state.
    let yaml =
        yaml + "    - {transition_name: reset, from_state: '*', to_state: idle, trigger: reset}\n";
    assert_eq!(check(&yaml), Vec::<String>::new());
}

#[test]
fn cycle_without_way_out_is_a_warning() {
    let yaml = contract(&BASE.replace(
        "trigger: go}",
        "trigger: go}\n    - {transition_name: spin, from_state: idle, to_state: loop_a, trigger: spin}\n    - {transition_name: ab, from_state: loop_a, to_state: loop_b, trigger: next}\n    - {transition_name: ba, from_state: loop_b, to_state: loop_a, trigger: next}",
    ).replace(
        "    - state_name: done\n",
        "    - state_name: done\n    - state_name: loop_a\n    - state_name: loop_b\n",
    ));
    let loaded = load(&yaml);
    assert!(!loaded.has_errors());
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    assert_eq!(
        rendered(&loaded),
        [
            "fsm.yaml:11:19: no terminal state can be reached from state `loop_a`\n  help: every path from `loop_a` cycles among non-terminal states; add a transition towards a terminal state (done) if the machine should finish (a lifecycle that loops on purpose can ignore this warning)",
            "fsm.yaml:12:19: no terminal state can be reached from state `loop_b`\n  help: every path from `loop_b` cycles among non-terminal states; add a transition towards a terminal state (done) if the machine should finish (a lifecycle that loops on purpose can ignore this warning)",
        ]
    );
    // Without terminal states, loops are the machine's nature: no warning.
    let yaml = yaml
        .replace("  terminal_states: [done]\n", "")
        .replace("trigger: finish}", "trigger: finish}\n    - {transition_name: again, from_state: done, to_state: idle, trigger: again}");
    assert_eq!(check(&yaml), Vec::<String>::new());
}

#[test]
fn names_that_collide_or_cannot_be_variants() {
    let yaml = contract(
        "\
state_transitions:
  initial_state: idle
  states:
    - {state_name: idle, entry_actions: [log_it, LogIt]}
    - {state_name: Idle, exit_actions: [2fast]}
  transitions:
    - {transition_name: a, from_state: idle, to_state: Idle, trigger: go_on}
    - {transition_name: b, from_state: Idle, to_state: idle, trigger: GoOn}
    - {transition_name: c, from_state: Idle, to_state: idle, trigger: self}
",
    );
    assert_eq!(
        check(&yaml),
        [
            "fsm.yaml:6:50: actions `log_it` and `LogIt` both become the enum variant `LogIt`\n  help: rename one of them (`log_it` is at 6:42)",
            "fsm.yaml:7:20: states `idle` and `Idle` both become the enum variant `Idle`\n  help: rename one of them (`idle` is at 6:20)",
            "fsm.yaml:7:41: action `2fast` cannot become a Rust enum variant: `2fast` starts with `2`\n  help: action names become enum variants: use letters, digits and `_`, starting with a letter",
            "fsm.yaml:10:71: triggers `go_on` and `GoOn` both become the enum variant `GoOn`\n  help: rename one of them (`go_on` is at 9:71)",
            "fsm.yaml:11:71: trigger `self` cannot become a Rust enum variant: `Self` is a Rust keyword that cannot be a raw identifier\n  help: trigger names become enum variants: use letters, digits and `_`, starting with a letter",
        ]
    );
}

#[test]
fn many_errors_are_collected_in_one_pass() {
    let yaml = contract(
        "\
state_transitions:
  initial_state: start
  terminal_states: [end, nowhere]
  states:
    - {state_name: idle}
    - {state_name: end}
    - {state_name: idle}
  transitions:
    - {transition_name: t1, from_state: idle, to_state: '*', trigger: go}
    - {transition_name: t2, from_state: end, to_state: idle, trigger: go}
    - transition_name: t3
      from_state: idle
      to_state: ghost
      trigger: go
      conditions:
        - {expression: 'count > many'}
        - {expression: '_x exists'}
        - {expression: 'a b c d'}
        - {expression: 'n is_nice'}
",
    );
    let found = check(&yaml);
    assert!(
        found[0].ends_with("help: the declared states are: idle, end"),
        "{found:#?}"
    );
    let codes: Vec<&str> = load(&yaml).diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [
            "fsm-unknown-state",        // initial_state start
            "fsm-unknown-state",        // terminal_states nowhere
            "fsm-no-way-out",           // idle: every way out is broken (a warning)
            "fsm-duplicate-state",      // idle twice
            "fsm-wildcard-target",      // t1
            "fsm-terminal-exit",        // t2
            "fsm-unknown-state",        // t3 ghost
            "fsm-duplicate-transition", // t3 = t1 (idle, go, 0)
            "fsm-bad-operand",
            "fsm-bad-field",
            "fsm-bad-expression",
            "fsm-unknown-operator",
        ],
        "{found:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Guards against the context model.
// ---------------------------------------------------------------------------------------

/// A reducer whose `input_model` is `ModelCtx`; one transition with `expression`s (line 20+).
fn with_context(expressions: &[&str]) -> Vec<String> {
    let mut yaml = contract(
        "\
input_model: pkg.ModelCtx
definitions:
  ModelCtx:
    type: object
    required: [count, name, flag, status, tags, user, ratio]
    properties:
      count: {type: integer}
      ratio: {type: number}
      name: {type: string}
      flag: {type: boolean}
      status: {type: string, enum: [active, idle]}
      tags: {type: array, items: {type: string}}
      user: {$ref: '#/definitions/ModelUser'}
      extra: {type: object}
      note: {type: string}
  ModelUser:
    type: object
    properties:
      role: {type: string}
state_machine:
  initial_state: a
  states: [{state_name: a}]
  transitions:
    - from_state: a
      to_state: a
      trigger: t
      conditions:
",
    );
    for e in expressions {
        yaml.push_str(&format!("        - {{expression: '{e}'}}\n"));
    }
    check(&yaml)
}

#[test]
fn guards_that_fit_the_context_model() {
    assert_eq!(
        with_context(&[
            "count < 3",
            "ratio >= 0.5",
            "count == 3",
            "count in 1,2",
            "flag == True",
            "flag != false",
            "status in active,idle",
            "status matches ^act",
            "name min_length 1",
            "name contains x",
            "tags contains x",
            "tags max_length 3",
            "user.role == admin",
            "extra.anything.below == 1",
            "note == None",
            "note exists",
            "user not_exists",
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn guard_reads_a_missing_field() {
    let loc = "fsm.yaml:30:24";
    assert_eq!(
        with_context(&["cuont less_than 3", "user.rol == admin", "x.y == 1", "name.first == x"]),
        [
            format!("{loc}: condition `cuont less_than 3` reads `cuont`, which `ModelCtx` does not have\n  help: did you mean `count`?"),
            "fsm.yaml:31:24: condition `user.rol == admin` reads `rol`, which `ModelUser` does not have\n  help: did you mean `role`?".to_owned(),
            "fsm.yaml:32:24: condition `x.y == 1` reads `x`, which `ModelCtx` does not have\n  help: the fields of `ModelCtx` are: count, ratio, name, flag, status, tags, user, extra, note".to_owned(),
            "fsm.yaml:33:24: condition `name.first == x` reads `name.first`, but `name` is a string in `ModelCtx`, not an object\n  help: only objects (models, maps) have fields: read `name` itself".to_owned(),
        ]
    );
}

#[test]
fn guard_operator_or_literal_does_not_fit_the_field() {
    assert_eq!(
        with_context(&[
            "name > 3",
            "count min_length 1",
            "count matches ^1",
            "flag contains x",
            "count == 2.5",
            "ratio == abc",
            "flag == yes",
            "status == actve",
            "status in active,gone",
            "count == None",
            "tags == x",
        ]),
        [
            "fsm.yaml:30:24: condition `name > 3` compares `name` as a number, but `name` is a string in `ModelCtx`\n  help: `>` needs an `integer` or `number` field",
            "fsm.yaml:31:24: condition `count min_length 1` measures the length of `count`, but `count` is an integer in `ModelCtx`\n  help: `min_length` needs a string, array or map field",
            "fsm.yaml:32:24: condition `count matches ^1` matches `count` against a pattern, but `count` is an integer in `ModelCtx`\n  help: `matches` needs a string (or string enum) field",
            "fsm.yaml:33:24: condition `flag contains x` looks inside `flag`, but `flag` is a boolean in `ModelCtx`\n  help: `contains` needs a string or array field",
            "fsm.yaml:34:24: condition `count == 2.5` compares integer field `count` of `ModelCtx` with `2.5`, which is not an integer\n  help: write an integer, e.g. `count == 3`",
            "fsm.yaml:35:24: condition `ratio == abc` compares number field `ratio` of `ModelCtx` with `abc`, which is not a number\n  help: write a number, e.g. `ratio == 0.5`",
            "fsm.yaml:36:24: condition `flag == yes` compares boolean field `flag` of `ModelCtx` with `yes`, which is not a boolean\n  help: write `true` or `false`",
            "fsm.yaml:37:24: condition `status == actve` compares `status` with `actve`, which is not a value of its enum in `ModelCtx`\n  help: did you mean `active`?",
            "fsm.yaml:38:24: condition `status in active,gone` compares `status` with `gone`, which is not a value of its enum in `ModelCtx`\n  help: the values are: active, idle",
            "fsm.yaml:39:24: condition `count == None` compares `count` with `None`, but `count` is never null in `ModelCtx`\n  help: `count` is required: drop the condition, or make the field optional (remove it from `required` or add `nullable: true`)",
            "fsm.yaml:40:24: condition `tags == x` compares `tags` with the single value `x`, but `tags` is an array in `ModelCtx`\n  help: compare a scalar field, or use `contains`/`min_length`/`exists` on a collection",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// (3) Candidate selection and intents on a small machine.
// ---------------------------------------------------------------------------------------

fn selection_fsm() -> Fsm {
    let yaml = contract(
        "\
state_transitions:
  initial_state: idle
  terminal_states: [done]
  states:
    - {state_name: idle, entry_actions: [enter_idle], exit_actions: [leave_idle]}
    - {state_name: busy, entry_actions: [enter_busy_1, enter_busy_2], exit_actions: [leave_busy]}
    - {state_name: done, entry_actions: [enter_done]}
  transitions:
    - {transition_name: low, from_state: idle, to_state: busy, trigger: go}
    - {transition_name: high, from_state: idle, to_state: busy, trigger: go, priority: 10}
    - {transition_name: mid, from_state: idle, to_state: done, trigger: go, priority: 5}
    - {transition_name: stop_busy, from_state: busy, to_state: done, trigger: stop, conditions: [{expression: 'ok == True'}]}
    - {transition_name: stop_any, from_state: '*', to_state: done, trigger: stop, priority: 3}
    - {transition_name: stop_any_2, from_state: '*', to_state: idle, trigger: stop, priority: 7}
    - transition_name: tick
      from_state: busy
      to_state: busy
      trigger: tick
      actions: [{action_name: count_tick, action_type: event}, {action_name: log_tick, action_type: log, execution_order: 1}]
",
    );
    let loaded = load(&yaml);
    assert_eq!(rendered(&loaded), Vec::<String>::new());
    loaded.fsm.unwrap()
}

fn names<'a>(ts: &[&'a onex_contracts::fsm::Transition]) -> Vec<&'a str> {
    ts.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn candidates_follow_priority_then_declaration() {
    let fsm = selection_fsm();
    assert_eq!(names(&fsm.candidates("idle", "go")), ["high", "mid", "low"]);
    assert!(fsm.candidates("busy", "go").is_empty());
    assert!(fsm.candidates("idle", "nope").is_empty());
}

#[test]
fn exact_candidates_shadow_wildcards() {
    let fsm = selection_fsm();
    // busy has an exact `stop` (guarded): the wildcards never apply there.
    assert_eq!(names(&fsm.candidates("busy", "stop")), ["stop_busy"]);
    // idle and done have none: the wildcards, by priority.
    assert_eq!(
        names(&fsm.candidates("idle", "stop")),
        ["stop_any_2", "stop_any"]
    );
    assert_eq!(
        names(&fsm.candidates("done", "stop")),
        ["stop_any_2", "stop_any"]
    );
}

#[test]
fn intents_run_exit_transition_entry_and_self_loops_run_both() {
    let fsm = selection_fsm();
    let high = fsm.candidates("idle", "go")[0];
    assert_eq!(
        fsm.intents("idle", high),
        ["leave_idle", "enter_busy_1", "enter_busy_2"]
    );
    let tick = fsm.candidates("busy", "tick")[0];
    // `execution_order` is ignored: declaration order, as in the reference.
    assert_eq!(
        fsm.intents("busy", tick),
        [
            "leave_busy",
            "count_tick",
            "log_tick",
            "enter_busy_1",
            "enter_busy_2"
        ]
    );
    // A wildcard from a terminal state leaves it like any other state.
    let reset = fsm.candidates("done", "stop")[0];
    assert_eq!(fsm.intents("done", reset), ["enter_idle"]);
    assert_eq!(fsm.triggers(), ["go", "stop", "tick"]);
    assert_eq!(
        fsm.actions(),
        [
            "enter_idle",
            "leave_idle",
            "enter_busy_1",
            "enter_busy_2",
            "leave_busy",
            "enter_done",
            "count_tick",
            "log_tick",
        ]
    );
}
