// A user context whose field is a `String` used with `less_than`: the `GuardNumber`
// diagnostic names the type and the operator family.
use onex_runtime::reducer_node;

/// What the door's sensors report.
pub struct DoorSensors {
    pub pressure: String,
}

#[reducer_node(contract = "reducer_user_context_numeric_on_string.yaml", context = DoorSensors)]
pub struct Door;

fn main() {}
