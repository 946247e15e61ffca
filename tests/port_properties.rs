//! Properties of long-lived connections (§4.2 of `runtime-behaviour.md`), checked over random
//! sequences of operations on one event-page extension: ports opened from content scripts,
//! popups and the background page (whose page may be unloaded), messages posted and
//! `disconnect()` called at either end, tabs opened, closed and navigated, popups opened and
//! closed, and virtual time passing.
//!
//! Listeners only record what they see. A model of the channels, fed with each operation and
//! then with what was recorded, in order, checks after every step that:
//! - a port gets `onDisconnect` at most once, only when it is owed one (the other side called
//!   `disconnect()`, the other side's context went away, or — for the opener, with `lastError`
//!   `Could not establish connection. Receiving end does not exist.` — nobody listened), and
//!   never after it called `disconnect()` itself;
//! - nothing reaches a port after its `onDisconnect`, after its own `disconnect()`, or after its
//!   context went away; no port receives what it posted, and receivers never hear each other;
//! - what a port posts reaches each port at the other side in order, with no gap, and all that
//!   was posted before the channel closed has arrived when that port is told of the close;
//! - the receivers of a channel are exactly the contexts listening when it opened: the
//!   background page (loaded for the purpose if it was not) and the open popups, never the
//!   opener's own context, never a content script;
//! - the event page does not unload while a port with an end in it is open;
//! - `postMessage` fails with `Attempting to use a disconnected port object` after
//!   `disconnect()` or `onDisconnect` (and already inside the `onDisconnect` listeners), and
//!   works on an open port.
//!
//! At the end of each case everything left is run: every owed `onDisconnect` must have come and
//! every channel must have opened; then every tab and popup closes, every channel must be
//! closed and the page must unload within 15 s. 64 cases of 8 to 32 operations run in well
//! under a second.
//!
//! The model follows the spec where a channel has several receivers (the opener reaches them
//! all): when one receiver calls `disconnect()`, only the opener is told and the channel is
//! closed, so the other receivers are silently dead (no `onDisconnect`, nothing more, and they
//! no longer keep the page alive); when a receiver's context goes away, the opener is told only
//! once no receiver is left.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use proptest::prelude::*;
use runtime_sim::{
    script_fn, BackgroundScript, Browser, ConnectError, ExtensionId, ExtensionSpec, FrameId,
    PageState, Port, PostMessageError, Runtime, TabId, ViewId, ViewKind,
};
use serde_json::{json, Value};

const NO_RECEIVER: &str = "Could not establish connection. Receiving end does not exist.";
const MATCHING_URL: &str = "https://example.com/page";
const OTHER_URL: &str = "https://example.org/";
const MAX_TABS: usize = 3;
const MAX_POPUPS: usize = 2;

// ---------------------------------------------------------------------------------------------
// What the listeners record.

/// Something a listener saw, in the order the listeners ran.
#[derive(Debug)]
enum Seen {
    /// The background script ran from the top: a new load of the page.
    BgLoaded { ctx: usize, life: u64 },
    /// That load's asynchronous work was dropped: the page unloaded.
    BgUnloaded { ctx: usize },
    /// `onConnect` fired in context `ctx` with a port named `name`, now known as `port`.
    Connected {
        ctx: usize,
        port: usize,
        name: String,
    },
    /// `port.onMessage` fired.
    Message { port: usize, message: Value },
    /// `port.onDisconnect` fired, with this `lastError`; whether the port was already marked
    /// disconnected (`postMessage` failing) while its listeners ran.
    Disconnected {
        port: usize,
        error: Option<String>,
        marked: bool,
    },
}

#[derive(Default)]
struct Recorder {
    seen: Vec<Seen>,
    /// Every port the test or a listener got, by id.
    ports: Vec<Port>,
    next_ctx: usize,
    loads: u64,
    /// The runtime of the latest load of the background page, and its context.
    background: Option<(usize, Runtime)>,
}

type Rec = Arc<Mutex<Recorder>>;

fn lock(rec: &Rec) -> MutexGuard<'_, Recorder> {
    rec.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn new_ctx(rec: &Rec) -> usize {
    let mut r = lock(rec);
    r.next_ctx += 1;
    r.next_ctx
}

/// Gives `port` an id and records what happens to it.
fn watch(rec: &Rec, runtime: &Runtime, port: &Port) -> usize {
    let id = {
        let mut r = lock(rec);
        r.ports.push(port.clone());
        r.ports.len() - 1
    };
    let messages = Arc::clone(rec);
    port.on_message()
        .add_listener(move |(message, _port): (Value, Port)| {
            lock(&messages)
                .seen
                .push(Seen::Message { port: id, message });
        });
    let disconnects = Arc::clone(rec);
    let runtime = runtime.clone();
    port.on_disconnect().add_listener(move |port: Port| {
        let error = runtime.last_error().map(|e| e.message);
        // The port is marked disconnected before the listeners run (§4.2).
        let marked = port.is_disconnected()
            && port.post_message(&Value::Null) == Err(PostMessageError::Disconnected);
        lock(&disconnects).seen.push(Seen::Disconnected {
            port: id,
            error,
            marked,
        });
    });
    id
}

/// Listens to `onConnect` in a context, recording every port it gets.
fn listen(rec: &Rec, runtime: &Runtime, ctx: usize) {
    let rec = Arc::clone(rec);
    let rt = runtime.clone();
    runtime.on_connect().add_listener(move |port: Port| {
        let id = watch(&rec, &rt, &port);
        lock(&rec).seen.push(Seen::Connected {
            ctx,
            port: id,
            name: port.name().to_owned(),
        });
    });
}

/// Held by a task of one load of the background page: dropped when the page unloads.
struct UnloadGuard {
    rec: Rec,
    ctx: usize,
}

impl Drop for UnloadGuard {
    fn drop(&mut self) {
        lock(&self.rec)
            .seen
            .push(Seen::BgUnloaded { ctx: self.ctx });
    }
}

/// The background script: `onConnect` at the top level, like every context here.
fn background(rec: Rec) -> impl BackgroundScript {
    script_fn(move |rt: Runtime| {
        let rec = Arc::clone(&rec);
        async move {
            let ctx = new_ctx(&rec);
            listen(&rec, &rt, ctx);
            {
                let mut r = lock(&rec);
                r.loads += 1;
                let life = r.loads;
                r.background = Some((ctx, rt.clone()));
                r.seen.push(Seen::BgLoaded { ctx, life });
            }
            let guard = UnloadGuard {
                rec: Arc::clone(&rec),
                ctx,
            };
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            Ok(())
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Background,
    Popup,
    ContentScript,
}

struct Ctx {
    kind: Kind,
    alive: bool,
    /// The load of the page (background contexts).
    life: u64,
}

struct PortState {
    ctx: usize,
    channel: usize,
    /// How many messages it posted successfully (the next one's number).
    posted: u64,
    /// How many messages it received from each port.
    received: BTreeMap<usize, u64>,
    disconnected_itself: bool,
    told: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// `connect()` was called; no receiver has been asked yet.
    Pending,
    /// Its receivers are getting `onConnect` right now.
    Opening,
    Open,
    Closed,
}

struct Channel {
    name: String,
    opener: usize,
    /// Every receiving port the channel had, including those whose context went away.
    receivers: Vec<usize>,
    phase: Phase,
    /// The opener called `disconnect()` before the channel opened: its receivers are owed an
    /// `onDisconnect` as soon as they have their port.
    disconnected_early: bool,
    /// What each of its ports had posted when it closed.
    posted_at_close: Option<BTreeMap<usize, u64>>,
}

#[derive(Default)]
struct Model {
    ctxs: BTreeMap<usize, Ctx>,
    ports: BTreeMap<usize, PortState>,
    channels: Vec<Channel>,
    by_name: BTreeMap<String, usize>,
    /// Ports owed an `onDisconnect`.
    owed: BTreeSet<usize>,
    /// The channel whose receivers are getting `onConnect` now.
    opening: Option<usize>,
    /// The context of the loaded background page.
    bg: Option<usize>,
}

type Check = Result<(), String>;

impl Model {
    fn add_ctx(&mut self, ctx: usize, kind: Kind, life: u64) {
        self.ctxs.insert(
            ctx,
            Ctx {
                kind,
                alive: true,
                life,
            },
        );
    }

    fn alive(&self, ctx: usize) -> bool {
        self.ctxs.get(&ctx).is_some_and(|c| c.alive)
    }

    fn port(&self, id: usize) -> Result<&PortState, String> {
        self.ports
            .get(&id)
            .ok_or_else(|| format!("port {id} is not known to the model"))
    }

    fn add_port(&mut self, id: usize, ctx: usize, channel: usize) {
        self.ports.insert(
            id,
            PortState {
                ctx,
                channel,
                posted: 0,
                received: BTreeMap::new(),
                disconnected_itself: false,
                told: false,
            },
        );
    }

    fn connected(&mut self, name: String, opener: usize, ctx: usize) {
        let channel = self.channels.len();
        self.add_port(opener, ctx, channel);
        self.by_name.insert(name.clone(), channel);
        self.channels.push(Channel {
            name,
            opener,
            receivers: Vec::new(),
            phase: Phase::Pending,
            disconnected_early: false,
            posted_at_close: None,
        });
    }

    /// Whether a port is open from its own point of view: it may still send and receive, and
    /// it holds its page alive.
    fn port_open(&self, id: usize) -> bool {
        let Some(port) = self.ports.get(&id) else {
            return false;
        };
        let phase = self.channels[port.channel].phase;
        !port.disconnected_itself
            && !port.told
            && self.alive(port.ctx)
            && (phase != Phase::Closed || self.owed.contains(&id))
    }

    /// The ports at the other side of `id` in its channel.
    fn other_side(&self, id: usize) -> Vec<usize> {
        let port = &self.ports[&id];
        let channel = &self.channels[port.channel];
        if id == channel.opener {
            channel.receivers.clone()
        } else {
            vec![channel.opener]
        }
    }

    /// Closes a channel; the ports in `tell` that can still hear it are owed `onDisconnect`.
    fn close(&mut self, channel: usize, tell: Vec<usize>) {
        let ch = &self.channels[channel];
        let posted = std::iter::once(ch.opener)
            .chain(ch.receivers.iter().copied())
            .map(|p| (p, self.ports[&p].posted))
            .collect();
        let ch = &mut self.channels[channel];
        ch.phase = Phase::Closed;
        ch.posted_at_close = Some(posted);
        for p in tell {
            let port = &self.ports[&p];
            if self.alive(port.ctx) && !port.disconnected_itself && !port.told {
                self.owed.insert(p);
            }
        }
    }

    fn live_receivers(&self, channel: usize) -> Vec<usize> {
        self.channels[channel]
            .receivers
            .iter()
            .copied()
            .filter(|r| self.alive(self.ports[r].ctx))
            .collect()
    }

    /// The contexts that should get `onConnect` for `channel` if it opened now.
    fn expected_receivers(&self, channel: usize) -> BTreeSet<usize> {
        let opener_ctx = self.ports[&self.channels[channel].opener].ctx;
        let mut expected = BTreeSet::new();
        if self.ctxs[&opener_ctx].kind != Kind::Background {
            expected.extend(self.bg);
        }
        expected.extend(self.ctxs.iter().filter_map(|(id, c)| {
            (c.kind == Kind::Popup && c.alive && *id != opener_ctx).then_some(*id)
        }));
        expected
    }

    /// `port.disconnect()` was called.
    fn disconnect(&mut self, id: usize) {
        let Some(port) = self.ports.get_mut(&id) else {
            return;
        };
        let had_ended = port.disconnected_itself || port.told;
        port.disconnected_itself = true;
        let (ctx, channel) = (port.ctx, port.channel);
        self.owed.remove(&id);
        if had_ended || !self.alive(ctx) {
            return;
        }
        let opener = self.channels[channel].opener;
        match self.channels[channel].phase {
            Phase::Pending => self.channels[channel].disconnected_early = true,
            Phase::Open if id == opener => {
                let receivers = self.live_receivers(channel);
                self.close(channel, receivers);
            }
            // When one receiver of several disconnects, only the opener is told.
            Phase::Open => self.close(channel, vec![opener]),
            Phase::Opening | Phase::Closed => {}
        }
    }

    /// A context went away (a tab closed or navigated, a popup closed, the page unloaded).
    fn context_gone(&mut self, ctx: usize) -> Check {
        if self.ctxs[&ctx].kind == Kind::Background {
            let open: Vec<usize> = self
                .ports
                .iter()
                .filter(|(id, p)| p.ctx == ctx && self.port_open(**id))
                .map(|(id, _)| *id)
                .collect();
            if !open.is_empty() {
                return Err(format!(
                    "the event page (load {}) unloaded while its ports {open:?} were open",
                    self.ctxs[&ctx].life
                ));
            }
            if self.bg == Some(ctx) {
                self.bg = None;
            }
        }
        if let Some(c) = self.ctxs.get_mut(&ctx) {
            c.alive = false;
        }
        let in_ctx: Vec<usize> = self
            .ports
            .iter()
            .filter(|(_, p)| p.ctx == ctx)
            .map(|(id, _)| *id)
            .collect();
        for p in &in_ctx {
            self.owed.remove(p);
        }
        for channel in 0..self.channels.len() {
            let ch = &self.channels[channel];
            let opener_ctx = self.ports[&ch.opener].ctx;
            match ch.phase {
                Phase::Pending if opener_ctx == ctx => self.close(channel, Vec::new()),
                Phase::Open if opener_ctx == ctx => {
                    let receivers = self.live_receivers(channel);
                    self.close(channel, receivers);
                }
                Phase::Open => {
                    let had_one_here = ch.receivers.iter().any(|r| self.ports[r].ctx == ctx);
                    if had_one_here && self.live_receivers(channel).is_empty() {
                        let opener = ch.opener;
                        self.close(channel, vec![opener]);
                    }
                }
                Phase::Pending | Phase::Opening | Phase::Closed => {}
            }
        }
        Ok(())
    }

    /// The receivers of the channel being opened have all had `onConnect`.
    fn finish_opening(&mut self) -> Check {
        let Some(channel) = self.opening.take() else {
            return Ok(());
        };
        let expected = self.expected_receivers(channel);
        let ch = &self.channels[channel];
        let got: Vec<usize> = ch.receivers.iter().map(|r| self.ports[r].ctx).collect();
        let got_set: BTreeSet<usize> = got.iter().copied().collect();
        if got_set.len() != got.len() || got_set != expected {
            return Err(format!(
                "channel {} opened with receivers in contexts {got:?}; the contexts listening were {expected:?}",
                ch.name
            ));
        }
        if ch.disconnected_early {
            let receivers = ch.receivers.clone();
            self.close(channel, receivers);
        } else {
            self.channels[channel].phase = Phase::Open;
        }
        Ok(())
    }

    fn observe(&mut self, seen: Seen) -> Check {
        if !matches!(seen, Seen::Connected { .. }) {
            self.finish_opening()?;
        }
        match seen {
            Seen::BgLoaded { ctx, life } => {
                if let Some(old) = self.bg {
                    return Err(format!(
                        "the page loaded again (load {life}) while load {} was still there",
                        self.ctxs[&old].life
                    ));
                }
                self.add_ctx(ctx, Kind::Background, life);
                self.bg = Some(ctx);
                Ok(())
            }
            Seen::BgUnloaded { ctx } => self.context_gone(ctx),
            Seen::Connected { ctx, port, name } => self.on_connect(ctx, port, &name),
            Seen::Message { port, message } => self.on_message(port, &message),
            Seen::Disconnected {
                port,
                error,
                marked,
            } => {
                if !marked {
                    return Err(format!(
                        "port {port} could still post while its onDisconnect listeners ran"
                    ));
                }
                self.on_disconnect(port, error)
            }
        }
    }

    fn on_connect(&mut self, ctx: usize, port: usize, name: &str) -> Check {
        let channel = *self
            .by_name
            .get(name)
            .ok_or_else(|| format!("onConnect with a port named {name:?} nobody opened"))?;
        if self.opening != Some(channel) {
            self.finish_opening()?;
            if self.channels[channel].phase != Phase::Pending {
                return Err(format!(
                    "onConnect in context {ctx} for channel {name}, which is {:?}",
                    self.channels[channel].phase
                ));
            }
            self.channels[channel].phase = Phase::Opening;
            self.opening = Some(channel);
        }
        if !self.ctxs.contains_key(&ctx) {
            return Err(format!(
                "onConnect for {name} in context {ctx}, which is not listening yet"
            ));
        }
        if self.ports[&self.channels[channel].opener].ctx == ctx {
            return Err(format!(
                "onConnect for {name} fired in the opener's own context"
            ));
        }
        self.add_port(port, ctx, channel);
        self.channels[channel].receivers.push(port);
        Ok(())
    }

    fn on_message(&mut self, id: usize, message: &Value) -> Check {
        let (Some(from), Some(seq)) = (message["from"].as_u64(), message["seq"].as_u64()) else {
            return Err(format!("port {id} got a message nobody posted: {message}"));
        };
        let from = from as usize;
        let port = self.port(id)?;
        if from == id {
            return Err(format!("port {id} received its own message #{seq}"));
        }
        if port.disconnected_itself {
            return Err(format!(
                "port {id} got #{seq} from port {from} after it called disconnect()"
            ));
        }
        if port.told {
            return Err(format!(
                "port {id} got #{seq} from port {from} after its onDisconnect"
            ));
        }
        if !self.alive(port.ctx) {
            return Err(format!(
                "port {id} got #{seq} from port {from} after its context went away"
            ));
        }
        let sender = self.port(from)?;
        if sender.channel != port.channel {
            return Err(format!(
                "port {id} got #{seq} from port {from}, on another channel"
            ));
        }
        if !self.other_side(id).contains(&from) {
            return Err(format!(
                "port {id} got #{seq} from port {from}, on the same side of the channel"
            ));
        }
        let expected = port.received.get(&from).copied().unwrap_or(0);
        if seq != expected {
            return Err(format!(
                "port {id} got #{seq} from port {from}; the next in order was #{expected}"
            ));
        }
        let channel = &self.channels[port.channel];
        let limit = match &channel.posted_at_close {
            Some(posted) => posted[&from],
            None => sender.posted,
        };
        if seq >= limit {
            return Err(format!(
                "port {id} got #{seq} from port {from}, which was posted after channel {} closed",
                channel.name
            ));
        }
        *self
            .ports
            .get_mut(&id)
            .expect("known")
            .received
            .entry(from)
            .or_default() += 1;
        Ok(())
    }

    fn on_disconnect(&mut self, id: usize, error: Option<String>) -> Check {
        let port = self.port(id)?;
        if port.told {
            return Err(format!("port {id} got onDisconnect twice"));
        }
        if port.disconnected_itself {
            return Err(format!(
                "port {id} got onDisconnect after it called disconnect() itself"
            ));
        }
        if !self.alive(port.ctx) {
            return Err(format!(
                "port {id} got onDisconnect after its context went away"
            ));
        }
        let channel = port.channel;
        let ch = &self.channels[channel];
        match error.as_deref() {
            Some(NO_RECEIVER) => {
                if id != ch.opener || ch.phase != Phase::Pending {
                    return Err(format!(
                        "port {id} of channel {} ({:?}) got onDisconnect with {NO_RECEIVER:?}",
                        ch.name, ch.phase
                    ));
                }
                let expected = self.expected_receivers(channel);
                if !expected.is_empty() {
                    return Err(format!(
                        "channel {} found no receiver, but contexts {expected:?} listened",
                        ch.name
                    ));
                }
                self.close(channel, Vec::new());
            }
            Some(other) => {
                return Err(format!(
                    "port {id} got onDisconnect with lastError {other:?}"
                ));
            }
            None => {
                if !self.owed.contains(&id) {
                    return Err(format!(
                        "port {id} of channel {} ({:?}) got onDisconnect, which nothing called for",
                        ch.name, ch.phase
                    ));
                }
                let posted = ch.posted_at_close.clone().unwrap_or_default();
                for from in self.other_side(id) {
                    let want = posted.get(&from).copied().unwrap_or(0);
                    let got = port.received.get(&from).copied().unwrap_or(0);
                    if got != want {
                        return Err(format!(
                            "port {id} was told of the disconnect after {got} of the {want} messages port {from} posted before it"
                        ));
                    }
                }
                self.owed.remove(&id);
            }
        }
        self.ports.get_mut(&id).expect("known").told = true;
        Ok(())
    }

    /// What the browser still owes once it has run everything.
    fn check_settled(&self) -> Check {
        if let Some(p) = self.owed.iter().next() {
            return Err(format!("port {p} was owed an onDisconnect that never came"));
        }
        for ch in &self.channels {
            let opener = &self.ports[&ch.opener];
            if ch.phase == Phase::Pending && self.alive(opener.ctx) && !ch.disconnected_early {
                return Err(format!("channel {} never opened", ch.name));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Operations.

#[derive(Clone, Debug)]
enum Op {
    /// Connects from a content script (opening a tab where one runs first, if there is none).
    ConnectFromContentScript(usize),
    /// Connects from an open popup, if there is one.
    ConnectFromPopup(usize),
    /// Connects from the latest load of the background page: if that load has unloaded, its
    /// runtime must refuse with `Extension context invalidated.`
    ConnectFromBackground,
    /// Posts `count` messages on a port: an open one, or (`any`) any port at all.
    Post {
        pick: usize,
        any: bool,
        count: u64,
    },
    /// Calls `disconnect()` on a port: an open one, or (`any`) any port at all.
    Disconnect {
        pick: usize,
        any: bool,
    },
    /// Opens a tab. A content script starts in it if the page matches.
    OpenTab {
        matching: bool,
    },
    CloseTab(usize),
    /// Navigates a tab: its content script goes; a new one starts if the new page matches.
    Navigate {
        tab: usize,
        matching: bool,
    },
    /// Opens a popup; its `onConnect` listener is registered once it is open.
    OpenPopup,
    ClosePopup(usize),
    /// Lets this many milliseconds of virtual time pass.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let pick = 0..8usize;
    let any = prop::bool::weighted(0.2);
    let matching = prop::bool::weighted(0.75);
    prop_oneof![
        4 => pick.clone().prop_map(Op::ConnectFromContentScript),
        3 => pick.clone().prop_map(Op::ConnectFromPopup),
        2 => Just(Op::ConnectFromBackground),
        10 => (pick.clone(), any, 1..=3u64)
            .prop_map(|(pick, any, count)| Op::Post { pick, any, count }),
        3 => (pick.clone(), any).prop_map(|(pick, any)| Op::Disconnect { pick, any }),
        3 => matching.prop_map(|matching| Op::OpenTab { matching }),
        1 => pick.clone().prop_map(Op::CloseTab),
        1 => (pick.clone(), matching).prop_map(|(tab, matching)| Op::Navigate { tab, matching }),
        2 => Just(Op::OpenPopup),
        2 => pick.prop_map(Op::ClosePopup),
        4 => (0..=20_000u64).prop_map(Op::Advance),
    ]
}

struct Tab {
    tab: TabId,
    script: Option<(usize, Runtime)>,
}

struct Popup {
    view: ViewId,
    ctx: usize,
    runtime: Runtime,
}

struct Harness {
    browser: Browser,
    id: ExtensionId,
    rec: Rec,
    model: Model,
    tabs: Vec<Tab>,
    popups: Vec<Popup>,
    names: usize,
}

impl Harness {
    fn new() -> Result<Harness, String> {
        let rec = Rec::default();
        let spec = ExtensionSpec::from_json(json!({
            "name": "Port properties",
            "version": "1.0",
            "background": {"scripts": ["background.js"], "persistent": false},
            "content_scripts": [{"matches": ["https://example.com/*"], "js": ["content.js"]}]
        }))
        .map_err(|e| e.to_string())?
        .script(background(Arc::clone(&rec)));
        let mut browser = Browser::builder().build();
        let id = browser.install(spec).map_err(|e| e.to_string())?;
        browser.start();
        browser.advance(Duration::ZERO);
        let mut harness = Harness {
            browser,
            id,
            rec,
            model: Model::default(),
            tabs: Vec::new(),
            popups: Vec::new(),
            names: 0,
        };
        harness.settle_model()?;
        Ok(harness)
    }

    /// Feeds what the listeners recorded to the model, then compares it with the browser.
    fn settle_model(&mut self) -> Check {
        let seen = std::mem::take(&mut lock(&self.rec).seen);
        for s in seen {
            self.model.observe(s)?;
        }
        self.model.finish_opening()?;
        let state = self.browser.page_state(&self.id);
        let loads = self.browser.extension(&self.id).map_or(0, |e| e.page_loads);
        match self.model.bg {
            Some(bg) => {
                let life = self.model.ctxs[&bg].life;
                if !matches!(state, Some(PageState::Active | PageState::Closing)) || loads != life {
                    return Err(format!(
                        "the model has load {life} of the page; the browser says {state:?} after {loads} loads"
                    ));
                }
            }
            None => {
                if !matches!(state, Some(PageState::Unloaded | PageState::Loading)) {
                    return Err(format!(
                        "the page unloaded unseen; the browser says {state:?}"
                    ));
                }
            }
        }
        let open_in_page: Vec<usize> = self
            .model
            .ports
            .iter()
            .filter(|(id, p)| {
                self.model.ctxs[&p.ctx].kind == Kind::Background && self.model.port_open(**id)
            })
            .map(|(id, _)| *id)
            .collect();
        if !open_in_page.is_empty() && state != Some(PageState::Active) {
            return Err(format!(
                "ports {open_in_page:?} of the page are open, but the page is {state:?}"
            ));
        }
        Ok(())
    }

    fn connect(&mut self, ctx: usize, runtime: &Runtime) -> Check {
        self.names += 1;
        let name = format!("port-{}", self.names);
        match runtime.connect(&name) {
            Ok(port) => {
                if !self.model.alive(ctx) {
                    return Err(format!("connect() from gone context {ctx} worked"));
                }
                let id = watch(&self.rec, runtime, &port);
                self.model.connected(name, id, ctx);
                Ok(())
            }
            Err(ConnectError::ContextInvalidated(_)) if !self.model.alive(ctx) => Ok(()),
            Err(e) => Err(format!("connect() from context {ctx} failed: {e}")),
        }
    }

    /// A port: one that is open (if there is one), or any.
    fn pick_port(&self, pick: usize, any: bool) -> Option<(usize, Port)> {
        let ports = lock(&self.rec).ports.clone();
        let open: Vec<usize> = (0..ports.len())
            .filter(|id| self.model.port_open(*id))
            .collect();
        let id = if any || open.is_empty() {
            *pick_from(&(0..ports.len()).collect::<Vec<_>>(), pick)?
        } else {
            open[pick % open.len()]
        };
        Some((id, ports[id].clone()))
    }

    fn post(&mut self, id: usize, port: &Port) -> Check {
        let state = self.model.port(id)?;
        let seq = state.posted;
        let ended = state.disconnected_itself || state.told;
        let alive = self.model.alive(state.ctx);
        let open = self.model.channels[state.channel].phase != Phase::Closed;
        let result = port.post_message(&json!({"from": id, "seq": seq}));
        let expected = if ended {
            result == Err(PostMessageError::Disconnected)
        } else if !alive {
            result.is_err()
        } else if open {
            result.is_ok()
        } else {
            // Closed, and not told yet (or a receiver silently left by the close).
            matches!(result, Ok(()) | Err(PostMessageError::Disconnected))
        };
        if !expected {
            return Err(format!(
                "post on port {id} (ended: {ended}, context alive: {alive}, channel open: {open}) gave {result:?}"
            ));
        }
        if result.is_ok() {
            self.model.ports.get_mut(&id).expect("known").posted += 1;
        }
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Check {
        match *op {
            Op::ConnectFromContentScript(pick) => {
                if self.tabs.iter().all(|t| t.script.is_none()) {
                    self.apply(&Op::OpenTab { matching: true })?;
                }
                let scripts: Vec<(usize, Runtime)> =
                    self.tabs.iter().filter_map(|t| t.script.clone()).collect();
                if let Some((ctx, runtime)) = pick_from(&scripts, pick) {
                    self.connect(*ctx, &runtime.clone())?;
                }
            }
            Op::ConnectFromPopup(pick) => {
                if let Some(popup) = pick_from(&self.popups, pick) {
                    let (ctx, runtime) = (popup.ctx, popup.runtime.clone());
                    self.connect(ctx, &runtime)?;
                }
            }
            Op::ConnectFromBackground => {
                let background = lock(&self.rec).background.clone();
                if let Some((ctx, runtime)) = background {
                    self.connect(ctx, &runtime)?;
                }
            }
            Op::Post { pick, any, count } => {
                if let Some((id, port)) = self.pick_port(pick, any) {
                    for _ in 0..count {
                        self.post(id, &port)?;
                    }
                }
            }
            Op::Disconnect { pick, any } => {
                if let Some((id, port)) = self.pick_port(pick, any) {
                    port.disconnect();
                    self.model.disconnect(id);
                }
            }
            Op::OpenTab { matching } => {
                if self.tabs.len() < MAX_TABS {
                    let tab = self
                        .browser
                        .open_tab(url(matching))
                        .map_err(|e| e.to_string())?;
                    self.settle_model()?;
                    let script = self.start_content_script(tab);
                    self.tabs.push(Tab { tab, script });
                }
            }
            Op::CloseTab(pick) => {
                if !self.tabs.is_empty() {
                    let tab = self.tabs.remove(pick % self.tabs.len());
                    self.browser.close_tab(tab.tab);
                    if let Some((ctx, _)) = tab.script {
                        self.model.context_gone(ctx)?;
                    }
                }
            }
            Op::Navigate { tab, matching } => {
                if !self.tabs.is_empty() {
                    let index = tab % self.tabs.len();
                    let tab = self.tabs[index].tab;
                    self.browser
                        .navigate(tab, url(matching))
                        .map_err(|e| e.to_string())?;
                    if let Some((ctx, _)) = self.tabs[index].script.take() {
                        self.model.context_gone(ctx)?;
                    }
                    self.settle_model()?;
                    self.tabs[index].script = self.start_content_script(tab);
                }
            }
            Op::OpenPopup => {
                if self.popups.len() < MAX_POPUPS {
                    let view = self
                        .browser
                        .open_view(&self.id, ViewKind::Popup, "popup.html")
                        .map_err(|e| e.to_string())?;
                    // The popup's listener is registered after it opened: it missed whatever
                    // opened while it loaded.
                    self.settle_model()?;
                    let runtime = self
                        .browser
                        .view_runtime(&self.id, view)
                        .ok_or("the popup has no runtime")?;
                    let ctx = new_ctx(&self.rec);
                    listen(&self.rec, &runtime, ctx);
                    self.model.add_ctx(ctx, Kind::Popup, 0);
                    self.popups.push(Popup { view, ctx, runtime });
                }
            }
            Op::ClosePopup(pick) => {
                if !self.popups.is_empty() {
                    let popup = self.popups.remove(pick % self.popups.len());
                    self.browser.close_view(&self.id, popup.view);
                    self.model.context_gone(popup.ctx)?;
                }
            }
            Op::Advance(ms) => self.browser.advance(Duration::from_millis(ms)),
        }
        self.settle_model()
    }

    fn start_content_script(&mut self, tab: TabId) -> Option<(usize, Runtime)> {
        let runtime = self.browser.content_script(&self.id, tab, FrameId::TOP)?;
        let ctx = new_ctx(&self.rec);
        // Content scripts listen too: runtime.connect must never reach them.
        listen(&self.rec, &runtime, ctx);
        self.model.add_ctx(ctx, Kind::ContentScript, 0);
        Some((ctx, runtime))
    }

    /// Runs everything left, then closes every tab and popup: every channel must end, and
    /// the page must unload 15 s after the last thing that kept it.
    fn finish(&mut self) -> Check {
        self.browser.run_until_idle();
        self.settle_model()?;
        self.model.check_settled()?;
        for popup in std::mem::take(&mut self.popups) {
            self.browser.close_view(&self.id, popup.view);
            self.model.context_gone(popup.ctx)?;
            self.settle_model()?;
        }
        for tab in std::mem::take(&mut self.tabs) {
            self.browser.close_tab(tab.tab);
            if let Some((ctx, _)) = tab.script {
                self.model.context_gone(ctx)?;
            }
            self.settle_model()?;
        }
        let closed_at = self.browser.now();
        self.browser.run_until_idle();
        self.settle_model()?;
        self.model.check_settled()?;
        if let Some(ch) = self
            .model
            .channels
            .iter()
            .find(|ch| ch.phase != Phase::Closed)
        {
            return Err(format!(
                "channel {} is still {:?} with every context gone",
                ch.name, ch.phase
            ));
        }
        let state = self.browser.page_state(&self.id);
        if state != Some(PageState::Unloaded) {
            return Err(format!("with nothing open the page ended {state:?}"));
        }
        let idle = self.browser.now().since_start() - closed_at.since_start();
        if idle > Duration::from_secs(15) {
            return Err(format!(
                "the page unloaded {idle:?} after everything closed"
            ));
        }
        Ok(())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Ports and runtimes hold listeners that hold the recorder.
        let mut r = lock(&self.rec);
        r.ports.clear();
        r.background = None;
    }
}

fn pick_from<T>(items: &[T], pick: usize) -> Option<&T> {
    (!items.is_empty()).then(|| &items[pick % items.len()])
}

fn url(matching: bool) -> &'static str {
    if matching {
        MATCHING_URL
    } else {
        OTHER_URL
    }
}

fn run(ops: &[Op]) -> Check {
    let mut harness = Harness::new()?;
    for (step, op) in ops.iter().enumerate() {
        harness
            .apply(op)
            .map_err(|e| format!("after step {step} ({op:?}): {e}"))?;
    }
    harness.finish().map_err(|e| format!("at the end: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ports_keep_the_promises_of_section_4_2(ops in prop::collection::vec(op(), 8..=32)) {
        run(&ops).map_err(TestCaseError::fail)?;
    }
}

/// The deterministic case behind a failure the property finds: a tab closes while a message
/// and the disconnect of the background page's end are on their way to its content script's
/// port. The content script is gone with its tab, and its port closed with it: neither may
/// reach it (it would run code in a context that no longer exists).
#[test]
fn nothing_reaches_a_port_after_its_tab_closed() {
    let mut harness = Harness::new().expect("harness");
    harness
        .apply(&Op::ConnectFromContentScript(0))
        .expect("connects");
    harness.apply(&Op::Advance(0)).expect("opens");
    let (content_end, background_end) = {
        let r = lock(&harness.rec);
        (r.ports[0].clone(), r.ports[1].clone())
    };
    assert_eq!(background_end.name(), content_end.name());

    // The background page answers and hangs up; before the browser delivers either, the tab
    // closes.
    background_end.post_message(&json!("answer")).unwrap();
    background_end.disconnect();
    let tab = harness.tabs[0].tab;
    harness.browser.close_tab(tab);
    harness.browser.run_until_idle();

    let seen = std::mem::take(&mut lock(&harness.rec).seen);
    let reached_content_script: Vec<&Seen> = seen
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Message { port: 0, .. } | Seen::Disconnected { port: 0, .. }
            )
        })
        .collect();
    assert!(
        reached_content_script.is_empty(),
        "after its tab closed, the content script's port got {reached_content_script:?}"
    );
}

/// A navigation ends the tab's content script even when the new page matches too and a new
/// content script of the same extension starts in the same frame: the old one's `runtime` is
/// invalidated, so it can open no port (and nothing on its way reaches its old ports).
#[test]
fn a_content_script_navigated_away_is_gone_even_if_another_starts_in_its_frame() {
    let mut harness = Harness::new().expect("harness");
    harness
        .apply(&Op::OpenTab { matching: true })
        .expect("opens");
    let tab = harness.tabs[0].tab;
    let (_, old) = harness.tabs[0]
        .script
        .clone()
        .expect("a content script runs");
    harness
        .browser
        .navigate(tab, "https://example.com/next")
        .unwrap();
    assert!(harness
        .browser
        .content_script(&harness.id, tab, FrameId::TOP)
        .is_some());

    let opened = old.connect("from the old page");
    assert_eq!(
        opened.as_ref().map(Port::name),
        Err(&ConnectError::ContextInvalidated(
            runtime_sim::ContextInvalidated
        ))
    );
}
