//! The demo's nodes and how they are hosted: two PostgreSQL adapters, two lifecycle
//! reducers, one orchestrator, in one host or spread over several processes.

use std::sync::Arc;
use std::time::Duration;

use infra_reducer::ServiceLifecycle;
use onex_runtime::bus::EventBus;
use onex_runtime::host::{HostConfig, NodeHost};
use onex_runtime::postgres::{PgPool, PgSettings};
use onex_runtime::retry::RetryPolicy;
use onex_runtime::{EffectClient, FsmExecutor, NodeClient, OnexError, WorkflowExecutor};
use postgres_adapter::postgres_adapter::ModelExecuteRequest;
use postgres_adapter::{PostgresAdapter, PostgresAdapterInput};

use crate::instance::{PrimaryLifecycleNode, ReplicaAdapterNode, ReplicaLifecycleNode};
use crate::orchestrator::InfraDemoOrchestrator;
use onex_runtime::{ContractInfo, EffectNode, OrchestratorNode, ReducerNode};

/// Where the replica adapter points unless told otherwise: nothing listens on port 1, so the
/// replica is down whatever the machine runs (the failure the demo handles).
pub const UNREACHABLE_URL: &str = "postgres://postgres@127.0.0.1:1/unreachable";

/// The demo's table, created once at start.
pub const SCHEMA_SQL: [&str; 2] = [
    "CREATE SCHEMA IF NOT EXISTS infra_demo",
    "CREATE TABLE IF NOT EXISTS infra_demo.heartbeats (\
        id bigserial PRIMARY KEY, \
        run_id uuid NOT NULL, \
        round integer NOT NULL, \
        service text NOT NULL, \
        latency_ms double precision NOT NULL, \
        written_at timestamptz NOT NULL DEFAULT now())",
];

/// The nodes a process hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The two PostgreSQL adapters (EFFECT).
    Adapters,
    /// The two lifecycle reducers (REDUCER).
    Reducers,
    /// The orchestrator (ORCHESTRATOR).
    Orchestrator,
}

impl Role {
    /// All three, in the order they are started.
    pub const ALL: [Role; 3] = [Role::Adapters, Role::Reducers, Role::Orchestrator];

    /// `adapters`, `reducers` or `orchestrator`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Adapters => "adapters",
            Role::Reducers => "reducers",
            Role::Orchestrator => "orchestrator",
        }
    }
}

/// The databases the two adapters point at.
#[derive(Clone, Debug)]
pub struct Databases {
    /// The primary: `ONEX_POSTGRES_URL`, else `DATABASE_URL`, else `127.0.0.1:5432/test`.
    pub primary: PgSettings,
    /// The replica: [`UNREACHABLE_URL`] unless told otherwise.
    pub replica: PgSettings,
}

impl Databases {
    /// The primary from the environment, the replica from `replica_url` (else
    /// [`UNREACHABLE_URL`]); both give up connecting after one second.
    ///
    /// # Errors
    ///
    /// An environment variable or a URL that is not a connection string
    /// ([`ErrorCode::InvalidInput`](onex_runtime::ErrorCode::InvalidInput), never quoting it).
    pub fn from_env(replica_url: Option<&str>) -> Result<Databases, OnexError> {
        let primary = PgSettings::from_env()?.unwrap_or_else(PgSettings::local_default);
        let replica = PgSettings::parse(replica_url.unwrap_or(UNREACHABLE_URL))?;
        Ok(Databases::new(primary, replica))
    }

    /// The two databases, each with a one-second connect timeout and a small pool.
    pub fn new(primary: PgSettings, replica: PgSettings) -> Databases {
        let tune = |s: PgSettings| {
            s.with_connect_timeout(Duration::from_secs(1))
                .with_max_size(4)
        };
        Databases {
            primary: tune(primary),
            replica: tune(replica),
        }
    }
}

/// The two adapters (their pools open connections on first use: building them does no I/O).
#[derive(Clone, Debug)]
pub struct Fleet {
    /// The primary adapter.
    pub primary: PostgresAdapter,
    /// The replica adapter.
    pub replica: PostgresAdapter,
}

/// What [`Fleet::setup`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// The adapter's answer to the same DDL: refused by its SQL policy.
    pub refused_by_adapter: Option<String>,
    /// `Ok` when the table exists now; else why not (the database is down).
    pub created: Result<(), String>,
}

impl Fleet {
    /// Adapters for `databases`.
    ///
    /// # Errors
    ///
    /// Settings a pool cannot be built from.
    pub fn new(databases: &Databases) -> Result<Fleet, OnexError> {
        Ok(Fleet {
            primary: PostgresAdapter::new(PgPool::new(databases.primary.clone())?),
            replica: PostgresAdapter::new(PgPool::new(databases.replica.clone())?),
        })
    }

    /// Creates the demo's schema and table on the primary, through its pool directly.
    ///
    /// The adapter does not run DDL: its SQL policy lets `execute` run one `INSERT`,
    /// `UPDATE` or `DELETE` only. The setup first shows that (the adapter's refusal, given
    /// before any connection is made), then runs [`SCHEMA_SQL`] on the pool. A database that
    /// is down is reported, not an error: the demo goes on without heartbeats.
    pub async fn setup(&self) -> Setup {
        let ddl = PostgresAdapterInput::Execute(ModelExecuteRequest {
            sql: SCHEMA_SQL[1].to_owned(),
            params: Vec::new(),
            idempotency_key: None,
        });
        let refused_by_adapter = match EffectClient::new(self.primary.clone()).call(ddl).await {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        let pool = self.primary.pool();
        let mut created = Ok(());
        for sql in SCHEMA_SQL {
            if let Err(e) = pool.execute("infra_demo.setup", sql, &[], None).await {
                created = Err(e.message().to_owned());
                break;
            }
        }
        Setup {
            refused_by_adapter,
            created,
        }
    }
}

/// The node host configuration of the demo: a failed request is delivered twice at most
/// (the next round is the real retry), and shutdown drains for up to 10 s. Hosts of one
/// node share the durable consumer `infra-demo-<node>`.
pub fn host_config() -> HostConfig {
    HostConfig {
        max_deliver: 2,
        retry_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(50)),
        drain_timeout: Duration::from_secs(10),
        durable_prefix: "infra-demo".to_owned(),
        ..HostConfig::default()
    }
}

/// Starts a host on `bus` serving the nodes of `roles` (the adapters from `fleet`).
///
/// # Errors
///
/// The host's own start errors (see [`NodeHost`]); a bus that cannot be reached is not one
/// (the host keeps trying).
pub async fn serve(
    bus: Arc<dyn EventBus>,
    roles: &[Role],
    fleet: &Fleet,
) -> Result<NodeHost, OnexError> {
    let mut host = NodeHost::builder(Arc::clone(&bus)).config(host_config());
    if roles.contains(&Role::Adapters) {
        host = host
            .effect(fleet.primary.clone())
            .effect(ReplicaAdapterNode::new(fleet.replica.clone()));
    }
    if roles.contains(&Role::Reducers) {
        host = host
            .reducer(FsmExecutor::new(PrimaryLifecycleNode::new(
                ServiceLifecycle,
            )))
            .reducer(FsmExecutor::new(ReplicaLifecycleNode::new(
                ServiceLifecycle,
            )));
    }
    if roles.contains(&Role::Orchestrator) {
        host = host.orchestrator(WorkflowExecutor::new(InfraDemoOrchestrator::new(bus)?));
    }
    host.start().await
}

/// One of the demo's nodes, as the node table shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeInfo {
    /// Its contract (name, kind, topics).
    pub contract: &'static ContractInfo,
    /// The process role hosting it.
    pub role: Role,
    /// What it is, in a few words.
    pub what: &'static str,
}

/// The five nodes, in the order they are hosted.
pub fn nodes() -> [NodeInfo; 5] {
    [
        NodeInfo {
            contract: <PostgresAdapter as EffectNode>::CONTRACT,
            role: Role::Adapters,
            what: "the primary's adapter",
        },
        NodeInfo {
            contract: <ReplicaAdapterNode as EffectNode>::CONTRACT,
            role: Role::Adapters,
            what: "the replica's adapter",
        },
        NodeInfo {
            contract: <PrimaryLifecycleNode as ReducerNode>::CONTRACT,
            role: Role::Reducers,
            what: "the primary's lifecycle",
        },
        NodeInfo {
            contract: <ReplicaLifecycleNode as ReducerNode>::CONTRACT,
            role: Role::Reducers,
            what: "the replica's lifecycle",
        },
        NodeInfo {
            contract: <InfraDemoOrchestrator as OrchestratorNode>::CONTRACT,
            role: Role::Orchestrator,
            what: "one round per request",
        },
    ]
}
