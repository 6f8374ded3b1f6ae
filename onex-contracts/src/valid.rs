//! Contract-internal validation (DESIGN.md §5): every check runs and every problem is kept.
//!
//! FSM and workflow checks belong to the reducer and orchestrator layers; this module checks
//! what every node contract has: operations, models, topics and effect `io_config` rules.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Contract;
use crate::names;
use crate::operations::{Operations, Routing, TypeRef};

/// Methods of the node traits: an operation may not take their names.
pub const RESERVED_METHODS: &[&str] = &["process", "process_json", "dispatch"];
use crate::schema::{ModelShape, TypeExpr};

/// Runs every contract-internal check on a node contract and its lowered operations.
pub fn validate(contract: &Contract, ops: &Operations, d: &mut Diagnostics) {
    operation_names(ops, d);
    model_names(contract, ops, d);
    definition_names(contract, d);
    topics(contract, d);
    io_rules(ops, d);
    crate::db::validate(contract, ops, d);
    crate::policy::validate(ops, d);
    routing(contract, d);
}

fn operation_names(ops: &Operations, d: &mut Diagnostics) {
    let mut by_name: BTreeMap<&str, &crate::read::Spanned<String>> = BTreeMap::new();
    let mut by_snake: BTreeMap<String, &crate::read::Spanned<String>> = BTreeMap::new();
    let mut by_camel: BTreeMap<String, &crate::read::Spanned<String>> = BTreeMap::new();
    for op in &ops.operations {
        let name = &op.name;
        if let Some(first) = by_name.get(name.value.as_str()) {
            d.push(
                Diagnostic::error(
                    "duplicate-operation",
                    name.loc,
                    format!(
                        "duplicate operation `{}` (first declared at {})",
                        name.value, first.loc
                    ),
                )
                .with_help("each operation needs its own name"),
            );
            continue;
        }
        by_name.insert(&name.value, name);
        let snake = names::snake(&name.value);
        let camel = names::camel(&name.value);
        if let Some(problem) = names::ident_problem(&snake).or_else(|| names::ident_problem(&camel))
        {
            let help = if names::NOT_RAW.contains(&snake.as_str())
                || names::NOT_RAW.contains(&camel.as_str())
            {
                "rename the operation: Rust keywords like `self` cannot name methods".to_owned()
            } else {
                format!(
                    "rename the operation to start with a letter, e.g. `op_{}`",
                    snake.trim_start_matches('_')
                )
            };
            d.push(
                Diagnostic::error(
                    "bad-operation-name",
                    name.loc,
                    format!(
                        "operation `{}` cannot name a Rust method: {problem}",
                        name.value
                    ),
                )
                .with_help(help),
            );
            continue;
        }
        if ops.routing != Routing::Single && RESERVED_METHODS.contains(&snake.as_str()) {
            d.push(
                Diagnostic::error(
                    "reserved-operation-name",
                    name.loc,
                    format!(
                        "operation `{}` would become the handler method `{snake}`, which clashes with `EffectNode::{snake}`",
                        name.value
                    ),
                )
                .with_help("rename the operation (e.g. `run`)"),
            );
            continue;
        }
        // One report per collision: the method name, else the variant name.
        let collision = by_snake
            .get(&snake)
            .map(|first| (*first, "method", snake.clone()))
            .or_else(|| {
                by_camel
                    .get(&camel)
                    .map(|first| (*first, "variant", camel.clone()))
            });
        if let Some((first, what, derived)) = collision {
            d.push(
                Diagnostic::error(
                    "name-collision",
                    name.loc,
                    format!(
                        "operations `{}` and `{}` both become the Rust {what} `{derived}`",
                        first.value, name.value
                    ),
                )
                .with_help(format!(
                    "rename one of them (the other is at {})",
                    first.loc
                )),
            );
            continue;
        }
        by_snake.insert(snake, name);
        by_camel.insert(camel, name);
    }
    if ops.operations.is_empty() {
        d.push(
            Diagnostic::error("no-operations", ops.loc, "the contract declares no operation")
                .with_help("add `handler_routing.handlers`, `effect_operations.operations`, or `input_model`/`output_model`"),
        );
    }
}

fn model_names(contract: &Contract, ops: &Operations, d: &mut Diagnostics) {
    let mut seen = Vec::new();
    for op in &ops.operations {
        for ty in [&op.input, &op.output] {
            let TypeRef::Model(name) = ty else { continue };
            if seen.contains(&name.loc) {
                continue;
            }
            seen.push(name.loc);
            if !names::is_type_name(&name.value) {
                d.push(
                    Diagnostic::error(
                        "bad-model-name",
                        name.loc,
                        format!("model `{}` cannot be a Rust type name", name.value),
                    )
                    .with_help("model names are resolved to Rust types by name: use an identifier like `ModelQueryRequest`"),
                );
                continue;
            }
            if let Some(def) = contract.definition(&name.value)
                && matches!(def.shape, ModelShape::Enum(_))
                && ty == &op.input
            {
                d.push(Diagnostic::warning(
                    "enum-input",
                    name.loc,
                    format!(
                        "input model `{}` is an enum: payload routing needs an object",
                        name.value
                    ),
                ));
            }
        }
    }
}

fn definition_names(contract: &Contract, d: &mut Diagnostics) {
    let mut generated: BTreeMap<String, &crate::read::Spanned<String>> = BTreeMap::new();
    for model in &contract.definitions {
        if !names::is_type_name(&model.name.value) {
            d.push(Diagnostic::error(
                "bad-model-name",
                model.name.loc,
                format!(
                    "definition `{}` cannot be a Rust type name",
                    model.name.value
                ),
            ));
        }
        generated.insert(model.name.value.clone(), &model.name);
        let fields = match &model.shape {
            ModelShape::Object(fields) => fields,
            ModelShape::Enum(values) => {
                enum_variants(values, d);
                continue;
            }
        };
        let mut field_names: BTreeMap<String, &crate::read::Spanned<String>> = BTreeMap::new();
        for field in fields {
            let snake = names::snake(&field.name.value);
            if let Some(problem) = names::ident_problem(&snake) {
                d.push(Diagnostic::error(
                    "bad-field-name",
                    field.name.loc,
                    format!(
                        "field `{}` cannot be a Rust field name: {problem}",
                        field.name.value
                    ),
                ));
            } else if let Some(first) = field_names.get(&snake) {
                d.push(
                    Diagnostic::error(
                        "name-collision",
                        field.name.loc,
                        format!(
                            "fields `{}` and `{}` both become `{snake}`",
                            first.value, field.name.value
                        ),
                    )
                    .with_help("rename one of them"),
                );
            } else {
                field_names.insert(snake, &field.name);
            }
            if let TypeExpr::Enum { name, values } = &field.ty {
                enum_variants(values, d);
                if !names::is_type_name(name) {
                    d.push(
                        Diagnostic::error(
                            "bad-model-name",
                            field.name.loc,
                            format!("the enum of `{}` would be named `{name}`, which cannot be a Rust type name", field.name.value),
                        )
                        .with_help("set `enum_class` to an identifier such as `EnumSeverity`"),
                    );
                }
                if let Some(first) = generated.get(name)
                    && contract.definition(name).is_some()
                {
                    d.push(Diagnostic::error(
                        "name-collision",
                        field.name.loc,
                        format!(
                            "the enum generated for `{}` is named `{name}`, like the model at {}",
                            field.name.value, first.loc
                        ),
                    ));
                }
            }
        }
    }
}

fn enum_variants(values: &[crate::read::Spanned<String>], d: &mut Diagnostics) {
    let mut variants: BTreeMap<String, &crate::read::Spanned<String>> = BTreeMap::new();
    for v in values {
        let camel = names::camel(&v.value);
        if let Some(problem) = names::ident_problem(&camel) {
            d.push(Diagnostic::error(
                "bad-enum-value",
                v.loc,
                format!(
                    "enum value `{}` cannot be a Rust variant: {problem}",
                    v.value
                ),
            ));
        } else if let Some(first) = variants.insert(camel.clone(), v) {
            d.push(Diagnostic::error(
                "name-collision",
                v.loc,
                format!(
                    "enum values `{}` and `{}` both become `{camel}`",
                    first.value, v.value
                ),
            ));
        }
    }
}

/// The ONEX topic rule: `onex.<cmd|evt|dlq|intent|snapshot>.<producer>.<event>.v<N>`.
pub fn topic_problem(topic: &str) -> Option<String> {
    let parts: Vec<&str> = topic.split('.').collect();
    let kebab = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    match parts[..] {
        ["onex", kind, producer, event, version] => {
            if !["cmd", "evt", "dlq", "intent", "snapshot"].contains(&kind) {
                Some(format!(
                    "kind `{kind}` is not one of cmd, evt, dlq, intent, snapshot"
                ))
            } else if !kebab(producer) || !kebab(event) {
                Some("producer and event must be lower-case kebab-case".into())
            } else if !version
                .strip_prefix('v')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            {
                Some(format!("version `{version}` must be `v<N>`"))
            } else {
                None
            }
        }
        _ => Some("expected five dot-separated segments".into()),
    }
}

fn topics(contract: &Contract, d: &mut Diagnostics) {
    let bus = &contract.event_bus;
    for topic in bus.subscribe.iter().chain(&bus.publish).chain(&bus.dlq) {
        if let Some(problem) = topic_problem(&topic.value) {
            d.push(
                Diagnostic::warning(
                    "topic-name",
                    topic.loc,
                    format!(
                        "topic `{}` does not follow the ONEX topic rule: {problem}",
                        topic.value
                    ),
                )
                .with_help(
                    "ONEX topics read `onex.<cmd|evt|dlq|intent|snapshot>.<producer>.<event>.v<N>`",
                ),
            );
        }
    }
}

fn io_rules(ops: &Operations, d: &mut Diagnostics) {
    for op in &ops.operations {
        let Some(io) = &op.io_config else { continue };
        match io.handler_type.value.as_str() {
            "db" => {
                // Without a `query_template` the handler runs the SQL (the io_config still
                // tells the policies what kind of statement it is).
                let Some(sql) = &io.query_template else {
                    continue;
                };
                if sql.value.contains("${") {
                    d.push(
                        Diagnostic::error(
                            "sql-interpolation",
                            sql.loc,
                            format!(
                                "`query_template` of `{}` interpolates `${{…}}` into SQL",
                                op.name.value
                            ),
                        )
                        .with_help(
                            "use `$1`, `$2`, … placeholders and list the values in `query_params`",
                        ),
                    );
                }
                let used = placeholders(&sql.value);
                let max = used.iter().copied().max().unwrap_or(0);
                let missing: Vec<String> = (1..=max)
                    .filter(|n| !used.contains(n))
                    .map(|n| format!("${n}"))
                    .collect();
                if !missing.is_empty() {
                    d.push(
                        Diagnostic::error(
                            "sql-placeholders",
                            sql.loc,
                            format!(
                                "`query_template` of `{}` skips {}",
                                op.name.value,
                                missing.join(", ")
                            ),
                        )
                        .with_help("number placeholders $1..$n without gaps"),
                    );
                }
                if max != io.query_params.len() {
                    d.push(
                        Diagnostic::error(
                            "sql-placeholders",
                            sql.loc,
                            format!(
                                "`query_template` of `{}` uses {max} placeholder(s) but `query_params` lists {}",
                                op.name.value,
                                io.query_params.len()
                            ),
                        )
                        .with_help("give one `query_params` entry per `$N`, in order"),
                    );
                }
            }
            "http" => {
                if let Some(method) = &io.method
                    && ["POST", "PUT", "PATCH"]
                        .contains(&method.value.to_ascii_uppercase().as_str())
                    && io.body_template.is_none()
                {
                    d.push(
                        Diagnostic::error(
                            "io-config",
                            method.loc,
                            format!(
                                "`{}` operation `{}` has no `body_template`",
                                method.value, op.name.value
                            ),
                        )
                        .with_help("POST, PUT and PATCH send a body: add `body_template`"),
                    );
                }
            }
            _ => {}
        }
    }
}

/// The `$N` placeholders of an SQL template, outside quoted strings.
pub fn placeholders(sql: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let mut n = String::new();
                while let Some((_, digit)) = chars.peek().filter(|(_, ch)| ch.is_ascii_digit()) {
                    n.push(*digit);
                    chars.next();
                }
                if let Ok(n) = n.parse::<usize>()
                    && !out.contains(&n)
                {
                    out.push(n);
                }
            }
            _ => {}
        }
    }
    out
}

fn routing(contract: &Contract, d: &mut Diagnostics) {
    let Some(routing) = &contract.handler_routing else {
        return;
    };
    for (i, entry) in routing.handlers.iter().enumerate() {
        if entry.operation.is_none() && entry.event_model.is_none() {
            d.push(
                Diagnostic::error(
                    "routing-entry",
                    entry.loc,
                    format!("`handler_routing.handlers[{i}]` names neither `operation` nor `event_model`"),
                )
                .with_help("operation routing needs `operation: name`; payload-type routing needs `event_model: {name: Model}`"),
            );
        }
    }
    if !routing.handlers.is_empty() && routing.strategy.is_none() {
        d.push(
            Diagnostic::warning(
                "routing-strategy",
                routing.loc,
                "`handler_routing` has handlers but no `routing_strategy`; using `operation_match`",
            )
            .with_help("add `routing_strategy: operation_match` or `payload_type_match`"),
        );
    }
}
