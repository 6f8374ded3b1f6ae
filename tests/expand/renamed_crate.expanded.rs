//! `crate = path`: generated code reaches the runtime through a re-export.
mod reexport {
    pub use onex_runtime as runtime;
}
use reexport::runtime::{EffectContext, JsonValue, OnexError};
pub struct Echo;
/// Echoes its input.
///
/// Models, topics and contract metadata of the `echo` contract 0.1.0 (node `Echo`).
#[allow(clippy::all, clippy::pedantic)]
pub mod echo {
    #[allow(unused_imports)]
    use super::*;
    /// The contract, as embedded at compile time.
    pub const CONTRACT: &crate::reexport::runtime::__private::ContractInfo = &crate::reexport::runtime::__private::ContractInfo {
        name: "echo",
        kind: crate::reexport::runtime::__private::NodeKind::Effect,
        node_type: "effect",
        contract_version: crate::reexport::runtime::__private::Version {
            major: 0,
            minor: 1,
            patch: 0,
        },
        node_version: crate::reexport::runtime::__private::Version {
            major: 0,
            minor: 1,
            patch: 0,
        },
        description: "Echoes its input.",
        fingerprint: "0.1.0:be916b19b0cd",
        declared_fingerprint: ::core::option::Option::None,
        routing: crate::reexport::runtime::__private::RoutingStrategy::Single,
        operations: &[
            crate::reexport::runtime::__private::OperationInfo {
                name: "process",
                input_type: "JsonValue",
                output_type: "JsonValue",
                description: "Echoes its input.",
                policy: crate::reexport::runtime::__private::OperationPolicy::NONE,
            },
        ],
        subscribe_topics: &[],
        publish_topics: &[],
        dlq_topics: &[],
    };
    /// Topics the node subscribes to (`event_bus.subscribe_topics`).
    pub const SUBSCRIBE_TOPICS: &[&str] = &[];
    /// Topics the node publishes to (`event_bus.publish_topics`).
    pub const PUBLISH_TOPICS: &[&str] = &[];
}
/// The operations of `echo`, as its contract names them.
pub enum EchoOperation {
    /// `process`: Echoes its input.
    Process,
}
#[automatically_derived]
#[doc(hidden)]
unsafe impl ::core::clone::TrivialClone for EchoOperation {}
#[automatically_derived]
impl ::core::clone::Clone for EchoOperation {
    #[inline]
    fn clone(&self) -> EchoOperation {
        *self
    }
}
#[automatically_derived]
impl ::core::marker::Copy for EchoOperation {}
#[automatically_derived]
impl ::core::fmt::Debug for EchoOperation {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        ::core::fmt::Formatter::write_str(f, "Process")
    }
}
#[automatically_derived]
impl ::core::marker::StructuralPartialEq for EchoOperation {}
#[automatically_derived]
impl ::core::cmp::PartialEq for EchoOperation {
    #[inline]
    fn eq(&self, other: &EchoOperation) -> bool {
        true
    }
}
#[automatically_derived]
impl ::core::cmp::Eq for EchoOperation {
    #[doc(hidden)]
    #[coverage(off)]
    fn assert_fields_are_eq(&self) {}
}
#[automatically_derived]
impl ::core::hash::Hash for EchoOperation {
    #[inline]
    fn hash<__H: ::core::hash::Hasher>(&self, state: &mut __H) {}
}
#[automatically_derived]
impl ::core::cmp::PartialOrd for EchoOperation {
    #[inline]
    fn partial_cmp(
        &self,
        other: &EchoOperation,
    ) -> ::core::option::Option<::core::cmp::Ordering> {
        ::core::option::Option::Some(::core::cmp::Ordering::Equal)
    }
}
#[automatically_derived]
impl ::core::cmp::Ord for EchoOperation {
    #[inline]
    fn cmp(&self, other: &EchoOperation) -> ::core::cmp::Ordering {
        ::core::cmp::Ordering::Equal
    }
}
impl EchoOperation {
    /// Every operation, in contract order.
    pub const ALL: &'static [Self] = &[Self::Process];
    /// The contract's name for the operation.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Process => "process",
        }
    }
}
impl ::core::fmt::Display for EchoOperation {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl ::core::str::FromStr for EchoOperation {
    type Err = crate::reexport::runtime::__private::OnexError;
    fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
        match s {
            "process" => ::core::result::Result::Ok(Self::Process),
            other => {
                ::core::result::Result::Err(
                    crate::reexport::runtime::__private::unsupported_operation(
                        other,
                        ::core::iter::Iterator::map(Self::ALL.iter(), |op| op.as_str()),
                    ),
                )
            }
        }
    }
}
/// An input envelope payload of `echo`: one variant per operation, decoded from the ONEX wire form.
pub enum EchoInput {
    /// Input of `process` (`JsonValue`).
    Process(crate::reexport::runtime::__private::JsonValue),
}
#[automatically_derived]
impl ::core::fmt::Debug for EchoInput {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        match self {
            EchoInput::Process(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(
                    f,
                    "Process",
                    &__self_0,
                )
            }
        }
    }
}
impl EchoInput {
    /// The operation this input selects.
    pub const fn operation(&self) -> EchoOperation {
        match self {
            Self::Process(_) => EchoOperation::Process,
        }
    }
}
#[automatically_derived]
impl crate::reexport::runtime::__private::NodeInput for EchoInput {
    fn decode(
        payload_type: ::core::option::Option<&str>,
        payload: crate::reexport::runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, crate::reexport::runtime::__private::OnexError> {
        let _ = payload_type;
        crate::reexport::runtime::__private::decode_payload::<
            crate::reexport::runtime::__private::JsonValue,
        >(payload, "process", false)
            .map(Self::Process)
    }
    fn encode(
        &self,
    ) -> ::core::result::Result<
        crate::reexport::runtime::__private::JsonValue,
        crate::reexport::runtime::__private::OnexError,
    > {
        match self {
            Self::Process(input) => {
                crate::reexport::runtime::__private::encode_payload(
                    input,
                    "process",
                    false,
                )
            }
        }
    }
    fn operation(&self) -> &'static str {
        self.operation().as_str()
    }
    fn payload_type(&self) -> &'static str {
        match self {
            Self::Process(_) => "JsonValue",
        }
    }
    fn validate(
        &self,
    ) -> ::core::result::Result<(), crate::reexport::runtime::__private::OnexError> {
        match self {
            Self::Process(input) => {
                let _ = input;
                ::core::result::Result::Ok(())
            }
        }
    }
}
/// An output payload of `echo`: one variant per operation.
pub enum EchoOutput {
    /// Output of `process` (`JsonValue`).
    Process(crate::reexport::runtime::__private::JsonValue),
}
#[automatically_derived]
impl ::core::fmt::Debug for EchoOutput {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        match self {
            EchoOutput::Process(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(
                    f,
                    "Process",
                    &__self_0,
                )
            }
        }
    }
}
impl EchoOutput {
    /// The operation that produced this output.
    pub const fn operation(&self) -> EchoOperation {
        match self {
            Self::Process(_) => EchoOperation::Process,
        }
    }
}
#[automatically_derived]
impl crate::reexport::runtime::__private::NodeOutput for EchoOutput {
    fn decode(
        operation: &str,
        payload: crate::reexport::runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, crate::reexport::runtime::__private::OnexError> {
        match operation {
            "process" => {
                crate::reexport::runtime::__private::decode_payload::<
                    crate::reexport::runtime::__private::JsonValue,
                >(payload, "process", false)
                    .map(Self::Process)
            }
            other => {
                ::core::result::Result::Err(
                    crate::reexport::runtime::__private::unsupported_operation(
                        other,
                        ::core::iter::Iterator::map(
                            EchoOperation::ALL.iter(),
                            |op| op.as_str(),
                        ),
                    ),
                )
            }
        }
    }
    fn encode(
        &self,
    ) -> ::core::result::Result<
        crate::reexport::runtime::__private::JsonValue,
        crate::reexport::runtime::__private::OnexError,
    > {
        match self {
            Self::Process(output) => {
                crate::reexport::runtime::__private::encode_payload(
                    output,
                    "process",
                    false,
                )
            }
        }
    }
    fn operation(&self) -> &'static str {
        self.operation().as_str()
    }
    fn payload_type(&self) -> &'static str {
        match self {
            Self::Process(_) => "JsonValue",
        }
    }
}
/// Implement this for `Echo` to handle the operations of the `echo` contract: one method per operation. Write each method as a plain `async fn`.
///
/// A forgotten operation is a compile error (missing trait item).
pub trait EchoHandler: ::core::marker::Send + ::core::marker::Sync + 'static {
    /// Echoes its input.
    ///
    /// Handles `process`.
    fn handle(
        &self,
        ctx: &crate::reexport::runtime::__private::EffectContext,
        input: crate::reexport::runtime::__private::JsonValue,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            crate::reexport::runtime::__private::JsonValue,
            crate::reexport::runtime::__private::OnexError,
        >,
    > + ::core::marker::Send;
}
#[doc(hidden)]
#[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
const _: () = {
    const _: &[u8] = b"# No models: one `process` operation on untyped JSON.\nname: echo\nnode_type: effect\ncontract_version: {major: 0, minor: 1, patch: 0}\ndescription: Echoes its input.\n";
    #[automatically_derived]
    impl crate::reexport::runtime::__private::NodeKindOf for Echo {
        const KIND: crate::reexport::runtime::__private::NodeKind = crate::reexport::runtime::__private::NodeKind::Effect;
    }
    #[automatically_derived]
    impl crate::reexport::runtime::__private::EffectNode for Echo {
        type Input = EchoInput;
        type Output = EchoOutput;
        const CONTRACT: &'static crate::reexport::runtime::__private::ContractInfo = echo::CONTRACT;
        fn dispatch(
            &self,
            ctx: &crate::reexport::runtime::__private::EffectContext,
            input: Self::Input,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<
                Self::Output,
                crate::reexport::runtime::__private::OnexError,
            >,
        > + ::core::marker::Send {
            async move {
                match input {
                    EchoInput::Process(input) => {
                        <Self as EchoHandler>::handle(self, ctx, input)
                            .await
                            .map(EchoOutput::Process)
                    }
                }
            }
        }
    }
};
impl EchoHandler for Echo {
    async fn handle(
        &self,
        _ctx: &EffectContext,
        input: JsonValue,
    ) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}
fn main() {}
