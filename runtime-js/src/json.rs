//! Messages between a page's JavaScript and the browser, converted without JSON text.
//!
//! What crosses is still exactly what JSON makes of it: a message going out is what
//! `JSON.stringify` writes, as the browser (`serde_json`) reads it back, and a message coming in
//! is what `JSON.parse` makes of the browser's JSON. The text is skipped only where it cannot
//! make a difference: going out, for plain data (numbers, strings, booleans, `null`, and plain
//! objects and arrays of them, whose properties are data properties and which have no
//! `toJSON` anywhere), converted here; coming in, when the page's `JSON.parse` is still the
//! built-in one. Anything else — a `toJSON`, a getter, a `Map`, a proxy, a cycle, a string
//! with a lone surrogate, a page that replaced `JSON.stringify` or `JSON.parse` — goes through
//! the page's own `JSON` and the text, as before, so its scripts see every call they saw.
//!
//! Deciding that a value is plain data reads only what no script can observe (an object's
//! class, prototype and own property descriptors), through QuickJS's C API.

use rquickjs::function::This;
use rquickjs::{qjs, Ctx, FromJs, Function, Object, Persistent, Value};
use serde_json::{Map, Number, Value as Json};
use std::ffi::c_void;

/// How deep plain data is converted here; deeper values take the text (whose parser has its
/// own limits: `serde_json` refuses more than 128 levels, QuickJS's `JSON.parse` stops at its
/// stack limit).
const MAX_DEPTH: u32 = 64;

/// The integers a double holds exactly, which `JSON.stringify` writes as plain digits and the
/// browser reads back as the same integer.
const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

/// A page's JSON functions: the built-in ones (kept from before its scripts ran) and the
/// prelude's ways to reach the `JSON` its scripts see now.
pub(crate) struct PageJson {
    /// `() => JSON`: the `JSON` binding as the page's scripts see it now (kept alive for
    /// `raw.now`).
    _now: Persistent<Function<'static>>,
    /// The prelude's `stringify` (`undefined` gives `"null"`, else `JSON.stringify(value)`).
    stringify_text: Persistent<Function<'static>>,
    /// The prelude's `parse` (`JSON.parse(text)`).
    parse_text: Persistent<Function<'static>>,
    /// The built-in `JSON.stringify` and `JSON.parse`, `Object.prototype` and
    /// `Array.prototype`, kept alive so that the pointers below stay theirs.
    _kept: [Persistent<Value<'static>>; 4],
    raw: Raw,
    /// The atoms of the keys of the objects built for the page, kept: messages come with the
    /// same few keys again and again.
    keys: KeyAtoms,
}

/// The atoms of up to [`MAX_KEPT_KEYS`] object keys, each held once, freed with the page.
#[derive(Default)]
struct KeyAtoms(std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, qjs::JSAtom>>);

/// How many keys' atoms a page keeps (a key past them gets a fresh atom each time).
const MAX_KEPT_KEYS: usize = 256;

impl KeyAtoms {
    /// The atom of `key`, with a reference the caller frees.
    fn get(&self, c: *mut qjs::JSContext, key: &str) -> rquickjs::Result<qjs::JSAtom> {
        let mut kept = self.0.borrow_mut();
        if let Some(&atom) = kept.get(key) {
            // SAFETY: an atom this holds a reference to; the new one is the caller's.
            return Ok(unsafe { qjs::JS_DupAtom(c, atom) });
        }
        let atom = new_atom(c, key)?;
        if kept.len() < MAX_KEPT_KEYS {
            // SAFETY: a second reference, the one kept here.
            kept.insert(key.into(), unsafe { qjs::JS_DupAtom(c, atom) });
        }
        Ok(atom)
    }
}

/// What the conversions compare and call without going through rquickjs's handles (each of
/// which holds a reference to the context): the kept objects' pointers, `now` itself, and the
/// atoms they look up.
struct Raw {
    now: qjs::JSValue,
    stringify: *mut c_void,
    parse: *mut c_void,
    object_prototype: *mut c_void,
    array_prototype: *mut c_void,
    runtime: *mut qjs::JSRuntime,
    stringify_atom: qjs::JSAtom,
    parse_atom: qjs::JSAtom,
    to_json_atom: qjs::JSAtom,
}

impl Drop for PageJson {
    fn drop(&mut self) {
        let raw = &self.raw;
        for atom in [raw.stringify_atom, raw.parse_atom, raw.to_json_atom] {
            // SAFETY: the atoms made in `new`, freed once; the runtime outlives the page's
            // context, which outlives this.
            unsafe { qjs::JS_FreeAtomRT(raw.runtime, atom) };
        }
        for (_, atom) in self.keys.0.borrow_mut().drain() {
            // SAFETY: the reference `KeyAtoms::get` kept, freed once.
            unsafe { qjs::JS_FreeAtomRT(raw.runtime, atom) };
        }
    }
}

/// What a value is as a member of plain data.
enum Plain {
    Value(Json),
    /// `undefined` or a symbol: left out of an object, `null` in an array.
    Skipped,
    /// Not plain data: the whole value goes through `JSON.stringify`.
    No,
}

/// A value this code holds a reference to, released when dropped.
struct Owned {
    ctx: *mut qjs::JSContext,
    value: qjs::JSValue,
}

impl Owned {
    /// Takes the reference `value` (from a C call that gives one), or `None` for an exception.
    fn new(ctx: *mut qjs::JSContext, value: qjs::JSValue) -> Option<Owned> {
        // SAFETY: reading a value's tag.
        if unsafe { qjs::JS_IsException(value) } {
            return None;
        }
        Some(Owned { ctx, value })
    }

    /// Gives the reference up, for a C call that takes it.
    fn into_raw(self) -> qjs::JSValue {
        let value = self.value;
        std::mem::forget(self);
        value
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the reference this holds.
        unsafe { qjs::JS_FreeValue(self.ctx, self.value) };
    }
}

/// The object a value points to, to compare with another.
fn pointer(value: qjs::JSValue) -> Option<*mut c_void> {
    // SAFETY: reading a value's tag and pointer.
    unsafe { qjs::JS_IsObject(value).then(|| qjs::JS_VALUE_GET_PTR(value)) }
}

fn new_atom(ctx: *mut qjs::JSContext, name: &str) -> rquickjs::Result<qjs::JSAtom> {
    // SAFETY: a new atom of this context; its owner frees it.
    let atom = unsafe { qjs::JS_NewAtomLen(ctx, name.as_ptr().cast(), name.len() as _) };
    if atom == qjs::JS_ATOM_NULL {
        return Err(rquickjs::Error::Exception);
    }
    Ok(atom)
}

impl PageJson {
    /// Keeps the context's built-in `JSON.stringify`, `JSON.parse`, `Object.prototype` and
    /// `Array.prototype`; called as the globals are made, before any script of the extension
    /// ran.
    pub(crate) fn new<'js>(
        ctx: &Ctx<'js>,
        now: Function<'js>,
        stringify_text: Function<'js>,
        parse_text: Function<'js>,
    ) -> rquickjs::Result<PageJson> {
        let globals = ctx.globals();
        let json: Object = globals.get("JSON")?;
        let prototype = |name: &str| -> rquickjs::Result<Value<'js>> {
            let constructor: Object = globals.get(name)?;
            constructor.get("prototype")
        };
        let kept: [Value<'js>; 4] = [
            json.get("stringify")?,
            json.get("parse")?,
            prototype("Object")?,
            prototype("Array")?,
        ];
        let [stringify, parse, object_prototype, array_prototype] = kept
            .each_ref()
            .map(|v| pointer(v.as_raw()).unwrap_or(std::ptr::null_mut()));
        let c = ctx.as_raw().as_ptr();
        let stringify_atom = new_atom(c, "stringify")?;
        let parse_atom = new_atom(c, "parse")?;
        let to_json_atom = new_atom(c, "toJSON")?;
        let raw = Raw {
            now: now.as_raw(),
            stringify,
            parse,
            object_prototype,
            array_prototype,
            // SAFETY: the context's runtime.
            runtime: unsafe { qjs::JS_GetRuntime(c) },
            stringify_atom,
            parse_atom,
            to_json_atom,
        };
        Ok(PageJson {
            _now: Persistent::save(ctx, now),
            stringify_text: Persistent::save(ctx, stringify_text),
            parse_text: Persistent::save(ctx, parse_text),
            _kept: kept.map(|v| Persistent::save(ctx, v)),
            raw,
            keys: KeyAtoms::default(),
        })
    }

    /// The `JSON` the page's scripts see now, and its member `atom` (`None`: `JSON` is not an
    /// object).
    fn member<'js>(
        &self,
        ctx: &Ctx<'js>,
        atom: qjs::JSAtom,
    ) -> rquickjs::Result<Option<(Value<'js>, Value<'js>)>> {
        let c = ctx.as_raw().as_ptr();
        // SAFETY: `now` is kept alive by `self.now`; the call gives a reference, taken by the
        // `Value`.
        let json = unsafe {
            let json = qjs::JS_Call(c, self.raw.now, qjs::JS_UNDEFINED, 0, std::ptr::null_mut());
            if qjs::JS_IsException(json) {
                return Err(rquickjs::Error::Exception);
            }
            Value::from_raw(ctx.clone(), json)
        };
        if !json.is_object() {
            return Ok(None);
        }
        // SAFETY: a property of a live object (a proxy's trap runs, as `JSON.parse` would run
        // it); the reference is taken by the `Value`.
        let member = unsafe {
            let member = qjs::JS_GetProperty(c, json.as_raw(), atom);
            if qjs::JS_IsException(member) {
                return Err(rquickjs::Error::Exception);
            }
            Value::from_raw(ctx.clone(), member)
        };
        Ok(Some((json, member)))
    }

    /// What the browser gets for `value` sent from the page: `JSON.stringify(value)` (`"null"`
    /// for `undefined`) read as JSON, `null` if the browser cannot read it. What
    /// `JSON.stringify` throws is thrown, and a value it gives no text for (a function, a
    /// symbol) throws as a string argument that is not a string does.
    pub(crate) fn outgoing<'js>(
        &self,
        ctx: &Ctx<'js>,
        value: Value<'js>,
    ) -> rquickjs::Result<Json> {
        if value.is_undefined() {
            return Ok(Json::Null);
        }
        let Some((json, stringify)) = self.member(ctx, self.raw.stringify_atom)? else {
            // `JSON` is not an object: the prelude's own call throws what the page would see.
            let text = self.stringify_text.clone().restore(ctx)?.call((value,))?;
            return outgoing_text(ctx, text);
        };
        if pointer(stringify.as_raw()) == Some(self.raw.stringify) {
            let mut walk = Walk {
                ctx: ctx.as_raw().as_ptr(),
                raw: &self.raw,
                prototypes_plain: None,
            };
            if let Plain::Value(plain) = walk.value(value.as_raw(), 0) {
                return Ok(plain);
            }
        }
        let text: Value = match stringify.as_function() {
            Some(stringify) => stringify.call((This(json), value))?,
            None => self.stringify_text.clone().restore(ctx)?.call((value,))?,
        };
        outgoing_text(ctx, text)
    }

    /// What the page's scripts get for `value` coming from the browser: `JSON.parse` of its
    /// JSON text, with the `JSON` they see now. What that throws is thrown.
    pub(crate) fn incoming<'js>(
        &self,
        ctx: &Ctx<'js>,
        value: &Json,
    ) -> rquickjs::Result<Value<'js>> {
        let text = || crate::page::json_of(value);
        let Some((json, parse)) = self.member(ctx, self.raw.parse_atom)? else {
            return self.parse_text.clone().restore(ctx)?.call((text(),));
        };
        if pointer(parse.as_raw()) == Some(self.raw.parse) {
            let c = ctx.as_raw().as_ptr();
            if let Some(made) = build(c, &self.keys, value, 0)? {
                // SAFETY: the reference `build` made, taken by the `Value`.
                return Ok(unsafe { Value::from_raw(ctx.clone(), made.into_raw()) });
            }
        }
        match parse.as_function() {
            Some(parse) => parse.call((This(json), text())),
            None => self.parse_text.clone().restore(ctx)?.call((text(),)),
        }
    }
}

/// The text a page's `JSON.stringify` gave, read as the browser reads it.
fn outgoing_text<'js>(ctx: &Ctx<'js>, text: Value<'js>) -> rquickjs::Result<Json> {
    let text = String::from_js(ctx, text)?;
    Ok(serde_json::from_str(&text).unwrap_or(Json::Null))
}

/// `value` as `JSON.parse` makes it of its JSON text: plain objects (their properties defined,
/// as `JSON.parse` defines them, so that `__proto__` is a key like another) and arrays; `None`
/// when it is deeper than [`MAX_DEPTH`].
fn build(
    c: *mut qjs::JSContext,
    keys: &KeyAtoms,
    value: &Json,
    depth: u32,
) -> rquickjs::Result<Option<Owned>> {
    if depth > MAX_DEPTH {
        return Ok(None);
    }
    let made = |raw: qjs::JSValue| Owned::new(c, raw).ok_or(rquickjs::Error::Exception);
    // SAFETY (each call below): values and atoms of the context `c`; a call that takes a
    // value's reference gets it from `Owned::into_raw`.
    Ok(Some(match value {
        Json::Null => made(qjs::JS_NULL)?,
        Json::Bool(b) => made(if *b { qjs::JS_TRUE } else { qjs::JS_FALSE })?,
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => made(qjs::JS_MKVAL(qjs::JS_TAG_INT, i))?,
            // The nearest double, as `JSON.parse` reads the browser's digits.
            None => made(unsafe { qjs::JS_NewNumber(c, n.as_f64().unwrap_or(f64::NAN)) })?,
        },
        Json::String(s) => {
            made(unsafe { qjs::JS_NewStringLen(c, s.as_ptr().cast(), s.len() as _) })?
        }
        Json::Array(items) => {
            let array = made(unsafe { qjs::JS_NewArray(c) })?;
            for (i, item) in items.iter().enumerate() {
                let Some(item) = build(c, keys, item, depth + 1)? else {
                    return Ok(None);
                };
                let index = u32::try_from(i).map_err(|_| rquickjs::Error::Unknown)?;
                let flags = qjs::JS_PROP_C_W_E as i32;
                let done = unsafe {
                    qjs::JS_DefinePropertyValueUint32(c, array.value, index, item.into_raw(), flags)
                };
                if done < 0 {
                    return Err(rquickjs::Error::Exception);
                }
            }
            array
        }
        Json::Object(members) => {
            let object = made(unsafe { qjs::JS_NewObject(c) })?;
            for (key, member) in members {
                let Some(member) = build(c, keys, member, depth + 1)? else {
                    return Ok(None);
                };
                let atom = keys.get(c, key)?;
                let flags = qjs::JS_PROP_C_W_E as i32;
                let done = unsafe {
                    let done = qjs::JS_DefinePropertyValue(
                        c,
                        object.value,
                        atom,
                        member.into_raw(),
                        flags,
                    );
                    qjs::JS_FreeAtom(c, atom);
                    done
                };
                if done < 0 {
                    return Err(rquickjs::Error::Exception);
                }
            }
            object
        }
    }))
}

/// A walk over a value that is converted here if it is plain data.
struct Walk<'a> {
    ctx: *mut qjs::JSContext,
    raw: &'a Raw,
    /// Whether `Object.prototype` and `Array.prototype` have no `toJSON` (read once).
    prototypes_plain: Option<bool>,
}

impl Walk<'_> {
    /// Clears what a failed C call left pending (the value then goes through
    /// `JSON.stringify`, which meets the same failure).
    fn clear(&self) {
        // SAFETY: the pending exception of this context, released at once.
        unsafe { qjs::JS_FreeValue(self.ctx, qjs::JS_GetException(self.ctx)) };
    }

    fn value(&mut self, raw: qjs::JSValue, depth: u32) -> Plain {
        // SAFETY (each read below): reading a live value of this context.
        let tag = unsafe { qjs::JS_VALUE_GET_NORM_TAG(raw) };
        match tag {
            qjs::JS_TAG_NULL => Plain::Value(Json::Null),
            qjs::JS_TAG_UNDEFINED | qjs::JS_TAG_SYMBOL => Plain::Skipped,
            qjs::JS_TAG_BOOL => Plain::Value(Json::Bool(unsafe { qjs::JS_VALUE_GET_BOOL(raw) })),
            qjs::JS_TAG_INT => Plain::Value(Json::Number(Number::from(unsafe {
                qjs::JS_VALUE_GET_INT(raw)
            }))),
            qjs::JS_TAG_FLOAT64 => self.number(raw, unsafe { qjs::JS_VALUE_GET_FLOAT64(raw) }),
            qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => match self.text(raw) {
                Some(text) => Plain::Value(Json::String(text)),
                None => Plain::No,
            },
            qjs::JS_TAG_OBJECT => self.object(raw, depth),
            _ => Plain::No,
        }
    }

    /// A double as `JSON.stringify` writes it and the browser reads it: `null` if not finite,
    /// an exact integer as itself, anything else through JavaScript's own digits.
    fn number(&self, raw: qjs::JSValue, d: f64) -> Plain {
        if !d.is_finite() {
            return Plain::Value(Json::Null);
        }
        if d.fract() == 0.0 && d.abs() < EXACT {
            return Plain::Value(Json::Number(Number::from(d as i64)));
        }
        // SAFETY: `ToString` of a number runs no script; the string is released by `Owned`.
        let Some(digits) = Owned::new(self.ctx, unsafe { qjs::JS_ToString(self.ctx, raw) }) else {
            self.clear();
            return Plain::No;
        };
        match self
            .text(digits.value)
            .map(|t| serde_json::from_str::<Json>(&t))
        {
            Some(Ok(number @ Json::Number(_))) => Plain::Value(number),
            _ => Plain::No,
        }
    }

    /// A string's text if it is well-formed UTF-16 (a lone surrogate is not).
    fn text(&self, raw: qjs::JSValue) -> Option<String> {
        let mut len = 0;
        // SAFETY: `raw` is a live string of this context; the C string is freed below.
        unsafe {
            let ptr = qjs::JS_ToCStringLen2(self.ctx, &mut len, raw, false);
            if ptr.is_null() {
                self.clear();
                return None;
            }
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize);
            let text = std::str::from_utf8(bytes).ok().map(str::to_owned);
            qjs::JS_FreeCString(self.ctx, ptr);
            text
        }
    }

    /// Whether `object` has an own property `atom`: `None` if that cannot be told.
    fn has_own(&self, object: qjs::JSValue, atom: qjs::JSAtom) -> Option<bool> {
        // SAFETY: `object` is a live ordinary object (not a proxy): reading its own property
        // runs no script.
        let found = unsafe { qjs::JS_GetOwnProperty(self.ctx, std::ptr::null_mut(), object, atom) };
        match found {
            0 => Some(false),
            1 => Some(true),
            _ => {
                self.clear();
                None
            }
        }
    }

    /// An own data property's value: `None` for an accessor, a missing property or an error.
    fn own_data(&self, object: qjs::JSValue, atom: qjs::JSAtom) -> Option<Owned> {
        let mut desc = qjs::JSPropertyDescriptor {
            flags: 0,
            value: qjs::JS_UNDEFINED,
            getter: qjs::JS_UNDEFINED,
            setter: qjs::JS_UNDEFINED,
        };
        // SAFETY: as in `has_own`; the descriptor's values are references, released by `Owned`.
        let found = unsafe { qjs::JS_GetOwnProperty(self.ctx, &mut desc, object, atom) };
        if found < 0 {
            self.clear();
            return None;
        }
        if found == 0 {
            return None;
        }
        let value = Owned {
            ctx: self.ctx,
            value: desc.value,
        };
        drop(Owned {
            ctx: self.ctx,
            value: desc.getter,
        });
        drop(Owned {
            ctx: self.ctx,
            value: desc.setter,
        });
        (desc.flags & qjs::JS_PROP_GETSET as i32 == 0).then_some(value)
    }

    fn prototypes_plain(&mut self) -> bool {
        if let Some(plain) = self.prototypes_plain {
            return plain;
        }
        let atom = self.raw.to_json_atom;
        let plain = [self.raw.object_prototype, self.raw.array_prototype]
            .into_iter()
            .all(|p| {
                let prototype = qjs::JSValue {
                    u: qjs::JSValueUnion { ptr: p },
                    tag: qjs::JS_TAG_OBJECT as i64,
                };
                !p.is_null() && self.has_own(prototype, atom) == Some(false)
            });
        self.prototypes_plain = Some(plain);
        plain
    }

    fn object(&mut self, raw: qjs::JSValue, depth: u32) -> Plain {
        // SAFETY: reading the kind and class of a live object.
        let (function, proxy, class) = unsafe {
            (
                qjs::JS_IsFunction(self.ctx, raw),
                qjs::JS_IsProxy(raw),
                qjs::JS_GetClassID(raw),
            )
        };
        if depth >= MAX_DEPTH || function || proxy {
            return Plain::No;
        }
        // SAFETY: the prototype of an object that is not a proxy (no script runs); the
        // reference is released by `Owned`.
        let Some(prototype) = Owned::new(self.ctx, unsafe { qjs::JS_GetPrototype(self.ctx, raw) })
        else {
            self.clear();
            return Plain::No;
        };
        let prototype = pointer(prototype.value);
        let array = match class {
            CLASS_OBJECT if prototype == Some(self.raw.object_prototype) => false,
            CLASS_ARRAY if prototype == Some(self.raw.array_prototype) => true,
            _ => return Plain::No,
        };
        if !self.prototypes_plain() || self.has_own(raw, self.raw.to_json_atom) != Some(false) {
            return Plain::No;
        }
        if array {
            self.array(raw, depth)
        } else {
            self.members(raw, depth)
        }
    }

    fn array(&mut self, raw: qjs::JSValue, depth: u32) -> Plain {
        let mut len = 0i64;
        // SAFETY: the `length` of an array (not a proxy) is its own data property.
        if unsafe { qjs::JS_GetLength(self.ctx, raw, &mut len) } < 0 {
            self.clear();
            return Plain::No;
        }
        let Ok(len) = u32::try_from(len) else {
            return Plain::No;
        };
        let mut items = Vec::with_capacity(len.min(1024) as usize);
        for i in 0..len {
            // SAFETY: an index atom, freed below.
            let atom = unsafe { qjs::JS_NewAtomUInt32(self.ctx, i) };
            let item = self.own_data(raw, atom);
            // SAFETY: the atom made above.
            unsafe { qjs::JS_FreeAtom(self.ctx, atom) };
            // A hole (read through the prototypes) or an accessor: not plain.
            let Some(item) = item else {
                return Plain::No;
            };
            match self.value(item.value, depth + 1) {
                Plain::Value(v) => items.push(v),
                Plain::Skipped => items.push(Json::Null),
                Plain::No => return Plain::No,
            }
        }
        Plain::Value(Json::Array(items))
    }

    fn members(&mut self, raw: qjs::JSValue, depth: u32) -> Plain {
        let mut tab: *mut qjs::JSPropertyEnum = std::ptr::null_mut();
        let mut len = 0u32;
        let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as i32;
        // SAFETY: the own enumerable string keys of an ordinary object, in the order
        // `Object.keys` gives them; the table is freed below.
        if unsafe { qjs::JS_GetOwnPropertyNames(self.ctx, &mut tab, &mut len, raw, flags) } < 0 {
            self.clear();
            return Plain::No;
        }
        let mut members = Map::new();
        let mut plain = true;
        for i in 0..len as usize {
            // SAFETY: `i` is within the table of `len` entries.
            let atom = unsafe { (*tab.add(i)).atom };
            let Some(member) = self.own_data(raw, atom) else {
                plain = false;
                break;
            };
            let member = match self.value(member.value, depth + 1) {
                Plain::Value(v) => v,
                Plain::Skipped => continue,
                Plain::No => {
                    plain = false;
                    break;
                }
            };
            let Some(key) = self.atom_text(atom) else {
                plain = false;
                break;
            };
            members.insert(key, member);
        }
        // SAFETY: the table given above, with its atoms.
        unsafe { qjs::JS_FreePropertyEnum(self.ctx, tab, len) };
        if plain {
            Plain::Value(Json::Object(members))
        } else {
            Plain::No
        }
    }

    /// A property key's text if it is well-formed UTF-16.
    fn atom_text(&self, atom: qjs::JSAtom) -> Option<String> {
        let mut len = 0;
        // SAFETY: `atom` is live while the property table is; the C string is freed below.
        unsafe {
            let ptr = qjs::JS_AtomToCStringLen(self.ctx, &mut len, atom);
            if ptr.is_null() {
                self.clear();
                return None;
            }
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize);
            let text = std::str::from_utf8(bytes).ok().map(str::to_owned);
            qjs::JS_FreeCString(self.ctx, ptr);
            text
        }
    }
}

/// QuickJS's class ids of ordinary objects and arrays (`JS_CLASS_OBJECT`, `JS_CLASS_ARRAY`).
const CLASS_OBJECT: u32 = 1;
const CLASS_ARRAY: u32 = 2;
