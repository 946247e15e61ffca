// The globals of an extension's context, written over a few native functions (`sim`, which
// the script never sees). Run once per context, before the extension's own script.
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

  // What the simulator does not provide fails saying so.
  const notSimulated = (name) => () => {
    throw new TypeError(`${name} is not simulated by runtime-sim`);
  };
  global.fetch = notSimulated("fetch");
  global.XMLHttpRequest = notSimulated("XMLHttpRequest");

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
  // onMessage: (message, sender, sendResponse); `true` keeps the channel open, a promise
  // answers with its value (from Chrome 144).
  const onMessage = (callback) => (messageJson, senderJson, respond, settle) => {
    let answered = false;
    const sendResponse = (response) => {
      if (answered) return;
      answered = true;
      respond(stringify(response));
    };
    const result = callback(parse(messageJson), parse(senderJson), sendResponse);
    if (result === true) return 1;
    if (result !== null && typeof result === "object" && typeof result.then === "function") {
      result.then(
        (value) => settle(true, stringify(value)),
        (error) => settle(false, error instanceof Error ? error.message : String(error))
      );
      return 2;
    }
    return 0;
  };

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

  const runtime = {
    id: sim.id,
    OnInstalledReason: {
      INSTALL: "install",
      UPDATE: "update",
      CHROME_UPDATE: "chrome_update",
      SHARED_MODULE_UPDATE: "shared_module_update",
    },
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
      let extensionId = null;
      if (typeof args[0] === "string") extensionId = args.shift();
      const info = args[0] || {};
      const name = typeof info.name === "string" ? info.name : "";
      return new Port(sim.connect(extensionId, name), name);
    },
    sendMessage: (...args) => {
      // sendMessage(extensionId?, message, options?, callback?)
      let callback;
      if (typeof args[args.length - 1] === "function") callback = args.pop();
      let extensionId = null;
      if (args.length >= 2 && (typeof args[0] === "string" || args[0] === null)) {
        extensionId = args.shift();
      }
      const message = args[0];
      if (callback) {
        sim.sendMessage(extensionId, stringify(message), (json) => callback(parse(json)));
        return undefined;
      }
      return new Promise((resolve, reject) => {
        sim.sendMessage(extensionId, stringify(message), null, (ok, json) => {
          if (ok) resolve(parse(json));
          else reject(new Error(json));
        });
      });
    },
  };
  Object.defineProperty(runtime, "lastError", { get: lastError, enumerable: true });

  // chrome.storage.local, backed by the simulator's storage.
  const keysOf = (keys) => {
    if (keys === null || keys === undefined) return null;
    if (typeof keys === "string") return [keys];
    if (Array.isArray(keys)) return keys;
    return Object.keys(keys);
  };
  const defaultsOf = (keys) =>
    keys !== null && typeof keys === "object" && !Array.isArray(keys) ? keys : {};
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
  const local = {
    get: (keys, callback) =>
      call((done) => sim.storageGet(stringify(keysOf(keys)), stringify(defaultsOf(keys)), done), callback),
    set: (items, callback) => call((done) => sim.storageSet(stringify(items), done), callback),
    remove: (keys, callback) => call((done) => sim.storageRemove(stringify(keysOf(keys)), done), callback),
  };
  const storage = { local };

  // The events of other APIs the simulator fires by name (the test fires them).
  const alarms = { onAlarm: new Event("alarms.onAlarm", plain) };

  const chrome = { runtime, storage, alarms };
  global.chrome = chrome;
  // Firefox also has `browser`: the same API, whose functions return promises.
  if (sim.firefox) {
    const promised = (f) => (...args) => f(...args.filter((a) => typeof a !== "function"));
    const browserRuntime = Object.create(runtime);
    browserRuntime.sendMessage = promised(runtime.sendMessage);
    const browserLocal = {
      get: promised(local.get),
      set: promised(local.set),
      remove: promised(local.remove),
    };
    global.browser = { runtime: browserRuntime, storage: { local: browserLocal }, alarms };
  }
})(globalThis.__runtime_sim);
delete globalThis.__runtime_sim;
