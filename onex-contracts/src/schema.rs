//! `definitions` → model IR (DESIGN.md §6.1).
//!
//! The corpus writes definitions in a JSON-Schema subset mixed with pydantic spellings
//! (`type: uuid`, `type: float`, `type: datetime`, `type: enum`, `type: ref` + `ref:`,
//! `nullable`, `default_factory`, `key_type`/`value_type`). Both are accepted and lowered to
//! one IR that code generation turns into Rust types.

use crate::diag::{Diagnostic, Diagnostics};
use crate::read::{Fields, Spanned, Unknown, string};
use crate::yaml::{Loc, Node, Scalar, Value};

/// One model from `definitions`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDef {
    /// The model's name (the `definitions` key).
    pub name: Spanned<String>,
    /// `description`.
    pub description: Option<String>,
    /// A struct or an enum.
    pub shape: ModelShape,
    /// `extra: forbid` (or `additionalProperties: false`): unknown fields are rejected.
    pub deny_unknown_fields: bool,
    /// `frozen: true`.
    pub frozen: bool,
}

/// What a model is.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelShape {
    /// An object with fields, in contract order.
    Object(Vec<FieldDef>),
    /// A string enum with these values.
    Enum(Vec<Spanned<String>>),
}

/// One field of an object model.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    /// The field's name as written (the wire name).
    pub name: Spanned<String>,
    /// Its type.
    pub ty: TypeExpr,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true`, or `type` includes `null`.
    pub nullable: bool,
    /// `default` / `default_factory`.
    pub default: Option<DefaultValue>,
    /// `description`.
    pub description: Option<String>,
    /// Constraints checked by the generated `validate()`.
    pub constraints: Constraints,
    /// `secret: true` or `format: password`: redacted in `Debug` and logs.
    pub secret: bool,
}

impl FieldDef {
    /// True when the field may be absent on the wire (not required, or has a default).
    pub fn optional(&self) -> bool {
        !self.required || self.default.is_some()
    }

    /// True when the generated Rust field is an `Option<T>` (nullable, a `null` default, or
    /// not required and without a default).
    pub fn is_option(&self) -> bool {
        match &self.default {
            Some(DefaultValue::Value(serde_json::Value::Null)) => true,
            Some(DefaultValue::Value(_)) => self.nullable,
            Some(DefaultValue::Factory(_)) => false,
            None => self.nullable || !self.required,
        }
    }
}

/// A field type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `number` / `float`.
    Number,
    /// `boolean`.
    Boolean,
    /// `uuid` or `string` + `format: uuid`.
    Uuid,
    /// `datetime` or `string` + `format: date-time`.
    DateTime,
    /// `any`, or an object without a schema.
    Any,
    /// `array` with `items`.
    Array(Box<TypeExpr>),
    /// `object` with `additionalProperties` / `value_type`: a string-keyed map.
    Map(Box<TypeExpr>),
    /// Another model of `definitions` (`$ref: "#/definitions/X"`, `type: ref`).
    Ref(Spanned<String>),
    /// An inline string enum: generated as its own type named `name`.
    Enum {
        /// The generated enum's name (`enum_class`, else `<Model><Field>`).
        name: String,
        /// The values.
        values: Vec<Spanned<String>>,
    },
}

/// A field default.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A literal default, as JSON.
    Value(serde_json::Value),
    /// `default_factory`: `dict`, `list`, `uuid4`, `datetime.now`/`utcnow`.
    Factory(Spanned<String>),
}

/// Constraints on a field's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    /// `ge` / `minimum`.
    pub ge: Option<Spanned<f64>>,
    /// `le` / `maximum`.
    pub le: Option<Spanned<f64>>,
    /// `gt` / `exclusiveMinimum`.
    pub gt: Option<Spanned<f64>>,
    /// `lt` / `exclusiveMaximum`.
    pub lt: Option<Spanned<f64>>,
    /// `min_length` / `minLength` (strings, in characters; arrays, in items).
    pub min_length: Option<Spanned<u64>>,
    /// `max_length` / `maxLength`.
    pub max_length: Option<Spanned<u64>>,
    /// `pattern` (a regular expression the whole value must match somewhere).
    pub pattern: Option<Spanned<String>>,
}

impl Constraints {
    /// True when nothing is constrained.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// Default factories onex knows.
pub const FACTORIES: &[&str] = &[
    "dict",
    "list",
    "uuid4",
    "uuid.uuid4",
    "datetime.now",
    "datetime.utcnow",
    "now",
    "utcnow",
];

const MODEL_KEYS: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "extra",
    "frozen",
    "additionalProperties",
    "enum",
    "title",
];

const PROPERTY_KEYS: &[&str] = &[
    "type",
    "description",
    "default",
    "default_factory",
    "nullable",
    "enum",
    "enum_class",
    "module",
    "key_type",
    "value_type",
    "items",
    "item_type",
    "additionalProperties",
    "$ref",
    "ref",
    "format",
    "ge",
    "le",
    "gt",
    "lt",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "min_length",
    "max_length",
    "minLength",
    "maxLength",
    "pattern",
    "secret",
    "title",
    "examples",
    "validation",
];

const TYPES: &[&str] = &[
    "string",
    "integer",
    "number",
    "float",
    "boolean",
    "array",
    "object",
    "null",
    "uuid",
    "datetime",
    "date-time",
    "enum",
    "ref",
    "any",
    "dict",
    "list",
    "int",
    "str",
    "bool",
];

/// Reads `definitions`: every model, in contract order, with all problems recorded.
pub fn definitions(node: &Node, d: &mut Diagnostics) -> Vec<ModelDef> {
    let Some(f) = Fields::new(node, "definitions", &[], Unknown::Allow, d) else {
        return Vec::new();
    };
    let entries = f.node().as_map().unwrap_or_default();
    let models: Vec<ModelDef> = entries
        .iter()
        .filter_map(|(key, value)| {
            let name = string(key, "definitions key", d)?;
            model(name, value, d)
        })
        .collect();
    check_refs(&models, d);
    models
}

fn model(name: Spanned<String>, node: &Node, d: &mut Diagnostics) -> Option<ModelDef> {
    let section = format!("definitions.{}", name.value);
    let f = Fields::new(node, &section, MODEL_KEYS, Unknown::Deny, d)?;
    let ty = f.str("type", d);
    let extra = f.str("extra", d);
    if let Some(e) = &extra
        && !["forbid", "allow", "ignore"].contains(&e.value.as_str())
    {
        d.push(
            Diagnostic::error(
                "bad-schema",
                e.loc,
                format!("unknown `extra` `{}`", e.value),
            )
            .with_help("use `forbid`, `allow` or `ignore`"),
        );
    }
    let closed = f
        .get("additionalProperties")
        .is_some_and(|v| v.scalar() == Some(Scalar::Bool(false)));
    let shape = match ty.as_ref().map(|t| t.value.as_str()) {
        Some("enum") | Some("string") if f.get("enum").is_some() => {
            ModelShape::Enum(enum_values(&f, d))
        }
        Some("object") | None => {
            let required = f.strings("required", d);
            let mut fields = Vec::new();
            if let Some(props) = f.get("properties") {
                if let Some(entries) = props.as_map() {
                    for (key, value) in entries {
                        if let Some(field_name) = string(key, "property name", d) {
                            fields.extend(field(&name.value, field_name, value, &required, d));
                        }
                    }
                } else {
                    d.push(crate::read::type_error(props, "properties", "a mapping"));
                }
            }
            let declared: Vec<&str> = f
                .get("properties")
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, _)| k.scalar_text())
                .collect();
            for r in &required {
                if !declared.contains(&r.value.as_str()) {
                    d.push(
                        Diagnostic::error(
                            "bad-schema",
                            r.loc,
                            format!(
                                "`required` names `{}`, which is not a property of `{}`",
                                r.value, name.value
                            ),
                        )
                        .with_help("add it under `properties` or remove it from `required`"),
                    );
                }
            }
            ModelShape::Object(fields)
        }
        Some(other) => {
            if let Some(t) = &ty {
                d.push(
                    Diagnostic::error(
                        "bad-schema",
                        t.loc,
                        format!("model `{}` has `type: {other}`; a definition must be an object or an enum", name.value),
                    )
                    .with_help("use `type: object` with `properties`, or `type: string` with `enum`"),
                );
            }
            return None;
        }
    };
    Some(ModelDef {
        description: f.str("description", d).map(|s| s.value),
        deny_unknown_fields: extra.is_some_and(|e| e.value == "forbid") || closed,
        frozen: f.bool("frozen", d).is_some_and(|b| b.value),
        shape,
        name,
    })
}

fn enum_values(f: &Fields<'_>, d: &mut Diagnostics) -> Vec<Spanned<String>> {
    let Some(items) = f.seq("enum", d) else {
        return Vec::new();
    };
    let mut values: Vec<Spanned<String>> = Vec::new();
    for item in items {
        let Some(text) = item.scalar_text().filter(|_| !item.is_null()) else {
            d.push(crate::read::type_error(item, "enum value", "a string"));
            continue;
        };
        if let Some(first) = values.iter().find(|v| v.value == text) {
            d.push(Diagnostic::error(
                "bad-schema",
                item.loc,
                format!("duplicate enum value `{text}` (first at {})", first.loc),
            ));
            continue;
        }
        values.push(Spanned::new(text.to_owned(), item.loc));
    }
    if values.is_empty() {
        d.push(Diagnostic::error(
            "bad-schema",
            f.node().loc,
            "`enum` needs at least one value",
        ));
    }
    values
}

fn field(
    model: &str,
    name: Spanned<String>,
    node: &Node,
    required: &[Spanned<String>],
    d: &mut Diagnostics,
) -> Option<FieldDef> {
    let section = format!("definitions.{model}.properties.{}", name.value);
    let f = Fields::new(node, &section, PROPERTY_KEYS, Unknown::Deny, d)?;
    let ty = type_expr(&f, model, &name.value, &section, d)?;
    let nullable = f.bool("nullable", d).is_some_and(|b| b.value)
        || f.get("type")
            .and_then(Node::as_seq)
            .is_some_and(|types| types.iter().any(|t| t.scalar_text() == Some("null")));
    let default = match (f.key_loc("default"), f.str("default_factory", d)) {
        (_, Some(factory)) => {
            if !FACTORIES.contains(&factory.value.as_str()) {
                d.push(
                    Diagnostic::error(
                        "bad-schema",
                        factory.loc,
                        format!("unknown `default_factory` `{}`", factory.value),
                    )
                    .with_help(format!("known factories: {}", FACTORIES.join(", "))),
                );
            }
            Some(DefaultValue::Factory(factory))
        }
        (Some(_), None) => node.get("default").map(|v| {
            let value = to_json(v);
            if let Some(problem) = default_problem(&ty, &value) {
                d.push(
                    Diagnostic::error(
                        "bad-default",
                        v.loc,
                        format!("`default` of `{}` {problem}", name.value),
                    )
                    .with_help("make the default a value of the field's `type`"),
                );
            }
            DefaultValue::Value(value)
        }),
        (None, None) => None,
    };
    let constraints = constraints(&f, &ty, d);
    let secret = f.bool("secret", d).is_some_and(|b| b.value)
        || f.get("format").and_then(Node::as_str) == Some("password");
    Some(FieldDef {
        required: required.iter().any(|r| r.value == name.value),
        nullable: nullable || matches!(default, Some(DefaultValue::Value(serde_json::Value::Null))),
        default,
        description: f.str("description", d).map(|s| s.value),
        constraints,
        secret,
        ty,
        name,
    })
}

fn type_expr(
    f: &Fields<'_>,
    model: &str,
    field: &str,
    section: &str,
    d: &mut Diagnostics,
) -> Option<TypeExpr> {
    if let Some(r) = f.get("$ref") {
        return reference(r, d);
    }
    let ty_node = f.get("type");
    let ty = match ty_node {
        // `type: [string, "null"]`: the non-null member.
        Some(t) if t.as_seq().is_some() => t
            .as_seq()
            .unwrap_or_default()
            .iter()
            .find(|m| m.scalar_text() != Some("null"))
            .and_then(|m| string(m, "type", d)),
        Some(t) => string(t, "type", d),
        None => None,
    };
    let Some(ty) = ty else {
        if ty_node.is_none() {
            d.push(
                Diagnostic::error("bad-schema", f.node().loc, format!("`{section}` has no `type`"))
                    .with_help("add `type: string` (or integer, number, boolean, array, object, uuid, datetime)"),
            );
        }
        return None;
    };
    let format = f.get("format").and_then(Node::as_str);
    Some(match ty.value.as_str() {
        "string" | "str" if f.get("enum").is_some() => inline_enum(f, model, field, d),
        "enum" => inline_enum(f, model, field, d),
        "string" | "str" => match format {
            Some("uuid") => TypeExpr::Uuid,
            Some("date-time") => TypeExpr::DateTime,
            _ => TypeExpr::String,
        },
        "integer" | "int" => TypeExpr::Integer,
        "number" | "float" => TypeExpr::Number,
        "boolean" | "bool" => TypeExpr::Boolean,
        "uuid" => TypeExpr::Uuid,
        "datetime" | "date-time" => TypeExpr::DateTime,
        "any" => TypeExpr::Any,
        "ref" => match f.get("ref") {
            Some(r) => reference(r, d)?,
            None => {
                d.push(
                    Diagnostic::error("bad-schema", ty.loc, "`type: ref` needs `ref: ModelName`")
                        .with_help("name a model of `definitions`"),
                );
                return None;
            }
        },
        "array" | "list" => {
            let item = match f.get("items").or_else(|| f.get("item_type")) {
                Some(items) => nested(items, model, field, d)?,
                None => TypeExpr::Any,
            };
            TypeExpr::Array(Box::new(item))
        }
        "object" | "dict" => match f
            .get("additionalProperties")
            .or_else(|| f.get("value_type"))
        {
            Some(v) if v.scalar() == Some(Scalar::Bool(true)) => {
                TypeExpr::Map(Box::new(TypeExpr::Any))
            }
            Some(v) => TypeExpr::Map(Box::new(nested(v, model, field, d)?)),
            None => TypeExpr::Map(Box::new(TypeExpr::Any)),
        },
        other => {
            let diag = Diagnostic::error(
                "bad-schema",
                ty.loc,
                format!("unknown type `{other}` in `{section}`"),
            );
            d.push(match crate::diag::did_you_mean(other, TYPES) {
                Some(best) => diag.with_help(format!("did you mean `{best}`?")),
                None => diag.with_help("use string, integer, number, boolean, array, object, uuid, datetime or a `$ref`"),
            });
            return None;
        }
    })
}

/// An item/value type: a bare type name (`string`) or a nested schema.
fn nested(node: &Node, model: &str, field: &str, d: &mut Diagnostics) -> Option<TypeExpr> {
    if let Value::Scalar { .. } = node.value {
        let nested_node = Node {
            loc: node.loc,
            tag: None,
            value: Value::Map(vec![(
                Node {
                    loc: node.loc,
                    tag: None,
                    value: Value::Scalar {
                        text: "type".into(),
                        style: crate::yaml::Style::Plain,
                    },
                },
                node.clone(),
            )]),
        };
        return nested(&nested_node, model, field, d);
    }
    let section = format!("definitions.{model}.properties.{field}.items");
    let f = Fields::new(node, &section, PROPERTY_KEYS, Unknown::Deny, d)?;
    type_expr(&f, model, field, &section, d)
}

fn reference(node: &Node, d: &mut Diagnostics) -> Option<TypeExpr> {
    let r = string(node, "$ref", d)?;
    let name = r.value.strip_prefix("#/definitions/").unwrap_or(&r.value);
    if name.is_empty() || name.contains('/') {
        d.push(
            Diagnostic::error(
                "dangling-ref",
                r.loc,
                format!("unsupported reference `{}`", r.value),
            )
            .with_help("references take the form `#/definitions/ModelName`"),
        );
        return None;
    }
    Some(TypeExpr::Ref(Spanned::new(name.to_owned(), r.loc)))
}

fn inline_enum(f: &Fields<'_>, model: &str, field: &str, d: &mut Diagnostics) -> TypeExpr {
    use heck::ToUpperCamelCase;
    let name = f
        .str("enum_class", d)
        .map(|c| c.value)
        .unwrap_or_else(|| format!("{model}{}", field.to_upper_camel_case()));
    TypeExpr::Enum {
        name,
        values: enum_values(f, d),
    }
}

fn constraints(f: &Fields<'_>, ty: &TypeExpr, d: &mut Diagnostics) -> Constraints {
    let num = |d: &mut Diagnostics, a: &str, b: &str| f.f64(a, d).or_else(|| f.f64(b, d));
    let len = |d: &mut Diagnostics, a: &str, b: &str| f.u64(a, d).or_else(|| f.u64(b, d));
    let c = Constraints {
        ge: num(d, "ge", "minimum"),
        le: num(d, "le", "maximum"),
        gt: num(d, "gt", "exclusiveMinimum"),
        lt: num(d, "lt", "exclusiveMaximum"),
        min_length: len(d, "min_length", "minLength"),
        max_length: len(d, "max_length", "maxLength"),
        pattern: f.str("pattern", d),
    };
    for b in [&c.ge, &c.le, &c.gt, &c.lt].into_iter().flatten() {
        if !b.value.is_finite() {
            d.push(
                Diagnostic::error(
                    "bad-constraint",
                    b.loc,
                    format!("bound {} is not a finite number", b.value),
                )
                .with_help("leave the bound out instead of using infinity or NaN"),
            );
        }
    }
    let numeric = matches!(ty, TypeExpr::Integer | TypeExpr::Number);
    let sized = matches!(ty, TypeExpr::String | TypeExpr::Array(_));
    for (bound, name) in [(&c.ge, "ge"), (&c.le, "le"), (&c.gt, "gt"), (&c.lt, "lt")] {
        if let Some(b) = bound
            && !numeric
        {
            d.push(bad_constraint(b.loc, name, "numbers (integer, number)"));
        }
    }
    for (bound, name) in [(&c.min_length, "min_length"), (&c.max_length, "max_length")] {
        if let Some(b) = bound
            && !sized
        {
            d.push(bad_constraint(b.loc, name, "strings and arrays"));
        }
    }
    if let (Some(lo), Some(hi)) = (&c.min_length, &c.max_length)
        && lo.value > hi.value
    {
        d.push(
            Diagnostic::error(
                "bad-constraint",
                hi.loc,
                format!(
                    "`max_length` {} is below `min_length` {}",
                    hi.value, lo.value
                ),
            )
            .with_help("no value could satisfy both"),
        );
    }
    let lower = c.ge.as_ref().or(c.gt.as_ref());
    let upper = c.le.as_ref().or(c.lt.as_ref());
    if let (Some(lo), Some(hi)) = (lower, upper)
        && lo.value > hi.value
    {
        d.push(
            Diagnostic::error(
                "bad-constraint",
                hi.loc,
                format!("upper bound {} is below lower bound {}", hi.value, lo.value),
            )
            .with_help("no value could satisfy both"),
        );
    }
    if let Some(p) = &c.pattern {
        if !matches!(ty, TypeExpr::String) {
            d.push(bad_constraint(p.loc, "pattern", "strings"));
        } else if let Some(problem) = regex_problem(&p.value) {
            d.push(
                Diagnostic::error(
                    "bad-constraint",
                    p.loc,
                    format!("`pattern` is not a valid regular expression: {problem}"),
                )
                .with_help("patterns use Rust `regex` syntax (no look-around or back-references)"),
            );
        }
    }
    c
}

/// Why `pattern` is not a valid regular expression (Rust `regex` syntax), if it is not: the
/// last line of `regex-syntax`'s error ("unclosed character class").
pub(crate) fn regex_problem(pattern: &str) -> Option<String> {
    let e = regex_syntax::Parser::new()
        .parse(pattern)
        .err()?
        .to_string();
    let last = e.lines().last().unwrap_or(&e).trim();
    Some(last.strip_prefix("error: ").unwrap_or(last).to_owned())
}

fn bad_constraint(loc: Loc, name: &str, applies_to: &str) -> Diagnostic {
    Diagnostic::error(
        "bad-constraint",
        loc,
        format!("`{name}` applies only to {applies_to}"),
    )
    .with_help(format!("remove `{name}` or change the field's `type`"))
}

fn check_refs(models: &[ModelDef], d: &mut Diagnostics) {
    let names: Vec<&str> = models.iter().map(|m| m.name.value.as_str()).collect();
    let mut refs = Vec::new();
    for m in models {
        if let ModelShape::Object(fields) = &m.shape {
            for f in fields {
                collect_refs(&f.ty, &mut refs);
            }
        }
    }
    for r in refs {
        if !names.contains(&r.value.as_str()) {
            let diag = Diagnostic::error(
                "dangling-ref",
                r.loc,
                format!("`{}` is not defined in `definitions`", r.value),
            );
            d.push(match crate::diag::did_you_mean(&r.value, &names) {
                Some(best) => diag.with_help(format!("did you mean `{best}`?")),
                None => diag.with_help("add it under `definitions`"),
            });
        }
    }
}

fn collect_refs<'a>(ty: &'a TypeExpr, out: &mut Vec<&'a Spanned<String>>) {
    match ty {
        TypeExpr::Ref(r) => out.push(r),
        TypeExpr::Array(inner) | TypeExpr::Map(inner) => collect_refs(inner, out),
        _ => {}
    }
}

/// Why a literal default does not fit a type, if it does not (`null` fits every type: it
/// makes the field optional).
pub fn default_problem(ty: &TypeExpr, value: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    let fits = match (ty, value) {
        (_, J::Null) | (TypeExpr::Any, _) => true,
        (TypeExpr::String, J::String(_)) => true,
        (TypeExpr::Integer, J::Number(n)) => n.is_i64(),
        (TypeExpr::Number, J::Number(_)) | (TypeExpr::Boolean, J::Bool(_)) => true,
        (TypeExpr::Enum { values, .. }, J::String(s)) => {
            if !values.iter().any(|v| v.value == *s) {
                let all: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
                return Some(format!("is `{s}`, which is not one of {}", all.join(", ")));
            }
            true
        }
        (TypeExpr::Array(inner), J::Array(items)) => {
            return items.iter().find_map(|i| default_problem(inner, i));
        }
        (TypeExpr::Map(inner), J::Object(entries)) => {
            return entries.values().find_map(|i| default_problem(inner, i));
        }
        // Defaults of dates and referenced models are not supported as literals.
        _ => false,
    };
    (!fits).then(|| format!("does not fit its type ({value} for {})", type_name(ty)))
}

fn type_name(ty: &TypeExpr) -> &'static str {
    match ty {
        TypeExpr::String => "string",
        TypeExpr::Integer => "integer",
        TypeExpr::Number => "number",
        TypeExpr::Boolean => "boolean",
        TypeExpr::Uuid => "uuid (use `default_factory: uuid4`)",
        TypeExpr::DateTime => "datetime (use `default_factory: datetime.now`)",
        TypeExpr::Any => "any",
        TypeExpr::Array(_) => "array",
        TypeExpr::Map(_) => "object",
        TypeExpr::Ref(_) => "a model reference (literal defaults are not supported)",
        TypeExpr::Enum { .. } => "enum",
    }
}

/// Converts a YAML value to JSON (YAML 1.2 core schema).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default().to_owned(), to_json(v)))
                .collect(),
        ),
        Value::Scalar { .. } => match node.scalar() {
            Some(Scalar::Null) | None => J::Null,
            Some(Scalar::Bool(b)) => J::Bool(b),
            Some(Scalar::Int(i)) => J::from(i),
            Some(Scalar::Float(f)) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
            Some(Scalar::Str(s)) => J::String(s.to_owned()),
        },
    }
}
