//! The native side of `chrome.tabs` (`tabs.js` builds the namespace over it): the calls of
//! the browser's tabs, and messages and ports to a tab's content scripts.

use std::future::Future;
use std::pin::Pin;
use std::rc::Weak;

use rquickjs::function::Opt;
use rquickjs::{Ctx, Function, Object, Persistent};
use runtime_core::{FrameId, TabCreate, TabId, TabQuery};
use serde_json::Value;

use crate::api_function::{self, Answer};
use crate::page::{json_of, live, throw, Page};

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A tab id (or frame id) from JavaScript: a whole number from 0, else `None`.
fn whole(number: f64) -> Option<u64> {
    (number.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&number)).then_some(number as u64)
}

fn tab_of(value: &Value) -> Option<TabId> {
    value.as_f64().and_then(whole).map(TabId)
}

/// `createProperties`, as `tabs.js` checked it.
fn create_of(args: &Value) -> TabCreate {
    TabCreate {
        url: args["url"].as_str().map(str::to_owned),
        active: args["active"].as_bool(),
        index: args["index"].as_f64().and_then(whole),
        window_id: args["windowId"].as_f64().map(|w| w as i64),
    }
}

/// `queryInfo`, as `tabs.js` checked it.
fn query_of(args: &Value) -> TabQuery {
    let url = match &args["url"] {
        Value::String(pattern) => Some(vec![pattern.clone()]),
        Value::Array(patterns) => Some(
            patterns
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    TabQuery {
        active: args["active"].as_bool(),
        highlighted: args["highlighted"].as_bool(),
        pinned: args["pinned"].as_bool(),
        current_window: args["currentWindow"].as_bool(),
        last_focused_window: args["lastFocusedWindow"].as_bool(),
        window_id: args["windowId"].as_f64().map(|w| w as i64),
        index: args["index"].as_f64().and_then(whole),
        status: args["status"].as_str().map(str::to_owned),
        url,
    }
}

fn kept<'js>(ctx: &Ctx<'js>, f: Option<Function<'js>>) -> Option<crate::page::Kept> {
    f.map(|f| Persistent::save(ctx, f))
}

/// Adds the native functions of `chrome.tabs` to `globalThis.__runtime_sim`.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, page: &Weak<Page>) -> rquickjs::Result<()> {
    api_function::install(ctx, page, "tabs", |ctx, page, op, args| {
        let tabs = page.runtime().tabs();
        let work: Pin<Box<dyn Future<Output = _>>> = match op {
            "create" => Box::pin(tabs.create(create_of(&args))),
            "get" => {
                let tab = tab_of(&args["tabId"]).unwrap_or(TabId(u64::MAX));
                Box::pin(tabs.get(tab))
            }
            "query" => Box::pin(tabs.query(query_of(&args))),
            "remove" => {
                let ids: Vec<TabId> = args["tabIds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(tab_of)
                    .collect();
                let remove = tabs.remove(ids);
                Box::pin(async move { remove.await.map(|()| Value::Null) })
            }
            other => {
                return Err(throw(
                    ctx,
                    &format!("tabs.{other} is not simulated by runtime-sim"),
                ))
            }
        };
        let answer: Answer = Box::pin(async { work.await.map_err(|e| e.message) });
        Ok(answer)
    })?;
    let sim: Object = ctx.globals().get("__runtime_sim")?;
    let p = page.clone();
    sim.set(
        "tabSendMessage",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  tab: f64,
                  frame: Option<f64>,
                  json: String,
                  callback: Option<Function<'js>>,
                  settle: Opt<Option<Function<'js>>>| {
                let page = live(&p, &ctx)?;
                let tab = TabId(whole(tab).unwrap_or(u64::MAX));
                let frame = frame.and_then(whole).map(FrameId);
                let message: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
                let runtime = page.runtime().clone();
                if let Some(callback) = kept(&ctx, callback) {
                    let callback = crate::page::Callback::new(callback, &page);
                    return runtime
                        .send_message_to_tab_callback(tab, frame, &message, move |response| {
                            callback.respond(response.map(|r| json_of(&r)));
                        })
                        .map_err(|e| throw(&ctx, &e.to_string()));
                }
                let reply = runtime.send_message_to_tab(tab, frame, &message);
                page.answer_later(None, kept(&ctx, settle.0.flatten()), async move {
                    reply
                        .await
                        .map(|r| r.unwrap_or(Value::Null))
                        .map_err(|e| e.to_string())
                });
                Ok(())
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "tabConnect",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, tab: f64, frame: Option<f64>, name: String| {
                let page = live(&p, &ctx)?;
                let tab = TabId(whole(tab).unwrap_or(u64::MAX));
                let frame = frame.and_then(whole).map(FrameId);
                let port = page
                    .runtime()
                    .connect_to_tab(tab, frame, &name)
                    .map_err(|e| throw(&ctx, &e.to_string()))?;
                Ok::<_, rquickjs::Error>(page.keep_port(port))
            },
        )?,
    )?;
    Ok(())
}
