//! The cross-node milestone: an ORCHESTRATOR driving an EFFECT, a COMPUTE and a REDUCER
//! node, all four declared from their contracts (`workflow/*.yaml`), run by the
//! `WorkflowExecutor` in plain `cargo test`, without services.
//!
//! ```text
//!                ┌─> price_order (compute) ──┐
//! load_order ────┤                           ├─> advance_lifecycle ─> record_outcome
//!   (effect)     └─> reserve_stock (effect) ─┘     (reducer)             (effect)
//! ```
//!
//! `price_order` reads the catalog prices from the store, then quotes through `pricing`;
//! `reserve_stock` is compensable (its compensation gives the stock back).
//!
//! The orchestrator holds one typed client per node (`EffectClient<OrderStore>`,
//! `ComputeClient<Pricing>`, `ReducerClient<OrderLifecycle>`) and every step calls its node
//! with `cx.call(&self.…, input)`; `bind(step = Node, …)` checks at compile time that each
//! bound node is of the kind its step declares. The store keeps its data in memory and waits
//! a configurable latency in every operation, so the timing tests see real concurrency.
//!
//! Timing assertions use real time with wide margins (hundreds of milliseconds), so a busy
//! machine does not make them flaky.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use onex_runtime::fsm::{ReducerInput, TransitionOf};
use onex_runtime::workflow::{
    AttemptOutcome, ExecutionMode, FailureStrategy, StepOutcome, StepTrace, WorkflowStatus,
};
use onex_runtime::{
    ComputeClient, EffectClient, EffectContext, ErrorCode, NodeKind, OnexError, OrchestratorNode,
    ReducerClient, Uuid, WorkflowContext, WorkflowExecutor, WorkflowTrace, compute_node,
    effect_node, orchestrator_node, reducer_node,
};
use order_store::{
    ModelOrder, ModelOrderLine, ModelOrderQuery, ModelOutcome, ModelPricedLine, ModelPricedOrder,
    ModelReceipt, ModelReservation,
};
use serde_json::json;
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------
// EFFECT: the order store.

/// How long each store operation waits before it touches its data.
#[derive(Clone, Copy, Debug)]
struct Latency {
    load: Duration,
    prices: Duration,
    stock: Duration,
    record: Duration,
}

impl Latency {
    /// Short waits everywhere.
    const QUICK: Latency = Latency {
        load: ms(5),
        prices: ms(5),
        stock: ms(5),
        record: ms(5),
    };

    /// `QUICK`, with the stock reservation taking `stock`.
    const fn slow_stock(stock: Duration) -> Latency {
        Latency {
            stock,
            ..Latency::QUICK
        }
    }
}

/// Faults a test switches on.
#[derive(Debug, Default)]
struct Faults {
    /// The next this-many `load_order` calls fail (a flaky database connection).
    failing_loads: AtomicU32,
    /// `record_outcome` panics (a bug in the ledger code).
    panic_on_record: AtomicBool,
}

/// One call the store received.
#[derive(Clone, Debug)]
struct Call {
    operation: &'static str,
    correlation_id: Uuid,
    node_name: &'static str,
    attempt: u32,
    start: Instant,
    /// When the handler returned or was dropped.
    end: Option<Instant>,
}

/// The EFFECT node: orders, catalog prices, stock and an outcome ledger in memory.
#[effect_node(contract = "workflow/order_store.yaml")]
pub struct OrderStore {
    orders: BTreeMap<&'static str, ModelOrder>,
    prices: BTreeMap<&'static str, i64>,
    stock: Mutex<BTreeMap<String, i64>>,
    ledger: Mutex<Vec<ModelOutcome>>,
    latency: Latency,
    faults: Faults,
    calls: Mutex<Vec<Call>>,
    /// Handlers running right now (a dropped handler counts down too).
    running: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a handler as running until it returns or is dropped, and timestamps its call.
struct Running<'a> {
    store: &'a OrderStore,
    index: usize,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(call) = lock(&self.store.calls).get_mut(self.index) {
            call.end = Some(Instant::now());
        }
        self.store.running.fetch_sub(1, Ordering::SeqCst);
    }
}

fn line(sku: &str, quantity: i64) -> ModelOrderLine {
    ModelOrderLine {
        sku: sku.to_owned(),
        quantity,
    }
}

fn order(
    id: &'static str,
    tier: order_store::ModelOrderCustomerTier,
    coupon: Option<&str>,
    lines: Vec<ModelOrderLine>,
) -> (&'static str, ModelOrder) {
    let order = ModelOrder {
        order_id: id.to_owned(),
        customer_tier: tier,
        coupon: coupon.map(str::to_owned),
        lines,
    };
    (id, order)
}

/// Widgets cost 12.50, gadgets 49.99, gizmos 8.99.
const WIDGET_CENTS: i64 = 1_250;
const GADGET_CENTS: i64 = 4_999;
const GIZMO_CENTS: i64 = 899;
/// What the store has before any reservation.
const STOCK: [(&str, i64); 3] = [("widget", 50), ("gadget", 10), ("gizmo", 1)];

impl OrderStore {
    /// The catalog every test starts from:
    ///
    /// - `o-1001`: a gold customer's 2 widgets and a gadget, in stock: confirmed;
    /// - `o-1002`: 5 gizmos, only 1 in stock: backordered;
    /// - `o-1003`: a coupon that does not exist: pricing fails;
    /// - `o-1004`: 45 widgets, in stock but over the 500.00 credit limit: the lifecycle
    ///   rejects it.
    fn new(latency: Latency) -> Self {
        use order_store::ModelOrderCustomerTier::{Gold, Standard};
        OrderStore {
            orders: BTreeMap::from([
                order(
                    "o-1001",
                    Gold,
                    None,
                    vec![line("widget", 2), line("gadget", 1)],
                ),
                order("o-1002", Standard, None, vec![line("gizmo", 5)]),
                order("o-1003", Standard, Some("EXPIRED"), vec![line("widget", 1)]),
                order("o-1004", Standard, None, vec![line("widget", 45)]),
            ]),
            prices: BTreeMap::from([
                ("widget", WIDGET_CENTS),
                ("gadget", GADGET_CENTS),
                ("gizmo", GIZMO_CENTS),
            ]),
            stock: Mutex::new(STOCK.map(|(sku, n)| (sku.to_owned(), n)).into()),
            ledger: Mutex::new(Vec::new()),
            latency,
            faults: Faults::default(),
            calls: Mutex::new(Vec::new()),
            running: AtomicUsize::new(0),
        }
    }

    /// Records the call and counts the handler as running.
    fn begin(&self, operation: &'static str, ctx: &EffectContext) -> Running<'_> {
        let mut calls = lock(&self.calls);
        calls.push(Call {
            operation,
            correlation_id: ctx.correlation_id(),
            node_name: ctx.node_name(),
            attempt: ctx.attempt(),
            start: Instant::now(),
            end: None,
        });
        self.running.fetch_add(1, Ordering::SeqCst);
        Running {
            store: self,
            index: calls.len() - 1,
        }
    }

    fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    fn calls_to(&self, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation == operation)
            .collect()
    }

    fn stock_of(&self, sku: &str) -> i64 {
        lock(&self.stock).get(sku).copied().unwrap_or_default()
    }

    fn ledger(&self) -> Vec<ModelOutcome> {
        lock(&self.ledger).clone()
    }
}

impl OrderStoreHandler for OrderStore {
    async fn load_order(
        &self,
        ctx: &EffectContext,
        input: ModelOrderQuery,
    ) -> Result<ModelOrder, OnexError> {
        let _running = self.begin("load_order", ctx);
        tokio::time::sleep(self.latency.load).await;
        let flaky =
            self.faults
                .failing_loads
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if flaky.is_ok() {
            return Err(OnexError::new(
                ErrorCode::OperationFailed,
                "connection reset by the order database",
            ));
        }
        self.orders
            .get(input.order_id.as_str())
            .cloned()
            .ok_or_else(|| {
                OnexError::validation(format!("no order `{}`", input.order_id))
                    .with_context("order_id", input.order_id)
            })
    }

    async fn load_prices(
        &self,
        ctx: &EffectContext,
        input: ModelOrder,
    ) -> Result<ModelPricedOrder, OnexError> {
        let _running = self.begin("load_prices", ctx);
        tokio::time::sleep(self.latency.prices).await;
        let lines = input
            .lines
            .into_iter()
            .map(|l| {
                let unit_cents = *self.prices.get(l.sku.as_str()).ok_or_else(|| {
                    OnexError::validation(format!("`{}` is not in the catalog", l.sku))
                })?;
                Ok(ModelPricedLine {
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_cents,
                })
            })
            .collect::<Result<_, OnexError>>()?;
        Ok(ModelPricedOrder {
            customer_tier: input.customer_tier.as_str().to_owned(),
            coupon: input.coupon,
            lines,
        })
    }

    async fn reserve_stock(
        &self,
        ctx: &EffectContext,
        input: ModelOrder,
    ) -> Result<ModelReservation, OnexError> {
        let _running = self.begin("reserve_stock", ctx);
        tokio::time::sleep(self.latency.stock).await;
        let mut stock = lock(&self.stock);
        let in_stock = input
            .lines
            .iter()
            .all(|l| stock.get(&l.sku).is_some_and(|n| *n >= l.quantity));
        let mut reserved = BTreeMap::new();
        if in_stock {
            for l in &input.lines {
                *stock.entry(l.sku.clone()).or_default() -= l.quantity;
                *reserved.entry(l.sku.clone()).or_default() += l.quantity;
            }
        }
        Ok(ModelReservation {
            order_id: input.order_id,
            in_stock,
            reserved,
        })
    }

    async fn release_stock(
        &self,
        ctx: &EffectContext,
        input: ModelReservation,
    ) -> Result<ModelReservation, OnexError> {
        let _running = self.begin("release_stock", ctx);
        tokio::time::sleep(self.latency.stock).await;
        let mut stock = lock(&self.stock);
        for (sku, n) in &input.reserved {
            *stock.entry(sku.clone()).or_default() += n;
        }
        Ok(ModelReservation {
            reserved: BTreeMap::new(),
            ..input
        })
    }

    async fn record_outcome(
        &self,
        ctx: &EffectContext,
        input: ModelOutcome,
    ) -> Result<ModelReceipt, OnexError> {
        let _running = self.begin("record_outcome", ctx);
        tokio::time::sleep(self.latency.record).await;
        assert!(
            !self.faults.panic_on_record.load(Ordering::SeqCst),
            "the ledger is corrupt"
        );
        let mut ledger = lock(&self.ledger);
        let line = format!("{} {} {}", input.order_id, input.state, input.total_cents);
        ledger.push(input);
        Ok(ModelReceipt {
            entry: i64::try_from(ledger.len() - 1).unwrap_or(i64::MAX),
            line,
        })
    }
}

// ---------------------------------------------------------------------------------------
// COMPUTE: pricing.

/// The COMPUTE node: subtotal, a 10 % gold-tier discount, and the `SAVE5` coupon (5.00 off).
#[compute_node(contract = "workflow/pricing.yaml")]
pub struct Pricing;

impl PricingHandler for Pricing {
    fn handle(&self, input: pricing::ModelPriceRequest) -> Result<pricing::ModelQuote, OnexError> {
        let subtotal_cents: i64 = input.lines.iter().map(|l| l.quantity * l.unit_cents).sum();
        let tier = match input.customer_tier.as_str() {
            "gold" => subtotal_cents / 10,
            _ => 0,
        };
        let coupon = match input.coupon.as_deref() {
            None => 0,
            Some("SAVE5") => 500,
            Some(other) => {
                return Err(OnexError::validation(format!("unknown coupon `{other}`"))
                    .with_context("coupon", other));
            }
        };
        let discount_cents = (tier + coupon).min(subtotal_cents);
        Ok(pricing::ModelQuote {
            subtotal_cents,
            discount_cents,
            total_cents: subtotal_cents - discount_cents,
        })
    }
}

// ---------------------------------------------------------------------------------------
// REDUCER: the order lifecycle.

/// The REDUCER node: `pending --confirm--> confirmed | backordered`, guarded by the facts the
/// store and pricing produced.
#[reducer_node(contract = "workflow/order_lifecycle.yaml")]
pub struct OrderLifecycle;

// ---------------------------------------------------------------------------------------
// ORCHESTRATOR: fulfilment.

/// What `advance_lifecycle` decided, with the figures `record_outcome` writes down.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Decision {
    /// The order.
    pub order_id: String,
    /// The lifecycle transition taken.
    pub transition: TransitionOf<OrderLifecycle>,
    /// The quoted total.
    pub total_cents: i64,
}

/// The ORCHESTRATOR: one client per node it calls.
#[orchestrator_node(
    contract = "workflow/order_fulfilment.yaml",
    bind(
        load_order = OrderStore,
        price_order = Pricing,
        reserve_stock = OrderStore,
        advance_lifecycle = OrderLifecycle,
        record_outcome = OrderStore,
    )
)]
pub struct OrderFulfilment {
    store: EffectClient<OrderStore>,
    pricing: ComputeClient<Pricing>,
    lifecycle: ReducerClient<OrderLifecycle>,
}

/// The store answered with another operation's output (cannot happen: one operation's input
/// gets that operation's output).
fn mismatched(operation: &str, output: &OrderStoreOutput) -> OnexError {
    OnexError::internal(format!("`{operation}` answered {output:?}"))
}

impl OrderFulfilmentSteps for OrderFulfilment {
    type LoadOrder = ModelOrder;
    type PriceOrder = pricing::ModelQuote;
    type ReserveStock = ModelReservation;
    type AdvanceLifecycle = Decision;
    type RecordOutcome = ModelReceipt;

    async fn load_order(
        &self,
        input: &order_fulfilment::ModelOrderRequest,
        cx: &WorkflowContext,
    ) -> Result<ModelOrder, OnexError> {
        let query = ModelOrderQuery {
            order_id: input.order_id.clone(),
        };
        match cx
            .call(&self.store, OrderStoreInput::LoadOrder(query))
            .await?
        {
            OrderStoreOutput::LoadOrder(order) => Ok(order),
            other => Err(mismatched("load_order", &other)),
        }
    }

    async fn price_order(
        &self,
        _input: &order_fulfilment::ModelOrderRequest,
        deps: OrderFulfilmentPriceOrderDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<pricing::ModelQuote, OnexError> {
        let load = OrderStoreInput::LoadPrices(deps.load_order.clone());
        let priced = match cx.call(&self.store, load).await? {
            OrderStoreOutput::LoadPrices(priced) => priced,
            other => return Err(mismatched("load_prices", &other)),
        };
        let request = pricing::ModelPriceRequest {
            customer_tier: priced.customer_tier,
            coupon: priced.coupon,
            lines: priced
                .lines
                .into_iter()
                .map(|l| pricing::ModelPriceLine {
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_cents: l.unit_cents,
                })
                .collect(),
        };
        let PricingOutput::Process(quote) = cx
            .call(&self.pricing, PricingInput::Process(request))
            .await?;
        Ok(quote)
    }

    async fn reserve_stock(
        &self,
        _input: &order_fulfilment::ModelOrderRequest,
        deps: OrderFulfilmentReserveStockDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<ModelReservation, OnexError> {
        let reserve = OrderStoreInput::ReserveStock(deps.load_order.clone());
        match cx.call(&self.store, reserve).await? {
            OrderStoreOutput::ReserveStock(reservation) => Ok(reservation),
            other => Err(mismatched("reserve_stock", &other)),
        }
    }

    async fn compensate_reserve_stock(
        &self,
        _input: &order_fulfilment::ModelOrderRequest,
        output: &ModelReservation,
        cx: &WorkflowContext,
    ) -> Result<(), OnexError> {
        let release = OrderStoreInput::ReleaseStock(output.clone());
        match cx.call(&self.store, release).await? {
            OrderStoreOutput::ReleaseStock(_) => Ok(()),
            other => Err(mismatched("release_stock", &other)),
        }
    }

    async fn advance_lifecycle(
        &self,
        _input: &order_fulfilment::ModelOrderRequest,
        deps: OrderFulfilmentAdvanceLifecycleDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<Decision, OnexError> {
        let facts = order_lifecycle::ModelLifecycleFacts {
            in_stock: deps.reserve_stock.in_stock,
            total_cents: deps.price_order.total_cents,
        };
        let confirm = ReducerInput {
            trigger: OrderLifecycleTrigger::Confirm,
            context: facts,
        };
        let transition = cx.call(&self.lifecycle, confirm).await?;
        Ok(Decision {
            order_id: deps.reserve_stock.order_id.clone(),
            transition,
            total_cents: deps.price_order.total_cents,
        })
    }

    async fn record_outcome(
        &self,
        _input: &order_fulfilment::ModelOrderRequest,
        deps: OrderFulfilmentRecordOutcomeDeps<'_>,
        cx: &WorkflowContext,
    ) -> Result<ModelReceipt, OnexError> {
        let decision = deps.advance_lifecycle;
        let outcome = ModelOutcome {
            order_id: decision.order_id.clone(),
            state: decision.transition.to.as_str().to_owned(),
            total_cents: decision.total_cents,
        };
        match cx
            .call(&self.store, OrderStoreInput::RecordOutcome(outcome))
            .await?
        {
            OrderStoreOutput::RecordOutcome(receipt) => Ok(receipt),
            other => Err(mismatched("record_outcome", &other)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

type Executor = WorkflowExecutor<OrderFulfilment>;
type Step = OrderFulfilmentStep;
type State = OrderLifecycleState;
type Intent = OrderLifecycleIntent;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A fresh store, pricing node and lifecycle behind a fresh orchestrator.
fn shop(latency: Latency) -> Executor {
    WorkflowExecutor::new(OrderFulfilment {
        store: EffectClient::new(OrderStore::new(latency)),
        pricing: ComputeClient::new(Pricing),
        lifecycle: ReducerClient::new(OrderLifecycle),
    })
}

fn store(executor: &Executor) -> &OrderStore {
    executor.node().store.node()
}

fn request(order_id: &str) -> order_fulfilment::ModelOrderRequest {
    order_fulfilment::ModelOrderRequest {
        order_id: order_id.to_owned(),
    }
}

/// `(step, status)` for every step of a trace, in trace order.
fn statuses(trace: &WorkflowTrace) -> Vec<(&'static str, &'static str)> {
    trace
        .steps
        .iter()
        .map(|s| (s.step, s.outcome.as_str()))
        .collect()
}

fn traced<'t>(trace: &'t WorkflowTrace, step: &str) -> &'t StepTrace {
    trace
        .step(step)
        .unwrap_or_else(|| panic!("`{step}` is missing from the trace:\n{trace}"))
}

/// No task outlived the run and no store handler is still running.
fn assert_nothing_left_running(executor: &Executor) {
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0,
        "a task outlived the run"
    );
    assert_eq!(
        store(executor).running.load(Ordering::SeqCst),
        0,
        "a store handler outlived the run"
    );
    assert!(
        store(executor).calls().iter().all(|c| c.end.is_some()),
        "{:?}",
        store(executor).calls()
    );
}

/// The stock is what the store started with.
fn assert_stock_untouched(executor: &Executor) {
    for (sku, n) in STOCK {
        assert_eq!(store(executor).stock_of(sku), n, "{sku}");
    }
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_plan_fans_out_after_load_order() {
    let plan = <OrderFulfilment as OrchestratorNode>::PLAN;
    assert_eq!(plan.name, "order_fulfilment");
    assert_eq!(
        plan.waves,
        &[
            &[Step::LoadOrder][..],
            &[Step::PriceOrder, Step::ReserveStock][..],
            &[Step::AdvanceLifecycle][..],
            &[Step::RecordOutcome][..],
        ]
    );
    assert_eq!(
        plan.order,
        &[
            Step::LoadOrder,
            Step::PriceOrder,
            Step::ReserveStock,
            Step::AdvanceLifecycle,
            Step::RecordOutcome
        ]
    );
    let kinds: Vec<NodeKind> = plan.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            NodeKind::Effect,
            NodeKind::Compute,
            NodeKind::Effect,
            NodeKind::Reducer,
            NodeKind::Effect
        ]
    );
    let compensable: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.compensable)
        .map(|s| s.id)
        .collect();
    assert_eq!(compensable, ["reserve_stock"]);
    assert_eq!(plan.rules.mode, ExecutionMode::Parallel);
    assert_eq!(plan.rules.failure_strategy, FailureStrategy::FailFast);
    assert_eq!(plan.rules.max_retries, 3);
    assert_eq!(plan.rules.max_parallel_steps, None);
}

#[tokio::test]
async fn data_flows_from_the_effect_and_compute_into_the_reducer_and_the_ledger() {
    // In stock: the lifecycle confirms the order with the total pricing computed.
    let executor = shop(Latency::QUICK);
    let run = executor
        .run(request("o-1001"))
        .await
        .unwrap_or_else(|f| panic!("o-1001 is fulfilled: {}\n{}", f.error, f.trace));

    let order = run.outputs.load_order().expect("load_order completed");
    assert_eq!(order.lines.len(), 2);
    // 2 × 12.50 + 49.99 = 74.99; gold takes 10 % (7.49) off.
    let quote = run.outputs.price_order().expect("price_order completed");
    assert_eq!(
        (
            quote.subtotal_cents,
            quote.discount_cents,
            quote.total_cents
        ),
        (7_499, 749, 6_750)
    );
    let reservation = run
        .outputs
        .reserve_stock()
        .expect("reserve_stock completed");
    assert!(reservation.in_stock);
    assert_eq!(
        reservation.reserved,
        BTreeMap::from([("gadget".to_owned(), 1), ("widget".to_owned(), 2)])
    );
    let decision = run.outputs.advance_lifecycle().expect("decided");
    let t = decision.transition;
    assert_eq!(
        (t.from, t.to, t.name),
        (State::Pending, State::Confirmed, "confirm_order")
    );
    assert_eq!(
        t.intents,
        &[
            Intent::StopHoldTimer,
            Intent::CapturePayment,
            Intent::ScheduleShipment
        ]
    );
    assert_eq!(decision.total_cents, quote.total_cents);
    let receipt = run.outputs.record_outcome().expect("recorded");
    assert_eq!(
        (receipt.entry, receipt.line.as_str()),
        (0, "o-1001 confirmed 6750")
    );

    // What the nodes hold now.
    let store = store(&executor);
    assert_eq!(store.stock_of("widget"), 48);
    assert_eq!(store.stock_of("gadget"), 9);
    let ledger = store.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].state.as_str(), ledger[0].total_cents),
        ("confirmed", 6_750)
    );
    assert_eq!(executor.node().lifecycle.state(), State::Confirmed);
    let operations: Vec<&str> = store.calls().iter().map(|c| c.operation).collect();
    assert_eq!(operations.len(), 4, "{operations:?}");
    assert_eq!(operations[0], "load_order");
    assert_eq!(operations[3], "record_outcome");

    // The report carries every output as JSON.
    let report = run.report().expect("the outputs serialize");
    assert_eq!(report.outputs["price_order"]["total_cents"], 6_750);
    assert_eq!(
        report.outputs["advance_lifecycle"]["transition"]["to_state"],
        "confirmed"
    );
    assert_eq!(
        report.outputs["record_outcome"]["line"],
        "o-1001 confirmed 6750"
    );

    // Short of stock: nothing is reserved and the same trigger backorders the order.
    let executor = shop(Latency::QUICK);
    let run = executor
        .run(request("o-1002"))
        .await
        .unwrap_or_else(|f| panic!("o-1002 is backordered: {}\n{}", f.error, f.trace));
    let reservation = run
        .outputs
        .reserve_stock()
        .expect("reserve_stock completed");
    assert!(!reservation.in_stock);
    assert!(reservation.reserved.is_empty());
    assert_eq!(
        run.outputs.price_order().map(|q| q.total_cents),
        Some(5 * GIZMO_CENTS)
    );
    let t = run.outputs.advance_lifecycle().expect("decided").transition;
    assert_eq!((t.to, t.name), (State::Backordered, "backorder"));
    assert_eq!(t.intents, &[Intent::StopHoldTimer, Intent::NotifyCustomer]);
    assert_eq!(
        run.outputs.record_outcome().map(|r| r.line.as_str()),
        Some("o-1002 backordered 4495")
    );
    assert_stock_untouched(&executor);
    assert_eq!(executor.node().lifecycle.state(), State::Backordered);
}

#[tokio::test]
async fn parallel_branches_overlap_in_time() {
    let latency = Latency {
        load: ms(20),
        prices: ms(300),
        stock: ms(300),
        record: ms(0),
    };
    let sum_of_sleeps = latency.load + latency.prices + latency.stock + latency.record;
    let critical_path = latency.load + latency.stock + latency.record;

    let executor = shop(latency);
    let started = Instant::now();
    let run = executor
        .run(request("o-1001"))
        .await
        .unwrap_or_else(|f| panic!("{}\n{}", f.error, f.trace));
    let took = started.elapsed();
    assert!(took >= critical_path, "{took:?}");
    assert!(
        took < sum_of_sleeps,
        "the two 300 ms branches did not overlap: {took:?}\n{}",
        run.trace
    );

    // In the trace: the branches' intervals intersect, by most of their length.
    let (price, stock) = (
        traced(&run.trace, "price_order"),
        traced(&run.trace, "reserve_stock"),
    );
    let interval = |s: &StepTrace| (s.start.expect("started"), s.end.expect("ended"));
    let ((p0, p1), (s0, s1)) = (interval(price), interval(stock));
    assert!(p0 < s1 && s0 < p1, "{}", run.trace);
    let overlap = p1.min(s1).saturating_sub(p0.max(s0));
    assert!(overlap >= ms(150), "overlap {overlap:?}\n{}", run.trace);
    // Both branches start when `load_order` ends; the lifecycle waits for both.
    let load_end = traced(&run.trace, "load_order").end.expect("ended");
    assert!(p0 >= load_end && s0 >= load_end, "{}", run.trace);
    let advance_start = traced(&run.trace, "advance_lifecycle")
        .start
        .expect("started");
    assert!(advance_start >= p1 && advance_start >= s1, "{}", run.trace);

    // In the store: the two sleeping handlers ran at the same time.
    let during = |op: &str| {
        let calls = store(&executor).calls_to(op);
        assert_eq!(calls.len(), 1, "{op}: {calls:?}");
        (calls[0].start, calls[0].end.expect("returned"))
    };
    let ((a0, a1), (b0, b1)) = (during("load_prices"), during("reserve_stock"));
    assert!(
        a0 < b1 && b0 < a1,
        "load_prices {a0:?}..{a1:?}, reserve_stock {b0:?}..{b1:?}"
    );

    // The same workflow in sequential mode takes at least the sum of its sleeps.
    let sequential = shop(latency).with_mode(ExecutionMode::Sequential);
    let started = Instant::now();
    sequential
        .run(request("o-1001"))
        .await
        .unwrap_or_else(|f| panic!("{}\n{}", f.error, f.trace));
    assert!(started.elapsed() >= sum_of_sleeps);
}

#[tokio::test]
async fn fail_fast_cancels_the_sibling_and_leaves_dependents_not_run() {
    // `o-1003`'s coupon does not exist: pricing fails while the stock is still being
    // reserved (5 s).
    let executor =
        shop(Latency::slow_stock(ms(5_000))).with_failure_strategy(FailureStrategy::FailFast);
    let started = Instant::now();
    let failure = executor
        .run(request("o-1003"))
        .await
        .expect_err("the coupon is unknown");
    assert!(started.elapsed() < ms(2_000), "{:?}", started.elapsed());

    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.status, WorkflowStatus::Failed);
    assert_eq!(failure.step, Some(Step::PriceOrder));
    let context = failure.error.context();
    assert_eq!(context["step"], "price_order");
    assert_eq!(
        context["cause"]["error_code"],
        "ONEX_CORE_006_VALIDATION_ERROR"
    );
    assert!(
        failure.error.message().contains("unknown coupon `EXPIRED`"),
        "{}",
        failure.error
    );
    assert_eq!(
        statuses(&failure.trace),
        [
            ("load_order", "completed"),
            ("price_order", "failed"),
            ("reserve_stock", "cancelled"),
            ("advance_lifecycle", "not_run"),
            ("record_outcome", "not_run"),
        ]
    );
    let reserve = traced(&failure.trace, "reserve_stock");
    assert_eq!(reserve.attempts.len(), 1);
    assert_eq!(reserve.attempts[0].outcome, AttemptOutcome::Cancelled);
    assert!(reserve.compensation.is_none());
    // What completed is kept; the cancelled reservation never touched the stock.
    assert!(failure.outputs.load_order().is_some());
    assert!(failure.outputs.reserve_stock().is_none());
    assert_stock_untouched(&executor);
    assert!(store(&executor).ledger().is_empty());
    assert_nothing_left_running(&executor);
}

#[tokio::test]
async fn retry_reruns_a_flaky_step_until_it_succeeds() {
    let executor = shop(Latency::QUICK).with_failure_strategy(FailureStrategy::Retry);
    store(&executor)
        .faults
        .failing_loads
        .store(2, Ordering::SeqCst);
    let run = executor
        .run(request("o-1001"))
        .await
        .unwrap_or_else(|f| panic!("the third load succeeds: {}\n{}", f.error, f.trace));

    let load = traced(&run.trace, "load_order");
    assert_eq!(load.outcome, StepOutcome::Completed);
    assert_eq!(load.attempts.len(), 3);
    let attempts: Vec<(u32, &str)> = load
        .attempts
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str()))
        .collect();
    assert_eq!(attempts, [(0, "failed"), (1, "failed"), (2, "completed")]);
    let AttemptOutcome::Failed { error } = &load.attempts[0].outcome else {
        panic!("{}", run.trace)
    };
    assert_eq!(error.code(), &ErrorCode::OperationFailed);
    // Backoff: 10 ms, then 20 ms.
    assert!(
        load.attempts[1].start >= load.attempts[0].end + ms(10),
        "{}",
        run.trace
    );
    assert!(
        load.attempts[2].start >= load.attempts[1].end + ms(20),
        "{}",
        run.trace
    );
    // Each attempt reached the store with its number and the run's correlation id.
    let loads = store(&executor).calls_to("load_order");
    let seen: Vec<(u32, Uuid)> = loads
        .iter()
        .map(|c| (c.attempt, c.correlation_id))
        .collect();
    assert_eq!(seen, [0, 1, 2].map(|attempt| (attempt, run.correlation_id)));
    // The other steps ran once, and the order went through.
    for step in [
        "price_order",
        "reserve_stock",
        "advance_lifecycle",
        "record_outcome",
    ] {
        assert_eq!(traced(&run.trace, step).attempts.len(), 1, "{step}");
    }
    assert_eq!(
        run.outputs.record_outcome().map(|r| r.line.as_str()),
        Some("o-1001 confirmed 6750")
    );

    // A database that stays down exhausts the retries (`max_retries: 3`: four attempts).
    let executor = shop(Latency::QUICK).with_failure_strategy(FailureStrategy::Retry);
    store(&executor)
        .faults
        .failing_loads
        .store(100, Ordering::SeqCst);
    let failure = executor
        .run(request("o-1001"))
        .await
        .expect_err("the database stays down");
    assert_eq!(failure.step, Some(Step::LoadOrder));
    assert_eq!(failure.error.context()["attempts"], 4);
    assert!(
        failure.error.message().contains("after 4 attempts"),
        "{}",
        failure.error
    );
    assert_eq!(traced(&failure.trace, "load_order").attempts.len(), 4);
    assert_eq!(
        failure.trace.steps_with("not_run"),
        [
            "price_order",
            "reserve_stock",
            "advance_lifecycle",
            "record_outcome"
        ]
    );
}

#[tokio::test]
async fn continue_skips_the_dependents_of_a_failed_step() {
    let executor =
        shop(Latency::slow_stock(ms(50))).with_failure_strategy(FailureStrategy::Continue);
    let failure = executor
        .run(request("o-1003"))
        .await
        .expect_err("pricing fails");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.step, Some(Step::PriceOrder));
    assert_eq!(
        failure.error.context()["failed_steps"],
        json!(["price_order"])
    );
    // The sibling branch ran to its end; what depends on the failed step was skipped.
    assert_eq!(
        statuses(&failure.trace),
        [
            ("load_order", "completed"),
            ("price_order", "failed"),
            ("reserve_stock", "completed"),
            ("advance_lifecycle", "skipped"),
            ("record_outcome", "skipped"),
        ]
    );
    for step in ["advance_lifecycle", "record_outcome"] {
        let skipped = traced(&failure.trace, step);
        assert_eq!(
            skipped.outcome,
            StepOutcome::Skipped {
                because: "price_order"
            }
        );
        assert!(skipped.start.is_none() && skipped.attempts.is_empty());
    }
    // Continue does not compensate: the reservation stands.
    let reservation = failure.outputs.reserve_stock().expect("reserved");
    assert_eq!(reservation.reserved["widget"], 1);
    assert_eq!(store(&executor).stock_of("widget"), 49);
    assert!(
        traced(&failure.trace, "reserve_stock")
            .compensation
            .is_none()
    );
    assert_eq!(executor.node().lifecycle.state(), State::Pending);
    assert!(store(&executor).ledger().is_empty());
    assert_nothing_left_running(&executor);
}

#[tokio::test]
async fn compensate_releases_the_reservation_when_the_lifecycle_rejects_the_order() {
    // `o-1004` is in stock, so 45 widgets are reserved; at 562.50 it is over the credit
    // limit, so neither guard of `confirm` holds and `advance_lifecycle` fails.
    let executor = shop(Latency::QUICK).with_failure_strategy(FailureStrategy::Compensate);
    let failure = executor
        .run(request("o-1004"))
        .await
        .expect_err("the lifecycle rejects the order");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(failure.step, Some(Step::AdvanceLifecycle));
    let cause = &failure.error.context()["cause"];
    assert_eq!(cause["error_code"], "ONEX_CORE_006_VALIDATION_ERROR");
    assert!(
        cause["message"]
            .as_str()
            .is_some_and(|m| m.contains("confirm_order")),
        "{cause}"
    );
    assert_eq!(
        statuses(&failure.trace),
        [
            ("load_order", "completed"),
            ("price_order", "completed"),
            ("reserve_stock", "completed"),
            ("advance_lifecycle", "failed"),
            ("record_outcome", "not_run"),
        ]
    );
    // The compensable step that completed was compensated; nothing else was.
    let reserve = traced(&failure.trace, "reserve_stock");
    let compensation = reserve.compensation.as_ref().expect("compensated");
    assert_eq!(compensation.outcome, AttemptOutcome::Completed);
    assert!(
        compensation.start
            >= traced(&failure.trace, "advance_lifecycle")
                .end
                .expect("ended")
    );
    assert!(compensation.start <= compensation.end);
    for step in ["load_order", "price_order", "advance_lifecycle"] {
        assert!(
            traced(&failure.trace, step).compensation.is_none(),
            "{step}"
        );
    }
    let releases = store(&executor).calls_to("release_stock");
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].correlation_id, failure.trace.correlation_id);
    assert_eq!(
        failure.error.correlation_id(),
        Some(failure.trace.correlation_id)
    );
    assert_stock_untouched(&executor);
    assert_eq!(executor.node().lifecycle.state(), State::Pending);
    assert!(store(&executor).ledger().is_empty());

    // Without compensation (fail fast) the same failure leaves the widgets reserved.
    let executor = shop(Latency::QUICK).with_failure_strategy(FailureStrategy::FailFast);
    let failure = executor.run(request("o-1004")).await.expect_err("rejected");
    assert!(
        traced(&failure.trace, "reserve_stock")
            .compensation
            .is_none()
    );
    assert_eq!(store(&executor).stock_of("widget"), 50 - 45);
    assert_nothing_left_running(&executor);
}

#[tokio::test]
async fn the_trace_accounts_for_every_step() {
    let executor = shop(Latency::QUICK);
    let pending = executor.node().lifecycle.snapshot();
    let correlation_id = Uuid::new_v4();
    let cx = WorkflowContext::new(correlation_id, "caller");
    let run = executor
        .run_with(request("o-1001"), cx)
        .await
        .unwrap_or_else(|f| panic!("{}\n{}", f.error, f.trace));
    let trace = &run.trace;
    assert_eq!(run.correlation_id, correlation_id);
    assert_eq!(trace.correlation_id, correlation_id);
    assert_eq!(trace.workflow, "order_fulfilment");
    assert_eq!(trace.status, WorkflowStatus::Completed);

    // One entry per step, in start order (the fan-out in declaration order).
    let steps: Vec<&str> = trace.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            "load_order",
            "price_order",
            "reserve_stock",
            "advance_lifecycle",
            "record_outcome"
        ]
    );
    let plan = <OrderFulfilment as OrchestratorNode>::PLAN;
    for info in plan.steps {
        let s = traced(trace, info.id);
        assert_eq!(s.outcome, StepOutcome::Completed, "{}", info.id);
        let (start, end) = (s.start.expect("started"), s.end.expect("ended"));
        assert!(start <= end, "{}", info.id);
        assert!(end <= trace.elapsed, "{}", info.id);
        assert_eq!(s.attempts.len(), 1, "{}", info.id);
        let attempt = &s.attempts[0];
        assert_eq!(
            (attempt.attempt, &attempt.outcome),
            (0, &AttemptOutcome::Completed)
        );
        assert!(start <= attempt.start && attempt.start <= attempt.end && attempt.end <= end);
        assert!(s.compensation.is_none());
        // A step starts after every step it depends on ended.
        for dep in info.depends_on {
            let dep_end = traced(trace, dep.as_str()).end.expect("ended");
            assert!(start >= dep_end, "{} before {dep}\n{trace}", info.id);
        }
    }
    assert_eq!(trace.steps_with("completed").len(), 5);

    // Every store call, from every step, saw the run's correlation id.
    let calls = store(&executor).calls();
    assert_eq!(calls.len(), 4);
    for call in &calls {
        assert_eq!(call.correlation_id, correlation_id, "{call:?}");
        assert_eq!(call.node_name, "order_store");
    }

    // The JSON form and the timeline table.
    let json = trace.to_json().expect("the trace serializes");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["correlation_id"], correlation_id.to_string());
    let rows = json["steps"].as_array().expect("steps");
    assert_eq!(rows.len(), 5);
    for row in rows {
        assert_eq!(row["status"], "completed");
        assert!(row["start_ms"].as_f64() <= row["end_ms"].as_f64(), "{row}");
    }
    let table = trace.to_string();
    assert_eq!(table.lines().count(), 2 + 5, "{table}");
    assert!(
        table.starts_with("workflow `order_fulfilment` completed"),
        "{table}"
    );

    // `run` makes a fresh correlation id per run, which the store sees too. (The lifecycle
    // client drives one state machine for all runs: put it back to `pending` first.)
    executor
        .node()
        .lifecycle
        .restore(pending)
        .expect("a snapshot of this machine");
    let again = executor
        .run(request("o-1002"))
        .await
        .unwrap_or_else(|f| panic!("{}\n{}", f.error, f.trace));
    assert_ne!(again.correlation_id, correlation_id);
    let later: Vec<Uuid> = store(&executor).calls()[4..]
        .iter()
        .map(|c| c.correlation_id)
        .collect();
    assert_eq!(later, [again.correlation_id; 4]);
}

#[tokio::test]
async fn envelopes_in_reports_out_and_malformed_ones_are_invalid_input() {
    let executor = shop(Latency::QUICK);
    let malformed: [&[u8]; 5] = [
        b"{\"payload\": {\"order_id\": ",
        b"[1, 2, 3]",
        br#"{"payload": {"order": "o-1001"}}"#,
        br#"{"payload": {"order_id": 1001}}"#,
        br#"{"payload": {"order_id": "o-1001"}, "correlation_id": "not-a-uuid"}"#,
    ];
    for json in malformed {
        let err = executor
            .process_json(json)
            .await
            .expect_err("malformed envelope");
        assert_eq!(
            err.code(),
            &ErrorCode::InvalidInput,
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
    }
    // Nothing ran.
    assert!(store(&executor).calls().is_empty());

    // A well-formed payload that breaks the input model's constraints (`min_length: 1`) is
    // a validation error before any step runs.
    let err = executor
        .process_json(br#"{"payload": {"order_id": ""}}"#)
        .await
        .expect_err("an empty order id");
    assert_eq!(err.code(), &ErrorCode::Validation, "{err}");
    assert!(store(&executor).calls().is_empty());

    // A good envelope: the reply is correlated with it, and so was every store call.
    let request = br#"{"payload": {"order_id": "o-1001"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z",
                       "correlation_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}"#;
    let reply = executor.process_json(request).await.expect("fulfilled");
    let correlation_id: Uuid = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
        .parse()
        .expect("a uuid");
    assert_eq!(reply.correlation_id, Some(correlation_id));
    assert_eq!(reply.payload["workflow"], "order_fulfilment");
    assert_eq!(reply.payload["status"], "completed");
    assert_eq!(reply.payload["correlation_id"], correlation_id.to_string());
    assert_eq!(
        reply.payload["outputs"]["record_outcome"]["line"],
        "o-1001 confirmed 6750"
    );
    assert_eq!(
        reply.payload["trace"]["steps"].as_array().map(Vec::len),
        Some(5)
    );
    assert!(
        store(&executor)
            .calls()
            .iter()
            .all(|c| c.correlation_id == correlation_id)
    );

    // A well-formed envelope whose run fails: the error carries the step and the trace.
    let err = executor
        .process_json(br#"{"payload": {"order_id": "o-1003"}}"#)
        .await
        .expect_err("pricing fails");
    assert_eq!(err.code(), &ErrorCode::WorkflowStepFailed);
    assert_eq!(err.context()["step"], "price_order");
}

#[tokio::test]
async fn a_panicking_step_is_a_handler_execution_error_naming_the_step() {
    let executor = shop(Latency::QUICK);
    store(&executor)
        .faults
        .panic_on_record
        .store(true, Ordering::SeqCst);
    let failure = executor
        .run(request("o-1001"))
        .await
        .expect_err("the ledger panics");
    assert_eq!(failure.error.code(), &ErrorCode::HandlerExecution);
    assert_eq!(failure.step, Some(Step::RecordOutcome));
    assert_eq!(failure.status, WorkflowStatus::Failed);
    assert_eq!(failure.error.context()["step"], "record_outcome");
    assert_eq!(failure.error.context()["panic"], "the ledger is corrupt");
    assert!(
        failure.error.message().contains("step `record_outcome`")
            && failure.error.message().contains("the ledger is corrupt"),
        "{}",
        failure.error
    );
    assert_eq!(
        failure.error.correlation_id(),
        Some(failure.trace.correlation_id)
    );
    assert_eq!(
        traced(&failure.trace, "record_outcome").outcome,
        StepOutcome::Panicked {
            message: "the ledger is corrupt".to_owned()
        }
    );
    assert_eq!(failure.trace.steps_with("completed").len(), 4);
    // The panic unwound through the store's handler, which is not running any more.
    assert!(store(&executor).ledger().is_empty());
    assert_nothing_left_running(&executor);
}

#[tokio::test]
async fn cancellation_stops_the_run_promptly_without_leaking_work() {
    // The reservation takes 10 s; the caller cancels 100 ms into the run.
    let executor = shop(Latency::slow_stock(ms(10_000)));
    let correlation_id = Uuid::new_v4();
    let cx = WorkflowContext::new(correlation_id, "caller");
    let token = cx.cancellation_token().clone();
    let started = Instant::now();
    let (result, ()) = tokio::join!(executor.run_with(request("o-1001"), cx), async {
        tokio::time::sleep(ms(100)).await;
        token.cancel();
    });
    let took = started.elapsed();
    assert!(took < ms(1_000), "cancellation took {took:?}");
    let failure = result.expect_err("cancelled");
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowFailed);
    assert_eq!(failure.status, WorkflowStatus::Cancelled);
    assert_eq!(failure.step, None);
    assert_eq!(failure.error.correlation_id(), Some(correlation_id));
    assert_eq!(
        failure.error.context()["in_flight"],
        json!(["reserve_stock"])
    );
    assert_eq!(
        statuses(&failure.trace),
        [
            ("load_order", "completed"),
            ("price_order", "completed"),
            ("reserve_stock", "cancelled"),
            ("advance_lifecycle", "not_run"),
            ("record_outcome", "not_run"),
        ]
    );
    assert_nothing_left_running(&executor);
    // The dropped reservation never comes back to touch the stock.
    tokio::time::sleep(ms(50)).await;
    assert_stock_untouched(&executor);
    assert_eq!(executor.node().lifecycle.state(), State::Pending);

    // Dropping the run's future (a caller's own timeout) stops it just as cleanly.
    let executor = shop(Latency::slow_stock(ms(10_000)));
    let outcome = tokio::time::timeout(ms(100), executor.run(request("o-1001"))).await;
    assert!(outcome.is_err(), "the run was still going");
    assert_nothing_left_running(&executor);
    assert_stock_untouched(&executor);
}
