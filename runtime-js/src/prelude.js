// The globals of an extension's context, written over a few native functions (`sim`, which
// the script never sees). Run once per context, before the extension's own script; `sim.kind`
// says which context it is: "page" (a background page), "worker", "view" or "content".
(function (sim) {
  "use strict";
  const global = globalThis;
  const stringify = (value) => (value === undefined ? "null" : JSON.stringify(value));
  const parse = (text) => (text === null || text === undefined ? undefined : JSON.parse(text));

  // Where the caller of a global function is: `file:line:column`, from QuickJS's stack.
  const callerLocation = (depth) => {
    const lines = String(new Error().stack || "").split("\n");
    const line = lines[depth] || "";
    const match = /\(?([^\s()]+:\d+(?::\d+)?)\)?\s*$/.exec(line);
    return match ? match[1] : null;
  };

  // console.* into the trace.
  const show = (value) => {
    if (typeof value === "string") return value;
    if (value instanceof Error) return String(value);
    if (typeof value === "function") return `[Function ${value.name || "(anonymous)"}]`;
    if (value === undefined) return "undefined";
    try {
      const text = JSON.stringify(value);
      return text === undefined ? String(value) : text;
    } catch (e) {
      return String(value);
    }
  };
  const console = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    console[level] = (...args) => sim.console(level, args.map(show).join(" "), callerLocation(2));
  }
  global.console = console;

  // Time and chance from the simulation.
  const RealDate = Date;
  class SimDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(sim.now());
      else super(...args);
    }
    static now() {
      return Math.floor(sim.now());
    }
  }
  global.Date = SimDate;
  global.performance = { now: () => sim.now() - sim.origin, timeOrigin: sim.origin };
  Math.random = () => sim.random();

  // Timers on the virtual clock. A timer does not keep an event page alive.
  const timers = new Map();
  let nextTimer = 1;
  const arm = (id, callback, delay, args, repeat) => {
    timers.set(id, sim.timer(delay, () => {
      if (!timers.has(id)) return;
      if (repeat) arm(id, callback, delay, args, repeat);
      else timers.delete(id);
      callback(...args);
    }));
  };
  const setTimer = (repeat) => (callback, delay, ...args) => {
    if (typeof callback !== "function") {
      throw new TypeError("The callback provided as parameter 1 is not a function.");
    }
    const id = nextTimer++;
    const ms = Math.max(0, Number(delay) || 0);
    arm(id, callback, repeat ? Math.max(ms, 1) : ms, args, repeat);
    return id;
  };
  const clearTimer = (id) => {
    const native = timers.get(id);
    if (native !== undefined) {
      timers.delete(id);
      sim.clearTimer(native);
    }
  };
  global.setTimeout = setTimer(false);
  global.setInterval = setTimer(true);
  global.clearTimeout = clearTimer;
  global.clearInterval = clearTimer;
  global.queueMicrotask = (callback) => {
    if (typeof callback !== "function") {
      throw new TypeError("The callback provided as parameter 1 is not a function.");
    }
    Promise.resolve().then(callback);
  };
  global.self = global;
  // A document's global object is its window; a service worker has none.
  if (sim.kind !== "worker") global.window = global;

  // Base64, as browsers have it (Latin-1 strings).
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const invalidCharacter = (what) => {
    const error = new Error(`Failed to execute '${what}' on 'Window': The string to be ${what === "btoa" ? "encoded contains characters outside of the Latin1 range" : "decoded is not correctly encoded"}.`);
    error.name = "InvalidCharacterError";
    return error;
  };
  global.btoa = (input) => {
    const text = String(input);
    let out = "";
    for (let i = 0; i < text.length; i += 3) {
      const codes = [text.charCodeAt(i), text.charCodeAt(i + 1), text.charCodeAt(i + 2)];
      if (codes.some((c) => c > 255)) throw invalidCharacter("btoa");
      const [a, b, c] = codes;
      const n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < text.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < text.length ? B64[n & 63] : "=";
    }
    return out;
  };
  global.atob = (input) => {
    let text = String(input).replace(/[\t\n\f\r ]/g, "");
    if (text.length % 4 === 0) text = text.replace(/==?$/, "");
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) throw invalidCharacter("atob");
    let out = "";
    let bits = 0;
    let value = 0;
    for (const ch of text) {
      value = (value << 6) | B64.indexOf(ch);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((value >> bits) & 255);
      }
    }
    return out;
  };

  // UTF-8, as TextEncoder and TextDecoder have it.
  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input = "") {
      const bytes = [];
      for (const ch of String(input)) {
        let c = ch.codePointAt(0);
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) bytes.push(c);
        else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(bytes);
    }
  }
  class TextDecoder {
    constructor(label = "utf-8") {
      if (!/^utf-?8$/i.test(String(label))) {
        throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
      }
    }
    get encoding() {
      return "utf-8";
    }
    decode(input) {
      if (input === undefined) return "";
      const bytes = input instanceof ArrayBuffer
        ? new Uint8Array(input)
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      let out = "";
      for (let i = 0; i < bytes.length; ) {
        const b = bytes[i];
        if (b < 0x80) {
          out += String.fromCharCode(b);
          i += 1;
          continue;
        }
        let need;
        let c;
        if (b >= 0xc2 && b <= 0xdf) [need, c] = [1, b & 0x1f];
        else if (b >= 0xe0 && b <= 0xef) [need, c] = [2, b & 0x0f];
        else if (b >= 0xf0 && b <= 0xf4) [need, c] = [3, b & 0x07];
        else {
          out += "\ufffd";
          i += 1;
          continue;
        }
        let k = 1;
        for (; k <= need; k++) {
          const next = bytes[i + k];
          if (next === undefined || (next & 0xc0) !== 0x80) break;
          c = (c << 6) | (next & 63);
        }
        const overlong = (need === 2 && c < 0x800) || (need === 3 && c < 0x10000);
        const invalid = (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff;
        if (k <= need || overlong || invalid) {
          // One replacement character for the longest bad prefix.
          out += "\ufffd";
          i += Math.max(1, k <= need ? k : need + 1);
          continue;
        }
        out += String.fromCodePoint(c);
        i += need + 1;
      }
      return out;
    }
  }
  global.TextEncoder = TextEncoder;
  global.TextDecoder = TextDecoder;

  // structuredClone: plain data, Dates, RegExps, Maps, Sets, ArrayBuffers and typed arrays,
  // with shared and cyclic references kept; functions and other objects cannot be cloned.
  const cannotClone = (value) => {
    const error = new Error(`Failed to execute 'structuredClone' on 'Window': ${typeof value === "function" ? String(value).slice(0, 40) : Object.prototype.toString.call(value)} could not be cloned.`);
    error.name = "DataCloneError";
    return error;
  };
  global.structuredClone = (value) => {
    const seen = new Map();
    const clone = (v) => {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) {
        if (typeof v === "symbol") throw cannotClone(v);
        return v;
      }
      if (typeof v === "function") throw cannotClone(v);
      if (seen.has(v)) return seen.get(v);
      let out;
      if (Array.isArray(v)) {
        out = [];
        seen.set(v, out);
        v.forEach((item, i) => (out[i] = clone(item)));
      } else if (v instanceof RealDate) {
        out = new SimDate(v.getTime());
      } else if (v instanceof RegExp) {
        out = new RegExp(v.source, v.flags);
      } else if (v instanceof Map) {
        out = new Map();
        seen.set(v, out);
        v.forEach((val, key) => out.set(clone(key), clone(val)));
      } else if (v instanceof Set) {
        out = new Set();
        seen.set(v, out);
        v.forEach((val) => out.add(clone(val)));
      } else if (v instanceof ArrayBuffer) {
        out = v.slice(0);
      } else if (ArrayBuffer.isView(v)) {
        out = new v.constructor(v);
      } else if (v instanceof Error) {
        out = new (global[v.name] || Error)(v.message);
      } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
        out = {};
        seen.set(v, out);
        for (const key of Object.keys(v)) out[key] = clone(v[key]);
      } else {
        throw cannotClone(v);
      }
      seen.set(v, out);
      return out;
    };
    return clone(value);
  };

  // crypto.getRandomValues from the simulation's seed.
  global.crypto = {
    getRandomValues(array) {
      const integer = ArrayBuffer.isView(array) && !(array instanceof DataView) &&
        !(array instanceof Float32Array) && !(array instanceof Float64Array);
      if (!integer) {
        const type = array && array.constructor ? array.constructor.name : typeof array;
        throw new TypeError(`Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '${type}', which is not an integer array type.`);
      }
      if (array.byteLength > 65536) {
        const error = new Error(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536).`);
        error.name = "QuotaExceededError";
        throw error;
      }
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(sim.random() * 256);
      return array;
    },
  };

  // location: the URL of this document (a content script's frame, a view, the background
  // page) or worker, read-only: navigating is not simulated. Made on first use (it needs URL).
  const pageUrl = sim.url;
  const notNavigating = () => {
    throw new TypeError("navigation is not simulated by runtime-sim");
  };
  const makeLocation = () => {
    const url = new URL(pageUrl);
    const location = {};
    for (const part of ["href", "origin", "protocol", "host", "hostname", "port", "pathname", "search", "hash"]) {
      const value = url[part];
      Object.defineProperty(location, part, {
        get: () => value,
        set: part === "origin" ? undefined : notNavigating,
        enumerable: true,
      });
    }
    location.toString = () => url.href;
    if (!sim.worker) {
      location.assign = notNavigating;
      location.replace = notNavigating;
      location.reload = notNavigating;
    }
    return Object.freeze(location);
  };
  let madeLocation;
  Object.defineProperty(global, "location", {
    configurable: true,
    enumerable: true,
    get: () => (madeLocation ??= makeLocation()),
    set: sim.worker ? undefined : notNavigating,
  });

  // What the simulator does not provide fails saying so.
  const notSimulated = (name) => () => {
    throw new TypeError(`${name} is not simulated by runtime-sim`);
  };
  global.fetch = notSimulated("fetch");
  global.XMLHttpRequest = notSimulated("XMLHttpRequest");

  // importScripts(...urls), in a service worker: the files of the extension, run in order in
  // this global scope (in a module worker it throws, as in the browser).
  if (sim.worker) {
    const RealDOMException = global.DOMException;
    const errors = { TypeError, RangeError };
    global.importScripts = function importScripts(...urls) {
      const failure = sim.importScripts(urls.map((url) => String(url)));
      if (failure !== null && failure !== undefined) {
        const [name, message] = failure;
        if (errors[name] !== undefined) throw new errors[name](message);
        throw new RealDOMException(message, name);
      }
    };
  }

  // chrome.events.Event: each JavaScript listener is one listener of the simulated event.
  class Event {
    constructor(name, wrap, port) {
      this._name = name;
      this._wrap = wrap;
      this._port = port;
      this._listeners = [];
    }
    addListener(callback) {
      if (typeof callback !== "function") {
        // Chromium adds nothing and says nothing (measured in Chromium 148:
        // conformance/goldens/chromium-mv3.json).
        if (!sim.firefox) return;
        throw new TypeError(
          `Error in invocation of ${this._name}.addListener(function callback): No matching signature.`
        );
      }
      if (this._listeners.some((l) => l.callback === callback)) return;
      const token = sim.listen(this._name, this._wrap(callback), this._port, callerLocation(2));
      this._listeners.push({ callback, token });
    }
    removeListener(callback) {
      const index = this._listeners.findIndex((l) => l.callback === callback);
      if (index < 0) return;
      sim.unlisten(this._listeners[index].token);
      this._listeners.splice(index, 1);
    }
    hasListener(callback) {
      return this._listeners.some((l) => l.callback === callback);
    }
    hasListeners() {
      return this._listeners.length > 0;
    }
  }
  // Plain events: the arguments arrive as JSON.
  const plain = (callback) => (...json) => {
    callback(...json.map(parse));
  };
  // onMessage: the listener itself gets (message, sender, sendResponse), and the native side
  // reads what it returns: `true` keeps the channel open, a promise answers with its value
  // (from Chrome 144); `sendResponse` is a native function that answers once.
  const onMessage = (callback) => callback;

  // runtime.Port: one end of a long-lived connection.
  class Port {
    constructor(token, name, sender) {
      this._token = token;
      this.name = name;
      if (sender !== undefined) this.sender = sender;
      const port = this;
      this.onMessage = new Event("Port.onMessage", (callback) => (json) => callback(parse(json), port), token);
      this.onDisconnect = new Event("Port.onDisconnect", (callback) => () => callback(port), token);
    }
    postMessage(message) {
      if (message === undefined) {
        throw new TypeError(
          "Error in invocation of Port.postMessage(any message): No matching signature."
        );
      }
      sim.portPost(this._token, stringify(message));
    }
    disconnect() {
      sim.portDisconnect(this._token);
    }
  }
  const onConnect = (callback) => (token, name, senderJson) => {
    callback(new Port(token, name, parse(senderJson)));
  };

  // A function of the API in both forms: a promise, or a callback that runs with
  // `chrome.runtime.lastError` set if the call failed.
  const lastError = () => {
    const message = sim.lastError();
    return message === null || message === undefined ? undefined : { message };
  };

  // A callback's arguments: none when the call failed (runtime.lastError is set), as
  // Chromium's bindings call it; else the answer.
  const answered = (callback, json, value) => (sim.callFailed() ? callback() : callback(value(json)));

  // A one-time message (kind "extension") or a native message ("native"): the callback
  // form with a callback, else a promise (runtime.sendMessage makes its promise natively,
  // with sim.sendMessagePromise, and comes here only with a callback).
  const send = (kind, to, message, callback) => {
    if (callback) {
      sim.sendMessage(kind, to, message, (json) => answered(callback, json, parse));
      return undefined;
    }
    return new Promise((resolve, reject) => {
      sim.sendMessage(kind, to, message, null, (ok, value) => {
        if (ok) resolve(value);
        else reject(new Error(value));
      });
    });
  };
  // The arguments of runtime.sendMessage and runtime.connect as Chromium's bindings read them
  // (extensions/renderer/messaging_util.cc, MassageSendMessageArguments; the errors measured
  // in Chromium 148, conformance/goldens/chromium-mv3.json).
  const SEND_MESSAGE = "runtime.sendMessage(optional string extensionId, any message, optional object options, optional function callback)";
  const CONNECT = "runtime.connect(optional string extensionId, optional object connectInfo)";
  const invocation = (signature, why) => new TypeError(`Error in invocation of ${signature}: ${why}`);
  // The last id found valid: messages mostly go to the same extension again (the hot path).
  let validId = null;
  const isExtensionId = (id) => {
    if (id === validId) return true;
    if (!/^[a-p]{32}$/.test(id)) return false;
    validId = id;
    return true;
  };
  // What chromiumSendMessageArguments read, reused (it is read at once, before anything else
  // runs), so that a message costs no new object.
  const sendArguments = { extensionId: null, message: undefined, callback: undefined };
  const chromiumSendMessageArguments = (args) => {
    const noMatch = () => invocation(SEND_MESSAGE, "No matching signature.");
    let n = args.length;
    if (n === 0 || n > 4) throw noMatch();
    // The last argument is the callback if it is a function; a lone function is the message.
    let callback;
    if (n > 1 && typeof args[n - 1] === "function") callback = args[--n];
    let extensionId = null;
    let message;
    let options = null;
    if (n === 1) {
      message = args[0];
    } else if (n === 2) {
      if (typeof args[0] === "string" || args[0] === null || args[0] === undefined) {
        extensionId = args[0] === undefined ? null : args[0];
        message = args[1];
      } else {
        message = args[0];
        options = args[1];
      }
    } else if (n === 3) {
      [extensionId, message, options] = args;
    } else {
      throw noMatch();
    }
    if (extensionId !== null && extensionId !== undefined && typeof extensionId !== "string") throw noMatch();
    if (options !== null && options !== undefined && typeof options !== "object") throw noMatch();
    if (typeof extensionId === "string" && !isExtensionId(extensionId)) {
      throw invocation(SEND_MESSAGE, `Invalid extension id: '${extensionId}'`);
    }
    if (typeof message === "function" || typeof message === "symbol") {
      throw invocation(SEND_MESSAGE, "Could not serialize message.");
    }
    sendArguments.extensionId = extensionId === undefined ? null : extensionId;
    sendArguments.message = message;
    sendArguments.callback = callback;
    return sendArguments;
  };
  const typeName = (value) => {
    if (value === null) return "null";
    if (Array.isArray(value)) return "list";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    if (typeof value === "object") return "object";
    return typeof value === "boolean" ? "boolean" : typeof value;
  };
  const chromiumConnectArguments = (args) => {
    const noMatch = () => invocation(CONNECT, "No matching signature.");
    if (args.length > 2) throw noMatch();
    let [extensionId, info] = args;
    if (args.length === 1 && extensionId !== null && typeof extensionId === "object") {
      [extensionId, info] = [undefined, extensionId];
    }
    if (extensionId !== undefined && extensionId !== null && typeof extensionId !== "string") throw noMatch();
    if (info !== undefined && info !== null && typeof info !== "object") throw noMatch();
    if (typeof extensionId === "string" && !isExtensionId(extensionId)) {
      throw invocation(CONNECT, `Invalid extension id: '${extensionId}'`);
    }
    let name = "";
    if (info !== undefined && info !== null) {
      for (const key of Object.keys(info)) {
        if (key !== "name" && key !== "includeTlsChannelId") {
          throw invocation(CONNECT, `Error at parameter 'connectInfo': Unexpected property: '${key}'.`);
        }
      }
      const expected = { name: "string", includeTlsChannelId: "boolean" };
      for (const [key, type] of Object.entries(expected)) {
        const value = info[key];
        if (value !== undefined && typeof value !== type) {
          throw invocation(
            CONNECT,
            `Error at parameter 'connectInfo': Error at property '${key}': Invalid type: expected ${type}, found ${typeName(value)}.`
          );
        }
      }
      if (typeof info.name === "string") name = info.name;
    }
    return { extensionId: typeof extensionId === "string" ? extensionId : null, name };
  };

  const runtime = {
    id: sim.id,
    // Firefox's reasons are its own (its schema's runtime.OnInstalledReason).
    OnInstalledReason: Object.freeze(sim.firefox
      ? { INSTALL: "install", UPDATE: "update", BROWSER_UPDATE: "browser_update" }
      : {
          INSTALL: "install",
          UPDATE: "update",
          CHROME_UPDATE: "chrome_update",
          SHARED_MODULE_UPDATE: "shared_module_update",
        }),
    getManifest: () => JSON.parse(sim.manifest()),
    getURL: (path) => {
      if (typeof path !== "string") {
        throw new TypeError(
          "Error in invocation of runtime.getURL(string path): No matching signature."
        );
      }
      return sim.getURL(path);
    },
    onInstalled: new Event("runtime.onInstalled", plain),
    onStartup: new Event("runtime.onStartup", plain),
    onSuspend: new Event("runtime.onSuspend", plain),
    onSuspendCanceled: new Event("runtime.onSuspendCanceled", plain),
    onMessage: new Event("runtime.onMessage", onMessage),
    onMessageExternal: new Event("runtime.onMessageExternal", onMessage),
    onConnect: new Event("runtime.onConnect", onConnect),
    onConnectExternal: new Event("runtime.onConnectExternal", onConnect),
    connect: (...args) => {
      // connect(extensionId?, connectInfo?)
      if (!sim.firefox) {
        const { extensionId, name } = chromiumConnectArguments(args);
        return new Port(sim.connect(extensionId, name), name);
      }
      let extensionId = null;
      if (typeof args[0] === "string") extensionId = args.shift();
      const info = args[0] || {};
      const name = typeof info.name === "string" ? info.name : "";
      return new Port(sim.connect(extensionId, name), name);
    },
    sendMessage: (...args) => {
      if (!sim.firefox) {
        // The hot path, read in place: (message) or (the id last found valid, message).
        const n = args.length;
        const last = args[n - 1];
        if ((n === 1 || (n === 2 && args[0] === validId)) && typeof last !== "function" && typeof last !== "symbol") {
          return sim.sendMessagePromise(n === 2 ? validId : null, last);
        }
        const { extensionId, message, callback } = chromiumSendMessageArguments(args);
        if (callback === undefined) return sim.sendMessagePromise(extensionId, message);
        return send("extension", extensionId, message, callback);
      }
      // sendMessage(extensionId?, message, options?, callback?), read in place (the hot
      // path of messaging: no array is changed, no helper is called for a promise).
      let n = args.length;
      const callback = n > 0 && typeof args[n - 1] === "function" ? args[--n] : undefined;
      let at = 0;
      let extensionId = null;
      if (n >= 2 && (typeof args[0] === "string" || args[0] === null)) {
        extensionId = args[0];
        at = 1;
      }
      const message = at < n ? args[at] : undefined;
      if (callback === undefined) return sim.sendMessagePromise(extensionId, message);
      return send("extension", extensionId, message, callback);
    },
  };
  // Native messaging exists only with the "nativeMessaging" permission, as in Chromium.
  const manifest = parse(sim.manifest()) || {};
  if ((manifest.permissions || []).includes("nativeMessaging")) {
    runtime.connectNative = (application) => {
      if (typeof application !== "string") {
        throw new TypeError(
          "Error in invocation of runtime.connectNative(string application): No matching signature."
        );
      }
      return new Port(sim.connectNative(application), "");
    };
    runtime.sendNativeMessage = (application, message, callback) => {
      const noMessage = !sim.firefox && (message === null || typeof message !== "object" || Array.isArray(message));
      if (typeof application !== "string" || noMessage || (callback !== undefined && typeof callback !== "function")) {
        throw new TypeError(
          "Error in invocation of runtime.sendNativeMessage(string application, object message, optional function callback): No matching signature."
        );
      }
      return send("native", application, message, callback);
    };
  }
  Object.defineProperty(runtime, "lastError", { get: lastError, enumerable: true });

  // A function of the API that answers later, in the forms Chromium gives it: with a
  // callback (which runs with runtime.lastError set if the call failed), or, from Manifest V3
  // on (and always in Firefox's `browser`), a promise. Without either, a function whose
  // callback is optional is called all the same, and a failure is reported as an unchecked
  // `runtime.lastError` (`silent`: not for a message, whose sender expects no answer); one
  // that needs its callback throws.
  // `start(callback, settle)` makes the call: `callback(json)` for the callback form,
  // `settle(ok, jsonOrMessage)` for a promise. `raw`: the value is not JSON.
  const promises = sim.manifestVersion >= 3;
  const noSignature = (signature) =>
    new TypeError(`Error in invocation of ${signature}: No matching signature.`);
  const apiCall = ({ signature, required = false, raw = false, promise = promises, silent = false }, callback, start) => {
    const value = raw ? (v) => v : parse;
    if (typeof callback === "function") {
      start((json) => answered(callback, json, value), null);
      return undefined;
    }
    if (callback !== undefined && callback !== null) throw noSignature(signature);
    if (promise) {
      // Made outside the promise's executor, so that an argument error the browser finds
      // is thrown, not turned into a rejection.
      let settled;
      const answer = new Promise((resolve, reject) => {
        settled = (ok, result) => (ok ? resolve(value(result)) : reject(new Error(result)));
      });
      start(null, settled);
      return answer;
    }
    if (required) throw noSignature(signature);
    start(silent ? null : () => {}, null);
    return undefined;
  };

  // runtime.getBackgroundPage: the background page's window, in the extension's pages (a
  // service worker has neither the function nor a window to give).
  if (sim.kind === "page" || sim.kind === "view") {
    const backgroundPage = (options) => (callback) =>
      apiCall(
        { signature: "runtime.getBackgroundPage(function callback)", required: true, raw: true, ...options },
        callback,
        (cb, settle) => sim.getBackgroundPage(cb, settle)
      );
    runtime.getBackgroundPage = backgroundPage({});
    sim.browserBackgroundPage = backgroundPage({ promise: true });
  }

  // A content script has only these members of chrome.runtime (Chromium's
  // _api_features.json); the others are undefined there.
  if (sim.kind === "content") {
    const contentMembers = new Set([
      "id", "getManifest", "getURL", "sendMessage", "connect", "onMessage", "onConnect",
      "lastError", "OnInstalledReason",
    ]);
    for (const key of Object.keys(runtime)) {
      if (!contentMembers.has(key)) delete runtime[key];
    }
  }

  // An asynchronous call in both forms: a promise, or a callback given its value.
  const call = (start, callback) => {
    const promise = new Promise((resolve, reject) => {
      start((ok, json) => (ok ? resolve(parse(json)) : reject(new Error(json))));
    });
    if (typeof callback !== "function") return promise;
    promise.then(
      (value) => callback(value),
      () => callback(undefined)
    );
    return undefined;
  };
  // chrome.storage (storage.js), backed by the simulator's storage.
  const { storage, browserStorage } = sim.makeStorage({ Event });

  // chrome.alarms, kept by the browser on the virtual clock. The browser's alarm times are
  // virtual; here they are Unix milliseconds, as Date shows them.
  const alarmCall = (op, args, callback) =>
    call((done) => sim.alarms(op, stringify(args), done), callback);
  const onAlarmWrap = (callback) => (json) => {
    const alarm = parse(json);
    if (alarm !== null && typeof alarm === "object" && typeof alarm.scheduledTime === "number") {
      alarm.scheduledTime += sim.epoch;
    }
    callback(alarm);
  };
  const optionalName = (args) => (typeof args[0] === "string" ? args.shift() : "");
  const lastCallback = (args) => (typeof args[args.length - 1] === "function" ? args.pop() : undefined);
  const alarms = {
    create: (...args) => {
      const callback = lastCallback(args);
      const name = optionalName(args);
      const info = args[0];
      if (info === null || typeof info !== "object") {
        throw new TypeError(
          "Error in invocation of alarms.create(optional string name, alarms.AlarmCreateInfo alarmInfo, optional function callback): No matching signature."
        );
      }
      return alarmCall("create", { name, info }, callback);
    },
    get: (...args) => {
      const callback = lastCallback(args);
      const absent = (alarm) => (alarm === null ? undefined : alarm);
      const name = optionalName(args);
      if (callback) return alarmCall("get", { name }, (alarm) => callback(absent(alarm)));
      return alarmCall("get", { name }).then(absent);
    },
    getAll: (callback) => alarmCall("getAll", {}, callback),
    clear: (...args) => {
      const callback = lastCallback(args);
      return alarmCall("clear", { name: optionalName(args) }, callback);
    },
    clearAll: (callback) => alarmCall("clearAll", {}, callback),
    onAlarm: new Event("alarms.onAlarm", onAlarmWrap),
  };

  // A namespace the simulator does not provide is undefined, as in a browser without the
  // permission; the first touch of each is noted in the trace.
  const noted = new Set();
  // The namespaces given are the object's own properties, found without a trap (a Proxy
  // around the object cost a trap call at every `chrome.runtime`); a name it does not have
  // reaches the Proxy that is its prototype, which notes the first touch.
  const namespaces = (api, name) => {
    const unknown = new Proxy(Object.prototype, {
      get(target, key, receiver) {
        if (typeof key === "string" && !(key in target) && !noted.has(key)) {
          noted.add(key);
          const why = sim.kind === "content"
            ? "is undefined in content scripts (runtime-sim gives them chrome.runtime and chrome.storage)"
            : "is not simulated by runtime-sim: it is undefined here";
          sim.warn(`${name}.${key} ${why} (${callerLocation(2) || "?"})`);
        }
        return Reflect.get(target, key, receiver);
      },
    });
    Object.setPrototypeOf(api, unknown);
    return api;
  };
  const chromeApi = sim.kind === "content" ? { runtime, storage } : { runtime, storage, alarms };
  const chrome = namespaces(chromeApi, "chrome");
  global.chrome = chrome;
  // What the other parts of the globals (tabs.js) build on.
  sim.api = { Event, Port, onConnect, parse, stringify, apiCall, noSignature, chrome: chromeApi };
  // Firefox also has `browser`: the same API, whose functions return promises.
  if (sim.firefox) {
    const promised = (f) => (...args) => f(...args.filter((a) => typeof a !== "function"));
    const browserRuntime = Object.create(runtime);
    browserRuntime.sendMessage = promised(runtime.sendMessage);
    if (sim.browserBackgroundPage) browserRuntime.getBackgroundPage = sim.browserBackgroundPage;
    const browserApi = { runtime: browserRuntime, storage: browserStorage };
    if (sim.kind !== "content") browserApi.alarms = alarms;
    global.browser = namespaces(browserApi, "browser");
    sim.api.browser = browserApi;
  }
})(globalThis.__runtime_sim);
// The native functions stay until the other parts of the globals have been made; then they go.
