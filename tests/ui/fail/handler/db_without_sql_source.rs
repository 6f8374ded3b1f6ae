// A node with declarative `db` operations must say where their SQL runs (`impl SqlSource`).
use onex_runtime::effect_node;

#[effect_node(contract = "db_without_sql_source.yaml")]
pub struct UserStore;

fn main() {}
