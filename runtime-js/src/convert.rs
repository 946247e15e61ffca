//! Values between JavaScript and the simulator: JSON text (messages and stored values are
//! JSON in the browser too), and thrown values as the console shows them.

use rquickjs::{Coerced, Constructor, Ctx, Exception, Value};

/// What `ctx` has thrown, as the console prints an uncaught error: `Error: message`, and where
/// it was thrown when QuickJS knows (`at file:line:column`).
pub(crate) fn thrown(ctx: &Ctx<'_>) -> String {
    let value = ctx.catch();
    shown(ctx, &value)
}

/// A thrown value, as the console shows it.
pub(crate) fn shown(ctx: &Ctx<'_>, value: &Value<'_>) -> String {
    if let Some(exception) = value
        .as_object()
        .and_then(|o| Exception::from_object(o.clone()))
    {
        let headline = headline(&exception);
        let at = exception
            .stack()
            .as_deref()
            .and_then(first_frame)
            .map(|at| format!(" ({at})"))
            .unwrap_or_default();
        return format!("{headline}{at}");
    }
    let text: Option<Coerced<String>> = value.get().ok();
    let _ = ctx;
    text.map_or_else(|| "a value that cannot be shown".to_owned(), |t| t.0)
}

/// An error's first line as V8 prints it: `Name: message`.
pub(crate) fn headline(exception: &Exception<'_>) -> String {
    let name: Option<Coerced<String>> = exception.get("name").ok();
    let name = name.map_or_else(|| "Error".to_owned(), |n| n.0);
    format!("{name}: {}", exception.message().unwrap_or_default())
}

/// Throws a new error of the global constructor `constructor` (`TypeError`, `RangeError`)
/// with `message`, whole (QuickJS's own helpers cut a message at 255 bytes).
pub(crate) fn throw_error(ctx: &Ctx<'_>, constructor: &str, message: &str) -> rquickjs::Error {
    let made = ctx
        .globals()
        .get::<_, Constructor>(constructor)
        .and_then(|c| c.construct::<_, Value>((message,)));
    match made {
        Ok(error) => ctx.throw(error),
        Err(_) => Exception::throw_message(ctx, message),
    }
}

/// `file:line:column` of a stack's first frame (`    at f (bg.js:3:9)`).
fn first_frame(stack: &str) -> Option<String> {
    let line = stack.lines().find(|l| l.trim_start().starts_with("at "))?;
    let place = line.trim().trim_start_matches("at ").trim();
    let place = match (place.rfind('('), place.ends_with(')')) {
        (Some(open), true) => &place[open + 1..place.len() - 1],
        _ => place,
    };
    Some(place.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_of_a_stack_names_file_line_and_column() {
        assert_eq!(
            first_frame("    at listen (bg.js:3:9)\n    at <eval> (bg.js:5:1)\n").as_deref(),
            Some("bg.js:3:9")
        );
        assert_eq!(
            first_frame("    at bg.js:7:2\n").as_deref(),
            Some("bg.js:7:2")
        );
        assert_eq!(first_frame("no frames"), None);
    }
}
