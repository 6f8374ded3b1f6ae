//! Contract + user item → the IR that expansion turns into tokens. Infallible once
//! validation passed: every name here is a valid identifier.

use onex_contracts::names;
use onex_contracts::operations::{Operations, Routing, TypeRef};
use onex_contracts::schema::ModelDef;
use onex_contracts::{Contract, NodeKind};
use proc_macro2::{Ident, Span};

/// A Rust identifier from a derived name (`r#` for keywords).
///
/// Validation rejects names that cannot be identifiers before expansion; should one slip
/// through, a placeholder is used instead of panicking (the macro never panics).
pub fn ident(name: &str, span: Span) -> Ident {
    if names::ident_problem(name).is_some() {
        Ident::new("__onex_invalid_name", span)
    } else if names::is_keyword(name) {
        Ident::new_raw(name, span)
    } else {
        Ident::new(name, span)
    }
}

/// Every generated name for one node (the table in the README).
#[derive(Clone, Debug)]
pub struct Names {
    /// The user's struct.
    pub node: Ident,
    /// `pub mod {node_snake}` holding generated models.
    pub module: Ident,
    /// `{Node}Operation`.
    pub operation: Ident,
    /// `{Node}Input`.
    pub input: Ident,
    /// `{Node}Output`.
    pub output: Ident,
    /// `{Node}Handler`.
    pub handler: Ident,
}

impl Names {
    /// Derives the names from the user's struct ident.
    pub fn new(node: &Ident) -> Names {
        let base = node.to_string();
        let base = base.strip_prefix("r#").unwrap_or(&base).to_owned();
        let span = node.span();
        Names {
            node: node.clone(),
            module: ident(&names::snake(&base), span),
            operation: Ident::new(&format!("{base}Operation"), span),
            input: Ident::new(&format!("{base}Input"), span),
            output: Ident::new(&format!("{base}Output"), span),
            handler: Ident::new(&format!("{base}Handler"), span),
        }
    }
}

/// A payload type as generated code names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A model generated from `definitions` (lives in the node module).
    Generated(String),
    /// A type the user has in scope.
    User(String),
    /// Untyped JSON.
    Json,
}

impl Ty {
    fn new(r: &TypeRef, contract: &Contract) -> Ty {
        match r {
            TypeRef::Json => Ty::Json,
            TypeRef::Model(name) if contract.definition(&name.value).is_some() => {
                Ty::Generated(name.value.clone())
            }
            TypeRef::Model(name) => Ty::User(name.value.clone()),
        }
    }

    /// The wire name (`payload_type`).
    pub fn wire_name(&self) -> &str {
        match self {
            Ty::Generated(n) | Ty::User(n) => n,
            Ty::Json => "JsonValue",
        }
    }
}

/// One operation, ready to expand.
#[derive(Clone, Debug)]
pub struct OpIr {
    /// Contract name.
    pub name: String,
    /// Variant name (`PostgresQuery`).
    pub variant: Ident,
    /// Handler method name (`postgres_query`).
    pub method: Ident,
    /// Input type.
    pub input: Ty,
    /// Output type.
    pub output: Ty,
    /// Description for docs.
    pub description: Option<String>,
    /// Timeout, retry and breaker (applied around effect handler calls).
    pub policy: onex_contracts::policy::Policy,
    /// A declarative `db` operation of an effect node: generated, no handler method.
    pub db: Option<onex_contracts::db::DbTemplate>,
}

/// Contract metadata embedded as `ContractInfo`.
#[derive(Clone, Debug)]
pub struct MetaIr {
    /// Node name (contract name, else the struct's snake name).
    pub name: String,
    /// `node_type` as written.
    pub node_type: String,
    /// The node kind. Validation made it the macro's own kind (the flavor expanded), so
    /// every node attribute gets `ContractInfo.kind` right without being told.
    pub kind: NodeKind,
    /// contract_version.
    pub contract_version: (u64, u64, u64),
    /// node_version.
    pub node_version: (u64, u64, u64),
    /// description.
    pub description: String,
    /// Computed fingerprint.
    pub fingerprint: String,
    /// Declared fingerprint.
    pub declared_fingerprint: Option<String>,
    /// Subscribe topics.
    pub subscribe: Vec<String>,
    /// Publish topics.
    pub publish: Vec<String>,
    /// Dead-letter topics.
    pub dlq: Vec<String>,
}

/// The whole node.
#[derive(Clone, Debug)]
pub struct NodeIr {
    /// Generated names.
    pub names: Names,
    /// Routing strategy.
    pub routing: Routing,
    /// Operations in contract order.
    pub ops: Vec<OpIr>,
    /// Models from `definitions`, in contract order.
    pub models: Vec<ModelDef>,
    /// Metadata.
    pub meta: MetaIr,
}

/// Builds the IR.
pub fn lower(node: &Ident, contract: &Contract, ops: &Operations, fingerprint: String) -> NodeIr {
    let names = Names::new(node);
    let span = node.span();
    let v = |v: Option<onex_contracts::model::Version>| {
        v.map_or((0, 0, 0), |v| (v.major, v.minor, v.patch))
    };
    let contract_version = v(contract.contract_version.as_ref().map(|s| s.value));
    let meta = MetaIr {
        name: contract
            .name
            .as_ref()
            .map_or_else(|| names.module.to_string(), |n| n.value.clone()),
        node_type: contract
            .node_type
            .as_ref()
            .map_or_else(String::new, |n| n.value.clone()),
        // Not a node contract: reported by validation, never expanded.
        kind: contract.node_kind().unwrap_or(NodeKind::Effect),
        contract_version,
        node_version: contract
            .node_version
            .as_ref()
            .map_or(contract_version, |n| v(Some(n.value))),
        description: contract
            .description
            .as_deref()
            .map_or_else(String::new, |d| d.trim().to_owned()),
        fingerprint,
        declared_fingerprint: contract.fingerprint.as_ref().map(|f| f.value.clone()),
        subscribe: contract
            .event_bus
            .subscribe
            .iter()
            .map(|t| t.value.clone())
            .collect(),
        publish: contract
            .event_bus
            .publish
            .iter()
            .map(|t| t.value.clone())
            .collect(),
        dlq: contract
            .event_bus
            .dlq
            .iter()
            .map(|t| t.value.clone())
            .collect(),
    };
    NodeIr {
        routing: ops.routing,
        ops: ops
            .operations
            .iter()
            .map(|op| OpIr {
                name: op.name.value.clone(),
                variant: ident(&names::camel(&op.name.value), span),
                method: match ops.routing {
                    // `process` would clash with `EffectNode::process` at every call site.
                    Routing::Single => ident("handle", span),
                    _ => ident(&names::snake(&op.name.value), span),
                },
                input: Ty::new(&op.input, contract),
                output: Ty::new(&op.output, contract),
                description: op.description.clone(),
                policy: onex_contracts::policy::resolve(op),
                db: (meta.kind == NodeKind::Effect)
                    .then(|| onex_contracts::db::template(op))
                    .flatten(),
            })
            .collect(),
        models: contract.definitions.clone(),
        meta,
        names,
    }
}
