//! Models from `definitions`: structs and enums with serde, redacting `Debug`, `validate()`.

use onex_contracts::names;
use onex_contracts::schema::{DefaultValue, FieldDef, ModelDef, ModelShape, TypeExpr};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::lower::ident;
use crate::private::Runtime;

/// All models of the node, plus the inline enums their fields declare.
pub fn models(models: &[ModelDef], rt: &Runtime) -> TokenStream {
    let mut out = TokenStream::new();
    for model in models {
        out.extend(match &model.shape {
            ModelShape::Enum(values) => {
                let values: Vec<String> = values.iter().map(|v| v.value.clone()).collect();
                string_enum(&model.name.value, &values, model.description.as_deref(), rt)
            }
            ModelShape::Object(fields) => object(model, fields, rt),
        });
        if let ModelShape::Object(fields) = &model.shape {
            for field in fields {
                if let TypeExpr::Enum { name, values } = &field.ty {
                    let values: Vec<String> = values.iter().map(|v| v.value.clone()).collect();
                    let doc = format!("Values of `{}.{}`.", model.name.value, field.name.value);
                    out.extend(string_enum(name, &values, Some(&doc), rt));
                }
            }
        }
    }
    out
}

fn doc_attr(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}

fn string_enum(
    name: &str,
    values: &[String],
    description: Option<&str>,
    rt: &Runtime,
) -> TokenStream {
    let p = rt.private();
    let serde_crate = rt.serde_crate();
    let ty = ident(name, Span::call_site());
    let doc = doc_attr(description.unwrap_or(&format!("The `{name}` enum of the contract.")));
    let variants: Vec<_> = values
        .iter()
        .map(|v| ident(&names::camel(v), Span::call_site()))
        .collect();
    let docs = values.iter().map(|v| format!(" `{v}`."));
    quote! {
        #doc
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash, #p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = #serde_crate)]
        pub enum #ty {
            #( #[doc = #docs] #[serde(rename = #values)] #variants, )*
        }

        impl #ty {
            /// Every value, in contract order.
            pub const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The value as written in the contract.
            pub const fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #values,)* }
            }
        }

        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // A `$ref` to an enum is validated like any nested model: nothing to check.
        impl #p::Validate for #ty {
            fn validate_into(&self, _path: &str, _violations: &mut #p::Violations) {}
        }
    }
}

/// The Rust type of a field type (without the `Option` for optional fields).
fn ty_tokens(ty: &TypeExpr, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    match ty {
        TypeExpr::String => quote!(::std::string::String),
        TypeExpr::Integer => quote!(i64),
        TypeExpr::Number => quote!(f64),
        TypeExpr::Boolean => quote!(bool),
        TypeExpr::Uuid => quote!(#p::Uuid),
        TypeExpr::DateTime => quote!(#p::DateTime),
        TypeExpr::Any => quote!(#p::JsonValue),
        TypeExpr::Array(inner) => {
            let inner = ty_tokens(inner, rt);
            quote!(::std::vec::Vec<#inner>)
        }
        TypeExpr::Map(inner) => {
            let inner = ty_tokens(inner, rt);
            quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
        }
        TypeExpr::Ref(name) => {
            let i = ident(&name.value, Span::call_site());
            quote!(#i)
        }
        TypeExpr::Enum { name, .. } => {
            let i = ident(name, Span::call_site());
            quote!(#i)
        }
    }
}

/// How a field is stored.
enum Storage<'a> {
    /// `T`, always present on the wire.
    Plain,
    /// `Option<T>`, absent or null → `None`.
    Optional,
    /// `T` with a default when absent, from this function.
    Defaulted(TokenStream),
    /// `T` with a literal default when absent: a generated function named `func` returns it.
    Literal {
        /// The generated default function.
        func: syn::Ident,
        /// The contract's default value.
        value: &'a serde_json::Value,
    },
}

fn storage<'a>(field: &'a FieldDef, model: &str, rt: &Runtime) -> Storage<'a> {
    let p = rt.private();
    match &field.default {
        Some(DefaultValue::Factory(f)) => match f.value.as_str() {
            "uuid4" | "uuid.uuid4" => Storage::Defaulted(quote!(#p::new_uuid)),
            "datetime.now" | "datetime.utcnow" | "now" | "utcnow" => {
                Storage::Defaulted(quote!(#p::now_utc))
            }
            _ => Storage::Defaulted(quote!(::core::default::Default::default)),
        },
        Some(DefaultValue::Value(serde_json::Value::Null)) => Storage::Optional,
        Some(DefaultValue::Value(_)) if field.nullable => Storage::Optional,
        Some(DefaultValue::Value(value)) => Storage::Literal {
            func: format_ident!(
                "__default_{}_{}",
                names::snake(model),
                names::snake(&field.name.value)
            ),
            value,
        },
        None if field.nullable || !field.required => Storage::Optional,
        None => Storage::Plain,
    }
}

fn object(model: &ModelDef, fields: &[FieldDef], rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let serde_crate = rt.serde_crate();
    let name = &model.name.value;
    let ty = ident(name, Span::call_site());
    let doc = doc_attr(
        model
            .description
            .as_deref()
            .unwrap_or(&format!("The `{name}` model of the contract.")),
    );
    let deny = model
        .deny_unknown_fields
        .then(|| quote!(#[serde(deny_unknown_fields)]));

    let mut decls = Vec::new();
    let mut default_fns = Vec::new();
    let mut debug_fields = Vec::new();
    let mut checks = Vec::new();
    for field in fields {
        let wire = &field.name.value;
        let rust = ident(&names::snake(wire), Span::call_site());
        let base = ty_tokens(&field.ty, rt);
        let rename = (names::snake(wire) != *wire).then(|| quote!(#[serde(rename = #wire)]));
        let fdoc = doc_attr(
            field
                .description
                .as_deref()
                .unwrap_or(&format!("`{wire}`.")),
        );
        let (decl_ty, attr, optional) = match storage(field, name, rt) {
            Storage::Plain => (base.clone(), quote!(), false),
            Storage::Optional => (
                quote!(::core::option::Option<#base>),
                quote!(#[serde(default, skip_serializing_if = "::core::option::Option::is_none")]),
                true,
            ),
            Storage::Defaulted(path) => {
                let path_str = path.to_string().replace(' ', "");
                (base.clone(), quote!(#[serde(default = #path_str)]), false)
            }
            Storage::Literal { func, value } => {
                let value = default_value(&field.ty, value, rt);
                default_fns.push(quote! {
                    #[doc(hidden)]
                    fn #func() -> #base { #value }
                });
                let func_str = func.to_string();
                (base.clone(), quote!(#[serde(default = #func_str)]), false)
            }
        };
        decls.push(quote!(#fdoc #rename #attr pub #rust: #decl_ty));
        debug_fields.push(if field.secret {
            quote!(.field(#wire, &#p::Redacted))
        } else {
            quote!(.field(#wire, &self.#rust))
        });
        checks.push(field_checks(field, &rust, optional, rt));
    }
    let checks: Vec<TokenStream> = checks.into_iter().filter(|c| !c.is_empty()).collect();
    let validate_impl = if checks.is_empty() {
        quote! {
            impl #p::Validate for #ty {
                fn validate_into(&self, _path: &str, _violations: &mut #p::Violations) {}
            }
        }
    } else {
        quote! {
            impl #p::Validate for #ty {
                fn validate_into(&self, path: &str, violations: &mut #p::Violations) {
                    #(#checks)*
                }
            }
        }
    };
    let frozen_note = model.frozen.then(
        || quote!(#[doc = ""] #[doc = " Frozen in the contract: treat values as immutable."]),
    );
    quote! {
        #doc
        #frozen_note
        #[derive(::core::clone::Clone, ::core::cmp::PartialEq, #p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = #serde_crate)]
        #deny
        pub struct #ty {
            #(#decls,)*
        }

        #(#default_fns)*

        impl ::core::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name) #(#debug_fields)* .finish()
            }
        }

        #validate_impl

        impl #ty {
            /// Checks the contract's constraints on every field (nested models included).
            ///
            /// # Errors
            /// An `ONEX_CORE_006_VALIDATION_ERROR` listing every violated constraint.
            pub fn validate(&self) -> ::core::result::Result<(), #p::OnexError> {
                #p::validate(self)
            }
        }
    }
}

fn field_checks(field: &FieldDef, rust: &syn::Ident, optional: bool, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let wire = &field.name.value;
    let c = &field.constraints;
    let mut body = Vec::new();
    let f64_lit = |v: f64| proc_macro2::Literal::f64_suffixed(v);
    for (bound, op) in [(&c.ge, "ge"), (&c.le, "le"), (&c.gt, "gt"), (&c.lt, "lt")] {
        if let Some(b) = bound {
            let lit = f64_lit(b.value);
            let op = format_ident!("check_{}", op);
            body.push(quote!(#p::#op(violations, path, #wire, *value as f64, #lit);));
        }
    }
    if let Some(min) = &c.min_length {
        let n = min.value as usize;
        body.push(
            quote!(#p::check_min_length(violations, path, #wire, #p::Length::length(value), #n);),
        );
    }
    if let Some(max) = &c.max_length {
        let n = max.value as usize;
        body.push(
            quote!(#p::check_max_length(violations, path, #wire, #p::Length::length(value), #n);),
        );
    }
    if let Some(pattern) = &c.pattern {
        let pat = &pattern.value;
        body.push(quote! {
            static PATTERN: #p::Pattern = #p::Pattern::new(#pat);
            PATTERN.check(violations, path, #wire, value);
        });
    }
    match nested(&field.ty) {
        Nested::One => body.push(quote!(#p::Validate::validate_into(value, &#p::join_path(path, #wire), violations);)),
        Nested::Many => body.push(quote! {
            for (i, item) in ::core::iter::Iterator::enumerate(value.iter()) {
                #p::Validate::validate_into(item, &#p::join_path(path, &::std::format!("{}[{}]", #wire, i)), violations);
            }
        }),
        Nested::Values => body.push(quote! {
            for (k, item) in value.iter() {
                #p::Validate::validate_into(item, &#p::join_path(path, &::std::format!("{}.{}", #wire, k)), violations);
            }
        }),
        Nested::None => {}
    }
    if body.is_empty() {
        return quote!();
    }
    if optional {
        quote!(if let ::core::option::Option::Some(value) = &self.#rust { #(#body)* })
    } else {
        quote!({ let value = &self.#rust; #(#body)* })
    }
}

enum Nested {
    None,
    One,
    Many,
    Values,
}

fn nested(ty: &TypeExpr) -> Nested {
    match ty {
        TypeExpr::Ref(_) => Nested::One,
        TypeExpr::Array(inner) if matches!(**inner, TypeExpr::Ref(_)) => Nested::Many,
        TypeExpr::Map(inner) if matches!(**inner, TypeExpr::Ref(_)) => Nested::Values,
        _ => Nested::None,
    }
}

/// A literal default as a Rust expression of the field's type.
fn default_value(ty: &TypeExpr, v: &serde_json::Value, rt: &Runtime) -> TokenStream {
    use serde_json::Value as J;
    let p = rt.private();
    match (ty, v) {
        (TypeExpr::String, J::String(s)) => {
            quote!(<::std::string::String as ::core::convert::From<&str>>::from(#s))
        }
        (TypeExpr::Integer, J::Number(n)) if n.as_i64().is_some() => {
            let i = n.as_i64().unwrap_or_default();
            quote!(#i)
        }
        (TypeExpr::Number, J::Number(n)) => {
            let f = proc_macro2::Literal::f64_suffixed(n.as_f64().unwrap_or_default());
            quote!(#f)
        }
        (TypeExpr::Boolean, J::Bool(b)) => quote!(#b),
        (TypeExpr::Enum { name, .. }, J::String(s)) => {
            let ty = ident(name.as_str(), Span::call_site());
            let variant = ident(&names::camel(s), Span::call_site());
            quote!(#ty::#variant)
        }
        (TypeExpr::Array(inner), J::Array(items)) => {
            let items = items.iter().map(|i| default_value(inner.as_ref(), i, rt));
            quote!(::std::vec![#(#items),*])
        }
        (TypeExpr::Map(inner), J::Object(entries)) => {
            let keys = entries.keys();
            let values = entries
                .values()
                .map(|i| default_value(inner.as_ref(), i, rt));
            quote!(::core::iter::FromIterator::from_iter([#((<::std::string::String as ::core::convert::From<&str>>::from(#keys), #values)),*]))
        }
        (TypeExpr::Any, v) => {
            let json = v.to_string();
            quote!(#p::json_literal(#json))
        }
        _ => quote!(::core::default::Default::default()),
    }
}
