//! Rewind: a recorded session in the cockpit (`tradedeck replay FILE --cockpit`). The
//! recording's inputs go through a fresh engine at the pace asked for (paused, 1× to 1000×,
//! one step, or straight to the next fill, alert or halt); going back replays from the start
//! to the point asked for, which the engine being deterministic makes exact. Every pane shows
//! the engine's snapshot at that moment, and the performance view its ledger.

use crate::engine::{Action, Engine, Record, Snapshot, TradingFlag};
use crate::model::Timestamp;
use crate::perf::{Ledger, SharedLedger};
use crate::replay::{Header, Line, Lines, ReplayError, engine_of};
use crate::strategy::Registry;
use crate::tui::keymap::KeyAction;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The speeds offered, slowest first.
pub const SPEEDS: [u32; 10] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/// How often the driver moves a playing replay on.
const TICK: Duration = Duration::from_millis(50);

/// What a key asks of the replay.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Play or pause.
    Play,
    /// The next speed up.
    Faster,
    /// The next speed down.
    Slower,
    /// One input forward (pauses).
    Step,
    /// Through the next input that filled (pauses).
    NextFill,
    /// Back to the previous fill (pauses).
    PrevFill,
    /// Through the next input that raised an alert (pauses).
    NextAlert,
    /// Through the next input that halted trading (pauses).
    NextHalt,
}

impl Control {
    /// The control a key action stands for.
    pub fn of(a: KeyAction) -> Option<Control> {
        Some(match a {
            KeyAction::ReplayPlay => Control::Play,
            KeyAction::ReplayFaster => Control::Faster,
            KeyAction::ReplaySlower => Control::Slower,
            KeyAction::ReplayStep => Control::Step,
            KeyAction::ReplayNextFill => Control::NextFill,
            KeyAction::ReplayPrevFill => Control::PrevFill,
            KeyAction::ReplayNextAlert => Control::NextAlert,
            KeyAction::ReplayNextHalt => Control::NextHalt,
            _ => return None,
        })
    }
}

/// Where a replay stands, for the time bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Moving on by itself.
    pub playing: bool,
    /// Times real time.
    pub speed: u32,
    /// Inputs handled.
    pub at: usize,
    /// Inputs in the recording.
    pub total: usize,
    /// Engine time now.
    pub now: Timestamp,
    /// The recording's first and last input times.
    pub span: (Timestamp, Timestamp),
    /// Fills so far, of all.
    pub fills: (usize, usize),
    /// What the last jump found (or why it found nothing).
    pub note: String,
}

/// Which inputs did what, found by one pass over the recording.
#[derive(Clone, Debug, Default)]
struct Marks {
    /// Inputs (by index) that filled.
    fills: Vec<usize>,
    /// Inputs that raised an alert.
    alerts: Vec<usize>,
    /// Inputs that halted trading.
    halts: Vec<usize>,
}

/// A recording loaded for rewinding, and the engine at the point reached.
pub struct Rewind {
    header: Header,
    inputs: Vec<Line>,
    registry: Registry,
    marks: Marks,
    engine: Engine,
    ledger: SharedLedger,
    /// Inputs handled.
    pos: usize,
    /// Engine time of the replay clock (it runs ahead of `pos` between inputs).
    clock: Timestamp,
    playing: bool,
    speed: usize,
    note: String,
}

/// What `actions` did: filled, alerted, halted.
fn effects(actions: &[Action]) -> (bool, bool, bool) {
    let mut e = (false, false, false);
    for a in actions {
        match a {
            Action::Alert(_) => e.1 = true,
            Action::Persist { record, .. } => match record.as_ref() {
                Record::Fill { .. } => e.0 = true,
                Record::Trading(TradingFlag::Halted(_)) => e.2 = true,
                _ => {}
            },
            _ => {}
        }
    }
    e
}

impl Rewind {
    /// Loads the recording in `input` (`path` names it in errors) and finds its fills,
    /// alerts and halts.
    ///
    /// # Errors
    /// An unreadable recording, or a strategy in it that cannot be built.
    pub fn load(
        input: impl std::io::BufRead,
        path: &str,
        registry: Registry,
    ) -> Result<Rewind, ReplayError> {
        let mut lines = Lines::open(input, path)?;
        let (mut engine, _) = lines.engine(&registry)?;
        let mut inputs = Vec::new();
        let mut marks = Marks::default();
        while let Some(l) = lines.next_line()? {
            let (fill, alert, halt) = effects(&engine.handle(l.event.clone(), l.now));
            let i = inputs.len();
            for (hit, list) in [
                (fill, &mut marks.fills),
                (alert, &mut marks.alerts),
                (halt, &mut marks.halts),
            ] {
                if hit {
                    list.push(i);
                }
            }
            inputs.push(l);
        }
        let header = lines.header;
        let (engine, ledger) = start(&header, &registry).map_err(|why| ReplayError::Format {
            path: path.to_string(),
            line: 1,
            why,
        })?;
        let clock = header.start;
        Ok(Rewind {
            header,
            inputs,
            registry,
            marks,
            engine,
            ledger: crate::perf::Shared::new(ledger),
            pos: 0,
            clock,
            playing: false,
            speed: 0,
            note: String::new(),
        })
    }

    /// The recording's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The engine at the point reached.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The ledger of the fills and checkpoints so far.
    pub fn ledger(&self) -> SharedLedger {
        self.ledger.clone()
    }

    /// Where the replay stands.
    pub fn status(&self) -> Status {
        let fills_so_far = self.marks.fills.partition_point(|i| *i < self.pos);
        Status {
            playing: self.playing,
            speed: SPEEDS[self.speed],
            at: self.pos,
            total: self.inputs.len(),
            now: self.clock,
            span: (
                self.header.start,
                self.inputs.last().map_or(self.header.start, |l| l.now),
            ),
            fills: (fills_so_far, self.marks.fills.len()),
            note: self.note.clone(),
        }
    }

    /// Handles the next input; `false` at the end.
    fn step(&mut self) -> bool {
        let Some(l) = self.inputs.get(self.pos) else {
            self.playing = false;
            return false;
        };
        let actions = self.engine.handle(l.event.clone(), l.now);
        self.clock = self.clock.max(l.now);
        self.ledger.feed(actions.iter().filter_map(|a| match a {
            Action::Persist { record, .. } => Some(record.as_ref()),
            _ => None,
        }));
        self.pos += 1;
        true
    }

    /// Replays to just after input `index` (from the start when that is behind).
    pub fn seek(&mut self, index: usize) {
        let target = (index + 1).min(self.inputs.len());
        if target < self.pos {
            self.seek_start();
        }
        while self.pos < target && self.step() {}
    }

    /// Plays to the end.
    pub fn to_end(&mut self) {
        while self.step() {}
    }

    /// Moves a playing replay on by `real` wall time.
    pub fn advance(&mut self, real: Duration) {
        if !self.playing {
            return;
        }
        let ms = (real.as_millis() as i64).saturating_mul(i64::from(SPEEDS[self.speed]));
        self.clock = self.clock.plus_ms(ms);
        while self
            .inputs
            .get(self.pos)
            .is_some_and(|l| l.now <= self.clock)
        {
            self.step();
        }
        if self.pos >= self.inputs.len() {
            self.playing = false;
            self.note = "end of the recording".into();
        }
    }

    /// The first of `list` at or after the point reached.
    fn next_of(&self, list: &[usize]) -> Option<usize> {
        list.get(list.partition_point(|i| *i < self.pos)).copied()
    }

    /// Does what `c` asks.
    pub fn control(&mut self, c: Control) {
        self.note.clear();
        let jump = |r: &mut Rewind, found: Option<usize>, what: &str| {
            r.playing = false;
            match found {
                Some(i) => r.seek(i),
                None => r.note = format!("no {what} after this point"),
            }
        };
        match c {
            Control::Play => {
                self.playing = !self.playing && self.pos < self.inputs.len();
            }
            Control::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            Control::Slower => self.speed = self.speed.saturating_sub(1),
            Control::Step => {
                self.playing = false;
                if !self.step() {
                    self.note = "end of the recording".into();
                }
            }
            Control::NextFill => jump(self, self.next_of(&self.marks.fills), "fill"),
            Control::NextAlert => jump(self, self.next_of(&self.marks.alerts), "alert"),
            Control::NextHalt => jump(self, self.next_of(&self.marks.halts), "halt"),
            Control::PrevFill => {
                self.playing = false;
                // the fill before the one just replayed
                let done = self.marks.fills.partition_point(|i| *i < self.pos);
                match done.checked_sub(2) {
                    Some(k) => self.seek(self.marks.fills[k]),
                    None => {
                        self.seek_start();
                        self.note = "no fill before this point: at the start".into();
                    }
                }
            }
        }
    }

    /// Back to the start of the recording.
    fn seek_start(&mut self) {
        if let Ok((engine, ledger)) = start(&self.header, &self.registry) {
            self.engine = engine;
            self.ledger.replace(ledger);
            self.pos = 0;
            self.clock = self.header.start;
        }
    }
}

/// A fresh engine and ledger as the recorded run began.
fn start(header: &Header, registry: &Registry) -> Result<(Engine, Ledger), String> {
    let (engine, _) = engine_of(header, registry)?;
    let mut ledger = Ledger::new();
    ledger.begin_run(header.run_id, header.start, &engine);
    Ok((engine, ledger))
}

/// Drives `rewind` for the cockpit until `controls` closes: moves it on while it plays, does
/// what each control asks, and publishes the snapshot and the status after each change.
pub async fn drive(
    mut rewind: Rewind,
    mut controls: mpsc::Receiver<Control>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    status: watch::Sender<Status>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let before = (rewind.pos, rewind.status());
        tokio::select! {
            c = controls.recv() => match c {
                Some(c) => rewind.control(c),
                None => return,
            },
            _ = tick.tick() => rewind.advance(TICK),
        }
        if rewind.pos != before.0 {
            snapshots.send_replace(Arc::new(rewind.engine.snapshot()));
        }
        let now = rewind.status();
        if now != before.1 {
            status.send_replace(now);
        }
    }
}
