//! The testnet execution task every executing venue shares: it carries the engine's `Submit`
//! and `Cancel` actions to the venue and brings back what the venue says as
//! `Event::Execution`. A venue only says how to place, cancel and look up one order and how
//! to read its account ([`OrderVenue`]); what to do with the answers is decided here, once:
//!
//! * An order goes out once, with our client id; an answer that leaves its fate unknown (a
//!   5xx, a timeout after sending, an unreadable answer) is reported as `Unknown` and settled
//!   by looking the order up by that id, never by sending it again. An order the venue says
//!   twice it does not have is refused (the first "no such order" may race the request).
//! * Fills arrive on the venue's account stream; while it is down the live orders are polled.
//! * At start, and whenever the stream subscribes (the first time too: events before it may
//!   have been missed), the account is reconciled: every order the engine believes live is
//!   looked up first (so fills made meanwhile are booked), then the venue's open orders and
//!   balances are sent for the engine to compare with what it holds. A reconciliation that
//!   could not read the account is tried again at each poll until one does.

use crate::engine::{
    Event, ExecReport, ExecStream, PerpPosition, Venue, VenueAccount, VenueOrder, VenueStatus,
};
use crate::model::{Order, OrderId, Symbol};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// A request from the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecRequest {
    /// Place this order.
    Submit(Order),
    /// Cancel our order `id` on `symbol`.
    Cancel {
        /// Our order.
        id: OrderId,
        /// Its pair.
        symbol: Symbol,
    },
}

/// Why an order call did not give the order's state.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderError {
    /// No connection was made: nothing was sent, the order does not exist.
    NotSent(String),
    /// The venue refused the request (an order it refused does not exist there).
    Refused(String),
    /// The request may have reached the venue: what became of it is not known.
    Unknown(String),
}

/// A lookup's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    /// The order as the venue has it.
    Order(VenueOrder),
    /// The venue has no such order.
    Missing,
}

/// What a venue's account stream reports.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountFeed {
    /// Subscribed (again): events from here on arrive; before, some may have been missed.
    Subscribed,
    /// One of our orders changed.
    Order(VenueOrder),
    /// One of our orders changed: look it up (the push did not say all of it).
    Changed {
        /// Our order.
        id: OrderId,
        /// Its pair.
        symbol: Symbol,
    },
    /// The stream dropped or could not open; retrying.
    Lost {
        /// Attempt number, from 1.
        attempt: u32,
        /// What went wrong.
        why: String,
    },
}

/// One venue's order calls, as the execution task uses them.
pub trait OrderVenue: Send + Sync + 'static {
    /// Which venue this is.
    fn venue(&self) -> Venue;
    /// Whatever the venue needs before the first order (server time, contract sizes).
    fn prepare(&self) -> impl Future<Output = ()> + Send;
    /// Places `order` under our client id.
    fn place(&self, order: &Order) -> impl Future<Output = Result<VenueOrder, OrderError>> + Send;
    /// Cancels our order `id`.
    fn cancel(
        &self,
        id: OrderId,
        symbol: Symbol,
    ) -> impl Future<Output = Result<VenueOrder, OrderError>> + Send;
    /// Looks our order `id` up, with its trades when it has filled; `Err` says why the venue
    /// could not be asked (ask again later).
    fn look_up(
        &self,
        id: OrderId,
        symbol: Symbol,
    ) -> impl Future<Output = Result<Found, String>> + Send;
    /// The venue's open orders on `symbols` and the account's balances.
    fn account(
        &self,
        symbols: &[Symbol],
    ) -> impl Future<Output = Result<VenueAccount, String>> + Send;
    /// A futures venue's positions, read again for their marks and leverage (`None`: the
    /// venue has none, being spot).
    fn perps(&self) -> impl Future<Output = Option<Result<Vec<PerpPosition>, String>>> + Send {
        async { None }
    }
}

/// What an execution task needs.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    /// The testnet WebSocket carrying the account's events.
    pub ws_url: String,
    /// Whether `ws_url` may be this machine (the test hook `allow_loopback_orders`).
    pub loopback: super::urls::Loopback,
    /// The key and secret.
    pub keys: super::Keys,
    /// The pairs traded (their open orders are reconciled).
    pub symbols: Vec<Symbol>,
    /// Orders the engine holds live at start: (id, pair).
    pub live: Vec<(OrderId, Symbol)>,
    /// How often live orders are polled while the account stream is down (and a futures
    /// venue's positions read again).
    pub poll_every: Duration,
    /// Reconnect backoff of the account stream (first, cap).
    pub backoff: (Duration, Duration),
}

/// The task's state: the venue, where reports go, and the orders still live there.
struct Executor<V> {
    venue: V,
    tx: mpsc::Sender<Event>,
    symbols: Vec<Symbol>,
    /// Live orders by id: their pair, and whether what became of them is unknown.
    live: BTreeMap<OrderId, (Symbol, bool)>,
    /// Orders of unknown fate the venue said once it does not have (a request may still be
    /// on its way in: a second answer settles it).
    missing: BTreeSet<OrderId>,
}

/// Runs until the engine's request channel closes; `feed` is the venue's account stream
/// (closed when it has none: then live orders are polled all along).
pub async fn run<V: OrderVenue>(
    venue: V,
    cfg: &ExecConfig,
    mut requests: mpsc::UnboundedReceiver<ExecRequest>,
    mut feed: mpsc::Receiver<AccountFeed>,
    tx: mpsc::Sender<Event>,
) {
    let mut ex = Executor {
        venue,
        tx,
        symbols: cfg.symbols.clone(),
        live: cfg.live.iter().map(|(id, s)| (*id, (*s, false))).collect(),
        missing: BTreeSet::new(),
    };
    ex.venue.prepare().await;
    let mut reconciled = ex.reconcile().await;
    let (mut stream_up, mut feed_open) = (false, true);
    let mut poll = tokio::time::interval(cfg.poll_every);
    loop {
        tokio::select! {
            biased;
            req = requests.recv() => match req {
                Some(ExecRequest::Submit(order)) => ex.submit(&order).await,
                Some(ExecRequest::Cancel { id, symbol }) => ex.cancel(id, symbol).await,
                None => break,
            },
            f = feed.recv(), if feed_open => match f {
                Some(AccountFeed::Subscribed) => {
                    if !stream_up {
                        ex.stream(true, String::new()).await;
                    }
                    stream_up = true;
                    reconciled = ex.reconcile().await;
                }
                Some(AccountFeed::Order(v)) => ex.report(v).await,
                // an order that already ended was reported by the answer that ended it
                Some(AccountFeed::Changed { id, symbol }) => {
                    if ex.live.contains_key(&id) {
                        ex.look_up(id, symbol).await;
                    }
                }
                Some(AccountFeed::Lost { attempt, why }) => {
                    // said once per loss; each retry only goes to the log
                    if stream_up || attempt == 1 {
                        ex.stream(false, why.clone()).await;
                    }
                    stream_up = false;
                    tracing::info!(attempt, %why, "{} account stream down; polling orders", ex.venue.venue());
                }
                None => {
                    feed_open = false;
                    stream_up = false;
                }
            },
            _ = poll.tick() => {
                if !reconciled {
                    reconciled = ex.reconcile().await;
                } else if !stream_up || ex.live.values().any(|(_, unknown)| *unknown) {
                    ex.poll(!stream_up).await;
                }
                ex.refresh_perps().await;
            }
        }
    }
}

impl<V: OrderVenue> Executor<V> {
    /// Tells the engine how fills arrive now.
    async fn stream(&self, up: bool, why: String) {
        let x = ExecStream {
            venue: self.venue.venue(),
            up,
            why,
        };
        self.send(ExecReport::Stream(x)).await;
    }

    /// Sends one report to the engine.
    async fn send(&self, report: ExecReport) {
        let _ = self.tx.send(Event::Execution(report)).await;
    }

    /// A venue report about one of our orders: passed on, and the order forgotten once it
    /// has ended.
    async fn report(&mut self, v: VenueOrder) {
        let id = v.id;
        self.missing.remove(&id);
        if v.status == VenueStatus::Open {
            self.live.insert(id, (v.symbol, false));
        } else {
            self.live.remove(&id);
        }
        self.send(ExecReport::Order(v)).await;
    }

    async fn submit(&mut self, order: &Order) {
        let (id, symbol) = (order.id, order.request.symbol);
        match self.venue.place(order).await {
            Ok(v) => self.report(v).await,
            Err(OrderError::Unknown(why)) => self.unknown(id, symbol, why).await,
            Err(OrderError::NotSent(why)) => {
                let reason = format!("not sent: {why}");
                self.send(ExecReport::Refused { id, reason }).await;
            }
            Err(OrderError::Refused(reason)) => {
                self.send(ExecReport::Refused { id, reason }).await;
            }
        }
    }

    async fn cancel(&mut self, id: OrderId, symbol: Symbol) {
        match self.venue.cancel(id, symbol).await {
            Ok(v) => self.report(v).await,
            Err(OrderError::Refused(reason)) => {
                self.send(ExecReport::CancelRefused { id, reason }).await;
                // it may have filled or ended meanwhile: ask what it is now
                self.look_up(id, symbol).await;
            }
            Err(OrderError::Unknown(why) | OrderError::NotSent(why)) => {
                self.unknown(id, symbol, why).await
            }
        }
    }

    /// Marks order `id` as of unknown fate; the poll looks it up until the venue answers.
    async fn unknown(&mut self, id: OrderId, symbol: Symbol, why: String) {
        self.live.insert(id, (symbol, true));
        self.send(ExecReport::Unknown { id, why }).await;
    }

    /// Looks order `id` up and reports what the venue says; an order the venue never saw is
    /// refused.
    async fn look_up(&mut self, id: OrderId, symbol: Symbol) {
        match self.venue.look_up(id, symbol).await {
            Ok(Found::Order(v)) => self.report(v).await,
            Ok(Found::Missing) => {
                let unknown = self.live.get(&id).is_some_and(|(_, u)| *u);
                if unknown && self.missing.insert(id) {
                    return;
                }
                self.missing.remove(&id);
                self.live.remove(&id);
                let reason = format!(
                    "order {} never reached the venue ({})",
                    id.0,
                    self.venue.venue()
                );
                self.send(ExecReport::Refused { id, reason }).await;
            }
            Err(e) => {
                tracing::warn!(order = id.0, error = %e, "{} order lookup failed; trying again later", self.venue.venue())
            }
        }
    }

    /// Looks up the orders whose fate is unknown, or every live order when `all`.
    async fn poll(&mut self, all: bool) {
        let due: Vec<(OrderId, Symbol)> = self
            .live
            .iter()
            .filter(|(_, (_, unknown))| all || *unknown)
            .map(|(id, (s, _))| (*id, *s))
            .collect();
        for (id, symbol) in due {
            self.look_up(id, symbol).await;
        }
    }

    /// A futures venue's positions sent again, for their marks and leverage.
    async fn refresh_perps(&self) {
        match self.venue.perps().await {
            Some(Ok(positions)) => {
                let venue = self.venue.venue();
                self.send(ExecReport::Perps { venue, positions }).await
            }
            Some(Err(e)) => {
                tracing::info!(error = %e, "{} positions not read; trying again later", self.venue.venue())
            }
            None => {}
        }
    }

    /// Every live order looked up, then the venue's open orders and balances sent for the
    /// engine to compare; false when the account could not be read.
    async fn reconcile(&mut self) -> bool {
        self.poll(true).await;
        match self.venue.account(&self.symbols).await {
            Ok(account) => {
                for v in &account.open {
                    self.live.insert(v.id, (v.symbol, false));
                }
                self.send(ExecReport::Account(account)).await;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "{} reconciliation: account not read; trying again at the next poll", self.venue.venue());
                false
            }
        }
    }
}
