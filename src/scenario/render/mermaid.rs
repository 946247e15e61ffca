//! The Mermaid form of a run: a sequence diagram (it renders on GitHub and in docs) with the
//! browser and every context as participants — events and messages as arrows, lifecycle
//! changes, steps and outcomes as notes, a note wherever virtual time moves.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use serde_json::Value;

use crate::scenario::outcome::What;
use crate::scenario::run::{Line, Report};
use crate::{ChannelId, ExtensionId, SimInstant, TraceContext, TraceEvent};

/// A participant: an extension's context, a web page, a native host; `None` is the browser.
type Key = Option<(Option<ExtensionId>, TraceContext)>;

/// The run as a Mermaid sequence diagram.
pub fn mermaid(report: &Report) -> String {
    let mut diagram = Diagram::new(report);
    diagram.draw();
    diagram.finish()
}

struct Diagram<'r> {
    report: &'r Report,
    /// Participants in order of appearance, with their ids.
    participants: Vec<(Key, String)>,
    /// Who opened each message channel.
    openers: BTreeMap<ChannelId, String>,
    /// Channels whose receivers have not all been told, with the opener and what was sent.
    pending: VecDeque<(ChannelId, String, Value)>,
    /// Messages posted on ports and not yet delivered: channel, poster, message.
    posts: VecDeque<(ChannelId, String, Value)>,
    body: String,
}

impl<'r> Diagram<'r> {
    fn new(report: &'r Report) -> Self {
        let mut diagram = Diagram {
            report,
            participants: vec![(None, "B".to_owned())],
            openers: BTreeMap::new(),
            pending: VecDeque::new(),
            posts: VecDeque::new(),
            body: String::new(),
        };
        for line in &report.lines {
            if let Some(key) = diagram.key_of(line) {
                diagram.participant(key);
            }
        }
        diagram
    }

    fn key_of(&self, line: &Line) -> Option<Key> {
        match line {
            Line::Trace(entry) => Some(self.key(entry.extension.as_ref(), entry.context.as_ref())),
            Line::Happening(h) => Some(self.key(h.extension.as_ref(), h.context.as_ref())),
            Line::Step { .. } => None,
        }
    }

    fn key(&self, extension: Option<&ExtensionId>, context: Option<&TraceContext>) -> Key {
        match (extension, context) {
            (_, Some(TraceContext::Browser)) | (None, None) => None,
            (Some(ext), None) => Some((Some(ext.clone()), TraceContext::Background)),
            (ext, Some(context)) => {
                // Web pages and hosts are the same participant whoever they talk to.
                let ext = match context {
                    TraceContext::WebPage { .. } | TraceContext::NativeHost { .. } => None,
                    _ => ext.cloned(),
                };
                Some((ext, context.clone()))
            }
        }
    }

    /// The id of a participant, declared on first use.
    fn participant(&mut self, key: Key) -> String {
        if let Some((_, id)) = self.participants.iter().find(|(k, _)| *k == key) {
            return id.clone();
        }
        let id = format!("P{}", self.participants.len());
        self.participants.push((key, id.clone()));
        id
    }

    fn label(&self, key: &Key) -> String {
        match key {
            None => "Browser".to_owned(),
            Some((Some(ext), context)) => format!("{} ({context})", self.name(ext)),
            Some((None, context)) => context.to_string(),
        }
    }

    fn across(&self) -> String {
        match self.participants.last() {
            Some((_, last)) if last != "B" => format!("B,{last}"),
            _ => "B".to_owned(),
        }
    }

    fn note(&mut self, over: &str, text: &str) {
        let _ = writeln!(self.body, "    Note over {over}: {}", escape(text));
    }

    fn arrow(&mut self, from: &str, arrow: &str, to: &str, text: &str) {
        let _ = writeln!(self.body, "    {from}{arrow}{to}: {}", escape(text));
    }

    fn draw(&mut self) {
        let mut time: Option<SimInstant> = None;
        for line in &self.report.lines {
            if time != Some(line.at()) {
                time = Some(line.at());
                let across = self.across();
                self.note(&across, &format!("⏱ {}", line.at()));
            }
            match line {
                Line::Step {
                    index,
                    summary,
                    remark,
                    ..
                } => {
                    let across = self.across();
                    let text = if *remark {
                        format!("» {summary}")
                    } else {
                        format!("▶ step {index}: {summary}")
                    };
                    self.note(&across, &text);
                }
                Line::Happening(h) => {
                    let key = self.key(h.extension.as_ref(), h.context.as_ref());
                    let who = self.participant(key);
                    let text = match &h.what {
                        What::Outcome { .. } => format!("{}", h.what),
                        What::Uncaught { .. } => format!("⚠ {}", h.what),
                    };
                    self.note(&who, &text);
                }
                Line::Trace(entry) => {
                    let key = self.key(entry.extension.as_ref(), entry.context.as_ref());
                    let who = self.participant(key);
                    // What the browser does to an extension is noted over the browser: say whom.
                    let whom = match &entry.extension {
                        Some(ext) if who == "B" => Some(self.name(ext)),
                        _ => None,
                    };
                    self.entry(&who, whom.as_deref(), &entry.event);
                }
            }
        }
    }

    /// An extension's name in the manifest (its id if it has none).
    fn name(&self, ext: &ExtensionId) -> String {
        self.report
            .names
            .get(ext)
            .cloned()
            .unwrap_or_else(|| ext.to_string())
    }

    /// `who` is the participant the entry is noted over; `whom`, the extension a note over the
    /// browser is about.
    fn entry(&mut self, who: &str, whom: Option<&str>, event: &TraceEvent) {
        let about = whom.map_or(String::new(), |name| format!("{name}: "));
        match event {
            TraceEvent::Keepalive { .. }
            | TraceEvent::TimerStarted { .. }
            | TraceEvent::EventQueued { .. }
            | TraceEvent::ScriptLoaded
            | TraceEvent::EventFired { .. } => {}
            TraceEvent::Lifecycle { from, to, .. } if from != to => {
                self.note(who, &format!("{} → {}", from.as_str(), to.as_str()));
            }
            TraceEvent::Lifecycle { .. } => {}
            TraceEvent::EventDispatched {
                event,
                listeners,
                args,
            } => {
                let from = self.source(who, event.as_str(), args);
                let mut text = event.to_string();
                if is_message(event.as_str()) && !args.is_null() {
                    let _ = write!(text, " {}", short(args));
                }
                if *listeners == 0 {
                    text.push_str(" (no listener)");
                }
                self.arrow(&from, "->>", who, &text);
            }
            TraceEvent::EventMissed { event, .. } => {
                let from = self.source(who, event.as_str(), &Value::Null);
                self.arrow(&from, "-x", who, &format!("{event} MISSED"));
            }
            TraceEvent::EventNotDelivered { event, .. } => {
                self.arrow("B", "-x", who, &format!("{event} not delivered"));
            }
            TraceEvent::ChannelOpened {
                channel,
                message,
                name,
                ..
            } => {
                self.openers.insert(*channel, who.to_owned());
                let sent = message
                    .as_deref()
                    .cloned()
                    .or_else(|| name.clone().map(Value::String))
                    .unwrap_or(Value::Null);
                self.pending.push_back((*channel, who.to_owned(), sent));
            }
            TraceEvent::ChannelClosed {
                channel,
                error: Some(error),
            } => {
                let opener = self
                    .openers
                    .get(channel)
                    .cloned()
                    .unwrap_or_else(|| who.to_owned());
                self.arrow("B", "--x", &opener, &format!("#{channel}: {error}"));
            }
            TraceEvent::ChannelClosed { .. } => {}
            TraceEvent::Responded {
                channel,
                ok,
                response,
            } => {
                let opener = self
                    .openers
                    .get(channel)
                    .cloned()
                    .unwrap_or_else(|| "B".to_owned());
                let (arrow, text) = if *ok {
                    ("-->>", format!("answer {}", short(response)))
                } else {
                    ("--x", format!("error {}", short(response)))
                };
                self.arrow(who, arrow, &opener, &text);
            }
            TraceEvent::PortPosted { channel, message } => {
                self.posts
                    .push_back((*channel, who.to_owned(), Value::clone(message)));
            }
            TraceEvent::ApiCall { api } => self.arrow(who, "->>", "B", &format!("{api}()")),
            TraceEvent::ApiResult { api, ok, result } => {
                if *ok {
                    self.arrow("B", "-->>", who, &format!("{api}() → {}", short(result)));
                } else {
                    let message = result
                        .as_str()
                        .map_or_else(|| result.to_string(), str::to_owned);
                    self.arrow("B", "--x", who, &format!("{api}() failed: {message}"));
                }
            }
            TraceEvent::BrowserStarted { .. }
            | TraceEvent::BrowserStopped
            | TraceEvent::Installed { .. }
            | TraceEvent::Uninstalled
            | TraceEvent::UninstallUrlOpened { .. } => {
                let text = event.to_string();
                self.note("B", &text);
            }
            TraceEvent::LateListener { event, .. } => {
                self.note(who, &format!("⚠ late listener for {event}"));
            }
            TraceEvent::ListenerFailed { .. }
            | TraceEvent::TaskFailed { .. }
            | TraceEvent::ScriptFailed { .. }
            | TraceEvent::UncheckedLastError { .. }
            | TraceEvent::Terminated { .. }
            | TraceEvent::Warning { .. } => {
                let text = format!("⚠ {about}{event}");
                self.note(who, &text);
            }
            other => {
                let text = format!("{about}{other}");
                self.note(who, &text);
            }
        }
    }

    /// Who an event comes from: the opener of the channel or the poster of the message it
    /// delivers, else the browser.
    fn source(&mut self, to: &str, event: &str, args: &Value) -> String {
        if event == "Port.onMessage" {
            if let Some(i) = self
                .posts
                .iter()
                .position(|(_, poster, message)| poster != to && message == args)
            {
                if let Some((_, poster, _)) = self.posts.remove(i) {
                    return poster;
                }
            }
        } else if is_message(event) || event.starts_with("runtime.onConnect") {
            if let Some(i) = self
                .pending
                .iter()
                .position(|(_, opener, sent)| opener != to && sent == args)
            {
                if let Some((_, opener, _)) = self.pending.remove(i) {
                    return opener;
                }
            }
        }
        "B".to_owned()
    }

    fn finish(self) -> String {
        let mut out = String::from("sequenceDiagram\n");
        let _ = writeln!(
            out,
            "    %% {} — {} ({})",
            self.report.file.display(),
            self.report.name,
            self.report.profile
        );
        for (key, id) in &self.participants {
            let _ = writeln!(out, "    participant {id} as {}", escape(&self.label(key)));
        }
        out.push_str(&self.body);
        out
    }
}

fn is_message(event: &str) -> bool {
    matches!(
        event,
        "runtime.onMessage" | "runtime.onMessageExternal" | "Port.onMessage"
    )
}

/// A JSON value, shortened for a diagram.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 48 {
        return text;
    }
    let cut: String = text.chars().take(47).collect();
    format!("{cut}…")
}

/// Text safe in a Mermaid statement: `#`, `;`, `<`, `>` as entity codes; one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_text_is_escaped() {
        assert_eq!(escape("#3; a<b>"), "#35;3#59; a#60;b#62;");
        assert_eq!(short(&Value::String("x".repeat(60))).chars().count(), 48);
    }
}
