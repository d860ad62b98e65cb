//! What an execution task reports, as its tests read it: order and account reports in turn,
//! with how fills arrive (`Stream`), position reads (`Perps`) and the polls of one order
//! kept apart.

#![allow(dead_code)] // each test binary uses part of it

use std::time::Duration;
use tokio::sync::mpsc;
use tradedeck::engine::{Event, ExecReport, ExecStream, PerpPosition, VenueOrder};
use tradedeck::model::OrderId;

/// The task's reports, with the private channels' state, the position reads and the polls
/// of one order (`polled`) kept apart.
pub struct Reports {
    pub rx: mpsc::Receiver<Event>,
    pub streams: Vec<ExecStream>,
    pub perps: Vec<Vec<PerpPosition>>,
    pub polled: Option<OrderId>,
    /// The first account report was returned.
    pub account_seen: bool,
    /// Account reports after the first (each subscription reconciles again).
    pub accounts: Vec<tradedeck::engine::VenueAccount>,
}

impl Reports {
    /// Reads the reports arriving on `rx`.
    pub fn new(rx: mpsc::Receiver<Event>) -> Reports {
        Reports {
            rx,
            streams: Vec::new(),
            perps: Vec::new(),
            polled: None,
            account_seen: false,
            accounts: Vec::new(),
        }
    }

    /// The next report about orders or the account (within 10 s).
    pub async fn next(&mut self) -> ExecReport {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.rx.recv()).await {
                Ok(Some(Event::Execution(ExecReport::Stream(x)))) => self.streams.push(x),
                Ok(Some(Event::Execution(ExecReport::Perps { positions, .. }))) => {
                    self.perps.push(positions)
                }
                Ok(Some(Event::Execution(ExecReport::Order(v)))) if Some(v.id) == self.polled => {}
                Ok(Some(Event::Execution(ExecReport::Account(a)))) if self.account_seen => {
                    self.accounts.push(a)
                }
                Ok(Some(Event::Execution(ExecReport::Account(a)))) => {
                    self.account_seen = true;
                    return ExecReport::Account(a);
                }
                Ok(Some(Event::Execution(r))) => return r,
                other => panic!("expected an execution report, got {other:?}"),
            }
        }
    }
}

pub fn order_of(r: ExecReport) -> VenueOrder {
    match r {
        ExecReport::Order(v) => v,
        other => panic!("expected an order report, got {other:?}"),
    }
}
