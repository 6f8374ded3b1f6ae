//! Checks a parsed [`Workflow`] as a whole (DESIGN.md §5): unique step ids that become
//! distinct Rust names, dependencies that name steps, no dependency cycles, `edges` that
//! agree with `depends_on`, and a compensation strategy with something to compensate.
//!
//! All findings are collected, check by check, in declaration order within a check. Every
//! algorithm is iterative (no recursion proportional to the graph). Codes:
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `workflow-no-steps` | error | `execution_graph` declares no steps |
//! | `workflow-duplicate-step` | error | a `node_id` declared twice (at the second) |
//! | `workflow-step-id` | error | a `node_id` whose Rust names (variant, method) are not identifiers, are a keyword, or collide with another step's |
//! | `workflow-unknown-dependency` | error | a `depends_on` entry naming no step |
//! | `workflow-cycle` | error | a dependency cycle, named in execution order, at the entry closing it |
//! | `workflow-edge-unknown-step` | error | an edge's `from_node` or `to_node` names no step |
//! | `workflow-edge-without-dependency` | error | an edge `a → b` where `b` does not depend on `a` |
//! | `workflow-dependency-without-edge` | error | with `edges` declared, a dependency no edge matches |
//! | `workflow-compensate-nothing` | warning | `failure_recovery_strategy: compensate` and no `compensable` step |
//!
//! The Python reference ignores `edges`; onex requires them to agree with `depends_on` when
//! they are declared, so the two descriptions of the graph cannot drift apart.

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::names;
use crate::read::Spanned;

use super::plan::Graph;
use super::{FailureStrategy, Workflow};

/// Checks the workflow; every problem goes to `d`.
pub fn validate(wf: &Workflow, d: &mut Diagnostics) {
    let index = wf.index();
    if wf.steps.is_empty() {
        d.push(
            Diagnostic::error(
                "workflow-no-steps",
                wf.loc,
                format!("workflow `{}` declares no steps", wf.name),
            )
            .with_help(
                "add `execution_graph.nodes` with at least one `- {node_id: …, node_type: …}` step",
            ),
        );
    }
    duplicates(wf, &index, d);
    identifiers(wf, &index, d);
    unknown_dependencies(wf, &index, d);
    cycles(wf, d);
    edges(wf, &index, d);
    compensation(wf, d);
}

/// True when step `i` is the first declaration of its id.
fn first(index: &HashMap<&str, usize>, wf: &Workflow, i: usize) -> bool {
    index.get(wf.steps[i].id.as_str()) == Some(&i)
}

/// "did you mean `x`?", else a (short) list of the step ids.
fn steps_help(wf: &Workflow, unknown: &str) -> String {
    let ids: Vec<&str> = wf.steps.iter().map(|s| s.id.as_str()).collect();
    if let Some(best) = did_you_mean(unknown, &ids) {
        return format!("did you mean `{best}`?");
    }
    const SHOWN: usize = 12;
    let mut list = ids
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        list.push_str(&format!(", … ({} steps)", ids.len()));
    }
    if list.is_empty() {
        "declare the step in `execution_graph.nodes`".to_owned()
    } else {
        format!("the steps are: {list}")
    }
}

fn duplicates(wf: &Workflow, index: &HashMap<&str, usize>, d: &mut Diagnostics) {
    for (i, s) in wf.steps.iter().enumerate() {
        let Some(&f) = index.get(s.id.as_str()).filter(|&&f| f != i) else {
            continue;
        };
        let first = &wf.steps[f].id;
        d.push(
            Diagnostic::error(
                "workflow-duplicate-step",
                s.id.loc,
                format!("step `{}` is declared twice", s.id.value),
            )
            .with_help(format!(
                "node ids must be unique: rename or remove one of the two (the first is on line {})",
                first.loc.line
            )),
        );
    }
}

/// Each step id becomes an enum variant (UpperCamelCase) and a handler method (snake_case):
/// both must be identifiers, the method no keyword, and distinct ids must stay distinct.
fn identifiers(wf: &Workflow, index: &HashMap<&str, usize>, d: &mut Diagnostics) {
    let mut variants: HashMap<String, &Spanned<String>> = HashMap::new();
    let mut methods: HashMap<String, &Spanned<String>> = HashMap::new();
    let help = "step ids name Rust items: use letters, digits and `_`, starting with a letter";
    for (i, s) in wf.steps.iter().enumerate() {
        if !first(index, wf, i) {
            continue;
        }
        let id = &s.id;
        let variant = names::camel(&id.value);
        let method = names::snake(&id.value);
        let problem = if let Some(p) = names::ident_problem(&variant) {
            Some(format!("cannot become a Rust enum variant: {p}"))
        } else if let Some(p) = names::ident_problem(&method) {
            Some(format!("cannot become a Rust method name: {p}"))
        } else if names::is_keyword(&method) {
            Some(format!(
                "becomes the handler method `{method}`, which is a Rust keyword"
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            d.push(
                Diagnostic::error(
                    "workflow-step-id",
                    id.loc,
                    format!("step id `{}` {problem}", id.value),
                )
                .with_help(help),
            );
            continue;
        }
        let clash = match (variants.get(&variant), methods.get(&method)) {
            (Some(other), _) => Some((*other, format!("the enum variant `{variant}`"))),
            (None, Some(other)) => Some((*other, format!("the method `{method}`"))),
            (None, None) => None,
        };
        if let Some((other, what)) = clash {
            d.push(
                Diagnostic::error(
                    "workflow-step-id",
                    id.loc,
                    format!(
                        "steps `{}` and `{}` both become {what}",
                        other.value, id.value
                    ),
                )
                .with_help(format!(
                    "rename one of them (`{}` is at {})",
                    other.value, other.loc
                )),
            );
            continue;
        }
        variants.insert(variant, id);
        methods.insert(method, id);
    }
}

fn unknown_dependencies(wf: &Workflow, index: &HashMap<&str, usize>, d: &mut Diagnostics) {
    for s in &wf.steps {
        for entry in &s.depends_on {
            if index.contains_key(entry.as_str()) {
                continue;
            }
            d.push(
                Diagnostic::error(
                    "workflow-unknown-dependency",
                    entry.loc,
                    format!(
                        "step `{}` depends on `{}`, which is not a step",
                        s.id.value, entry.value
                    ),
                )
                .with_help(steps_help(wf, &entry.value)),
            );
        }
    }
}

/// Reports every cycle a depth-first search (roots and dependencies in declaration order)
/// closes, each once. Iterative: the DFS stack is a vector.
fn cycles(wf: &Workflow, d: &mut Diagnostics) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack(usize),
        Done,
    }
    let g = Graph::new(wf);
    let mut mark = vec![Mark::New; wf.steps.len()];
    let mut seen: HashSet<Vec<usize>> = HashSet::new();
    // (step, index of the next dependency to follow)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..wf.steps.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnStack(0);
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            let Some(&w) = g.deps[v].get(next) else {
                mark[v] = Mark::Done;
                stack.pop();
                continue;
            };
            top.1 += 1;
            match mark[w] {
                Mark::New => {
                    mark[w] = Mark::OnStack(stack.len());
                    stack.push((w, 0));
                }
                Mark::OnStack(at) => {
                    // stack[at..] is w, each depending on the next, the last depending on w.
                    let path: Vec<usize> = stack[at..].iter().map(|&(s, _)| s).collect();
                    report_cycle(wf, path, &mut seen, d);
                }
                Mark::Done => {}
            }
        }
    }
}

/// `path`: steps each depending on the next, the last depending on the first.
fn report_cycle(
    wf: &Workflow,
    mut path: Vec<usize>,
    seen: &mut HashSet<Vec<usize>>,
    d: &mut Diagnostics,
) {
    // Execution direction (a dependency runs first), starting at the step declared first.
    path.reverse();
    let Some(start) = path
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| **s)
        .map(|(i, _)| i)
    else {
        return;
    };
    path.rotate_left(start);
    if !seen.insert(path.clone()) {
        return;
    }
    let (Some(&head), Some(&last)) = (path.first(), path.last()) else {
        return;
    };
    let id = |i: usize| wf.steps[i].id.value.as_str();
    let mut names: Vec<&str> = path.iter().map(|&i| id(i)).collect();
    names.push(id(head));
    // The cycle closes where `head` depends on `last`.
    let closing = wf.steps[head]
        .depends_on
        .iter()
        .find(|e| e.value == id(last))
        .map_or(wf.steps[head].loc, |e| e.loc);
    let help = if path.len() == 1 {
        format!(
            "a step cannot depend on itself: remove `{}` from its `depends_on`",
            id(head)
        )
    } else {
        format!(
            "`{}` depends on `{}` here, which closes the cycle: remove one of the dependencies along it so the steps can be ordered",
            id(head),
            id(last)
        )
    };
    d.push(
        Diagnostic::error(
            "workflow-cycle",
            closing,
            format!("dependency cycle: {}", names.join(" → ")),
        )
        .with_help(help),
    );
}

/// True when an edge with an unknown endpoint is the edge `from → to` misspelt: its other
/// endpoint matches and the unknown one is close to the expected one. That edge is reported
/// already (with a did-you-mean); reporting the missing edge too would only repeat it.
fn misspelt_edge_for(wf: &Workflow, index: &HashMap<&str, usize>, from: &str, to: &str) -> bool {
    let near = |unknown: &str, expected: &str| {
        !index.contains_key(unknown) && crate::diag::did_you_mean(unknown, &[expected]).is_some()
    };
    wf.edges.iter().any(|e| {
        let (f, t) = (e.from.as_str(), e.to.as_str());
        (f == from && near(t, to)) || (t == to && near(f, from))
    })
}

fn edges(wf: &Workflow, index: &HashMap<&str, usize>, d: &mut Diagnostics) {
    let declared: HashSet<(&str, &str)> = wf
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    for e in &wf.edges {
        let mut known = true;
        for (end, key) in [(&e.from, "from_node"), (&e.to, "to_node")] {
            if !index.contains_key(end.as_str()) {
                known = false;
                d.push(
                    Diagnostic::error(
                        "workflow-edge-unknown-step",
                        end.loc,
                        format!(
                            "edge `{} → {}`: `{key}` `{}` is not a step",
                            e.from.value, e.to.value, end.value
                        ),
                    )
                    .with_help(steps_help(wf, &end.value)),
                );
            }
        }
        let Some(&to) = index.get(e.to.as_str()).filter(|_| known) else {
            continue;
        };
        if !wf.steps[to]
            .depends_on
            .iter()
            .any(|x| x.value == e.from.value)
        {
            d.push(
                Diagnostic::error(
                    "workflow-edge-without-dependency",
                    e.loc,
                    format!(
                        "edge `{0} → {1}` has no matching dependency: step `{1}` does not list `{0}` in `depends_on`",
                        e.from.value, e.to.value
                    ),
                )
                .with_help(format!(
                    "add `{}` to the `depends_on` of `{}`, or remove the edge (`edges` must agree with `depends_on`)",
                    e.from.value, e.to.value
                )),
            );
        }
    }
    if wf.edges.is_empty() {
        return;
    }
    for (i, s) in wf.steps.iter().enumerate() {
        if !first(index, wf, i) {
            continue;
        }
        let mut reported: Vec<&str> = Vec::new();
        for entry in &s.depends_on {
            if !index.contains_key(entry.as_str())
                || reported.contains(&entry.as_str())
                || declared.contains(&(entry.as_str(), s.id.as_str()))
                || misspelt_edge_for(wf, index, entry.as_str(), s.id.as_str())
            {
                continue;
            }
            reported.push(entry.as_str());
            d.push(
                Diagnostic::error(
                    "workflow-dependency-without-edge",
                    entry.loc,
                    format!(
                        "step `{0}` depends on `{1}`, but no edge `{1} → {0}` is declared",
                        s.id.value, entry.value
                    ),
                )
                .with_help(format!(
                    "add `- {{from_node: {}, to_node: {}}}` to `execution_graph.edges`, or remove the dependency (when `edges` is declared it must agree with `depends_on`)",
                    entry.value, s.id.value
                )),
            );
        }
    }
}

fn compensation(wf: &Workflow, d: &mut Diagnostics) {
    if wf.rules.failure_strategy != FailureStrategy::Compensate
        || wf.steps.iter().any(|s| s.compensable)
    {
        return;
    }
    d.push(
        Diagnostic::warning(
            "workflow-compensate-nothing",
            wf.rules.failure_strategy_loc.unwrap_or(wf.loc),
            format!(
                "workflow `{}` uses `failure_recovery_strategy: compensate`, but no step is `compensable`",
                wf.name
            ),
        )
        .with_help(
            "mark the steps that have a compensation handler with `compensable: true`, or choose another strategy (fail_fast, retry, continue)",
        ),
    );
}
