// A user context type (`context = DoorSensors`) that lacks a field a guard reads: rustc's own
// "no field" error, on the attribute's `context = …`.
use onex_runtime::reducer_node;

/// What the door's sensors report.
pub struct DoorSensors {
    pub pressure: u32,
}

#[reducer_node(contract = "reducer_user_context_missing_field.yaml", context = DoorSensors)]
pub struct Door;

fn main() {}
