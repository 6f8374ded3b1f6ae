//! A reducer without conditions and without an input model: its context is `()`.

use onex_runtime::{FsmError, FsmExecutor, ReducerNode, reducer_node};

#[reducer_node(contract = "../contracts/reducer_no_guards.yaml")]
#[derive(Clone, Copy, Debug)]
pub struct Turnstile;

type S = TurnstileState;
type T = TurnstileTrigger;
type I = TurnstileIntent;

fn main() {
    let _: <Turnstile as ReducerNode>::Context = ();
    let mut fsm = FsmExecutor::new(Turnstile);
    assert_eq!(fsm.state(), S::Locked);
    assert_eq!(
        fsm.fire(T::Push, &()).unwrap_err(),
        FsmError::NoTransition {
            state: "locked",
            trigger: "push"
        }
    );
    let t = fsm.fire(T::Coin, &()).unwrap();
    assert_eq!((t.to, t.name), (S::Unlocked, "pay"));
    assert_eq!(t.intents, &[I::CountCoin, I::Unlock]);
    // A self-loop runs the state's entry actions again.
    let t = fsm.fire(T::Coin, &()).unwrap();
    assert_eq!(t.intents, &[I::ReturnCoin, I::Unlock]);
    assert_eq!(fsm.fire(T::Push, &()).unwrap().intents, &[I::Lock]);
    assert_eq!(fsm.fire_named("retire", &()).unwrap().to, S::Retired);
    assert!(fsm.is_terminal());
}
