// The members of chrome.runtime beyond messages and the lifecycle events the prelude makes:
// the platform, the package folder, the options page, the uninstall URL, update checks,
// reload, the kiosk restarts, their events and the enum types (and Firefox's getBrowserInfo). Built on the prelude's parts
// (`sim.api`) and the native functions of runtime_api.rs. Content scripts have none of them.
// Run once per context, after the prelude.
(function (sim) {
  "use strict";
  if (sim.kind === "content") return;
  const { Event, parse, stringify, apiCall, noSignature } = sim.api;
  const runtime = sim.api.chrome.runtime;
  const plain = (callback) => (...json) => callback(...json.map(parse));

  // The enum types, as Chromium's bindings make them: each value under its name in capitals,
  // with `-` as `_`.
  const enumOf = (...values) =>
    Object.freeze(Object.fromEntries(values.map((v) => [v.toUpperCase().replace(/-/g, "_"), v])));
  // Firefox's schema (toolkit/components/extensions/schemas/runtime.json) has its own
  // architectures, no Native Client and no Fuchsia.
  const enums = sim.firefox
    ? {
        PlatformOs: enumOf("mac", "win", "android", "cros", "linux", "openbsd"),
        PlatformArch: enumOf("aarch64", "arm", "ppc64", "s390x", "sparc64", "x86-32", "x86-64", "noarch"),
        RequestUpdateCheckStatus: enumOf("throttled", "no_update", "update_available"),
        OnRestartRequiredReason: enumOf("app_update", "os_update", "periodic"),
      }
    : {
        // As Chromium 148 has them (conformance/goldens/chromium-mv3.json).
        PlatformOs: enumOf("mac", "win", "android", "cros", "linux", "openbsd"),
        PlatformArch: enumOf("arm", "arm64", "x86-32", "x86-64", "mips", "mips64", "ppc64", "riscv64"),
        PlatformNaclArch: enumOf("arm", "x86-32", "x86-64", "mips", "mips64", "ppc64"),
        RequestUpdateCheckStatus: enumOf("throttled", "no_update", "update_available"),
        OnRestartRequiredReason: enumOf("app_update", "os_update", "periodic"),
      };
  // Manifest V3 in Chromium: the context types of runtime.getContexts.
  if (!sim.firefox && sim.manifestVersion >= 3) {
    enums.ContextType = Object.freeze({
      TAB: "TAB",
      POPUP: "POPUP",
      BACKGROUND: "BACKGROUND",
      OFFSCREEN_DOCUMENT: "OFFSCREEN_DOCUMENT",
      SIDE_PANEL: "SIDE_PANEL",
      DEVELOPER_TOOLS: "DEVELOPER_TOOLS",
    });
  }

  // An event that nothing in the simulator fires (its cause, such as a user script, does
  // not exist here): it keeps its listeners as any event does.
  class UnfiredEvent {
    constructor() {
      this._listeners = [];
    }
    addListener(callback) {
      if (typeof callback === "function" && !this.hasListener(callback)) this._listeners.push(callback);
    }
    removeListener(callback) {
      this._listeners = this._listeners.filter((l) => l !== callback);
    }
    hasListener(callback) {
      return this._listeners.includes(callback);
    }
    hasListeners() {
      return this._listeners.length > 0;
    }
  }

  // A version 4 GUID made from `text` (two rounds of FNV-1a over it, 64 bits each).
  function guidOf(text) {
    const half = (seed) => {
      let h = 0xcbf29ce484222325n ^ BigInt(seed);
      for (let i = 0; i < text.length; i++) {
        h ^= BigInt(text.charCodeAt(i));
        h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
      }
      return h.toString(16).padStart(16, "0");
    };
    const hex = (half(1) + half(2)).split("");
    hex[12] = "4";
    hex[16] = "89ab"[parseInt(hex[16], 16) & 3];
    const h = hex.join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const call = (op, options, callback, args = {}) =>
    apiCall(options, callback, (cb, settle) => sim.runtimeCall(op, stringify(args), cb, settle));
  // A call whose answer is nothing: the callback and the promise get `undefined`.
  const nothing = (promise) => promise && promise.then(() => undefined);
  const noArgs = (callback) => (typeof callback === "function" ? () => callback() : callback);

  // `promise`: undefined for chrome.runtime (promises from Manifest V3 on), true for
  // Firefox's browser.runtime.
  const make = (promise) => {
    const form = (signature, required) =>
      promise === undefined ? { signature, required } : { signature, required, promise };
    const members = {
      getPlatformInfo(callback) {
        const signature = "runtime.getPlatformInfo(function callback)";
        if (!sim.firefox) return call("getPlatformInfo", form(signature, true), callback);
        // Firefox does not report nacl_arch.
        const firefox = (info) => {
          if (info !== undefined) delete info.nacl_arch;
          return info;
        };
        if (typeof callback === "function") {
          return call("getPlatformInfo", form(signature, true), (info) => callback(firefox(info)));
        }
        const made = call("getPlatformInfo", form(signature, true), callback);
        return made && made.then(firefox);
      },
      getBrowserInfo(callback) {
        return call("getBrowserInfo", form("runtime.getBrowserInfo(function callback)", true), callback);
      },
      getPackageDirectoryEntry(callback) {
        const signature = "runtime.getPackageDirectoryEntry(function callback)";
        // A DirectoryEntry of the package's file system; reading files through it is not
        // simulated (an extension's files are read with getURL and fetch in a browser).
        const entry = (found) => {
          const notSimulated = () => {
            throw new TypeError("the FileSystem API is not simulated by runtime-sim");
          };
          return Object.freeze({
            isFile: false,
            isDirectory: true,
            name: found.name,
            fullPath: found.fullPath,
            filesystem: Object.freeze({ name: found.name }),
            getFile: notSimulated,
            getDirectory: notSimulated,
            createReader: notSimulated,
            getMetadata: notSimulated,
            getParent: notSimulated,
          });
        };
        if (typeof callback === "function") {
          return call("getPackageDirectoryEntry", form(signature, true), (found) =>
            callback(found === undefined ? undefined : entry(found))
          );
        }
        const made = call("getPackageDirectoryEntry", form(signature, true), callback);
        return made && made.then(entry);
      },
      openOptionsPage(callback) {
        const signature = "runtime.openOptionsPage(optional function callback)";
        return nothing(call("openOptionsPage", form(signature, false), noArgs(callback)));
      },
      setUninstallURL(url, callback) {
        const signature = "runtime.setUninstallURL(string url, optional function callback)";
        if (typeof url !== "string") throw noSignature(signature);
        return nothing(call("setUninstallURL", form(signature, false), noArgs(callback), { url }));
      },
      getVersion() {
        if (arguments.length > 0) throw noSignature("runtime.getVersion()");
        return parse(sim.manifest()).version;
      },
      reload() {
        if (arguments.length > 0) throw noSignature("runtime.reload()");
        sim.reload();
      },
      requestUpdateCheck(callback) {
        const signature = "runtime.requestUpdateCheck(function callback)";
        // The callback form gets (status, {version}); the promise, {status, version}.
        if (typeof callback === "function") {
          return call("requestUpdateCheck", form(signature, true), (result) =>
            result === undefined ? callback() : callback(result.status, { version: result.version })
          );
        }
        return call("requestUpdateCheck", form(signature, true), callback);
      },
      restart() {
        if (arguments.length > 0) throw noSignature("runtime.restart()");
        // No callback to give: a failure is reported as an unchecked runtime.lastError.
        sim.runtimeCall("restart", "{}", () => {});
      },
      restartAfterDelay(seconds, callback) {
        const signature = "runtime.restartAfterDelay(integer seconds, optional function callback)";
        if (!Number.isInteger(seconds) || seconds < -2147483648 || seconds > 2147483647) {
          throw noSignature(signature);
        }
        return nothing(call("restartAfterDelay", form(signature, false), noArgs(callback), { seconds }));
      },
    };
    // Firefox has no package folder entry, no update checks and no kiosk mode (they are
    // "unsupported" in its schema); only Firefox has getBrowserInfo.
    // A Chromium service worker has no getPackageDirectoryEntry either (Chromium 148).
    if (sim.firefox) delete members.getVersion;
    const absent = sim.firefox
      ? ["getPackageDirectoryEntry", "requestUpdateCheck", "restart", "restartAfterDelay"]
      : sim.kind === "worker"
        ? ["getBrowserInfo", "getPackageDirectoryEntry"]
        : ["getBrowserInfo"];
    for (const key of absent) delete members[key];
    return members;
  };

  // The events and enum types: one of each, which Firefox's `browser.runtime` shares (it
  // inherits from chrome.runtime). Firefox has no kiosk events and no native-initiated ports.
  Object.assign(runtime, enums, {
    onUpdateAvailable: new Event("runtime.onUpdateAvailable", plain),
  });
  if (!sim.firefox) {
    Object.assign(runtime, {
      onBrowserUpdateAvailable: new Event("runtime.onBrowserUpdateAvailable", plain),
      onRestartRequired: new Event("runtime.onRestartRequired", plain),
      onConnectNative: new Event("runtime.onConnectNative", sim.api.onConnect),
    });
  }
  if (!sim.firefox && sim.manifestVersion >= 3) {
    // The events of the userScripts API's worlds: the simulator has no user scripts, so
    // they never fire. dynamicId: the extension's GUID, one per install in Chromium; here
    // made from the id, so that runs are alike.
    Object.assign(runtime, {
      onUserScriptMessage: new UnfiredEvent(),
      onUserScriptConnect: new UnfiredEvent(),
      dynamicId: guidOf(sim.id),
    });
  }
  Object.assign(runtime, make(undefined));
  if (sim.api.browser) Object.assign(sim.api.browser.runtime, make(true));
})(globalThis.__runtime_sim);
