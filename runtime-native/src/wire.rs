//! The wire protocol (§5.1): each message is a 4-byte unsigned length in the machine's
//! native byte order, then that many bytes of UTF-8 JSON.
//!
//! Two kinds of trouble are kept apart:
//!
//! * a frame that is framed correctly but whose body is not UTF-8 JSON decodes to
//!   [`Received::Invalid`] — the caller decides (a `connectNative` port drops it, a
//!   `sendNativeMessage` call fails with it) and the stream goes on;
//! * a length over the limit, a truncated frame or an I/O error is a [`FrameError`] — the
//!   stream is unusable afterwards.
//!
//! The length header is checked against the limit before any byte of the body is read or
//! any room is reserved for it.

use std::io::{self, Read, Write};

use bytes::{Buf, Bytes, BytesMut};
use serde::Serialize;
use serde_json::Value;
use tokio_util::codec::{Decoder, Encoder};

use crate::errors::INVALID_JSON;

/// Length of the frame header.
pub const HEADER_LEN: usize = 4;
/// The largest message a host may send to the browser: 1 048 576 bytes (1024 × 1024).
pub const HOST_TO_BROWSER_MAX: usize = 1024 * 1024;
/// The largest message the browser sends to a host: the 64 MiB message limit.
pub const BROWSER_TO_HOST_MAX: usize = 64 * 1024 * 1024;
/// Room reserved at a time for a frame's body that has not fully arrived.
const RESERVE_CHUNK: usize = 1024 * 1024;

/// A fatal error of the framing layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A length header (or an outgoing message) over the limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The length announced (decoding) or produced (encoding).
        len: u64,
        /// The limit.
        max: usize,
    },
    /// End of stream in the middle of a frame.
    #[error("end of stream after {received} of {expected} bytes of a frame")]
    Truncated {
        /// Bytes of the frame (header included) that arrived.
        received: usize,
        /// Bytes the frame needed (header included; 4 while the header is incomplete).
        expected: usize,
    },
    /// An outgoing message could not be serialized as JSON.
    #[error("message cannot be serialized as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// An I/O error of the underlying stream.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<FrameError> for io::Error {
    fn from(error: FrameError) -> io::Error {
        match error {
            FrameError::Io(io) => io,
            FrameError::Truncated { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, error),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// Why a well-framed body is not a message.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is not UTF-8.
    #[error("message is not valid UTF-8: {0}")]
    Utf8(#[source] std::str::Utf8Error),
    /// The body is UTF-8 but not JSON.
    #[error("message is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
}

/// A frame whose body is not UTF-8 JSON. Displays as the browser's notice
/// `The sender sent an invalid JSON message; message ignored.`; the parse error is its
/// `source()`.
#[derive(Debug)]
pub struct InvalidMessage {
    body: Bytes,
    cause: BodyError,
}

impl InvalidMessage {
    /// The raw body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Hands back the raw body.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// Why the body was rejected.
    pub fn cause(&self) -> &BodyError {
        &self.cause
    }

    /// True when the body is not UTF-8 (rather than UTF-8 but not JSON).
    pub fn is_invalid_utf8(&self) -> bool {
        matches!(self.cause, BodyError::Utf8(_))
    }
}

impl std::fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(INVALID_JSON)
    }
}

impl std::error::Error for InvalidMessage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// One decoded frame.
#[derive(Debug)]
pub enum Received {
    /// A JSON message.
    Message(Value),
    /// A well-framed body that is not UTF-8 JSON.
    Invalid(InvalidMessage),
}

impl Received {
    /// Parses a frame's body.
    pub fn parse(body: Bytes) -> Received {
        let parsed = match std::str::from_utf8(&body) {
            Err(e) => Err(BodyError::Utf8(e)),
            Ok(text) => serde_json::from_str(text).map_err(BodyError::Json),
        };
        match parsed {
            Ok(value) => Received::Message(value),
            Err(cause) => Received::Invalid(InvalidMessage { body, cause }),
        }
    }

    /// The message, or the invalid body as an error.
    pub fn into_message(self) -> Result<Value, InvalidMessage> {
        match self {
            Received::Message(value) => Ok(value),
            Received::Invalid(invalid) => Err(invalid),
        }
    }
}

/// The tokio-util codec of the native messaging protocol.
///
/// Decodes [`Received`] frames (at most `max_inbound` bytes each); encodes any
/// `&T: Serialize` as one frame (at most `max_outbound` bytes).
///
/// ```
/// use bytes::BytesMut;
/// use runtime_native::{NativeCodec, Received};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = NativeCodec::browser_side();
/// let mut wire = BytesMut::new();
/// codec.encode(&serde_json::json!("ping"), &mut wire).unwrap();
/// assert_eq!(&wire[..4], &6u32.to_ne_bytes());
/// match codec.decode(&mut wire).unwrap() {
///     Some(Received::Message(v)) => assert_eq!(v, "ping"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeCodec {
    max_inbound: usize,
    max_outbound: usize,
}

impl NativeCodec {
    /// A codec with explicit limits.
    pub fn new(max_inbound: usize, max_outbound: usize) -> NativeCodec {
        NativeCodec {
            max_inbound,
            max_outbound,
        }
    }

    /// The browser's side: reads at most 1 MiB per message, writes at most 64 MiB.
    pub fn browser_side() -> NativeCodec {
        NativeCodec::new(HOST_TO_BROWSER_MAX, BROWSER_TO_HOST_MAX)
    }

    /// The host's side: reads at most 64 MiB per message, writes at most 1 MiB.
    pub fn host_side() -> NativeCodec {
        NativeCodec::new(BROWSER_TO_HOST_MAX, HOST_TO_BROWSER_MAX)
    }

    /// The largest body accepted when decoding.
    pub fn max_inbound(&self) -> usize {
        self.max_inbound
    }

    /// The largest body produced when encoding.
    pub fn max_outbound(&self) -> usize {
        self.max_outbound
    }

    /// Splits one raw frame body off `src`, or returns `None` when more bytes are needed.
    ///
    /// Reserves room for the body only after checking the header against the limit, and
    /// at most 1 MiB at a time.
    pub fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let Some(len) = peek_len(src) else {
            return Ok(None);
        };
        if len > self.max_inbound as u64 {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_inbound,
            });
        }
        // len <= max_inbound, so it fits in usize.
        let total = HEADER_LEN + len as usize;
        if src.len() < total {
            let missing = total - src.len();
            src.reserve(missing.min(RESERVE_CHUNK));
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(total - HEADER_LEN).freeze()))
    }
}

impl Default for NativeCodec {
    fn default() -> Self {
        NativeCodec::browser_side()
    }
}

/// The length announced by the header at the start of `src`, if complete.
fn peek_len(src: &[u8]) -> Option<u64> {
    match src {
        [a, b, c, d, ..] => Some(u64::from(u32::from_ne_bytes([*a, *b, *c, *d]))),
        _ => None,
    }
}

impl Decoder for NativeCodec {
    type Item = Received;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Received>, FrameError> {
        Ok(self.decode_frame(src)?.map(Received::parse))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Received>, FrameError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                received: buf.len(),
                expected: peek_len(buf).map_or(HEADER_LEN, |len| HEADER_LEN + len as usize),
            }),
        }
    }
}

impl<T: Serialize + ?Sized> Encoder<&T> for NativeCodec {
    type Error = FrameError;

    fn encode(&mut self, item: &T, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_message(item, self.max_outbound, dst)
    }
}

/// Encodes a body that is already JSON (for example a message serialized once by the
/// caller) as one frame. The body is not checked.
impl Encoder<Bytes> for NativeCodec {
    type Error = FrameError;

    fn encode(&mut self, body: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_frame(&body, self.max_outbound, dst)
    }
}

/// Appends `message` as one frame to `dst`; on error `dst` is left as it was.
///
/// Serialization stops as soon as the body passes `max`, so an oversize message costs at
/// most `max` bytes of buffer.
pub fn encode_message<T: Serialize + ?Sized>(
    message: &T,
    max: usize,
    dst: &mut BytesMut,
) -> Result<(), FrameError> {
    let start = dst.len();
    dst.extend_from_slice(&[0; HEADER_LEN]);
    let mut out = LimitedWriter {
        dst,
        room: max.min(u32::MAX as usize),
        overflow: false,
    };
    let result = serde_json::to_writer(&mut out, message);
    let overflow = out.overflow;
    match result {
        Ok(()) => {}
        Err(_) if overflow => {
            let len = (dst.len() - start - HEADER_LEN) as u64 + 1;
            dst.truncate(start);
            return Err(FrameError::TooLarge { len, max });
        }
        Err(e) => {
            dst.truncate(start);
            return Err(FrameError::Encode(e));
        }
    }
    let len = (dst.len() - start - HEADER_LEN) as u32;
    dst[start..start + HEADER_LEN].copy_from_slice(&len.to_ne_bytes());
    Ok(())
}

/// Appends `body` (already JSON) as one frame to `dst`.
pub fn encode_frame(body: &[u8], max: usize, dst: &mut BytesMut) -> Result<(), FrameError> {
    let len = check_len(body.len(), max)?;
    dst.reserve(HEADER_LEN + body.len());
    dst.extend_from_slice(&len.to_ne_bytes());
    dst.extend_from_slice(body);
    Ok(())
}

fn check_len(len: usize, max: usize) -> Result<u32, FrameError> {
    match u32::try_from(len) {
        Ok(small) if len <= max => Ok(small),
        _ => Err(FrameError::TooLarge {
            len: len as u64,
            max,
        }),
    }
}

/// A writer into a `BytesMut` that refuses to grow past `room` bytes.
struct LimitedWriter<'a> {
    dst: &'a mut BytesMut,
    room: usize,
    overflow: bool,
}

impl Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.room {
            self.overflow = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "message over the size limit",
            ));
        }
        self.room -= buf.len();
        self.dst.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads one raw frame body from a blocking reader.
///
/// `Ok(None)` at a clean end of file (before any byte of a header); a length over `max`
/// fails before the body is read; end of file inside a frame is
/// [`FrameError::Truncated`].
pub fn read_frame<R: Read + ?Sized>(
    input: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        match input.read(&mut header[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => {
                return Err(FrameError::Truncated {
                    received: filled,
                    expected: HEADER_LEN,
                })
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_ne_bytes(header) as usize;
    if len > max {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max,
        });
    }
    // Grow the body at most 1 MiB ahead of what has arrived, and read straight into it
    // with reads as large as the remaining body.
    let mut body = Vec::new();
    let mut filled = 0;
    while filled < len {
        if filled == body.len() {
            body.resize((filled + RESERVE_CHUNK).min(len), 0);
        }
        match input.read(&mut body[filled..]) {
            Ok(0) => {
                return Err(FrameError::Truncated {
                    received: HEADER_LEN + filled,
                    expected: HEADER_LEN + len,
                })
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(body))
}

/// Reads and parses one frame from a blocking reader (see [`read_frame`]).
pub fn read_message<R: Read + ?Sized>(
    input: &mut R,
    max: usize,
) -> Result<Option<Received>, FrameError> {
    Ok(read_frame(input, max)?.map(|body| Received::parse(Bytes::from(body))))
}

/// Writes `body` (already JSON) as one frame to a blocking writer, then flushes.
pub fn write_frame<W: Write + ?Sized>(
    output: &mut W,
    body: &[u8],
    max: usize,
) -> Result<(), FrameError> {
    let mut frame = BytesMut::new();
    encode_frame(body, max, &mut frame)?;
    output.write_all(&frame)?;
    output.flush()?;
    Ok(())
}

/// Serializes `message` and writes it as one frame to a blocking writer, then flushes.
pub fn write_message<W: Write + ?Sized, T: Serialize + ?Sized>(
    output: &mut W,
    message: &T,
    max: usize,
) -> Result<(), FrameError> {
    let mut frame = BytesMut::new();
    encode_message(message, max, &mut frame)?;
    output.write_all(&frame)?;
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn native_byte_order_header() {
        let mut dst = BytesMut::new();
        encode_message(&json!({"a": 1}), 100, &mut dst).unwrap();
        assert_eq!(&dst[..4], &7u32.to_ne_bytes());
        assert_eq!(&dst[4..], br#"{"a":1}"#);
    }

    #[test]
    fn decodes_across_chunks() {
        let mut codec = NativeCodec::browser_side();
        let wire = frame(br#""pong""#);
        let mut buf = BytesMut::new();
        for (i, byte) in wire.iter().enumerate() {
            buf.extend_from_slice(&[*byte]);
            let out = codec.decode(&mut buf).unwrap();
            if i + 1 < wire.len() {
                assert!(out.is_none());
            } else {
                assert!(matches!(out, Some(Received::Message(v)) if v == "pong"));
            }
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn oversize_header_fails_before_reserving() {
        let mut codec = NativeCodec::browser_side();
        let mut buf = BytesMut::with_capacity(HEADER_LEN);
        buf.extend_from_slice(&((HOST_TO_BROWSER_MAX as u32) + 1).to_ne_bytes());
        let cap = buf.capacity();
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len, .. } if len == 1_048_577));
        assert_eq!(buf.capacity(), cap);
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let mut codec = NativeCodec::new(10, 10);
        let mut buf = BytesMut::from(&frame(b"\"12345678\"")[..]);
        assert!(matches!(
            codec.decode(&mut buf).unwrap(),
            Some(Received::Message(_))
        ));
    }

    #[test]
    fn bad_bodies_are_items_not_errors() {
        let mut codec = NativeCodec::browser_side();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&frame(b"{oops"));
        buf.extend_from_slice(&frame(b"\"\xff\""));
        buf.extend_from_slice(&frame(b"1"));
        let Some(Received::Invalid(json)) = codec.decode(&mut buf).unwrap() else {
            panic!("expected invalid JSON")
        };
        assert!(!json.is_invalid_utf8());
        assert_eq!(json.to_string(), INVALID_JSON);
        let Some(Received::Invalid(utf8)) = codec.decode(&mut buf).unwrap() else {
            panic!("expected invalid UTF-8")
        };
        assert!(utf8.is_invalid_utf8());
        assert_eq!(utf8.body(), b"\"\xff\"");
        assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Received::Message(v)) if v == 1));
    }

    #[test]
    fn truncated_at_eof() {
        let mut codec = NativeCodec::browser_side();
        let mut buf = BytesMut::from(&frame(b"\"abc\"")[..7]);
        let err = codec.decode_eof(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            FrameError::Truncated {
                received: 7,
                expected: 9
            }
        ));
        let mut empty = BytesMut::new();
        assert!(codec.decode_eof(&mut empty).unwrap().is_none());
    }

    #[test]
    fn encoder_rejects_oversize_and_leaves_buffer() {
        let mut codec = NativeCodec::new(100, 8);
        let mut dst = BytesMut::from(&b"xy"[..]);
        let err = codec.encode(&json!("0123456789"), &mut dst).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { max: 8, .. }));
        assert_eq!(&dst[..], b"xy");
        codec.encode(&json!("012345"), &mut dst).unwrap();
        assert_eq!(dst.len(), 2 + 4 + 8);
    }

    #[test]
    fn blocking_round_trip() {
        let mut wire = Vec::new();
        write_message(&mut wire, &json!(["a", "é"]), 1024).unwrap();
        write_frame(&mut wire, b"{oops", 1024).unwrap();
        let mut input = &wire[..];
        assert!(
            matches!(read_message(&mut input, 1024).unwrap(), Some(Received::Message(v)) if v == json!(["a", "é"]))
        );
        assert!(matches!(
            read_message(&mut input, 1024).unwrap(),
            Some(Received::Invalid(_))
        ));
        assert!(read_message(&mut input, 1024).unwrap().is_none());

        let big = frame(&[b' '; 20]);
        assert!(matches!(
            read_frame(&mut &big[..], 10),
            Err(FrameError::TooLarge { len: 20, .. })
        ));
        let cut = frame(b"\"abc\"");
        assert!(matches!(
            read_frame(&mut &cut[..6], 10),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(
            read_frame(&mut &cut[..2], 10),
            Err(FrameError::Truncated {
                received: 2,
                expected: 4
            })
        ));
        assert!(matches!(
            write_frame(&mut Vec::new(), &[b'1'; 11], 10),
            Err(FrameError::TooLarge { .. })
        ));
    }
}
