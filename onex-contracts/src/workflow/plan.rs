//! The execution plan of a [`Workflow`]: the sequential order and the parallel waves (the
//! semantics are in the [module docs](super)). Iterative and linear in the graph's size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Workflow;

/// The dependency graph over step indices.
pub(crate) struct Graph {
    /// `deps[i]`: the steps `i` depends on ([`Workflow::dependencies`]).
    pub(crate) deps: Vec<Vec<usize>>,
    /// `dependents[i]`: the steps that depend on `i`, in declaration order.
    pub(crate) dependents: Vec<Vec<usize>>,
}

impl Graph {
    pub(crate) fn new(wf: &Workflow) -> Graph {
        let index = wf.index();
        let n = wf.steps.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, step) in wf.steps.iter().enumerate() {
            for entry in &step.depends_on {
                if let Some(&d) = index.get(entry.as_str())
                    && !deps[i].contains(&d)
                {
                    deps[i].push(d);
                    dependents[d].push(i);
                }
            }
        }
        Graph { deps, dependents }
    }

    /// How many (distinct, known) dependencies each step has.
    fn in_degrees(&self) -> Vec<usize> {
        self.deps.iter().map(Vec::len).collect()
    }
}

impl Workflow {
    /// The order in which a sequential (or batch) workflow runs its steps, as step indices:
    /// Kahn's algorithm, the ready step declared first running next. On a cyclic graph, the
    /// steps it could order (none in or after a cycle).
    ///
    /// ```
    /// # use std::path::Path;
    /// let yaml = "
    /// name: diamond
    /// node_type: ORCHESTRATOR_GENERIC
    /// contract_version: {major: 1, minor: 0, patch: 0}
    /// workflow_coordination:
    ///   workflow_definition:
    ///     execution_graph:
    ///       nodes:
    ///         - {node_id: join, node_type: REDUCER_GENERIC, depends_on: [right, left]}
    ///         - {node_id: right, node_type: COMPUTE_GENERIC, depends_on: [root]}
    ///         - {node_id: left, node_type: COMPUTE_GENERIC, depends_on: [root]}
    ///         - {node_id: root, node_type: EFFECT_GENERIC}
    ///         - {node_id: loner, node_type: EFFECT_GENERIC}
    /// ";
    /// let loaded = onex_contracts::load_source(Path::new("d.yaml"), "d.yaml", yaml.into());
    /// let wf = loaded.workflow.unwrap();
    /// let ids = |steps: &[usize]| steps.iter().map(|&i| wf.steps[i].id.value.as_str()).collect::<Vec<_>>();
    /// assert_eq!(ids(&wf.order()), ["root", "right", "left", "join", "loner"]);
    /// let waves: Vec<_> = wf.waves().iter().map(|w| ids(w)).collect();
    /// assert_eq!(waves, [vec!["root", "loner"], vec!["right", "left"], vec!["join"]]);
    /// ```
    pub fn order(&self) -> Vec<usize> {
        let g = Graph::new(self);
        let mut waiting = g.in_degrees();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..waiting.len())
            .filter(|&i| waiting[i] == 0)
            .map(Reverse)
            .collect();
        let mut out = Vec::with_capacity(waiting.len());
        while let Some(Reverse(i)) = ready.pop() {
            out.push(i);
            for &j in &g.dependents[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push(Reverse(j));
                }
            }
        }
        out
    }

    /// The waves of a parallel workflow, as step indices: each wave is every remaining step
    /// whose dependencies all ran in earlier waves, in declaration order. On a cyclic graph,
    /// the waves it could form (no step in or after a cycle).
    pub fn waves(&self) -> Vec<Vec<usize>> {
        let g = Graph::new(self);
        let mut waiting = g.in_degrees();
        let mut wave: Vec<usize> = (0..waiting.len()).filter(|&i| waiting[i] == 0).collect();
        let mut out = Vec::new();
        while !wave.is_empty() {
            let mut next = Vec::new();
            for &i in &wave {
                for &j in &g.dependents[i] {
                    waiting[j] -= 1;
                    if waiting[j] == 0 {
                        next.push(j);
                    }
                }
            }
            next.sort_unstable();
            out.push(std::mem::replace(&mut wave, next));
        }
        out
    }
}
