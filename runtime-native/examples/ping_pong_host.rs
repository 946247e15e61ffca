//! The `ping_pong` host of the `connectNative` page, written with the host API.
//!
//! The extension connects with `runtime.connectNative("ping_pong")` and posts `"ping"`;
//! this host answers `"pong"` and ignores any other message, like the page's example
//! host. (The page does not quote the reply; MDN's Python 3 `ping_pong.py` answers
//! `"pong3"`. We answer `"pong"`.) It ends when the browser closes its stdin.
//!
//! Install it with a manifest such as
//!
//! ```json
//! { "name": "ping_pong", "description": "Example host for native messaging",
//!   "path": "/absolute/path/to/ping_pong_host", "type": "stdio",
//!   "allowed_extensions": ["ping_pong@example.org"] }
//! ```
//!
//! Run it by hand: `cargo run -p runtime-native --example ping_pong_host`.

use std::io;

use runtime_native::host::{read_message, write_message};
use serde_json::Value;

fn main() -> io::Result<()> {
    // argv[1] is the caller: `chrome-extension://<id>/` (Chrome) or the manifest path
    // followed by the add-on id (Firefox). This host serves anyone it is started for.
    let caller: Vec<String> = std::env::args().skip(1).collect();
    eprintln!("ping_pong started for {caller:?}");

    let stdin = io::stdin();
    let stdout = io::stdout();
    let (mut input, mut output) = (stdin.lock(), stdout.lock());
    while let Some(message) = read_message(&mut input)? {
        if message == "ping" {
            write_message(&mut output, &Value::from("pong"))?;
        }
    }
    Ok(())
}
