//! The simulated feed task: yields the simulator's events paced against the wall clock.
//! Events older than the start (the warm-up history) are sent at once.

use crate::clock;
use crate::engine::{Event, FeedEvent, FeedKind, Venue};
use crate::model::Timestamp;
use crate::venues::sim::SimMarket;
use tokio::sync::mpsc;

/// Runs until the receiver is dropped. `speed` scales sim time against wall time; sim time
/// `start` corresponds to the moment the task starts.
pub async fn run_sim(mut sim: SimMarket, start: Timestamp, speed: f64, tx: mpsc::Sender<Event>) {
    let wall0 = clock::monotonic();
    let connected = Event::Feed(FeedEvent {
        venue: Venue::Sim,
        kind: FeedKind::Connected,
    });
    if tx.send(connected).await.is_err() {
        return;
    }
    loop {
        let mut ev = sim.next_event();
        let ahead_ms = ev.exchange_ts.since(start) as f64 / speed;
        if ahead_ms > 0.0 {
            let due = wall0 + std::time::Duration::from_micros((ahead_ms * 1000.0) as u64);
            tokio::time::sleep_until(due).await;
        }
        ev.received_ts = clock::now();
        if tx.send(Event::Market(ev)).await.is_err() {
            return;
        }
    }
}
