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
    /// `() => JSON`: the `JSON` binding as the page's scripts see it now.
    now: Persistent<Function<'static>>,
    /// The prelude's `stringify` (`undefined` gives `"null"`, else `JSON.stringify(value)`).
    stringify_text: Persistent<Function<'static>>,
    /// The prelude's `parse` (`JSON.parse(text)`).
    parse_text: Persistent<Function<'static>>,
    builtin_stringify: Persistent<Value<'static>>,
    builtin_parse: Persistent<Value<'static>>,
    object_prototype: Persistent<Value<'static>>,
    array_prototype: Persistent<Value<'static>>,
}

/// What a value is as a member of plain data.
enum Plain {
    Value(Json),
    /// `undefined` or a symbol: left out of an object, `null` in an array.
    Skipped,
    /// Not plain data: the whole value goes through `JSON.stringify`.
    No,
}

impl PageJson {
    /// Keeps the context's built-in `JSON.stringify`, `JSON.parse`, `Object.prototype` and
    /// `Array.prototype`; called by the prelude, before any script of the extension ran.
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
        Ok(PageJson {
            now: Persistent::save(ctx, now),
            stringify_text: Persistent::save(ctx, stringify_text),
            parse_text: Persistent::save(ctx, parse_text),
            builtin_stringify: Persistent::save(ctx, json.get::<_, Value>("stringify")?),
            builtin_parse: Persistent::save(ctx, json.get::<_, Value>("parse")?),
            object_prototype: Persistent::save(ctx, prototype("Object")?),
            array_prototype: Persistent::save(ctx, prototype("Array")?),
        })
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
        let json: Value = self.now.clone().restore(ctx)?.call(())?;
        let Some(json) = json.into_object() else {
            // `JSON` is not an object: the prelude's own call throws what the page would see.
            return self.outgoing_text(
                ctx,
                self.stringify_text.clone().restore(ctx)?.call((value,))?,
            );
        };
        let stringify: Value = json.get("stringify")?;
        if stringify == self.builtin_stringify.clone().restore(ctx)? {
            let mut walk = Walk::new(ctx, self)?;
            if let Plain::Value(plain) = walk.value(&value, 0) {
                return Ok(plain);
            }
        }
        let text: Value = match stringify.as_function() {
            Some(stringify) => stringify.call((This(json), value))?,
            None => self.stringify_text.clone().restore(ctx)?.call((value,))?,
        };
        self.outgoing_text(ctx, text)
    }

    fn outgoing_text<'js>(&self, ctx: &Ctx<'js>, text: Value<'js>) -> rquickjs::Result<Json> {
        let text = String::from_js(ctx, text)?;
        Ok(serde_json::from_str(&text).unwrap_or(Json::Null))
    }

    /// What the page's scripts get for `value` coming from the browser: `JSON.parse` of its
    /// JSON text, with the `JSON` they see now. What that throws is thrown.
    pub(crate) fn incoming<'js>(
        &self,
        ctx: &Ctx<'js>,
        value: &Json,
    ) -> rquickjs::Result<Value<'js>> {
        let json: Value = self.now.clone().restore(ctx)?.call(())?;
        let text = || crate::page::json_of(value);
        let Some(json) = json.into_object() else {
            return self.parse_text.clone().restore(ctx)?.call((text(),));
        };
        let parse: Value = json.get("parse")?;
        if parse == self.builtin_parse.clone().restore(ctx)? {
            if let Some(made) = build(ctx, value, 0)? {
                return Ok(made);
            }
        }
        match parse.as_function() {
            Some(parse) => parse.call((This(json), text())),
            None => self.parse_text.clone().restore(ctx)?.call((text(),)),
        }
    }
}

/// `value` as `JSON.parse` makes it of its JSON text: plain objects (their properties defined,
/// as `JSON.parse` defines them, so that `__proto__` is a key like another) and arrays; `None`
/// when it is deeper than [`MAX_DEPTH`].
fn build<'js>(ctx: &Ctx<'js>, value: &Json, depth: u32) -> rquickjs::Result<Option<Value<'js>>> {
    if depth > MAX_DEPTH {
        return Ok(None);
    }
    Ok(Some(match value {
        Json::Null => Value::new_null(ctx.clone()),
        Json::Bool(b) => Value::new_bool(ctx.clone(), *b),
        Json::Number(n) => number_value(ctx, n),
        Json::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        Json::Array(items) => {
            let array = rquickjs::Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                let Some(item) = build(ctx, item, depth + 1)? else {
                    return Ok(None);
                };
                let index = u32::try_from(i).map_err(|_| rquickjs::Error::Unknown)?;
                // SAFETY: `array` and `item` belong to `ctx`; the call takes `item`'s reference.
                let done = unsafe {
                    qjs::JS_DefinePropertyValueUint32(
                        ctx.as_raw().as_ptr(),
                        array.as_raw(),
                        index,
                        into_raw(item),
                        qjs::JS_PROP_C_W_E as i32,
                    )
                };
                if done < 0 {
                    return Err(rquickjs::Error::Exception);
                }
            }
            array.into_value()
        }
        Json::Object(members) => {
            let object = Object::new(ctx.clone())?;
            for (key, member) in members {
                let Some(member) = build(ctx, member, depth + 1)? else {
                    return Ok(None);
                };
                let raw = ctx.as_raw().as_ptr();
                // SAFETY: `object` and `member` belong to `ctx`; the key's atom is made and
                // freed here, and the call takes `member`'s reference.
                let done = unsafe {
                    let atom = qjs::JS_NewAtomLen(raw, key.as_ptr().cast(), key.len() as _);
                    if atom == qjs::JS_ATOM_NULL {
                        return Err(rquickjs::Error::Exception);
                    }
                    let done = qjs::JS_DefinePropertyValue(
                        raw,
                        object.as_raw(),
                        atom,
                        into_raw(member),
                        qjs::JS_PROP_C_W_E as i32,
                    );
                    qjs::JS_FreeAtom(raw, atom);
                    done
                };
                if done < 0 {
                    return Err(rquickjs::Error::Exception);
                }
            }
            object.into_value()
        }
    }))
}

/// A JSON number as `JSON.parse` reads its text: the nearest double (the browser writes a
/// double with the shortest digits that give it back).
fn number_value<'js>(ctx: &Ctx<'js>, n: &Number) -> Value<'js> {
    if let Some(i) = n.as_i64().and_then(|i| i32::try_from(i).ok()) {
        return Value::new_int(ctx.clone(), i);
    }
    Value::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN))
}

/// A new reference to the value, for a C call that takes it.
fn into_raw(value: Value<'_>) -> qjs::JSValue {
    // SAFETY: a live value of its context; the new reference is the caller's, the value's own
    // is released when it drops (with its context's).
    unsafe { qjs::JS_DupValue(value.ctx().as_raw().as_ptr(), value.as_raw()) }
}

/// A walk over a value that is converted here if it is plain data.
struct Walk<'a, 'js> {
    ctx: &'a Ctx<'js>,
    raw: *mut qjs::JSContext,
    object_prototype: Value<'js>,
    array_prototype: Value<'js>,
    /// The atom `toJSON`, freed with the walk.
    to_json: qjs::JSAtom,
    /// Whether `Object.prototype` and `Array.prototype` have no `toJSON` (read once).
    prototypes_plain: Option<bool>,
}

impl<'a, 'js> Walk<'a, 'js> {
    fn new(ctx: &'a Ctx<'js>, json: &PageJson) -> rquickjs::Result<Self> {
        let raw = ctx.as_raw().as_ptr();
        let name = "toJSON";
        // SAFETY: an atom of this context, freed when the walk is dropped.
        let to_json = unsafe { qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _) };
        if to_json == qjs::JS_ATOM_NULL {
            return Err(rquickjs::Error::Exception);
        }
        Ok(Walk {
            ctx,
            raw,
            object_prototype: json.object_prototype.clone().restore(ctx)?,
            array_prototype: json.array_prototype.clone().restore(ctx)?,
            to_json,
            prototypes_plain: None,
        })
    }

    fn value(&mut self, value: &Value<'js>, depth: u32) -> Plain {
        let raw = value.as_raw();
        // SAFETY: reading the tag of a live value.
        let tag = unsafe { qjs::JS_VALUE_GET_NORM_TAG(raw) };
        match tag {
            qjs::JS_TAG_NULL => Plain::Value(Json::Null),
            qjs::JS_TAG_UNDEFINED | qjs::JS_TAG_SYMBOL => Plain::Skipped,
            qjs::JS_TAG_BOOL => Plain::Value(Json::Bool(value.as_bool().unwrap_or(false))),
            qjs::JS_TAG_INT => {
                Plain::Value(Json::Number(Number::from(value.as_int().unwrap_or(0))))
            }
            qjs::JS_TAG_FLOAT64 => self.number(value),
            qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => match self.text(raw) {
                Some(text) => Plain::Value(Json::String(text)),
                None => Plain::No,
            },
            qjs::JS_TAG_OBJECT => self.object(value, depth),
            _ => Plain::No,
        }
    }

    /// A double as `JSON.stringify` writes it and the browser reads it: `null` if not finite,
    /// an exact integer as itself, anything else through JavaScript's own digits.
    fn number(&self, value: &Value<'js>) -> Plain {
        let d = value.as_float().unwrap_or(f64::NAN);
        if !d.is_finite() {
            return Plain::Value(Json::Null);
        }
        if d.fract() == 0.0 && d.abs() < EXACT {
            return Plain::Value(Json::Number(Number::from(d as i64)));
        }
        let Ok(rquickjs::Coerced(text)) = value.get::<rquickjs::Coerced<String>>() else {
            return Plain::No;
        };
        match serde_json::from_str::<Json>(&text) {
            Ok(number @ Json::Number(_)) => Plain::Value(number),
            _ => Plain::No,
        }
    }

    /// A string's text if it is well-formed UTF-16 (a lone surrogate is not).
    fn text(&self, raw: qjs::JSValue) -> Option<String> {
        let mut len = 0;
        // SAFETY: `raw` is a live string of this context; the C string is freed below.
        unsafe {
            let ptr = qjs::JS_ToCStringLen2(self.raw, &mut len, raw, false);
            if ptr.is_null() {
                let _ = self.ctx.catch();
                return None;
            }
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize);
            let text = std::str::from_utf8(bytes).ok().map(str::to_owned);
            qjs::JS_FreeCString(self.raw, ptr);
            text
        }
    }

    /// Whether `object` has an own property `atom`: `None` if that cannot be told.
    fn has_own(&self, object: qjs::JSValue, atom: qjs::JSAtom) -> Option<bool> {
        // SAFETY: `object` is a live ordinary object (not a proxy): reading its own property
        // runs no script.
        let found = unsafe { qjs::JS_GetOwnProperty(self.raw, std::ptr::null_mut(), object, atom) };
        match found {
            0 => Some(false),
            1 => Some(true),
            _ => {
                let _ = self.ctx.catch();
                None
            }
        }
    }

    /// An own data property's value: `None` for an accessor, a missing property or an error.
    fn own_data(&self, object: qjs::JSValue, atom: qjs::JSAtom) -> Option<Value<'js>> {
        let mut desc = qjs::JSPropertyDescriptor {
            flags: 0,
            value: qjs::JS_UNDEFINED,
            getter: qjs::JS_UNDEFINED,
            setter: qjs::JS_UNDEFINED,
        };
        // SAFETY: as in `has_own`; the descriptor's values are owned and freed as `Value`s.
        let found = unsafe { qjs::JS_GetOwnProperty(self.raw, &mut desc, object, atom) };
        if found < 0 {
            let _ = self.ctx.catch();
            return None;
        }
        if found == 0 {
            return None;
        }
        // SAFETY: each is a value this call gave a reference to.
        let (value, getter, setter) = unsafe {
            (
                Value::from_raw(self.ctx.clone(), desc.value),
                Value::from_raw(self.ctx.clone(), desc.getter),
                Value::from_raw(self.ctx.clone(), desc.setter),
            )
        };
        drop((getter, setter));
        if desc.flags & qjs::JS_PROP_GETSET as i32 != 0 {
            return None;
        }
        Some(value)
    }

    fn prototypes_plain(&mut self) -> bool {
        if let Some(plain) = self.prototypes_plain {
            return plain;
        }
        let atom = self.to_json;
        let plain = [&self.object_prototype, &self.array_prototype]
            .iter()
            .all(|p| self.has_own(p.as_raw(), atom) == Some(false));
        self.prototypes_plain = Some(plain);
        plain
    }

    fn object(&mut self, value: &Value<'js>, depth: u32) -> Plain {
        if depth >= MAX_DEPTH || value.is_function() || value.is_proxy() {
            return Plain::No;
        }
        let raw = value.as_raw();
        // SAFETY: reading the class of a live object.
        let class = unsafe { qjs::JS_GetClassID(raw) };
        let Some(object) = value.as_object() else {
            return Plain::No;
        };
        let prototype = object.get_prototype().map(Object::into_value);
        let array = match class {
            CLASS_OBJECT if prototype.as_ref() == Some(&self.object_prototype) => false,
            CLASS_ARRAY if prototype.as_ref() == Some(&self.array_prototype) => true,
            _ => return Plain::No,
        };
        if !self.prototypes_plain() || self.has_own(raw, self.to_json) != Some(false) {
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
        if unsafe { qjs::JS_GetLength(self.raw, raw, &mut len) } < 0 {
            let _ = self.ctx.catch();
            return Plain::No;
        }
        let Ok(len) = u32::try_from(len) else {
            return Plain::No;
        };
        let mut items = Vec::with_capacity(len.min(1024) as usize);
        for i in 0..len {
            // SAFETY: an index atom needs no freeing, but is freed all the same.
            let atom = unsafe { qjs::JS_NewAtomUInt32(self.raw, i) };
            let item = self.own_data(raw, atom);
            // SAFETY: the atom made above.
            unsafe { qjs::JS_FreeAtom(self.raw, atom) };
            // A hole (read through the prototypes) or an accessor: not plain.
            let Some(item) = item else {
                return Plain::No;
            };
            match self.value(&item, depth + 1) {
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
        if unsafe { qjs::JS_GetOwnPropertyNames(self.raw, &mut tab, &mut len, raw, flags) } < 0 {
            let _ = self.ctx.catch();
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
            let member = match self.value(&member, depth + 1) {
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
        unsafe { qjs::JS_FreePropertyEnum(self.raw, tab, len) };
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
            let ptr = qjs::JS_AtomToCStringLen(self.raw, &mut len, atom);
            if ptr.is_null() {
                let _ = self.ctx.catch();
                return None;
            }
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize);
            let text = std::str::from_utf8(bytes).ok().map(str::to_owned);
            qjs::JS_FreeCString(self.raw, ptr);
            text
        }
    }
}

impl Drop for Walk<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: the atom made in `new`.
        unsafe { qjs::JS_FreeAtom(self.raw, self.to_json) };
    }
}

/// QuickJS's class ids of ordinary objects and arrays (`JS_CLASS_OBJECT`, `JS_CLASS_ARRAY`).
const CLASS_OBJECT: u32 = 1;
const CLASS_ARRAY: u32 = 2;
