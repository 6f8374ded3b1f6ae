//! `#[effect_node]` on a unit struct, with the contract next to this file.
use onex_runtime::{EffectContext, OnexError, effect_node};
pub struct Greeter;
/// Greets people.
///
/// Models, topics and contract metadata of the `greeter` contract 1.0.0 (node `Greeter`).
#[allow(clippy::all, clippy::pedantic)]
pub mod greeter {
    #[allow(unused_imports)]
    use super::*;
    /// The contract, as embedded at compile time.
    pub const CONTRACT: &::onex_runtime::__private::ContractInfo = &::onex_runtime::__private::ContractInfo {
        name: "greeter",
        kind: ::onex_runtime::__private::NodeKind::Effect,
        node_type: "EFFECT_GENERIC",
        contract_version: ::onex_runtime::__private::Version {
            major: 1,
            minor: 0,
            patch: 0,
        },
        node_version: ::onex_runtime::__private::Version {
            major: 1,
            minor: 0,
            patch: 0,
        },
        description: "Greets people.",
        fingerprint: "1.0.0:c59943d36599",
        declared_fingerprint: ::core::option::Option::None,
        routing: ::onex_runtime::__private::RoutingStrategy::OperationMatch,
        operations: &[
            ::onex_runtime::__private::OperationInfo {
                name: "greet",
                input_type: "ModelGreeting",
                output_type: "ModelGreeting",
                description: "Says hello.",
                policy: ::onex_runtime::__private::OperationPolicy::NONE,
            },
            ::onex_runtime::__private::OperationInfo {
                name: "farewell",
                input_type: "ModelGreeting",
                output_type: "ModelGreeting",
                description: "",
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
    /// The `ModelGreeting` model of the contract.
    #[serde(crate = "::onex_runtime::__private::serde")]
    #[serde(deny_unknown_fields)]
    pub struct ModelGreeting {
        /// `name`.
        pub name: ::std::string::String,
    }
    #[automatically_derived]
    impl ::core::clone::Clone for ModelGreeting {
        #[inline]
        fn clone(&self) -> ModelGreeting {
            ModelGreeting {
                name: ::core::clone::Clone::clone(&self.name),
            }
        }
    }
    #[automatically_derived]
    impl ::core::marker::StructuralPartialEq for ModelGreeting {}
    #[automatically_derived]
    impl ::core::cmp::PartialEq for ModelGreeting {
        #[inline]
        fn eq(&self, other: &ModelGreeting) -> bool {
            self.name == other.name
        }
    }
    #[doc(hidden)]
    #[allow(
        non_upper_case_globals,
        unused_attributes,
        unused_qualifications,
        clippy::absolute_paths,
    )]
    const _: () = {
        use ::onex_runtime::__private::serde as _serde;
        #[automatically_derived]
        impl _serde::Serialize for ModelGreeting {
            fn serialize<__S>(
                &self,
                __serializer: __S,
            ) -> _serde::__private229::Result<__S::Ok, __S::Error>
            where
                __S: _serde::Serializer,
            {
                let mut __serde_state = _serde::Serializer::serialize_struct(
                    __serializer,
                    "ModelGreeting",
                    false as usize + 1,
                )?;
                _serde::ser::SerializeStruct::serialize_field(
                    &mut __serde_state,
                    "name",
                    &self.name,
                )?;
                _serde::ser::SerializeStruct::end(__serde_state)
            }
        }
    };
    #[doc(hidden)]
    #[allow(
        non_upper_case_globals,
        unused_attributes,
        unused_qualifications,
        clippy::absolute_paths,
    )]
    const _: () = {
        use ::onex_runtime::__private::serde as _serde;
        #[automatically_derived]
        impl<'de> _serde::Deserialize<'de> for ModelGreeting {
            fn deserialize<__D>(
                __deserializer: __D,
            ) -> _serde::__private229::Result<Self, __D::Error>
            where
                __D: _serde::Deserializer<'de>,
            {
                #[allow(non_camel_case_types)]
                #[doc(hidden)]
                enum __Field {
                    __field0,
                }
                #[doc(hidden)]
                struct __FieldVisitor;
                #[automatically_derived]
                impl<'de> _serde::de::Visitor<'de> for __FieldVisitor {
                    type Value = __Field;
                    fn expecting(
                        &self,
                        __formatter: &mut _serde::__private229::Formatter,
                    ) -> _serde::__private229::fmt::Result {
                        _serde::__private229::Formatter::write_str(
                            __formatter,
                            "field identifier",
                        )
                    }
                    fn visit_u64<__E>(
                        self,
                        __value: u64,
                    ) -> _serde::__private229::Result<Self::Value, __E>
                    where
                        __E: _serde::de::Error,
                    {
                        match __value {
                            0u64 => _serde::__private229::Ok(__Field::__field0),
                            _ => {
                                _serde::__private229::Err(
                                    _serde::de::Error::invalid_value(
                                        _serde::de::Unexpected::Unsigned(__value),
                                        &"field index 0 <= i < 1",
                                    ),
                                )
                            }
                        }
                    }
                    fn visit_str<__E>(
                        self,
                        __value: &str,
                    ) -> _serde::__private229::Result<Self::Value, __E>
                    where
                        __E: _serde::de::Error,
                    {
                        match __value {
                            "name" => _serde::__private229::Ok(__Field::__field0),
                            _ => {
                                _serde::__private229::Err(
                                    _serde::de::Error::unknown_field(__value, FIELDS),
                                )
                            }
                        }
                    }
                    fn visit_bytes<__E>(
                        self,
                        __value: &[u8],
                    ) -> _serde::__private229::Result<Self::Value, __E>
                    where
                        __E: _serde::de::Error,
                    {
                        match __value {
                            b"name" => _serde::__private229::Ok(__Field::__field0),
                            _ => {
                                let __value = &_serde::__private229::from_utf8_lossy(
                                    __value,
                                );
                                _serde::__private229::Err(
                                    _serde::de::Error::unknown_field(__value, FIELDS),
                                )
                            }
                        }
                    }
                }
                #[automatically_derived]
                impl<'de> _serde::Deserialize<'de> for __Field {
                    #[inline]
                    fn deserialize<__D>(
                        __deserializer: __D,
                    ) -> _serde::__private229::Result<Self, __D::Error>
                    where
                        __D: _serde::Deserializer<'de>,
                    {
                        _serde::Deserializer::deserialize_identifier(
                            __deserializer,
                            __FieldVisitor,
                        )
                    }
                }
                #[doc(hidden)]
                struct __Visitor<'de> {
                    marker: _serde::__private229::PhantomData<ModelGreeting>,
                    lifetime: _serde::__private229::PhantomData<&'de ()>,
                }
                #[automatically_derived]
                impl<'de> _serde::de::Visitor<'de> for __Visitor<'de> {
                    type Value = ModelGreeting;
                    fn expecting(
                        &self,
                        __formatter: &mut _serde::__private229::Formatter,
                    ) -> _serde::__private229::fmt::Result {
                        _serde::__private229::Formatter::write_str(
                            __formatter,
                            "struct ModelGreeting",
                        )
                    }
                    #[inline]
                    fn visit_seq<__A>(
                        self,
                        mut __seq: __A,
                    ) -> _serde::__private229::Result<Self::Value, __A::Error>
                    where
                        __A: _serde::de::SeqAccess<'de>,
                    {
                        let __field0 = match _serde::de::SeqAccess::next_element::<
                            ::std::string::String,
                        >(&mut __seq)? {
                            _serde::__private229::Some(__value) => __value,
                            _serde::__private229::None => {
                                return _serde::__private229::Err(
                                    _serde::de::Error::invalid_length(
                                        0usize,
                                        &"struct ModelGreeting with 1 element",
                                    ),
                                );
                            }
                        };
                        _serde::__private229::Ok(ModelGreeting { name: __field0 })
                    }
                    #[inline]
                    fn visit_map<__A>(
                        self,
                        mut __map: __A,
                    ) -> _serde::__private229::Result<Self::Value, __A::Error>
                    where
                        __A: _serde::de::MapAccess<'de>,
                    {
                        let mut __field0: _serde::__private229::Option<
                            ::std::string::String,
                        > = _serde::__private229::None;
                        while let _serde::__private229::Some(__key) = _serde::de::MapAccess::next_key::<
                            __Field,
                        >(&mut __map)? {
                            match __key {
                                __Field::__field0 => {
                                    if _serde::__private229::Option::is_some(&__field0) {
                                        return _serde::__private229::Err(
                                            <__A::Error as _serde::de::Error>::duplicate_field("name"),
                                        );
                                    }
                                    __field0 = _serde::__private229::Some(
                                        _serde::de::MapAccess::next_value::<
                                            ::std::string::String,
                                        >(&mut __map)?,
                                    );
                                }
                            }
                        }
                        let __field0 = match __field0 {
                            _serde::__private229::Some(__field0) => __field0,
                            _serde::__private229::None => {
                                _serde::__private229::de::missing_field("name")?
                            }
                        };
                        _serde::__private229::Ok(ModelGreeting { name: __field0 })
                    }
                }
                #[doc(hidden)]
                const FIELDS: &'static [&'static str] = &["name"];
                _serde::Deserializer::deserialize_struct(
                    __deserializer,
                    "ModelGreeting",
                    FIELDS,
                    __Visitor {
                        marker: _serde::__private229::PhantomData::<ModelGreeting>,
                        lifetime: _serde::__private229::PhantomData,
                    },
                )
            }
        }
    };
    impl ::core::fmt::Debug for ModelGreeting {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.debug_struct("ModelGreeting").field("name", &self.name).finish()
        }
    }
    impl ::onex_runtime::__private::Validate for ModelGreeting {
        fn validate_into(
            &self,
            path: &str,
            violations: &mut ::onex_runtime::__private::Violations,
        ) {
            {
                let value = &self.name;
                ::onex_runtime::__private::check_min_length(
                    violations,
                    path,
                    "name",
                    ::onex_runtime::__private::Length::length(value),
                    1usize,
                );
            }
        }
    }
    impl ModelGreeting {
        /// Checks the contract's constraints on every field (nested models included).
        ///
        /// # Errors
        /// An `ONEX_CORE_006_VALIDATION_ERROR` listing every violated constraint.
        pub fn validate(
            &self,
        ) -> ::core::result::Result<(), ::onex_runtime::__private::OnexError> {
            ::onex_runtime::__private::validate(self)
        }
    }
}
/// The operations of `greeter`, as its contract names them.
pub enum GreeterOperation {
    /// `greet`: Says hello.
    Greet,
    /// `farewell`
    Farewell,
}
#[automatically_derived]
#[doc(hidden)]
unsafe impl ::core::clone::TrivialClone for GreeterOperation {}
#[automatically_derived]
impl ::core::clone::Clone for GreeterOperation {
    #[inline]
    fn clone(&self) -> GreeterOperation {
        *self
    }
}
#[automatically_derived]
impl ::core::marker::Copy for GreeterOperation {}
#[automatically_derived]
impl ::core::fmt::Debug for GreeterOperation {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        ::core::fmt::Formatter::write_str(
            f,
            match self {
                GreeterOperation::Greet => "Greet",
                GreeterOperation::Farewell => "Farewell",
            },
        )
    }
}
#[automatically_derived]
impl ::core::marker::StructuralPartialEq for GreeterOperation {}
#[automatically_derived]
impl ::core::cmp::PartialEq for GreeterOperation {
    #[inline]
    fn eq(&self, other: &GreeterOperation) -> bool {
        let __self_discr = ::core::intrinsics::discriminant_value(self);
        let __arg1_discr = ::core::intrinsics::discriminant_value(other);
        __self_discr == __arg1_discr
    }
}
#[automatically_derived]
impl ::core::cmp::Eq for GreeterOperation {
    #[doc(hidden)]
    #[coverage(off)]
    fn assert_fields_are_eq(&self) {}
}
#[automatically_derived]
impl ::core::hash::Hash for GreeterOperation {
    #[inline]
    fn hash<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
        let __self_discr = ::core::intrinsics::discriminant_value(self);
        ::core::hash::Hash::hash(&__self_discr, state)
    }
}
#[automatically_derived]
impl ::core::cmp::PartialOrd for GreeterOperation {
    #[inline]
    fn partial_cmp(
        &self,
        other: &GreeterOperation,
    ) -> ::core::option::Option<::core::cmp::Ordering> {
        let __self_discr = ::core::intrinsics::discriminant_value(self);
        let __arg1_discr = ::core::intrinsics::discriminant_value(other);
        ::core::cmp::PartialOrd::partial_cmp(&__self_discr, &__arg1_discr)
    }
}
#[automatically_derived]
impl ::core::cmp::Ord for GreeterOperation {
    #[inline]
    fn cmp(&self, other: &GreeterOperation) -> ::core::cmp::Ordering {
        let __self_discr = ::core::intrinsics::discriminant_value(self);
        let __arg1_discr = ::core::intrinsics::discriminant_value(other);
        ::core::cmp::Ord::cmp(&__self_discr, &__arg1_discr)
    }
}
impl GreeterOperation {
    /// Every operation, in contract order.
    pub const ALL: &'static [Self] = &[Self::Greet, Self::Farewell];
    /// The contract's name for the operation.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Greet => "greet",
            Self::Farewell => "farewell",
        }
    }
}
impl ::core::fmt::Display for GreeterOperation {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl ::core::str::FromStr for GreeterOperation {
    type Err = ::onex_runtime::__private::OnexError;
    fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
        match s {
            "greet" => ::core::result::Result::Ok(Self::Greet),
            "farewell" => ::core::result::Result::Ok(Self::Farewell),
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
/// An input envelope payload of `greeter`: one variant per operation, decoded from the ONEX wire form.
pub enum GreeterInput {
    /// Input of `greet` (`ModelGreeting`).
    Greet(greeter::ModelGreeting),
    /// Input of `farewell` (`ModelGreeting`).
    Farewell(greeter::ModelGreeting),
}
#[automatically_derived]
impl ::core::fmt::Debug for GreeterInput {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        match self {
            GreeterInput::Greet(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(f, "Greet", &__self_0)
            }
            GreeterInput::Farewell(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(
                    f,
                    "Farewell",
                    &__self_0,
                )
            }
        }
    }
}
impl GreeterInput {
    /// The operation this input selects.
    pub const fn operation(&self) -> GreeterOperation {
        match self {
            Self::Greet(_) => GreeterOperation::Greet,
            Self::Farewell(_) => GreeterOperation::Farewell,
        }
    }
}
#[automatically_derived]
impl ::onex_runtime::__private::NodeInput for GreeterInput {
    fn decode(
        payload_type: ::core::option::Option<&str>,
        payload: ::onex_runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, ::onex_runtime::__private::OnexError> {
        let _ = payload_type;
        let operation = ::onex_runtime::__private::operation_field(&payload)?;
        match operation.as_str() {
            "greet" => {
                ::onex_runtime::__private::decode_payload::<
                    greeter::ModelGreeting,
                >(payload, "greet", true)
                    .map(Self::Greet)
            }
            "farewell" => {
                ::onex_runtime::__private::decode_payload::<
                    greeter::ModelGreeting,
                >(payload, "farewell", true)
                    .map(Self::Farewell)
            }
            other => {
                ::core::result::Result::Err(
                    ::onex_runtime::__private::unsupported_operation(
                        other,
                        ::core::iter::Iterator::map(
                            GreeterOperation::ALL.iter(),
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
            Self::Greet(input) => {
                ::onex_runtime::__private::encode_payload(input, "greet", true)
            }
            Self::Farewell(input) => {
                ::onex_runtime::__private::encode_payload(input, "farewell", true)
            }
        }
    }
    fn operation(&self) -> &'static str {
        self.operation().as_str()
    }
    fn payload_type(&self) -> &'static str {
        match self {
            Self::Greet(_) => "ModelGreeting",
            Self::Farewell(_) => "ModelGreeting",
        }
    }
    fn validate(
        &self,
    ) -> ::core::result::Result<(), ::onex_runtime::__private::OnexError> {
        match self {
            Self::Greet(input) => ::onex_runtime::__private::validate(input),
            Self::Farewell(input) => ::onex_runtime::__private::validate(input),
        }
    }
}
/// An output payload of `greeter`: one variant per operation.
pub enum GreeterOutput {
    /// Output of `greet` (`ModelGreeting`).
    Greet(greeter::ModelGreeting),
    /// Output of `farewell` (`ModelGreeting`).
    Farewell(greeter::ModelGreeting),
}
#[automatically_derived]
impl ::core::fmt::Debug for GreeterOutput {
    #[inline]
    fn fmt(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
        match self {
            GreeterOutput::Greet(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(f, "Greet", &__self_0)
            }
            GreeterOutput::Farewell(__self_0) => {
                ::core::fmt::Formatter::debug_tuple_field1_finish(
                    f,
                    "Farewell",
                    &__self_0,
                )
            }
        }
    }
}
impl GreeterOutput {
    /// The operation that produced this output.
    pub const fn operation(&self) -> GreeterOperation {
        match self {
            Self::Greet(_) => GreeterOperation::Greet,
            Self::Farewell(_) => GreeterOperation::Farewell,
        }
    }
}
#[automatically_derived]
impl ::onex_runtime::__private::NodeOutput for GreeterOutput {
    fn decode(
        operation: &str,
        payload: ::onex_runtime::__private::JsonValue,
    ) -> ::core::result::Result<Self, ::onex_runtime::__private::OnexError> {
        match operation {
            "greet" => {
                ::onex_runtime::__private::decode_payload::<
                    greeter::ModelGreeting,
                >(payload, "greet", false)
                    .map(Self::Greet)
            }
            "farewell" => {
                ::onex_runtime::__private::decode_payload::<
                    greeter::ModelGreeting,
                >(payload, "farewell", false)
                    .map(Self::Farewell)
            }
            other => {
                ::core::result::Result::Err(
                    ::onex_runtime::__private::unsupported_operation(
                        other,
                        ::core::iter::Iterator::map(
                            GreeterOperation::ALL.iter(),
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
            Self::Greet(output) => {
                ::onex_runtime::__private::encode_payload(output, "greet", false)
            }
            Self::Farewell(output) => {
                ::onex_runtime::__private::encode_payload(output, "farewell", false)
            }
        }
    }
    fn operation(&self) -> &'static str {
        self.operation().as_str()
    }
    fn payload_type(&self) -> &'static str {
        match self {
            Self::Greet(_) => "ModelGreeting",
            Self::Farewell(_) => "ModelGreeting",
        }
    }
}
/// Implement this for `Greeter` to handle the operations of the `greeter` contract: one method per operation. Write each method as a plain `async fn`.
///
/// A forgotten operation is a compile error (missing trait item).
pub trait GreeterHandler: ::core::marker::Send + ::core::marker::Sync + 'static {
    /// Says hello.
    ///
    /// Handles `greet`.
    fn greet(
        &self,
        ctx: &::onex_runtime::__private::EffectContext,
        input: greeter::ModelGreeting,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            greeter::ModelGreeting,
            ::onex_runtime::__private::OnexError,
        >,
    > + ::core::marker::Send;
    /// Handles `farewell`.
    fn farewell(
        &self,
        ctx: &::onex_runtime::__private::EffectContext,
        input: greeter::ModelGreeting,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            greeter::ModelGreeting,
            ::onex_runtime::__private::OnexError,
        >,
    > + ::core::marker::Send;
}
#[doc(hidden)]
#[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
const _: () = {
    const _: &[u8] = b"# Two operations and one small model: the smallest contract that shows every generated item.\nname: greeter\nnode_type: EFFECT_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\ndescription: Greets people.\ninput_model: ModelGreeting\noutput_model: ModelGreeting\nhandler_routing:\n  routing_strategy: operation_match\n  handlers:\n    - operation: greet\n      description: Says hello.\n    - operation: farewell\ndefinitions:\n  ModelGreeting:\n    type: object\n    extra: forbid\n    properties:\n      name: {type: string, min_length: 1}\n    required: [name]\n";
    #[automatically_derived]
    impl ::onex_runtime::__private::NodeKindOf for Greeter {
        const KIND: ::onex_runtime::__private::NodeKind = ::onex_runtime::__private::NodeKind::Effect;
    }
    #[automatically_derived]
    impl ::onex_runtime::__private::EffectNode for Greeter {
        type Input = GreeterInput;
        type Output = GreeterOutput;
        const CONTRACT: &'static ::onex_runtime::__private::ContractInfo = greeter::CONTRACT;
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
                    GreeterInput::Greet(input) => {
                        <Self as GreeterHandler>::greet(self, ctx, input)
                            .await
                            .map(GreeterOutput::Greet)
                    }
                    GreeterInput::Farewell(input) => {
                        <Self as GreeterHandler>::farewell(self, ctx, input)
                            .await
                            .map(GreeterOutput::Farewell)
                    }
                }
            }
        }
    }
};
impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelGreeting, OnexError> {
        Ok(input)
    }
    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelGreeting, OnexError> {
        Ok(input)
    }
}
fn main() {}
