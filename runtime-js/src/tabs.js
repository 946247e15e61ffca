// chrome.tabs, the part messaging needs, built on the prelude's parts (`sim.api`) and the
// native functions of tabs.rs. Extension pages and service workers have it; content scripts do
// not. Run once per context, after the prelude.
(function (sim) {
  "use strict";
  if (sim.kind === "content") return;
  const { Event, Port, parse, stringify, apiCall, noSignature } = sim.api;

  const isTabId = (value) => Number.isInteger(value) && value >= 0;
  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  const optional = (value, check) => value === undefined || value === null || check(value);
  const isBool = (value) => typeof value === "boolean";
  const isWindowId = (value) => Number.isInteger(value) && value >= -2;

  // Each event's listeners get the arguments the browser sends as an array.
  const spread = (callback) => (json) => callback(...parse(json));
  const events = {
    onCreated: new Event("tabs.onCreated", spread),
    onRemoved: new Event("tabs.onRemoved", spread),
    onUpdated: new Event("tabs.onUpdated", spread),
  };

  const call = (op, options, callback, args) =>
    apiCall(options, callback, (cb, settle) => sim.tabs(op, stringify(args), cb, settle));

  // `promise`: undefined for chrome.tabs (promises from Manifest V3 on), true for Firefox's
  // browser.tabs.
  const make = (promise) => {
    const form = (signature, required) =>
      promise === undefined ? { signature, required } : { signature, required, promise };
    return {
      create(createProperties, callback) {
        const signature = "tabs.create(object createProperties, optional function callback)";
        const props = createProperties;
        if (
          !isObject(props) ||
          !optional(props.url, (u) => typeof u === "string") ||
          !optional(props.active, isBool) ||
          !optional(props.index, isTabId) ||
          !optional(props.windowId, isWindowId)
        ) {
          throw noSignature(signature);
        }
        const { url, active, index, windowId } = props;
        return call("create", form(signature, false), callback, { url, active, index, windowId });
      },
      get(tabId, callback) {
        const signature = "tabs.get(integer tabId, function callback)";
        if (!isTabId(tabId)) throw noSignature(signature);
        return call("get", form(signature, true), callback, { tabId });
      },
      query(queryInfo, callback) {
        const signature = "tabs.query(object queryInfo, function callback)";
        const info = queryInfo;
        const isUrl = (u) => typeof u === "string" || (Array.isArray(u) && u.every((p) => typeof p === "string"));
        if (
          !isObject(info) ||
          !optional(info.url, isUrl) ||
          !optional(info.windowId, isWindowId) ||
          !optional(info.index, isTabId)
        ) {
          throw noSignature(signature);
        }
        const known = [
          "active", "highlighted", "pinned", "currentWindow", "lastFocusedWindow", "windowId",
          "index", "status", "url",
        ];
        const args = {};
        for (const key of Object.keys(info)) {
          if (known.includes(key)) args[key] = info[key];
          else if (info[key] !== undefined) {
            sim.warn(`runtime-sim: tabs.query's ${key} is not simulated; it is ignored`);
          }
        }
        return call("query", form(signature, true), callback, args);
      },
      remove(tabIds, callback) {
        const signature = "tabs.remove([integer|array] tabIds, optional function callback)";
        const ids = Array.isArray(tabIds) ? tabIds : [tabIds];
        if (!ids.every(isTabId)) throw noSignature(signature);
        return call("remove", form(signature, false), callback, { tabIds: ids });
      },
      sendMessage(tabId, message, ...rest) {
        const signature =
          "tabs.sendMessage(integer tabId, any message, optional object options, optional function callback)";
        const callback = typeof rest[rest.length - 1] === "function" ? rest.pop() : undefined;
        const options = rest[0];
        if (!isTabId(tabId) || message === undefined || rest.length > 1 || !optional(options, isObject)) {
          throw noSignature(signature);
        }
        const frameId = options ? options.frameId : undefined;
        if (!optional(frameId, isTabId)) throw noSignature(signature);
        const frame = frameId === undefined ? null : frameId;
        return apiCall({ ...form(signature, false), silent: true }, callback, (cb, settle) =>
          sim.tabSendMessage(tabId, frame, stringify(message), cb, settle)
        );
      },
      connect(tabId, connectInfo) {
        const signature = "tabs.connect(integer tabId, optional object connectInfo)";
        if (!isTabId(tabId) || !optional(connectInfo, isObject)) throw noSignature(signature);
        const info = connectInfo || {};
        const name = typeof info.name === "string" ? info.name : "";
        if (!optional(info.frameId, isTabId)) throw noSignature(signature);
        const frame = info.frameId === undefined ? null : info.frameId;
        return new Port(sim.tabConnect(tabId, frame, name), name);
      },
      ...events,
    };
  };

  sim.api.chrome.tabs = make(undefined);
  if (sim.api.browser) sim.api.browser.tabs = make(true);
})(globalThis.__runtime_sim);
