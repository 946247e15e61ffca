//! `chrome.tabs`, the part messaging needs: a tab as an extension sees it (`tabs.Tab`, without
//! its URL unless the extension may see it), `tabs.create`, `get`, `query` and `remove`, and
//! the events `tabs.onCreated`, `onRemoved` and `onUpdated`, delivered to the extensions whose
//! pages listen to them. The tabs themselves are `tabs.rs`'s.

use serde_json::{json, Value};

use crate::model::calls::ApiRequest;
use crate::model::contexts::ViewKind;
use crate::model::event::RuntimeEvent;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::TabId;
use crate::model::match_pattern::MatchPattern;
use crate::model::names::EventName;
use crate::model::tab::{no_tab, no_window, TabCreate, TabQuery, WINDOW_ID, WINDOW_ID_CURRENT};
use crate::model::world::Model;

/// The page a tab opens on when `tabs.create` names no URL.
const NEW_TAB_URL: &str = "chrome://newtab/";

/// Whether `window` (a `windowId` argument) names the browser's one window.
fn is_the_window(window: i64) -> bool {
    window == WINDOW_ID_CURRENT || window == WINDOW_ID as i64
}

/// Whether `url` starts with a scheme (`https:`, `chrome-extension:`, `about:`).
fn has_scheme(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

impl Model {
    /// Whether `ext` may see the URL of a tab showing `url`: it has the `tabs` permission or
    /// a host permission for the URL (`ExtensionTabUtil`'s scrubbing rule).
    fn sees_tab_url(&self, ext: &ExtensionId, url: &str) -> bool {
        self.ext(ext).is_some_and(|rec| {
            rec.manifest.has_permission("tabs") || rec.manifest.has_host_permission(url)
        })
    }

    /// `tabs.Tab` for `tab` as `ext` sees it: without `url` unless it may see the URL.
    pub(crate) fn tab_for(&self, ext: &ExtensionId, tab: TabId) -> Option<Value> {
        let info = self.tab_info(tab)?;
        let sees = self.sees_tab_url(ext, &info.url);
        let mut value = serde_json::to_value(&info).ok()?;
        let object = value.as_object_mut()?;
        object.insert("highlighted".into(), Value::Bool(info.active));
        object.insert("selected".into(), Value::Bool(info.active));
        object.insert("pinned".into(), Value::Bool(false));
        object.insert("discarded".into(), Value::Bool(false));
        object.insert("autoDiscardable".into(), Value::Bool(true));
        object.insert("groupId".into(), Value::from(-1));
        object.insert("status".into(), Value::from("complete"));
        if !sees {
            object.remove("url");
        }
        Some(value)
    }

    /// The open tabs, in their order in the window.
    fn tabs_in_order(&self) -> Vec<TabId> {
        let mut tabs: Vec<(u64, TabId)> = self.tabs.iter().map(|(id, t)| (t.index, *id)).collect();
        tabs.sort_unstable();
        tabs.into_iter().map(|(_, id)| id).collect()
    }

    /// A `tabs.*` call of `ext`, once its latency has passed: the JSON the API gives, or the
    /// browser's error.
    pub(crate) fn tabs_call(
        &mut self,
        ext: &ExtensionId,
        request: ApiRequest,
    ) -> Result<Value, String> {
        match request {
            ApiRequest::TabsCreate(create) => self.create_tab(ext, create),
            ApiRequest::TabsGet(tab) => self.tab_for(ext, tab).ok_or_else(|| no_tab(tab)),
            ApiRequest::TabsQuery(query) => self.query_tabs(ext, &query),
            ApiRequest::TabsRemove(tabs) => {
                // One after the other, as Chromium closes them: an unknown id stops the call,
                // and the tabs before it stay closed.
                for tab in tabs {
                    if !self.close_tab(tab) {
                        return Err(no_tab(tab));
                    }
                }
                Ok(Value::Null)
            }
            _ => Err("runtime-sim: not a call of chrome.tabs".to_owned()),
        }
    }

    /// `tabs.create`: a page of the extension (a relative URL, or one of its own origin)
    /// opens as a view of kind `Tab`; any other URL in a tab of its own.
    fn create_tab(&mut self, ext: &ExtensionId, create: TabCreate) -> Result<Value, String> {
        if let Some(window) = create.window_id.filter(|w| !is_the_window(*w)) {
            return Err(no_window(window));
        }
        let active = create.active.unwrap_or(true);
        let url = create.url.unwrap_or_else(|| NEW_TAB_URL.to_owned());
        let origin = self.ext(ext).map(|r| r.origin.clone()).unwrap_or_default();
        let own_path = if has_scheme(&url) {
            url.strip_prefix(origin.as_str())
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| rest.trim_start_matches('/').to_owned())
        } else {
            Some(url.trim_start_matches('/').to_owned())
        };
        let tab = match own_path {
            Some(path) => {
                let view = self
                    .open_view_at(ext, ViewKind::Tab, &path, create.index, active)
                    .ok_or_else(|| "Extension context invalidated.".to_owned())?;
                self.view_tab(ext, view)
            }
            None => Some(self.open_tab_at(&url, create.index, active)),
        };
        tab.and_then(|tab| self.tab_for(ext, tab))
            .ok_or_else(|| "Extension context invalidated.".to_owned())
    }

    /// `tabs.query`: the tabs matching every property given, in their order in the window.
    fn query_tabs(&self, ext: &ExtensionId, query: &TabQuery) -> Result<Value, String> {
        let patterns = match &query.url {
            Some(patterns) => Some(
                patterns
                    .iter()
                    .map(|p| {
                        MatchPattern::parse(p).map_err(|_| format!("Invalid url pattern '{p}'"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let in_window = query.window_id.is_none_or(is_the_window)
            && query.current_window != Some(false)
            && query.last_focused_window != Some(false);
        if !in_window {
            return Ok(Value::Array(Vec::new()));
        }
        let wants = |want: Option<bool>, is: bool| want.is_none_or(|w| w == is);
        let mut found = Vec::new();
        for tab in self.tabs_in_order() {
            let Some(info) = self.tab_info(tab) else {
                continue;
            };
            let active = info.active;
            let matches = wants(query.active, active)
                && wants(query.highlighted, active)
                && wants(query.pinned, false)
                && query.index.is_none_or(|i| i == info.index)
                && query.status.as_deref().is_none_or(|s| s == "complete")
                && patterns.as_ref().is_none_or(|patterns| {
                    // The URL is privileged: a tab whose URL the extension may not see does
                    // not match.
                    self.sees_tab_url(ext, &info.url)
                        && patterns.iter().any(|p| p.matches(&info.url))
                });
            if matches {
                if let Some(value) = self.tab_for(ext, tab) {
                    found.push(value);
                }
            }
        }
        Ok(Value::Array(found))
    }

    /// Hands a `tabs` event to every extension whose page listens to it (its lazy listeners):
    /// `args` gives the listener's arguments, as a JSON array, for each.
    fn tab_event(&mut self, event: &str, args: impl Fn(&Model, &ExtensionId) -> Option<Value>) {
        if !self.running {
            return;
        }
        let name = EventName::from(event);
        let listening: Vec<ExtensionId> = self
            .extensions
            .values()
            .filter(|r| r.life.is_running() && r.lazy_listeners.contains(&name))
            .map(|r| r.id.clone())
            .collect();
        for ext in listening {
            let Some(args) = args(self, &ext) else {
                continue;
            };
            let name = self.event_names.intern(event);
            // Dispatched as the tab changes: before the call that changed it answers.
            self.deliver(&ext, RuntimeEvent::Named { name, args });
        }
    }

    /// A tab opened: `tabs.onCreated(tab)`.
    pub(crate) fn tab_created(&mut self, tab: TabId) {
        self.tab_event("tabs.onCreated", |model, ext| {
            Some(json!([model.tab_for(ext, tab)?]))
        });
    }

    /// A tab closed: `tabs.onRemoved(tabId, {windowId, isWindowClosing})`.
    pub(crate) fn tab_removed(&mut self, tab: TabId) {
        self.tab_event("tabs.onRemoved", |_, _| {
            Some(json!([tab, {"windowId": WINDOW_ID, "isWindowClosing": false}]))
        });
    }

    /// A tab navigated to `url`: `tabs.onUpdated(tabId, changeInfo, tab)`, once as it starts
    /// loading (with the URL, if the extension may see it) and once as it completes.
    pub(crate) fn tab_navigated(&mut self, tab: TabId, url: &str) {
        for status in ["loading", "complete"] {
            self.tab_event("tabs.onUpdated", |model, ext| {
                let mut tab_value = model.tab_for(ext, tab)?;
                tab_value["status"] = Value::from(status);
                let mut change = json!({"status": status});
                if status == "loading" && tab_value.get("url").is_some() {
                    change["url"] = Value::from(url);
                }
                Some(json!([tab, change, tab_value]))
            });
        }
    }
}
