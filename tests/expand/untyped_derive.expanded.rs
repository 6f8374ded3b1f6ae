//! An untyped contract (JSON in, JSON out) on a struct with fields, with extra derives on
//! the generated input/output enums.
use onex_runtime::{EffectContext, JsonValue, OnexError};
pub struct Echo {
    prefix: String,
}
/// Echoes its input.
///
/// Models, topics and contract metadata of the `echo` contract 0.1.0 (node `Echo`).
#[allow(clippy::all, clippy::pedantic)]
pub mod echo {
    #[allow(unused_imports)]
    use super::*;
    /// The contract, as embedded at compile time.
    pub const CONTRACT: &::onex_runtime::__private::ContractInfo = &::onex_runtime::__private::ContractInfo {
        name: "echo",
        kind: ::onex_runtime::__private::NodeKind::Effect,
        node_type: "effect",
        contract_version: ::onex_runtime::__private::Version {
            major: 0,
            minor: 1,
            patch: 0,
        },
        node_version: ::onex_runtime::__private::Version {
            major: 0,
            minor: 1,
            patch: 0,
        },
        description: "Echoes its input.",
        fingerprint: "0.1.0:be916b19b0cd",
        declared_fingerprint: ::core::option::Option::None,
        routing: ::onex_runtime::__private::RoutingStrategy::Single,
        operations: &[
            ::onex_runtime::__private::OperationInfo {
                name: "process",
                input_type: "JsonValue",
                output_type: "JsonValue",
                description: "Echoes its input.",
                policy: ::onex_runtime::__private::OperationPolicy::NONE,
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
    type Err = ::onex_runtime::__private::OnexError;
    fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
        match s {
            "process" => ::core::result::Result::Ok(Self::Process),
            other => {
                ::core::result::Result::Err(
                    ::onex_runtime::__private::unsupported_operation(
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
    Process(::onex_runtime::__private::JsonValue),
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
#[automatically_derived]
impl ::core::clone::Clone for EchoInput {
    #[inline]
    fn clone(&self) -> EchoInput {
        match self {
            EchoInput::Process(__self_0) => {
                EchoInput::Process(::core::clone::Clone::clone(__self_0))
            }
        }
    }
}
#[automatically_derived]
impl ::core::marker::StructuralPartialEq for EchoInput {}
#[automatically_derived]
impl ::core::cmp::PartialEq for EchoInput {
    #[inline]
    fn eq(&self, other: &EchoInput) -> bool {
        match (self, other) {
            (EchoInput::Process(__self_0), EchoInput::Process(__arg1_0)) => {
                __self_0 == __arg1_0
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
impl ::onex_runtime::__private::NodeInput for EchoInput {
    fn decode(
        payload_type: ::core::option::Option<&str>,
        payload: ::onex_runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, ::onex_runtime::__private::OnexError> {
        let _ = payload_type;
        ::onex_runtime::__private::decode_payload::<
            ::onex_runtime::__private::JsonValue,
        >(payload, "process", false)
            .map(Self::Process)
    }
    fn encode(
        &self,
    ) -> ::core::result::Result<
        ::onex_runtime::__private::JsonValue,
        ::onex_runtime::__private::OnexError,
    > {
        match self {
            Self::Process(input) => {
                ::onex_runtime::__private::encode_payload(input, "process", false)
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
    ) -> ::core::result::Result<(), ::onex_runtime::__private::OnexError> {
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
    Process(::onex_runtime::__private::JsonValue),
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
#[automatically_derived]
impl ::core::clone::Clone for EchoOutput {
    #[inline]
    fn clone(&self) -> EchoOutput {
        match self {
            EchoOutput::Process(__self_0) => {
                EchoOutput::Process(::core::clone::Clone::clone(__self_0))
            }
        }
    }
}
#[automatically_derived]
impl ::core::marker::StructuralPartialEq for EchoOutput {}
#[automatically_derived]
impl ::core::cmp::PartialEq for EchoOutput {
    #[inline]
    fn eq(&self, other: &EchoOutput) -> bool {
        match (self, other) {
            (EchoOutput::Process(__self_0), EchoOutput::Process(__arg1_0)) => {
                __self_0 == __arg1_0
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
impl ::onex_runtime::__private::NodeOutput for EchoOutput {
    fn decode(
        operation: &str,
        payload: ::onex_runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, ::onex_runtime::__private::OnexError> {
        match operation {
            "process" => {
                ::onex_runtime::__private::decode_payload::<
                    ::onex_runtime::__private::JsonValue,
                >(payload, "process", false)
                    .map(Self::Process)
            }
            other => {
                ::core::result::Result::Err(
                    ::onex_runtime::__private::unsupported_operation(
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
        ::onex_runtime::__private::JsonValue,
        ::onex_runtime::__private::OnexError,
    > {
        match self {
            Self::Process(output) => {
                ::onex_runtime::__private::encode_payload(output, "process", false)
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
        ctx: &::onex_runtime::__private::EffectContext,
        input: ::onex_runtime::__private::JsonValue,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::onex_runtime::__private::JsonValue,
            ::onex_runtime::__private::OnexError,
        >,
    > + ::core::marker::Send;
}
#[doc(hidden)]
#[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
const _: () = {
    const _: &[u8] = b"# No models: one `process` operation on untyped JSON.\nname: echo\nnode_type: effect\ncontract_version: {major: 0, minor: 1, patch: 0}\ndescription: Echoes its input.\n";
    #[automatically_derived]
    impl ::onex_runtime::__private::NodeKindOf for Echo {
        const KIND: ::onex_runtime::__private::NodeKind = ::onex_runtime::__private::NodeKind::Effect;
    }
    #[automatically_derived]
    impl ::onex_runtime::__private::EffectNode for Echo {
        type Input = EchoInput;
        type Output = EchoOutput;
        const CONTRACT: &'static ::onex_runtime::__private::ContractInfo = echo::CONTRACT;
        fn dispatch(
            &self,
            ctx: &::onex_runtime::__private::EffectContext,
            input: Self::Input,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<
                Self::Output,
                ::onex_runtime::__private::OnexError,
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
        Ok(
            JsonValue::String(
                ::alloc::__export::must_use({
                    ::alloc::fmt::format(format_args!("{0}{1}", self.prefix, input))
                }),
            ),
        )
    }
}
fn main() {}
