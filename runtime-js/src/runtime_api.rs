//! The native side of the `chrome.runtime` members that ask the browser for something beyond
//! messages (`runtime.js` builds them over it): the platform, the package folder, the options
//! page, the uninstall URL, update checks, reload, the kiosk restarts and Firefox's
//! `getBrowserInfo`.

use std::future::Future;
use std::rc::Weak;

use rquickjs::{Ctx, Function, Object};
use runtime_core::{SetUninstallUrlError, MAX_UNINSTALL_URL_LENGTH};
use serde_json::{json, Value};

use crate::api_function::{self, Answer};
use crate::page::{live, throw, Page};

/// The build id Firefox's `runtime.getBrowserInfo()` reports: the simulator has no build, so
/// a fixed date-like id in the form Firefox uses (`YYYYMMDDhhmmss`).
const FIREFOX_BUILD_ID: &str = "20260101000000";

/// Boxes a call of the browser whose value serialises as the answer.
fn answer<T, E>(call: impl Future<Output = Result<T, E>> + 'static) -> Answer
where
    T: serde::Serialize,
    E: std::fmt::Display,
{
    Box::pin(async move {
        call.await
            .map(|value| serde_json::to_value(value).unwrap_or(Value::Null))
            .map_err(|error| error.to_string())
    })
}

/// Adds `__runtime_sim.runtimeCall(op, json, callback, settle)` and `__runtime_sim.reload()`.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, page: &Weak<Page>) -> rquickjs::Result<()> {
    api_function::install(ctx, page, "runtimeCall", |ctx, page, op, args| {
        let rt = page.runtime().clone();
        Ok(match op {
            "getPlatformInfo" => answer(async move { rt.get_platform_info().await }),
            "getPackageDirectoryEntry" => Box::pin(async move {
                let entry = rt
                    .get_package_directory_entry()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(json!({ "name": entry.name, "fullPath": "/" }))
            }),
            "openOptionsPage" => answer(async move { rt.open_options_page().await }),
            "setUninstallURL" => {
                let url = args["url"].as_str().unwrap_or_default().to_owned();
                // Too long is an argument error, thrown before any call is made.
                let found = url.chars().count();
                if found > MAX_UNINSTALL_URL_LENGTH {
                    let error = SetUninstallUrlError::TooLong {
                        max: MAX_UNINSTALL_URL_LENGTH,
                        found,
                    };
                    return Err(throw(ctx, &error.to_string()));
                }
                answer(async move { rt.set_uninstall_url(&url).await })
            }
            "requestUpdateCheck" => answer(rt.request_update_check()),
            "restart" => answer(async move { rt.restart().await }),
            "restartAfterDelay" => {
                let seconds = args["seconds"].as_i64().unwrap_or(0);
                let seconds = seconds.clamp(i32::MIN.into(), i32::MAX.into()) as i32;
                answer(async move { rt.restart_after_delay(seconds).await })
            }
            // Firefox's: the browser's name, vendor, version and build.
            "getBrowserInfo" => Box::pin(async move {
                let version = rt.browser_version();
                Ok(json!({
                    "name": "Firefox",
                    "vendor": "Mozilla",
                    "buildID": FIREFOX_BUILD_ID,
                    "version": version,
                }))
            }),
            other => {
                return Err(throw(
                    ctx,
                    &format!("runtime.{other} is not simulated by runtime-sim"),
                ))
            }
        })
    })?;
    let sim: Object = ctx.globals().get("__runtime_sim")?;
    let p = page.clone();
    sim.set(
        "reload",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            let page = live(&p, &ctx)?;
            page.runtime()
                .reload()
                .map_err(|e| throw(&ctx, &e.to_string()))
        })?,
    )?;
    Ok(())
}
