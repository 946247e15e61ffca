//! Properties of the decoder over arbitrary byte streams fed in arbitrary chunks: it
//! never panics, never reserves room for a frame over the limit, yields only frames
//! within the limit, and decodes the same things however the stream is chunked.

use bytes::BytesMut;
use proptest::prelude::*;
use runtime_native::codec::{self, HEADER_LEN};
use runtime_native::{FrameError, NativeCodec, Received};
use tokio_util::codec::{Decoder, Encoder};

const MAX: usize = 64;

#[derive(Debug, PartialEq)]
enum Outcome {
    Message(serde_json::Value),
    Invalid(Vec<u8>),
    TooLarge(u64),
    Truncated,
}

fn outcome(r: Result<Option<Received>, FrameError>) -> Option<Outcome> {
    match r {
        Ok(None) => None,
        Ok(Some(Received::Message(v))) => Some(Outcome::Message(v)),
        Ok(Some(Received::Invalid(i))) => Some(Outcome::Invalid(i.body().to_vec())),
        Err(FrameError::TooLarge { len, .. }) => Some(Outcome::TooLarge(len)),
        Err(FrameError::Truncated { .. }) => Some(Outcome::Truncated),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// Feeds `stream` in chunks of the given sizes, checking the invariants at every step.
fn feed(stream: &[u8], chunks: &[usize]) -> Vec<Outcome> {
    let mut codec = NativeCodec::new(MAX, MAX);
    let mut buf = BytesMut::new();
    let mut outcomes = Vec::new();
    let mut rest = stream;
    let mut sizes = chunks.iter().cycle();
    let mut fed = 0;
    loop {
        let n = sizes
            .next()
            .copied()
            .unwrap_or(1)
            .clamp(1, rest.len().max(1))
            .min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        fed += n;
        loop {
            let cap_before = buf.capacity();
            let announced = (buf.len() >= HEADER_LEN)
                .then(|| u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize);
            let result = codec.decode(&mut buf);
            let grew = buf.capacity() > cap_before;
            if grew {
                // Room is only reserved for a frame within the limit. The allocation
                // itself follows `BytesMut`'s amortized growth, so it stays within a
                // constant factor of the frame plus the bytes that went through.
                let announced = announced.expect("a header was read");
                assert!(announced <= MAX, "reserved for a {announced}-byte frame");
                let bound = 2 * (HEADER_LEN + MAX + fed);
                assert!(
                    buf.capacity() <= bound,
                    "capacity {} over {bound}",
                    buf.capacity()
                );
            }
            match outcome(result) {
                None => break,
                Some(o) => {
                    if let Outcome::Message(_) | Outcome::Invalid(_) = &o {
                        assert!(announced.is_some_and(|len| len <= MAX));
                    }
                    let fatal = matches!(o, Outcome::TooLarge(_));
                    outcomes.push(o);
                    if fatal {
                        return outcomes;
                    }
                }
            }
        }
        if rest.is_empty() {
            break;
        }
    }
    if let Some(o) = outcome(codec.decode_eof(&mut buf)) {
        outcomes.push(o);
    }
    outcomes
}

fn frames_strategy() -> impl Strategy<Value = Vec<u8>> {
    // Mostly well-formed frames with occasional garbage, so that all paths are hit.
    prop::collection::vec(
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..MAX + 8).prop_map(|body| {
                let mut v = (body.len() as u32).to_ne_bytes().to_vec();
                v.extend(body);
                v
            }),
            2 => "[a-z\u{e9}\u{1F600}]{0,12}".prop_map(|s| {
                let body = serde_json::to_vec(&s).unwrap();
                let mut v = (body.len() as u32).to_ne_bytes().to_vec();
                v.extend(body);
                v
            }),
            1 => prop::collection::vec(any::<u8>(), 0..16),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(stream in prop::collection::vec(any::<u8>(), 0..512),
                                   chunks in prop::collection::vec(1usize..40, 1..8)) {
        feed(&stream, &chunks);
    }

    #[test]
    fn chunking_does_not_change_the_outcome(stream in frames_strategy(),
                                            chunks in prop::collection::vec(1usize..70, 1..8)) {
        let whole = feed(&stream, &[stream.len().max(1)]);
        let chunked = feed(&stream, &chunks);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn encoded_messages_round_trip(values in prop::collection::vec("\\PC{0,20}", 0..8),
                                   chunks in prop::collection::vec(1usize..30, 1..8)) {
        let mut codec = NativeCodec::new(1024, 1024);
        let mut wire = BytesMut::new();
        for v in &values {
            codec.encode(v, &mut wire).unwrap();
        }
        let outcomes = feed_with(&mut codec, &wire, &chunks);
        let expected: Vec<_> = values.iter().map(|v| Outcome::Message(serde_json::Value::from(v.clone()))).collect();
        prop_assert_eq!(outcomes, expected);
    }

    #[test]
    fn blocking_reader_respects_the_limit(stream in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut input = &stream[..];
        loop {
            match codec::read_frame(&mut input, MAX) {
                Ok(Some(body)) => prop_assert!(body.len() <= MAX && body.capacity() <= MAX.max(body.len())),
                Ok(None) => break,
                Err(FrameError::TooLarge { len, .. }) => { prop_assert!(len as usize > MAX); break }
                Err(FrameError::Truncated { .. }) => break,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    }
}

fn feed_with(codec: &mut NativeCodec, wire: &[u8], chunks: &[usize]) -> Vec<Outcome> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rest = wire;
    for &n in chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let n = n.min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(o) = outcome(codec.decode(&mut buf)) {
            out.push(o);
        }
    }
    if let Some(o) = outcome(codec.decode_eof(&mut buf)) {
        out.push(o);
    }
    out
}

#[test]
fn a_four_gib_header_reserves_nothing() {
    let mut codec = NativeCodec::browser_side();
    let mut buf = BytesMut::with_capacity(HEADER_LEN);
    buf.extend_from_slice(&u32::MAX.to_ne_bytes());
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(matches!(err, FrameError::TooLarge { len, .. } if len == u64::from(u32::MAX)));
    assert_eq!(buf.capacity(), HEADER_LEN);
}
