//! The host's side: read messages from the browser on stdin, write messages on stdout.
//!
//! Messages from the browser may be up to 64 MiB; messages to the browser at most 1 MiB
//! (a larger one is refused here rather than sent to be rejected). A host ends when its
//! stdin reaches end of file: the `serve` loops then return `Ok(())`.
//!
//! ```no_run
//! // A complete host: answers every message with the same message.
//! fn main() -> std::io::Result<()> {
//!     runtime_native::host::serve(|message| Some(message))
//! }
//! ```

use std::future::Future;
use std::io::{self, Read, Write};

use bytes::{Bytes, BytesMut};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::wire::{
    self, FrameError, Received, BROWSER_TO_HOST_MAX, HEADER_LEN, HOST_TO_BROWSER_MAX,
};

/// Turns an invalid body into an `InvalidData` I/O error (its source is the
/// [`InvalidMessage`](crate::InvalidMessage)).
fn to_value(received: Received) -> io::Result<Value> {
    received
        .into_message()
        .map_err(|invalid| io::Error::new(io::ErrorKind::InvalidData, invalid))
}

/// Reads one message from the browser. `Ok(None)` at end of file.
///
/// A body that is not UTF-8 JSON is an `InvalidData` error; the stream stays in sync, so
/// the caller may read on.
pub fn read_message<R: Read + ?Sized>(input: &mut R) -> io::Result<Option<Value>> {
    wire::read_message(input, BROWSER_TO_HOST_MAX)?
        .map(to_value)
        .transpose()
}

/// Writes one message to the browser and flushes.
pub fn write_message<W: Write + ?Sized, T: Serialize + ?Sized>(
    output: &mut W,
    message: &T,
) -> io::Result<()> {
    Ok(wire::write_message(output, message, HOST_TO_BROWSER_MAX)?)
}

/// Answers messages from `input` on `output` until end of file.
///
/// `handler` returns the replies to one message: `None`/`Some(reply)` or any iterator
/// of messages (a host may send several replies, or none).
pub fn serve_io<R, W, F, I>(input: &mut R, output: &mut W, mut handler: F) -> io::Result<()>
where
    R: Read + ?Sized,
    W: Write + ?Sized,
    F: FnMut(Value) -> I,
    I: IntoIterator<Item = Value>,
{
    while let Some(message) = read_message(input)? {
        for reply in handler(message) {
            write_message(output, &reply)?;
        }
    }
    Ok(())
}

/// [`serve_io`] on this process's stdin and stdout.
pub fn serve<F, I>(handler: F) -> io::Result<()>
where
    F: FnMut(Value) -> I,
    I: IntoIterator<Item = Value>,
{
    let stdin = io::stdin();
    let stdout = io::stdout();
    serve_io(&mut stdin.lock(), &mut stdout.lock(), handler)
}

/// Reads one raw frame asynchronously. Not cancel-safe (a frame may be half read).
pub async fn read_frame_async<R: AsyncRead + Unpin + ?Sized>(
    input: &mut R,
    max: usize,
) -> Result<Option<Bytes>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match input.read(&mut header[filled..]).await? {
            0 if filled == 0 => return Ok(None),
            0 => {
                return Err(FrameError::Truncated {
                    received: filled,
                    expected: HEADER_LEN,
                })
            }
            n => filled += n,
        }
    }
    let len = u32::from_ne_bytes(header) as usize;
    if len > max {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max,
        });
    }
    let mut body = Vec::with_capacity(len.min(1024 * 1024));
    (&mut *input)
        .take(len as u64)
        .read_to_end(&mut body)
        .await?;
    if body.len() < len {
        return Err(FrameError::Truncated {
            received: HEADER_LEN + body.len(),
            expected: HEADER_LEN + len,
        });
    }
    Ok(Some(Bytes::from(body)))
}

/// Reads one message from the browser asynchronously. `Ok(None)` at end of file.
pub async fn read_message_async<R: AsyncRead + Unpin + ?Sized>(
    input: &mut R,
) -> io::Result<Option<Value>> {
    read_frame_async(input, BROWSER_TO_HOST_MAX)
        .await?
        .map(|body| to_value(Received::parse(body)))
        .transpose()
}

/// Writes one message to the browser asynchronously and flushes.
pub async fn write_message_async<W: AsyncWrite + Unpin + ?Sized, T: Serialize + ?Sized>(
    output: &mut W,
    message: &T,
) -> io::Result<()> {
    let mut frame = BytesMut::new();
    wire::encode_message(message, HOST_TO_BROWSER_MAX, &mut frame)?;
    output.write_all(&frame).await?;
    output.flush().await
}

/// Answers messages from `input` on `output` until end of file, asynchronously.
pub async fn serve_async_io<R, W, F, Fut, I>(
    input: &mut R,
    output: &mut W,
    mut handler: F,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
    F: FnMut(Value) -> Fut,
    Fut: Future<Output = I>,
    I: IntoIterator<Item = Value>,
{
    while let Some(message) = read_message_async(input).await? {
        for reply in handler(message).await {
            write_message_async(output, &reply).await?;
        }
    }
    Ok(())
}

/// [`serve_async_io`] on this process's stdin and stdout (Tokio's, which use blocking
/// threads).
pub async fn serve_async<F, Fut, I>(handler: F) -> io::Result<()>
where
    F: FnMut(Value) -> Fut,
    Fut: Future<Output = I>,
    I: IntoIterator<Item = Value>,
{
    let mut stdin = tokio::io::stdin();
    let mut stdout = tokio::io::stdout();
    serve_async_io(&mut stdin, &mut stdout, handler).await
}

/// The `ping_pong` host of the `connectNative` page: answers `"ping"` with `"pong"`, and
/// `{"message": "ping"}` with `{"message": "pong"}`, and ignores every other message.
///
/// The page names the host but not its reply. The upstream example host (MDN's
/// `ping_pong.py`) answers `"pong3"` under Python 3; this one answers `"pong"`. The object
/// form is for Chromium's `runtime.sendNativeMessage`, which sends only objects (a string
/// message is `No matching signature.` there: conformance/goldens/chromium-mv3.json).
///
/// ```
/// use runtime_native::host::ping_pong;
/// use serde_json::json;
///
/// assert_eq!(ping_pong(json!("ping")), Some(json!("pong")));
/// assert_eq!(ping_pong(json!({"message": "ping"})), Some(json!({"message": "pong"})));
/// assert_eq!(ping_pong(json!("hello")), None);
/// ```
pub fn ping_pong(message: Value) -> Option<Value> {
    if message == "ping" {
        return Some(Value::from("pong"));
    }
    let object = message.as_object()?;
    (object.len() == 1 && object.get("message").is_some_and(|m| m == "ping"))
        .then(|| serde_json::json!({"message": "pong"}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frames(messages: &[Value]) -> Vec<u8> {
        let mut wire = Vec::new();
        for m in messages {
            wire::write_message(&mut wire, m, usize::MAX).unwrap();
        }
        wire
    }

    #[test]
    fn blocking_serve_ends_at_eof() {
        let input = frames(&[json!("ping"), json!("other"), json!("ping")]);
        let mut output = Vec::new();
        serve_io(&mut &input[..], &mut output, ping_pong).unwrap();
        let mut out = &output[..];
        assert_eq!(read_message(&mut out).unwrap(), Some(json!("pong")));
        assert_eq!(read_message(&mut out).unwrap(), Some(json!("pong")));
        assert_eq!(read_message(&mut out).unwrap(), None);
    }

    #[test]
    fn several_replies_and_oversize_refused() {
        let input = frames(&[json!(2)]);
        let mut output = Vec::new();
        serve_io(&mut &input[..], &mut output, |m| vec![m.clone(), m]).unwrap();
        assert_eq!(output.len(), 2 * (4 + 1));
        let big = "x".repeat(HOST_TO_BROWSER_MAX);
        let err = write_message(&mut Vec::new(), &big).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn invalid_body_is_invalid_data() {
        let mut wire = Vec::new();
        wire::write_frame(&mut wire, b"{nope", 100).unwrap();
        let err = read_message(&mut &wire[..]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            "The sender sent an invalid JSON message; message ignored."
        );
    }

    #[tokio::test]
    async fn async_serve_ends_at_eof() {
        let input = frames(&[json!("ping"), json!({"a": [1, 2]})]);
        let (mut ours, mut theirs) = tokio::io::duplex(64);
        let server = tokio::spawn(async move {
            let mut output = Vec::new();
            let mut input = &input[..];
            serve_async_io(&mut input, &mut output, |m| async move { Some(m) })
                .await
                .map(|()| output)
        });
        let output = server.await.unwrap().unwrap();
        let mut out = &output[..];
        assert_eq!(
            read_message_async(&mut out).await.unwrap(),
            Some(json!("ping"))
        );
        assert_eq!(
            read_message_async(&mut out).await.unwrap(),
            Some(json!({"a": [1, 2]}))
        );
        assert_eq!(read_message_async(&mut out).await.unwrap(), None);

        write_message_async(&mut ours, &json!("x")).await.unwrap();
        drop(ours);
        assert_eq!(
            read_message_async(&mut theirs).await.unwrap(),
            Some(json!("x"))
        );
        assert_eq!(read_message_async(&mut theirs).await.unwrap(), None);
    }

    #[tokio::test]
    async fn async_truncated_and_oversize() {
        let wire = frames(&[json!("abc")]);
        let err = read_frame_async(&mut &wire[..6], 100).await.unwrap_err();
        assert!(matches!(err, FrameError::Truncated { .. }));
        let err = read_frame_async(&mut &wire[..], 2).await.unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len: 5, max: 2 }));
    }
}
