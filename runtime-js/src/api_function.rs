//! The shape of the native functions behind the API's asynchronous calls:
//! `name(op, json, callback, settle)`, where `op` names the call, `json` holds its checked
//! arguments, and the answer goes to `callback` (the callback form) or `settle` (a promise),
//! through [`Page::answer_later`].

use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use rquickjs::function::Opt;
use rquickjs::{Ctx, Function, Object, Persistent};
use serde_json::Value;

use crate::page::{live, Page};

/// A call's answer: its value as JSON, or the browser's error text.
pub(crate) type Answer = Pin<Box<dyn Future<Output = Result<Value, String>>>>;

/// Sets `__runtime_sim[name]` to a function `(op, json, callback, settle)` that starts the
/// call `start` makes of `op` and its arguments (an error it returns is thrown at once, as an
/// argument error is) and gives its answer to the callback or the promise.
pub(crate) fn install<'js, F>(
    ctx: &Ctx<'js>,
    page: &Weak<Page>,
    name: &str,
    start: F,
) -> rquickjs::Result<()>
where
    F: Fn(&Ctx<'js>, &Rc<Page>, &str, Value) -> rquickjs::Result<Answer> + 'js,
{
    let sim: Object = ctx.globals().get("__runtime_sim")?;
    let p = page.clone();
    sim.set(
        name,
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  op: String,
                  json: String,
                  callback: Option<Function<'js>>,
                  settle: Opt<Option<Function<'js>>>| {
                let page = live(&p, &ctx)?;
                let args: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
                let work = start(&ctx, &page, &op, args)?;
                let keep = |f: Option<Function<'js>>| f.map(|f| Persistent::save(&ctx, f));
                page.answer_later(keep(callback), keep(settle.0.flatten()), work);
                Ok::<(), rquickjs::Error>(())
            },
        )?,
    )
}
