//! Rules a node attribute applies to a contract beyond the contract's own checks: what
//! `#[compute_node]`, `#[reducer_node]` and `#[orchestrator_node]` refuse in a contract that
//! is otherwise valid. The macros and `onex new --from-contract` share them, so a port is
//! refused exactly when the attribute would be.
//!
//! Each rule returns where to point and the message (with its `help:` line).

use crate::kind::NodeKind;
use crate::model::Contract;
use crate::yaml::Loc;

/// True when a `descriptor.purity` value declares a pure node.
///
/// The corpus spells purity many ways (`pure`, `pure (no side effects)`, `side_effecting`,
/// `side_effect`, `impure`, `side_effecting (modifies external state)`, …), so the value is
/// classified by its leading word, case-insensitively: the text up to the first character
/// that is not a letter or a digit (so `pure_function` and `Pure (no I/O)` lead with
/// `pure`). That word must be `pure`; anything else (`impure`, `side_effecting`, an empty
/// value, a word onex does not know) counts as side-effecting, because a compute node that
/// is not declared pure cannot be assumed to be.
pub fn is_pure(purity: &str) -> bool {
    let word = purity
        .trim()
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    word.eq_ignore_ascii_case("pure")
}

/// `#[compute_node]` refuses a compute contract whose `descriptor.purity` is not pure (see
/// [`is_pure`]); a compute contract without `descriptor.purity` is pure by its kind. Not a
/// compute contract: `None` (a kind mismatch is reported elsewhere).
pub fn impure_compute(contract: &Contract) -> Option<(Loc, String)> {
    if contract.node_kind() != Some(NodeKind::Compute) {
        return None;
    }
    let purity = contract.descriptor.as_ref()?.purity.as_ref()?;
    if is_pure(&purity.value) {
        return None;
    }
    Some((
        purity.loc,
        format!(
            "`#[compute_node]` on a side-effecting contract (`descriptor.purity: {}`): a compute node is a pure transformation\n  help: a node with side effects is an effect node: use `#[effect_node]` and `node_type: EFFECT_GENERIC`; if this transformation has no side effects, declare `purity: pure`",
            purity.value.trim()
        ),
    ))
}

/// `#[reducer_node]` on a contract without a state machine.
pub fn missing_state_machine(contract: &Contract) -> (Loc, &'static str) {
    (
        contract.root.loc,
        "`#[reducer_node]` needs a state machine, and this contract has none\n  help: add a `state_transitions:` block (states, initial_state, transitions), or use the node attribute of the contract's real kind",
    )
}

/// `#[orchestrator_node]` on a contract without a workflow, or whose
/// `workflow_definition` has no execution graph.
pub fn missing_workflow(contract: &Contract) -> (Loc, &'static str) {
    let workflow = contract.workflow.as_ref();
    match workflow.and_then(|w| w.get("workflow_definition")) {
        Some(definition) => (
            definition.loc,
            "`#[orchestrator_node]` needs an execution graph, and this `workflow_definition` has none\n  help: add `execution_graph.nodes` under it (each with `node_id`, `node_type` and `depends_on`)",
        ),
        None => (
            workflow.map_or(contract.root.loc, |w| w.loc),
            "`#[orchestrator_node]` needs a workflow, and this contract has none\n  help: add `workflow_coordination.workflow_definition.execution_graph.nodes` (each with `node_id`, `node_type` and `depends_on`)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::is_pure;

    #[test]
    fn purity_is_classified_by_its_leading_word() {
        for pure in [
            "pure",
            "Pure",
            " PURE ",
            "pure (no side effects)",
            "pure_function",
            "pure, idempotent",
        ] {
            assert!(is_pure(pure), "{pure:?}");
        }
        for impure in [
            "side_effecting",
            "side_effect",
            "impure",
            "side_effecting (modifies external state)",
            "side_effecting (state mutations)",
            "purely_functional",
            "",
            "effectful",
        ] {
            assert!(!is_pure(impure), "{impure:?}");
        }
    }
}
