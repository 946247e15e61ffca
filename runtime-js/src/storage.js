// chrome.storage, as Chromium's bindings present it: the areas local, session, sync and managed,
// their functions in both forms (a callback, with runtime.lastError set on failure, or a
// promise), Chromium's argument checks and their exact errors, the areas' constants and their
// onChanged events. Values cross to the browser as Chromium's V8 value converter makes them.
// Written for runtime-sim; the facts (signatures, messages, constants) are Chromium's.
// It runs before prelude.js, which builds the namespaces with `sim.makeStorage({ Event })`.
(function (sim) {
  "use strict";

  // How deep a value may nest before the converter leaves the rest out.
  const MAX_DEPTH = 100;
  // What the converter cannot represent (an object's property is then left out, an array's
  // element becomes null).
  const SKIP = Symbol("skip");

  // A string as UTF-8 can hold it: a lone surrogate becomes U+FFFD.
  const wellFormed = (text) => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");

  // V8ValueConverter::FromV8Value, as chrome.storage configures it (null kept in objects).
  const convert = (value, depth, path) => {
    if (depth > MAX_DEPTH) return SKIP;
    if (value === null) return null;
    switch (typeof value) {
      case "boolean":
        return value;
      case "number":
        if (!Number.isFinite(value)) return SKIP;
        return Object.is(value, -0) ? 0 : value;
      case "string":
        return wellFormed(value);
      case "object":
        break;
      default:
        // undefined, functions, symbols and BigInts do not convert.
        return SKIP;
    }
    if (path.includes(value)) return null;
    path.push(value);
    try {
      if (Array.isArray(value)) {
        const out = [];
        for (let i = 0; i < value.length; i++) {
          if (!Object.prototype.hasOwnProperty.call(value, i)) {
            out.push(null);
            continue;
          }
          let item;
          try {
            item = value[i];
          } catch (e) {
            item = null;
          }
          const converted = convert(item, depth + 1, path);
          out.push(converted === SKIP ? null : converted);
        }
        return out;
      }
      // Binary data is not simulated: it is kept as an empty object.
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return {};
      // Any other object (Date, RegExp, Map and Set included): its own enumerable properties.
      const out = {};
      for (const key of Object.keys(value)) {
        let item;
        try {
          item = value[key];
        } catch (e) {
          item = null;
        }
        const converted = convert(item, depth + 1, path);
        if (converted !== SKIP) out[wellFormed(key)] = converted;
      }
      return out;
    } finally {
      path.pop();
    }
  };

  // An object argument whose properties may be anything (`set`'s items, `get`'s defaults):
  // undefined and what does not convert are left out, null is kept.
  const anyProperties = (object) => {
    const out = {};
    for (const key of Object.keys(object)) {
      const value = object[key];
      if (value === undefined) continue;
      const converted = convert(value, 1, []);
      if (converted !== SKIP) out[wellFormed(key)] = converted;
    }
    return out;
  };

  // --- Chromium's argument matching (extensions/renderer/bindings) ---------------------------
  const typeName = (value) => {
    if (value === null) return "null";
    if (value === undefined) return "undefined";
    if (typeof value === "number") {
      return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 && !Object.is(value, -0)
        ? "integer"
        : "number";
    }
    if (typeof value === "boolean") return "boolean";
    if (typeof value === "string") return "string";
    if (Array.isArray(value)) return "array";
    if (typeof value === "function") return "function";
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return "binary";
    if (typeof value === "object") return "object";
    return "other";
  };
  const isType = (type, value) => {
    switch (type) {
      case "string":
        return typeof value === "string";
      case "array":
        return Array.isArray(value);
      case "object":
        return value !== null && typeof value === "object" && !Array.isArray(value);
      case "function":
        return typeof value === "function";
      default:
        return Array.isArray(type) && type.some((choice) => isType(choice, value));
    }
  };
  const typeText = (type) => (Array.isArray(type) ? `[${type.join("|")}]` : type);

  // Fits the arguments given to the parameters: an optional parameter may be skipped, null or
  // undefined stand for an optional one left out, and the final callback may be left out for a
  // promise. Gives the arguments by parameter (undefined: left out), or null if none fits.
  const resolve = (given, params) => {
    const out = new Array(params.length).fill(undefined);
    const fit = (g, p) => {
      if (g === given.length && p === params.length) return true;
      if (given.length - g > params.length - p) return false;
      const param = params[p];
      if (g < given.length) {
        const value = given[g];
        const nothing = value === null || value === undefined;
        if ((param.optional && nothing) || isType(param.type, value)) {
          out[p] = nothing ? undefined : value;
          if (fit(g + 1, p + 1)) return true;
        }
      }
      if (param.optional) {
        out[p] = undefined;
        if (fit(g, p + 1)) return true;
      }
      // A required callback may be left out, as the last thing missing: the call returns a
      // promise.
      if (g === given.length && p === params.length - 1 && param.type === "function") {
        out[p] = undefined;
        return true;
      }
      return false;
    };
    return fit(0, 0) ? out : null;
  };

  const keysParam = (name, withObject) => ({
    name,
    type: withObject ? ["string", "array", "object"] : ["string", "array"],
    optional: true,
  });
  const callbackParam = (optional) => ({ name: "callback", type: "function", optional });
  const SIGNATURES = {
    get: [keysParam("keys", true), callbackParam(false)],
    getKeys: [callbackParam(false)],
    getBytesInUse: [keysParam("keys", false), callbackParam(false)],
    set: [{ name: "items", type: "object" }, callbackParam(true)],
    remove: [{ name: "keys", type: ["string", "array"] }, callbackParam(true)],
    clear: [callbackParam(true)],
    setAccessLevel: [{ name: "accessOptions", type: "object" }, callbackParam(true)],
  };
  const signatureText = (params) =>
    params.map((p) => `${p.optional ? "optional " : ""}${typeText(p.type)} ${p.name}`).join(", ");
  const invocationError = (method, error) =>
    new TypeError(`Error in invocation of storage.${method}(${signatureText(SIGNATURES[method])}): ${error}`);
  const parameterError = (name, error) => `Error at parameter '${name}': ${error}`;

  // A list of keys: a string, or an array of strings.
  const keyList = (value) => {
    if (typeof value === "string") return [wellFormed(value)];
    if (value.some((key) => typeof key !== "string")) return null;
    return value.map(wellFormed);
  };

  const ACCESS_LEVELS = ["TRUSTED_AND_UNTRUSTED_CONTEXTS", "TRUSTED_CONTEXTS"];
  const accessOptions = (options) => {
    let level;
    let seen = false;
    for (const key of Object.keys(options)) {
      if (key !== "accessLevel") return `Unexpected property: '${key}'.`;
      const value = options[key];
      if (value === null || value === undefined) return "Missing required property 'accessLevel'.";
      if (typeof value !== "string") {
        return `Error at property 'accessLevel': Invalid type: expected storage.AccessLevel, found ${typeName(value)}.`;
      }
      if (!ACCESS_LEVELS.includes(value)) {
        return `Error at property 'accessLevel': Value must be one of ${ACCESS_LEVELS.join(", ")}.`;
      }
      level = value;
      seen = true;
    }
    if (!seen) return "Missing required property 'accessLevel'.";
    return { accessLevel: level };
  };

  // What each function sends the browser, from its resolved arguments (or an error's text).
  const REQUESTS = {
    get: ([keys]) => {
      if (keys === undefined) return { keys: null, defaults: null };
      if (isType("object", keys)) {
        const defaults = anyProperties(keys);
        return { keys: Object.keys(defaults), defaults };
      }
      const list = keyList(keys);
      if (list === null) return parameterError("keys", "Value did not match any choice.");
      return { keys: list, defaults: null };
    },
    getKeys: () => ({}),
    getBytesInUse: ([keys]) => {
      if (keys === undefined) return { keys: null };
      const list = keyList(keys);
      return list === null ? parameterError("keys", "Value did not match any choice.") : { keys: list };
    },
    set: ([items]) => ({ items: anyProperties(items) }),
    remove: ([keys]) => {
      const list = keyList(keys);
      return list === null ? parameterError("keys", "Value did not match any choice.") : { keys: list };
    },
    clear: () => ({}),
    setAccessLevel: ([options]) => {
      const parsed = accessOptions(options);
      return typeof parsed === "string" ? parameterError("accessOptions", parsed) : parsed;
    },
  };
  // The functions whose callback gets a value.
  const GIVES_VALUE = { get: true, getKeys: true, getBytesInUse: true };

  // One call of `storage.<method>` on `area`, in the form its arguments ask for.
  const invoke = (area, method, given) => {
    const resolved = resolve(given, SIGNATURES[method]);
    if (resolved === null) throw invocationError(method, "No matching signature.");
    const request = REQUESTS[method](resolved);
    if (typeof request === "string") throw invocationError(method, request);
    const callback = resolved[resolved.length - 1];
    const json = JSON.stringify(request);
    if (callback !== undefined) {
      sim.storage(area, method, json, (ok, text) => {
        if (ok && GIVES_VALUE[method]) callback(JSON.parse(text));
        else callback();
      }, true);
      return undefined;
    }
    return new Promise((resolvePromise, reject) => {
      sim.storage(area, method, json, (ok, text) => {
        if (!ok) reject(new Error(text));
        else resolvePromise(GIVES_VALUE[method] ? JSON.parse(text) : undefined);
      }, false);
    });
  };

  const CONSTANTS = {
    local: { QUOTA_BYTES: 10485760 },
    session: { QUOTA_BYTES: 10485760 },
    sync: {
      QUOTA_BYTES: 102400,
      QUOTA_BYTES_PER_ITEM: 8192,
      MAX_ITEMS: 512,
      MAX_WRITE_OPERATIONS_PER_HOUR: 1800,
      MAX_WRITE_OPERATIONS_PER_MINUTE: 120,
      MAX_SUSTAINED_WRITE_OPERATIONS_PER_MINUTE: 1000000,
    },
    managed: {},
  };

  sim.makeStorage = ({ Event }) => {
    // An area's onChanged gets (changes); storage.onChanged gets (changes, areaName).
    const areaChanged = (callback) => (json) => callback(JSON.parse(json));
    const anyChanged = (callback) => (json) => {
      const [changes, area] = JSON.parse(json);
      callback(changes, area);
    };
    const methods = ["get", "getKeys", "getBytesInUse", "set", "remove", "clear"];
    const makeArea = (area) => {
      const object = {};
      const names = area === "session" ? [...methods, "setAccessLevel"] : methods;
      for (const method of names) {
        object[method] = function (...args) {
          return invoke(area, method, args);
        };
      }
      object.onChanged = new Event(`storage.${area}.onChanged`, areaChanged);
      for (const [name, value] of Object.entries(CONSTANTS[area])) {
        Object.defineProperty(object, name, { value, enumerable: true });
      }
      return object;
    };
    const storage = {
      local: makeArea("local"),
      session: makeArea("session"),
      sync: makeArea("sync"),
      managed: makeArea("managed"),
      AccessLevel: {
        TRUSTED_AND_UNTRUSTED_CONTEXTS: "TRUSTED_AND_UNTRUSTED_CONTEXTS",
        TRUSTED_CONTEXTS: "TRUSTED_CONTEXTS",
      },
      onChanged: new Event("storage.onChanged", anyChanged),
    };
    // Firefox's `browser.storage`: the same areas, whose functions always return promises.
    const promised = {};
    for (const [name, area] of Object.entries(storage)) {
      if (name === "onChanged" || name === "AccessLevel") {
        promised[name] = area;
        continue;
      }
      const copy = {};
      for (const key of Object.keys(area)) {
        const member = area[key];
        copy[key] = typeof member === "function"
          ? (...args) => member(...args.filter((a) => typeof a !== "function"))
          : member;
      }
      promised[name] = copy;
    }
    return { storage, browserStorage: promised };
  };
})(globalThis.__runtime_sim);
