//! Lowering a contract to its operations (DESIGN.md §4.3).
//!
//! In priority order: `handler_routing.handlers[]`; else `effect_operations.operations[]`;
//! else one operation named `process` from `input_model` to `output_model`.

use crate::model::{CircuitBreaker, Contract, IoConfig, ModelRef, RetryPolicy};
use crate::read::Spanned;
use crate::yaml::Loc;

/// How inputs select an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// By the payload's `operation` field.
    OperationMatch,
    /// By the envelope's `payload_type` (the input model's name); when several operations
    /// share a model, the payload's `operation` field decides.
    PayloadTypeMatch,
    /// One operation takes every payload.
    Single,
}

/// The Rust-side type of an operation's input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeRef {
    /// A model, resolved by name: generated from `definitions`, or a type the user has in scope.
    Model(Spanned<String>),
    /// The contract names no model: the payload stays JSON.
    Json,
}

impl TypeRef {
    /// The model name, or `"JsonValue"` for an untyped payload.
    pub fn name(&self) -> &str {
        match self {
            TypeRef::Model(name) => &name.value,
            TypeRef::Json => "JsonValue",
        }
    }

    fn from_model(model: Option<&ModelRef>) -> TypeRef {
        model.map_or(TypeRef::Json, |m| TypeRef::Model(m.name.clone()))
    }

    /// The model an entry names, else the node-level type.
    fn or(model: Option<&ModelRef>, node_level: &TypeRef) -> TypeRef {
        model.map_or_else(|| node_level.clone(), |m| TypeRef::Model(m.name.clone()))
    }
}

/// One operation of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The contract's name for it (`postgres.query`, `register_node`, `process`).
    pub name: Spanned<String>,
    /// The input type.
    pub input: TypeRef,
    /// The output type.
    pub output: TypeRef,
    /// Its description.
    pub description: Option<String>,
    /// `idempotent`, when the contract says.
    pub idempotent: Option<bool>,
    /// Its `io_config` (declarative effect operations).
    pub io_config: Option<IoConfig>,
    /// The retry policy that applies (operation level, else node level).
    pub retry_policy: Option<RetryPolicy>,
    /// Where the operation declares its own `retry_policy` (`None`: inherited or absent).
    pub own_retry_policy: Option<Loc>,
    /// The circuit breaker that applies (operation level, else node level).
    pub circuit_breaker: Option<CircuitBreaker>,
    /// The timeout that applies, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `response_handling.fail_on_empty` (db operations).
    pub fail_on_empty: Option<Spanned<bool>>,
}

/// A node's operations and how inputs are routed to them.
#[derive(Clone, Debug, PartialEq)]
pub struct Operations {
    /// The routing strategy.
    pub routing: Routing,
    /// The operations in contract order.
    pub operations: Vec<Operation>,
    /// Where the operations are declared (for messages about them as a whole).
    pub loc: Loc,
}

/// Lowers a contract to its operations. Never fails: validation reports the problems.
pub fn lower(contract: &Contract) -> Operations {
    let input = TypeRef::from_model(contract.input_model.as_ref());
    let output = TypeRef::from_model(contract.output_model.as_ref());
    let descriptor = contract.descriptor.as_ref();
    let node_timeout = descriptor.and_then(|d| d.timeout_ms);

    if let Some(routing) = &contract.handler_routing
        && !routing.handlers.is_empty()
    {
        let strategy = match routing.strategy.as_ref().map(|s| s.value) {
            Some(crate::model::RoutingStrategy::PayloadTypeMatch) => Routing::PayloadTypeMatch,
            _ => Routing::OperationMatch,
        };
        let operations = routing
            .handlers
            .iter()
            .filter_map(|entry| {
                let name = entry
                    .operation
                    .clone()
                    .or_else(|| entry.event_model.as_ref().map(|m| m.name.clone()))?;
                Some(Operation {
                    name,
                    input: TypeRef::or(entry.event_model.as_ref(), &input),
                    output: TypeRef::or(entry.output_model.as_ref(), &output),
                    description: entry.description.clone(),
                    idempotent: entry.idempotent.or(descriptor.and_then(|d| d.idempotent)),
                    io_config: None,
                    retry_policy: descriptor.and_then(|d| d.retry_policy.clone()),
                    own_retry_policy: None,
                    circuit_breaker: descriptor.and_then(|d| d.circuit_breaker.clone()),
                    timeout_ms: node_timeout,
                    fail_on_empty: None,
                })
            })
            .collect();
        return Operations {
            routing: strategy,
            operations,
            loc: routing.loc,
        };
    }

    if let Some(effect) = &contract.effect_operations
        && !effect.operations.is_empty()
    {
        let operations = effect
            .operations
            .iter()
            .map(|op| Operation {
                name: op.name.clone(),
                input: TypeRef::or(op.input_model.as_ref(), &input),
                output: TypeRef::or(op.output_model.as_ref(), &output),
                description: op.description.clone(),
                idempotent: op.idempotent.as_ref().map(|b| b.value),
                io_config: op.io_config.clone(),
                retry_policy: op
                    .retry_policy
                    .as_ref()
                    .map(|(_, p)| p.clone())
                    .or_else(|| effect.default_retry_policy.clone()),
                own_retry_policy: op.retry_policy.as_ref().map(|(loc, _)| *loc),
                circuit_breaker: op
                    .circuit_breaker
                    .clone()
                    .or_else(|| effect.default_circuit_breaker.clone()),
                timeout_ms: op
                    .timeout_ms
                    .or(op.io_config.as_ref().and_then(|io| io.timeout_ms))
                    .or(node_timeout),
                fail_on_empty: op.fail_on_empty.clone(),
            })
            .collect();
        return Operations {
            routing: Routing::OperationMatch,
            operations,
            loc: effect.loc,
        };
    }

    let loc = contract
        .input_model
        .as_ref()
        .map_or(contract.root.loc, |m| m.name.loc);
    Operations {
        routing: Routing::Single,
        operations: vec![Operation {
            name: Spanned::new("process".to_owned(), loc),
            input,
            output,
            description: contract.description.clone(),
            idempotent: descriptor.and_then(|d| d.idempotent),
            io_config: None,
            retry_policy: descriptor.and_then(|d| d.retry_policy.clone()),
            own_retry_policy: None,
            circuit_breaker: descriptor.and_then(|d| d.circuit_breaker.clone()),
            timeout_ms: node_timeout,
            fail_on_empty: None,
        }],
        loc,
    }
}
