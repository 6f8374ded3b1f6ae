//! The generated execution of declarative `db` operations (`io_config.handler_type: db` with
//! a `query_template`): bind the `query_params` from the input, run the SQL on the node's
//! `SqlSource`, fill the output model from the result.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::lower::{NodeIr, OpIr, Ty, ident};
use crate::private::Runtime;

use super::payload_ty;

/// The call expression of a declarative operation: a future of `Result<Output, OnexError>`
/// that consumes `input` (in place of `<Self as Handler>::op(self, ctx, input)`).
pub fn call(
    ir: &NodeIr,
    op: &OpIr,
    db: &onex_contracts::db::DbTemplate,
    rt: &Runtime,
) -> TokenStream {
    let p = rt.private();
    let span = ir.names.node.span();
    let (name, sql) = (&op.name, &db.sql.value);
    let (read_only, fail_on_empty) = (db.read_only, db.fail_on_empty);
    let output = payload_ty(ir, &op.output, rt);
    let params = db.params.iter().map(|field| {
        let wire = field.value.as_str();
        match &op.input {
            Ty::Json => quote!(#p::sql_json_param(&SPEC, &input, #wire)?),
            Ty::Generated(_) => {
                let f = ident(&onex_contracts::names::snake(wire), span);
                quote!(#p::sql_param(&SPEC, #wire, &input.#f)?)
            }
            // The user's type: rustc reports a missing field at the node.
            Ty::User(_) => {
                let f = ident(wire, span);
                quote_spanned!(span=> #p::sql_param(&SPEC, #wire, &input.#f)?)
            }
        }
    });
    let executor = quote_spanned!(span=> #p::SqlSource::sql_executor(self));
    quote! {{
        static SPEC: #p::SqlSpec = #p::SqlSpec {
            operation: #name,
            sql: #sql,
            read_only: #read_only,
            fail_on_empty: #fail_on_empty,
        };
        let _ = &input;
        let params = (|| -> ::core::result::Result<::std::vec::Vec<#p::JsonValue>, #p::OnexError> {
            ::core::result::Result::Ok(::std::vec![#(#params),*])
        })();
        #p::sql_call::<#output>(#executor, &SPEC, params)
    }}
}
