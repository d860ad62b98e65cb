//! The keymap as data: every action with its keys and description. Help and the footer are
//! generated from it, and the `[keys]` config table rebinds actions by name.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Everything a key can do in the cockpit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyAction {
    /// Halt trading at once (works everywhere, no confirmation).
    EmergencyStop,
    /// Lift a halt after typing a confirmation.
    Resume,
    /// Quit (asks while orders or positions are open).
    Quit,
    /// The help overlay.
    Help,
    /// Next pair.
    NextSymbol,
    /// Previous pair.
    PrevSymbol,
    /// Pair number n (1-based).
    Symbol(u8),
    /// Cycle the chart timeframe.
    Timeframe,
    /// Show the next venue's book of the pair (when several venues list it).
    Venue,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Move or scroll up in the focused pane.
    Up,
    /// Move or scroll down in the focused pane.
    Down,
    /// Open a buy ticket.
    Buy,
    /// Open a sell ticket.
    Sell,
    /// Cancel the selected order.
    Cancel,
    /// Pause or resume the strategy.
    Pause,
    /// Close every position at market (asks to confirm).
    Flatten,
    /// Manual mode on/off: strategy intents wait for approval.
    ManualMode,
    /// Approve the oldest waiting strategy intent.
    Approve,
    /// Reject the oldest waiting strategy intent.
    RejectIntent,
    /// Ask the AI provider to analyse the selected pair now.
    Analyse,
    /// Reload the config and the strategy scripts (a broken script is refused).
    Reload,
    /// The performance view: figures, equity curve and drawdown.
    Performance,
    /// The trade history: every fill and round trip, filterable and sortable.
    History,
    /// The strategy pane: parameters, state, intents, logs and errors in full.
    StrategyPane,
    /// Backtest the running strategy on the selected pair's stored history.
    WhatIf,
    /// Replay: play or pause.
    ReplayPlay,
    /// Replay: faster.
    ReplayFaster,
    /// Replay: slower.
    ReplaySlower,
    /// Replay: one input forward.
    ReplayStep,
    /// Replay: to the next fill.
    ReplayNextFill,
    /// Replay: back to the previous fill.
    ReplayPrevFill,
    /// Replay: to the next alert.
    ReplayNextAlert,
    /// Replay: to the next halt.
    ReplayNextHalt,
}

impl KeyAction {
    /// The name used in the `[keys]` config table.
    pub fn name(self) -> String {
        match self {
            KeyAction::EmergencyStop => "emergency_stop".into(),
            KeyAction::Resume => "resume".into(),
            KeyAction::Quit => "quit".into(),
            KeyAction::Help => "help".into(),
            KeyAction::NextSymbol => "next_symbol".into(),
            KeyAction::PrevSymbol => "prev_symbol".into(),
            KeyAction::Symbol(n) => format!("symbol_{n}"),
            KeyAction::Timeframe => "timeframe".into(),
            KeyAction::Venue => "venue".into(),
            KeyAction::FocusNext => "focus_next".into(),
            KeyAction::FocusPrev => "focus_prev".into(),
            KeyAction::Up => "up".into(),
            KeyAction::Down => "down".into(),
            KeyAction::Buy => "buy".into(),
            KeyAction::Sell => "sell".into(),
            KeyAction::Cancel => "cancel".into(),
            KeyAction::Pause => "pause".into(),
            KeyAction::Flatten => "flatten".into(),
            KeyAction::ManualMode => "manual_mode".into(),
            KeyAction::Approve => "approve".into(),
            KeyAction::RejectIntent => "reject".into(),
            KeyAction::Analyse => "analyse".into(),
            KeyAction::Reload => "reload".into(),
            KeyAction::Performance => "performance".into(),
            KeyAction::History => "history".into(),
            KeyAction::StrategyPane => "strategy".into(),
            KeyAction::WhatIf => "what_if".into(),
            KeyAction::ReplayPlay => "replay_play".into(),
            KeyAction::ReplayFaster => "replay_faster".into(),
            KeyAction::ReplaySlower => "replay_slower".into(),
            KeyAction::ReplayStep => "replay_step".into(),
            KeyAction::ReplayNextFill => "replay_next_fill".into(),
            KeyAction::ReplayPrevFill => "replay_prev_fill".into(),
            KeyAction::ReplayNextAlert => "replay_next_alert".into(),
            KeyAction::ReplayNextHalt => "replay_next_halt".into(),
        }
    }

    /// What it does, for help and the footer.
    pub fn description(self) -> String {
        match self {
            KeyAction::EmergencyStop => "EMERGENCY STOP: halt trading, cancel all orders".into(),
            KeyAction::Resume => "resume trading after a halt (asks to confirm)".into(),
            KeyAction::Quit => "quit (asks while orders or positions are open)".into(),
            KeyAction::Help => "this help".into(),
            KeyAction::NextSymbol => "next pair".into(),
            KeyAction::PrevSymbol => "previous pair".into(),
            KeyAction::Symbol(n) => format!("pair {n}"),
            KeyAction::Timeframe => "cycle chart timeframe (1m 5m 15m 1h 4h 1d)".into(),
            KeyAction::Venue => "book of the next venue listing the pair (cross-venue)".into(),
            KeyAction::FocusNext => "focus next pane".into(),
            KeyAction::FocusPrev => "focus previous pane".into(),
            KeyAction::Up => "move / scroll up in the focused pane".into(),
            KeyAction::Down => "move / scroll down in the focused pane".into(),
            KeyAction::Buy => "buy ticket (market or limit, through risk)".into(),
            KeyAction::Sell => "sell ticket (market or limit, through risk)".into(),
            KeyAction::Cancel => "cancel the selected order (select it in the orders pane)".into(),
            KeyAction::Pause => "pause / unpause the strategy (manual orders still trade)".into(),
            KeyAction::Flatten => "FLATTEN: cancel orders, sell all at market (asks first)".into(),
            KeyAction::ManualMode => {
                "manual mode on/off: strategy intents wait for approval".into()
            }
            KeyAction::Approve => "approve the oldest waiting strategy intent".into(),
            KeyAction::RejectIntent => "reject the oldest waiting strategy intent".into(),
            KeyAction::Analyse => "ask the AI provider to analyse the selected pair now".into(),
            KeyAction::Reload => {
                "reload the config and strategy scripts (a broken script is refused)".into()
            }
            KeyAction::Performance => {
                "performance: return, Sharpe, drawdown, win rate… with the equity curve".into()
            }
            KeyAction::History => {
                "trade history: fills and round trips with reasons (filter, sort, export)".into()
            }
            KeyAction::StrategyPane => "strategy pane: parameters, state, intents, logs".into(),
            KeyAction::WhatIf => {
                "what-if: backtest the running strategy on this pair's stored history".into()
            }
            KeyAction::ReplayPlay => "replay: play / pause".into(),
            KeyAction::ReplayFaster => "replay: faster (up to 1000×)".into(),
            KeyAction::ReplaySlower => "replay: slower".into(),
            KeyAction::ReplayStep => "replay: one input forward".into(),
            KeyAction::ReplayNextFill => "replay: jump to the next fill".into(),
            KeyAction::ReplayPrevFill => "replay: back to the previous fill".into(),
            KeyAction::ReplayNextAlert => "replay: jump to the next alert".into(),
            KeyAction::ReplayNextHalt => "replay: jump to the next halt".into(),
        }
    }

    /// Short label for the footer, for actions that get one.
    pub fn footer_label(self) -> Option<&'static str> {
        Some(match self {
            KeyAction::EmergencyStop => "E-STOP",
            KeyAction::Help => "help",
            KeyAction::Quit => "quit",
            KeyAction::NextSymbol => "pair",
            KeyAction::Timeframe => "timeframe",
            KeyAction::Buy => "buy",
            KeyAction::Sell => "sell",
            KeyAction::Cancel => "cancel",
            KeyAction::Pause => "pause",
            KeyAction::Flatten => "flatten",
            KeyAction::ManualMode => "manual",
            KeyAction::Resume => "resume",
            KeyAction::FocusNext => "pane",
            KeyAction::Performance => "perf",
            KeyAction::History => "trades",
            KeyAction::StrategyPane => "strategy",
            _ => return None,
        })
    }

    /// Every action, in help order.
    pub fn all() -> Vec<KeyAction> {
        let mut v = vec![
            KeyAction::EmergencyStop,
            KeyAction::Resume,
            KeyAction::Help,
            KeyAction::Quit,
            KeyAction::NextSymbol,
            KeyAction::PrevSymbol,
        ];
        v.extend((1..=9).map(KeyAction::Symbol));
        v.extend([
            KeyAction::Timeframe,
            KeyAction::Venue,
            KeyAction::FocusNext,
            KeyAction::FocusPrev,
            KeyAction::Up,
            KeyAction::Down,
            KeyAction::Buy,
            KeyAction::Sell,
            KeyAction::Cancel,
            KeyAction::Pause,
            KeyAction::Flatten,
            KeyAction::ManualMode,
            KeyAction::Approve,
            KeyAction::RejectIntent,
            KeyAction::Analyse,
            KeyAction::Reload,
        ]);
        v.extend(KeyAction::VIEWS);
        v.extend(KeyAction::REPLAY);
        v
    }

    /// The full-screen views and what-if.
    pub const VIEWS: [KeyAction; 4] = [
        KeyAction::Performance,
        KeyAction::History,
        KeyAction::StrategyPane,
        KeyAction::WhatIf,
    ];

    /// The rewind's keys (`tradedeck replay FILE --cockpit`).
    pub const REPLAY: [KeyAction; 8] = [
        KeyAction::ReplayPlay,
        KeyAction::ReplayFaster,
        KeyAction::ReplaySlower,
        KeyAction::ReplayStep,
        KeyAction::ReplayNextFill,
        KeyAction::ReplayPrevFill,
        KeyAction::ReplayNextAlert,
        KeyAction::ReplayNextHalt,
    ];
}

/// One key (with modifiers), as written in config: `q`, `!`, `tab`, `shift-tab`, `ctrl-c`,
/// `up`, `enter`, `esc`, `space`, `f1`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    code: KeyCodeKey,
    ctrl: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum KeyCodeKey {
    Char(char),
    F(u8),
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    Enter,
    Esc,
    PageUp,
    PageDown,
}

impl Key {
    /// A plain character key.
    pub const fn char(c: char) -> Key {
        Key {
            code: KeyCodeKey::Char(c),
            ctrl: false,
        }
    }

    /// The key of a terminal key event, if it is one we can bind.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeKey::Char(c),
            KeyCode::F(n) => KeyCodeKey::F(n),
            KeyCode::Tab => KeyCodeKey::Tab,
            KeyCode::BackTab => KeyCodeKey::BackTab,
            KeyCode::Up => KeyCodeKey::Up,
            KeyCode::Down => KeyCodeKey::Down,
            KeyCode::Left => KeyCodeKey::Left,
            KeyCode::Right => KeyCodeKey::Right,
            KeyCode::Enter => KeyCodeKey::Enter,
            KeyCode::Esc => KeyCodeKey::Esc,
            KeyCode::PageUp => KeyCodeKey::PageUp,
            KeyCode::PageDown => KeyCodeKey::PageDown,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        })
    }

    /// Parses a config key string.
    ///
    /// # Errors
    /// A string that names no key, with what would be valid.
    pub fn parse(s: &str) -> Result<Key, String> {
        let lower = s.to_ascii_lowercase();
        let (ctrl, rest) = match lower.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, lower.as_str()),
        };
        let code = match rest {
            "tab" => KeyCodeKey::Tab,
            "shift-tab" | "backtab" => KeyCodeKey::BackTab,
            "up" => KeyCodeKey::Up,
            "down" => KeyCodeKey::Down,
            "left" => KeyCodeKey::Left,
            "right" => KeyCodeKey::Right,
            "enter" => KeyCodeKey::Enter,
            "esc" => KeyCodeKey::Esc,
            "pageup" => KeyCodeKey::PageUp,
            "pagedown" => KeyCodeKey::PageDown,
            "space" => KeyCodeKey::Char(' '),
            f if f.starts_with('f')
                && f.len() > 1
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCodeKey::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                // a single character keeps its case: `R` is not `r`
                let original = if ctrl { &s[5..] } else { s };
                let mut chars = original.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCodeKey::Char(c),
                    _ => {
                        return Err(format!(
                            "`{s}` is not a key; expected one character, or tab, shift-tab, up, down, left, right, enter, esc, space, pageup, pagedown, f1-f12, with an optional ctrl- prefix"
                        ));
                    }
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            write!(f, "ctrl-")?;
        }
        match self.code {
            KeyCodeKey::Char(' ') => write!(f, "space"),
            KeyCodeKey::Char(c) => write!(f, "{c}"),
            KeyCodeKey::F(n) => write!(f, "f{n}"),
            KeyCodeKey::Tab => write!(f, "tab"),
            KeyCodeKey::BackTab => write!(f, "shift-tab"),
            KeyCodeKey::Up => write!(f, "↑"),
            KeyCodeKey::Down => write!(f, "↓"),
            KeyCodeKey::Left => write!(f, "←"),
            KeyCodeKey::Right => write!(f, "→"),
            KeyCodeKey::Enter => write!(f, "enter"),
            KeyCodeKey::Esc => write!(f, "esc"),
            KeyCodeKey::PageUp => write!(f, "pageup"),
            KeyCodeKey::PageDown => write!(f, "pagedown"),
        }
    }
}

/// Action ↔ keys, built from the defaults and the `[keys]` overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    bindings: Vec<(KeyAction, Vec<Key>)>,
}

fn defaults() -> Vec<(KeyAction, Vec<Key>)> {
    let k = |s: &str| Key::parse(s).unwrap_or(Key::char('?'));
    let mut v = vec![
        (KeyAction::EmergencyStop, vec![k("!")]),
        (KeyAction::Resume, vec![k("R")]),
        (KeyAction::Help, vec![k("?")]),
        (KeyAction::Quit, vec![k("q")]),
        (KeyAction::NextSymbol, vec![k("tab")]),
        (KeyAction::PrevSymbol, vec![k("shift-tab")]),
    ];
    v.extend((1..=9u8).map(|n| (KeyAction::Symbol(n), vec![Key::char(char::from(b'0' + n))])));
    v.extend([
        (KeyAction::Timeframe, vec![k("t")]),
        (KeyAction::Venue, vec![k("v")]),
        (KeyAction::FocusNext, vec![k("l"), k("right")]),
        (KeyAction::FocusPrev, vec![k("h"), k("left")]),
        (KeyAction::Up, vec![k("k"), k("up")]),
        (KeyAction::Down, vec![k("j"), k("down")]),
        (KeyAction::Buy, vec![k("b")]),
        (KeyAction::Sell, vec![k("s")]),
        (KeyAction::Cancel, vec![k("c")]),
        (KeyAction::Pause, vec![k("P")]),
        (KeyAction::Flatten, vec![k("F")]),
        (KeyAction::ManualMode, vec![k("p")]),
        (KeyAction::Approve, vec![k("a")]),
        (KeyAction::RejectIntent, vec![k("x")]),
        (KeyAction::Analyse, vec![k("A")]),
        (KeyAction::Reload, vec![k("L")]),
        (KeyAction::Performance, vec![k("g")]),
        (KeyAction::History, vec![k("T")]),
        (KeyAction::StrategyPane, vec![k("S")]),
        (KeyAction::WhatIf, vec![k("w")]),
        (KeyAction::ReplayPlay, vec![k("space")]),
        (KeyAction::ReplayFaster, vec![k("]")]),
        (KeyAction::ReplaySlower, vec![k("[")]),
        (KeyAction::ReplayStep, vec![k(".")]),
        (KeyAction::ReplayNextFill, vec![k("n")]),
        (KeyAction::ReplayPrevFill, vec![k("N")]),
        (KeyAction::ReplayNextAlert, vec![k(">")]),
        (KeyAction::ReplayNextHalt, vec![k("H")]),
    ]);
    v
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: defaults(),
        }
    }
}

impl Keymap {
    /// The defaults with `overrides` (action name → key strings) applied.
    ///
    /// # Errors
    /// (action name, message) for an unknown action, a key that does not parse, an action left
    /// without keys, or a key bound to two actions.
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, (String, String)> {
        let mut bindings = defaults();
        for (name, keys) in overrides {
            let Some(slot) = bindings.iter_mut().find(|(a, _)| a.name() == *name) else {
                let names: Vec<String> = KeyAction::all().iter().map(|a| a.name()).collect();
                return Err((
                    name.clone(),
                    format!("unknown action; expected one of {}", names.join(", ")),
                ));
            };
            if keys.is_empty() {
                return Err((name.clone(), "expected at least one key".into()));
            }
            slot.1 = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<_, _>>()
                .map_err(|e| (name.clone(), e))?;
        }
        let mut seen: BTreeMap<Key, KeyAction> = BTreeMap::new();
        for (action, keys) in &bindings {
            for key in keys {
                if let Some(other) = seen.insert(*key, *action) {
                    let name = if overrides.contains_key(&action.name()) {
                        action.name()
                    } else {
                        other.name()
                    };
                    return Err((
                        name,
                        format!(
                            "key `{key}` is bound to both {} and {}",
                            other.name(),
                            action.name()
                        ),
                    ));
                }
            }
        }
        Ok(Keymap { bindings })
    }

    /// The action bound to a key event.
    pub fn action(&self, ev: &KeyEvent) -> Option<KeyAction> {
        let key = Key::from_event(ev)?;
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(&key))
            .map(|(a, _)| *a)
    }

    /// The keys of an action.
    pub fn keys(&self, action: KeyAction) -> &[Key] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, k)| k.as_slice())
    }

    /// (keys, description) rows for the help overlay; pairs 1–9 share one row.
    pub fn help_rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        for (action, keys) in &self.bindings {
            let keys: Vec<String> = keys.iter().map(Key::to_string).collect();
            match action {
                KeyAction::Symbol(1) => {
                    let last = self
                        .keys(KeyAction::Symbol(9))
                        .first()
                        .map(Key::to_string)
                        .unwrap_or_default();
                    rows.push((format!("{}…{last}", keys.join("/")), "pair 1 to 9".into()));
                }
                KeyAction::Symbol(_) => {}
                _ => rows.push((keys.join(" / "), action.description())),
            }
        }
        rows.push(("ctrl-c".into(), "quit at once (not rebindable)".into()));
        rows
    }

    /// (key, label) hints for the footer.
    pub fn footer_hints(&self) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter_map(|(a, keys)| Some((keys.first()?.to_string(), a.footer_label()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_bind_each_key_once_and_the_estop_globally() {
        let km = Keymap::with_overrides(&BTreeMap::new()).unwrap();
        assert_eq!(
            km.action(&ev(KeyCode::Char('!'))),
            Some(KeyAction::EmergencyStop)
        );
        assert_eq!(km.action(&ev(KeyCode::Char('R'))), Some(KeyAction::Resume));
        assert_eq!(
            km.action(&ev(KeyCode::Char('r'))),
            None,
            "resume is capital R only"
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('3'))),
            Some(KeyAction::Symbol(3))
        );
        assert_eq!(
            km.action(&ev(KeyCode::BackTab)),
            Some(KeyAction::PrevSymbol)
        );
    }

    #[test]
    fn overrides_rebind_and_refuse_conflicts() {
        let one = |a: &str, k: &[&str]| {
            BTreeMap::from([(a.to_string(), k.iter().map(|s| s.to_string()).collect())])
        };
        let km = Keymap::with_overrides(&one("quit", &["ctrl-q"])).unwrap();
        assert_eq!(
            km.action(&KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(KeyAction::Quit)
        );
        assert_eq!(km.action(&ev(KeyCode::Char('q'))), None);
        // `b` is the buy key: binding the e-stop to it too is refused, naming the rebind
        let err = Keymap::with_overrides(&one("emergency_stop", &["b"])).unwrap_err();
        assert_eq!(err.0, "emergency_stop");
        assert!(Keymap::with_overrides(&one("emergency_stop", &[])).is_err());
        assert!(Keymap::with_overrides(&one("fly", &["x"])).is_err());
        assert!(Keymap::with_overrides(&one("quit", &["nope"])).is_err());
    }

    #[test]
    fn help_and_footer_come_from_the_table() {
        let km = Keymap::default();
        let help = km.help_rows();
        assert_eq!(
            help[0],
            ("!".to_string(), KeyAction::EmergencyStop.description())
        );
        assert!(help.iter().any(|(k, d)| k == "1…9" && d == "pair 1 to 9"));
        assert_eq!(km.footer_hints()[0], ("!".to_string(), "E-STOP"));
    }
}
