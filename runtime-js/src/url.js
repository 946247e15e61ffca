// URL and URLSearchParams (WHATWG URL, the common cases), as globals of every context.
// Written for runtime-sim from the URL Standard's algorithms; errors carry Chromium's words.
// Extension schemes (chrome-extension:, moz-extension:) are standard schemes, as the browsers
// register them: a host, dot segments resolved, an origin of their own, no default port.
(function (global) {
  "use strict";

  const SPECIAL = { "ftp:": 21, "file:": null, "http:": 80, "https:": 443, "ws:": 80, "wss:": 443 };
  const EXTENSION = { "chrome-extension:": true, "moz-extension:": true };
  const isSpecial = (scheme) => Object.prototype.hasOwnProperty.call(SPECIAL, scheme);
  // Special, or one of the extension schemes that the browsers treat alike.
  const isStandard = (scheme) => isSpecial(scheme) || EXTENSION[scheme] === true;
  const defaultPort = (scheme) => (isSpecial(scheme) ? SPECIAL[scheme] : null);

  // --- UTF-8 and percent-encoding -------------------------------------------------------
  // A string as scalar values (a lone surrogate becomes U+FFFD, as USVString has it).
  const scalars = (text) => {
    let out = "";
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          out += text[i] + text[i + 1];
          i++;
          continue;
        }
      }
      out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : text[i];
    }
    return out;
  };
  const utf8 = (codePoint) => {
    if (codePoint < 0x80) return [codePoint];
    if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 63)];
    if (codePoint < 0x10000) {
      return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63)];
    }
    return [
      0xf0 | (codePoint >> 18),
      0x80 | ((codePoint >> 12) & 63),
      0x80 | ((codePoint >> 6) & 63),
      0x80 | (codePoint & 63),
    ];
  };
  const hex = (byte) => "%" + (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
  // Percent-encodes the code points of `text` that `inSet` says to, as UTF-8 bytes.
  const encode = (text, inSet, spaceAsPlus) => {
    let out = "";
    for (const ch of scalars(text)) {
      const c = ch.codePointAt(0);
      if (spaceAsPlus && c === 0x20) out += "+";
      else if (inSet(c)) out += utf8(c).map(hex).join("");
      else out += ch;
    }
    return out;
  };
  const c0Control = (c) => c < 0x20 || c > 0x7e;
  const fragmentSet = (c) => c0Control(c) || c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
  const querySet = (c) => c0Control(c) || c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
  const specialQuerySet = (c) => querySet(c) || c === 0x27;
  const pathSet = (c) => querySet(c) || c === 0x3f || c === 0x60 || c === 0x7b || c === 0x7d;
  const userinfoSet = (c) =>
    pathSet(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 ||
    (c >= 0x5b && c <= 0x5e) || c === 0x7c;
  const formSet = (c) =>
    !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c === 0x2a || c === 0x2d || c === 0x2e || c === 0x5f);

  // Percent-decodes `text` into bytes, then reads them as UTF-8 (bad sequences as U+FFFD).
  const isHex = (c) => /^[0-9A-Fa-f]$/.test(c);
  const percentDecode = (text) => {
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "%" && isHex(text[i + 1] || "") && isHex(text[i + 2] || "")) {
        bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...utf8(text.codePointAt(i)));
        if (text.codePointAt(i) > 0xffff) i++;
      }
    }
    return decodeUtf8(bytes);
  };
  const decodeUtf8 = (bytes) => {
    let out = "";
    for (let i = 0; i < bytes.length; ) {
      const b = bytes[i];
      let need = 0;
      let c = b;
      if (b < 0x80) need = 0;
      else if (b >= 0xc2 && b <= 0xdf) [need, c] = [1, b & 0x1f];
      else if (b >= 0xe0 && b <= 0xef) [need, c] = [2, b & 0x0f];
      else if (b >= 0xf0 && b <= 0xf4) [need, c] = [3, b & 0x07];
      else {
        out += "\ufffd";
        i++;
        continue;
      }
      let k = 1;
      for (; k <= need; k++) {
        const next = bytes[i + k];
        if (next === undefined || (next & 0xc0) !== 0x80) break;
        c = (c << 6) | (next & 63);
      }
      const overlong = (need === 2 && c < 0x800) || (need === 3 && c < 0x10000);
      if (k <= need || overlong || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
        out += "\ufffd";
        i += Math.max(1, k <= need ? k : need + 1);
        continue;
      }
      out += String.fromCodePoint(c);
      i += need + 1;
    }
    return out;
  };

  // --- Hosts ---------------------------------------------------------------------------
  const FAILURE = null;
  // Punycode (RFC 3492) of one label that has non-ASCII code points.
  const punycode = (label) => {
    const base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700;
    const input = Array.from(label, (ch) => ch.codePointAt(0));
    const digit = (d) => String.fromCharCode(d < 26 ? d + 97 : d + 22);
    const adapt = (delta, points, first) => {
      delta = first ? Math.floor(delta / damp) : delta >> 1;
      delta += Math.floor(delta / points);
      let k = 0;
      while (delta > ((base - tMin) * tMax) >> 1) {
        delta = Math.floor(delta / (base - tMin));
        k += base;
      }
      return k + Math.floor(((base - tMin + 1) * delta) / (delta + skew));
    };
    let out = input.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join("");
    const basic = out.length;
    let handled = basic;
    if (basic > 0) out += "-";
    let n = 128, delta = 0, bias = 72;
    while (handled < input.length) {
      const m = Math.min(...input.filter((c) => c >= n));
      delta += (m - n) * (handled + 1);
      n = m;
      for (const c of input) {
        if (c < n) delta++;
        if (c === n) {
          let q = delta;
          for (let k = base; ; k += base) {
            const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
            if (q < t) break;
            out += digit(t + ((q - t) % (base - t)));
            q = Math.floor((q - t) / (base - t));
          }
          out += digit(q);
          bias = adapt(delta, handled + 1, handled === basic);
          delta = 0;
          handled++;
        }
      }
      delta++;
      n++;
    }
    return "xn--" + out;
  };
  const forbiddenHost = (c) =>
    c === 0 || c === 9 || c === 10 || c === 13 || c === 0x20 || c === 0x23 || c === 0x2f ||
    c === 0x3a || c === 0x3c || c === 0x3e || c === 0x3f || c === 0x40 || c === 0x5b ||
    c === 0x5c || c === 0x5d || c === 0x5e || c === 0x7c;
  const forbiddenDomain = (c) => forbiddenHost(c) || c <= 0x1f || c === 0x25 || c === 0x7f;

  // An IPv4 part: decimal, 0x hexadecimal or 0 octal; null if it is not a number.
  const ipv4Number = (part) => {
    if (part === "") return null;
    let radix = 10;
    if (/^0[xX]/.test(part)) {
      part = part.slice(2);
      radix = 16;
    } else if (part.length > 1 && part[0] === "0") {
      part = part.slice(1);
      radix = 8;
    }
    if (part === "") return 0;
    const valid = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
    if (!valid.test(part)) return null;
    return parseInt(part, radix);
  };
  const endsInNumber = (host) => {
    const parts = host.split(".");
    if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
    const last = parts[parts.length - 1];
    if (/^[0-9]+$/.test(last)) return true;
    return ipv4Number(last) !== null;
  };
  const parseIPv4 = (host) => {
    const parts = host.split(".");
    if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
    if (parts.length > 4) return FAILURE;
    const numbers = [];
    for (const part of parts) {
      const n = ipv4Number(part);
      if (n === null) return FAILURE;
      numbers.push(n);
    }
    const last = numbers.pop();
    if (numbers.some((n) => n > 255)) return FAILURE;
    if (last >= Math.pow(256, 4 - numbers.length)) return FAILURE;
    let address = last;
    numbers.forEach((n, i) => (address += n * Math.pow(256, 3 - i)));
    const bytes = [];
    for (let i = 0; i < 4; i++) {
      bytes.unshift(address % 256);
      address = Math.floor(address / 256);
    }
    return bytes.join(".");
  };
  // An IPv6 address between brackets, serialized (lowercase, longest zero run compressed).
  const parseIPv6 = (input) => {
    const pieces = [0, 0, 0, 0, 0, 0, 0, 0];
    let index = 0;
    let compress = null;
    let i = 0;
    const at = () => input[i];
    if (at() === ":") {
      if (input[i + 1] !== ":") return FAILURE;
      i += 2;
      compress = ++index;
    }
    while (i < input.length) {
      if (index === 8) return FAILURE;
      if (at() === ":") {
        if (compress !== null) return FAILURE;
        i++;
        compress = ++index;
        continue;
      }
      let value = 0;
      let length = 0;
      while (length < 4 && i < input.length && isHex(at())) {
        value = value * 16 + parseInt(at(), 16);
        i++;
        length++;
      }
      if (at() === ".") {
        if (length === 0 || index > 6) return FAILURE;
        i -= length;
        const v4 = parseIPv4Strict(input.slice(i));
        if (v4 === FAILURE) return FAILURE;
        pieces[index++] = v4[0] * 256 + v4[1];
        pieces[index++] = v4[2] * 256 + v4[3];
        i = input.length;
        break;
      }
      if (at() === ":") {
        i++;
        if (i >= input.length) return FAILURE;
      } else if (i < input.length) {
        return FAILURE;
      }
      pieces[index++] = value;
    }
    if (compress !== null) {
      let swaps = index - compress;
      index = 7;
      while (index !== 0 && swaps > 0) {
        const from = compress + swaps - 1;
        [pieces[index], pieces[from]] = [pieces[from], pieces[index]];
        index--;
        swaps--;
      }
    } else if (index !== 8) {
      return FAILURE;
    }
    // The longest run of two or more zero pieces is written as "::".
    let best = -1, bestLength = 1;
    for (let s = 0; s < 8; ) {
      if (pieces[s] !== 0) {
        s++;
        continue;
      }
      let e = s;
      while (e < 8 && pieces[e] === 0) e++;
      if (e - s > bestLength) [best, bestLength] = [s, e - s];
      s = e;
    }
    let out = "";
    for (let s = 0; s < 8; s++) {
      if (s === best) {
        out += s === 0 ? "::" : ":";
        s += bestLength - 1;
        continue;
      }
      out += pieces[s].toString(16) + (s < 7 ? ":" : "");
    }
    return "[" + out + "]";
  };
  const parseIPv4Strict = (text) => {
    const parts = text.split(".");
    if (parts.length !== 4) return FAILURE;
    const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : 256));
    return bytes.some((b) => b > 255) ? FAILURE : bytes;
  };
  const parseHost = (input, standard) => {
    if (input.startsWith("[")) {
      if (!input.endsWith("]")) return FAILURE;
      return parseIPv6(input.slice(1, -1));
    }
    if (!standard) {
      for (const ch of input) if (forbiddenHost(ch.codePointAt(0))) return FAILURE;
      return encode(input, c0Control);
    }
    const domain = percentDecode(input);
    const labels = domain.toLowerCase().split(/[.\u3002\uff0e\uff61]/);
    const ascii = labels
      .map((label) => (/^[\x00-\x7f]*$/.test(label) ? label : punycode(label.normalize("NFC"))))
      .join(".");
    if (ascii === "") return FAILURE;
    for (let i = 0; i < ascii.length; i++) if (forbiddenDomain(ascii.charCodeAt(i))) return FAILURE;
    return endsInNumber(ascii) ? parseIPv4(ascii) : ascii;
  };

  // --- Parsing -------------------------------------------------------------------------
  // A URL record: {scheme, username, password, host (null: none), port (null: default),
  // path (an array of segments, or a string for an opaque path), query, fragment}.
  const singleDot = (s) => s === "." || s.toLowerCase() === "%2e";
  const doubleDot = (s) => [".."].concat([".%2e", "%2e.", "%2e%2e"]).includes(s.toLowerCase());
  const isDriveLetter = (s) => /^[A-Za-z][:|]$/.test(s);
  // Appends the segments of `input` (already split off its query and fragment) to `path`.
  const parsePath = (path, input, url) => {
    const standard = isStandard(url.scheme);
    const segments = input.split(standard ? /[/\\]/ : /\//);
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      if (doubleDot(segment)) {
        if (path.length > 0 && !(url.scheme === "file:" && path.length === 1 && isDriveLetter(path[0]))) {
          path.pop();
        }
        if (last) path.push("");
      } else if (singleDot(segment)) {
        if (last) path.push("");
      } else {
        path.push(encode(segment, pathSet));
      }
    });
    return path;
  };
  // Splits `rest` into [before, query or null, fragment or null].
  const splitTail = (rest) => {
    let fragment = null;
    const hash = rest.indexOf("#");
    if (hash >= 0) {
      fragment = rest.slice(hash + 1);
      rest = rest.slice(0, hash);
    }
    let query = null;
    const question = rest.indexOf("?");
    if (question >= 0) {
      query = rest.slice(question + 1);
      rest = rest.slice(0, question);
    }
    return [rest, query, fragment];
  };
  const setTail = (url, query, fragment) => {
    url.query = query === null ? null : encode(query, isSpecial(url.scheme) ? specialQuerySet : querySet);
    url.fragment = fragment === null ? null : encode(fragment, fragmentSet);
  };
  // The authority (`[user[:password]@]host[:port]`) into `url`; false on failure.
  const parseAuthority = (url, authority) => {
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      authority = authority.slice(at + 1);
      const colon = userinfo.indexOf(":");
      url.username = encode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, userinfoSet);
      url.password = colon >= 0 ? encode(userinfo.slice(colon + 1), userinfoSet) : "";
      if (authority === "") return false;
    }
    let hostText = authority;
    let portText = null;
    const close = authority.lastIndexOf("]");
    const colon = authority.indexOf(":", close >= 0 ? close : 0);
    if (colon >= 0) {
      hostText = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    }
    const standard = isStandard(url.scheme);
    if (hostText === "") {
      if (standard && url.scheme !== "file:") return false;
      if (portText !== null || url.username !== "" || url.password !== "") {
        if (url.scheme === "file:") return false;
      }
      url.host = "";
    } else {
      const host = parseHost(hostText, standard);
      if (host === FAILURE) return false;
      url.host = url.scheme === "file:" && host === "localhost" ? "" : host;
    }
    if (portText !== null && portText !== "") {
      if (!/^[0-9]+$/.test(portText) || url.scheme === "file:") return false;
      const port = Number(portText);
      if (port > 65535) return false;
      url.port = port === defaultPort(url.scheme) ? null : port;
    }
    return true;
  };
  const blank = (scheme) => ({
    scheme, username: "", password: "", host: null, port: null, path: [], query: null, fragment: null,
  });
  const copy = (url) => Object.assign({}, url, { path: Array.isArray(url.path) ? url.path.slice() : url.path });

  // The URL record of `input` against `base` (a record or null); FAILURE if it has none.
  const parse = (input, base) => {
    input = String(input).replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "").replace(/[\t\n\r]/g, "");
    const schemeMatch = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(input);
    if (schemeMatch) {
      const scheme = schemeMatch[1].toLowerCase() + ":";
      const rest = input.slice(schemeMatch[0].length);
      const standard = isStandard(scheme);
      // "http:foo" against an http: base is relative to it.
      if (standard && scheme !== "file:" && base && base.scheme === scheme && !/^[/\\]/.test(rest)) {
        return relative(rest, base);
      }
      const url = blank(scheme);
      if (scheme === "file:") return parseFile(url, rest, base);
      if (standard) {
        const afterSlashes = rest.replace(/^[/\\]*/, "");
        return withAuthority(url, afterSlashes);
      }
      if (rest.startsWith("//")) return withAuthority(url, rest.slice(2));
      const [before, query, fragment] = splitTail(rest);
      if (before.startsWith("/")) {
        url.path = parsePath([], before.slice(1), url);
      } else {
        url.path = encode(before, c0Control);
      }
      setTail(url, query, fragment);
      return url;
    }
    if (!base) return FAILURE;
    return relative(input, base);
  };
  // `rest` is what follows "scheme://": the authority, then the path and the rest.
  const withAuthority = (url, rest) => {
    const standard = isStandard(url.scheme);
    const end = rest.search(standard ? /[/\\?#]/ : /[/?#]/);
    const authority = end < 0 ? rest : rest.slice(0, end);
    if (!parseAuthority(url, authority)) return FAILURE;
    const [before, query, fragment] = splitTail(end < 0 ? "" : rest.slice(end));
    url.path = before === "" ? (standard ? [""] : []) : parsePath([], before.slice(1), url);
    setTail(url, query, fragment);
    return url;
  };
  const parseFile = (url, rest, base) => {
    if (/^[/\\]{2}/.test(rest)) return withAuthority(url, rest.slice(2));
    const baseFile = base && base.scheme === "file:" ? base : null;
    const [before, query, fragment] = splitTail(rest);
    if (/^[/\\]/.test(before)) {
      url.host = baseFile ? baseFile.host : "";
      url.path = parsePath([], before.slice(1), url);
    } else if (baseFile) {
      url.host = baseFile.host;
      if (before === "") {
        url.path = baseFile.path.slice();
        setTail(url, query === null ? baseFile.query : query, fragment);
        return url;
      }
      url.path = parsePath(baseFile.path.slice(0, -1), before, url);
    } else {
      url.host = "";
      url.path = parsePath([], before, url);
    }
    setTail(url, query, fragment);
    return url;
  };
  const relative = (input, base) => {
    if (typeof base.path === "string") {
      if (!input.startsWith("#")) return FAILURE;
      const url = copy(base);
      setTail(url, null, input.slice(1));
      url.query = base.query;
      return url;
    }
    const standard = isStandard(base.scheme);
    if (base.scheme === "file:") return parseFile(blank("file:"), input, base);
    const url = blank(base.scheme);
    const slashes = standard ? /^[/\\]{2}/ : /^\/\//;
    if (slashes.test(input)) return withAuthority(url, input.slice(2));
    url.username = base.username;
    url.password = base.password;
    url.host = base.host;
    url.port = base.port;
    const [before, query, fragment] = splitTail(input);
    if ((standard ? /^[/\\]/ : /^\//).test(before)) {
      url.path = parsePath([], before.slice(1), url);
    } else if (before === "") {
      url.path = base.path.slice();
      setTail(url, query === null ? null : query, fragment);
      if (query === null) url.query = base.query;
      return url;
    } else {
      url.path = parsePath(base.path.slice(0, -1), before, url);
    }
    setTail(url, query, fragment);
    return url;
  };

  // --- Serializing ---------------------------------------------------------------------
  const pathname = (url) => {
    if (typeof url.path === "string") return url.path;
    if (url.path.length === 0) return isStandard(url.scheme) ? "/" : "";
    return "/" + url.path.join("/");
  };
  const hostPort = (url) => (url.host === null ? "" : url.host + (url.port === null ? "" : ":" + url.port));
  const serialize = (url, withoutFragment) => {
    let out = url.scheme;
    if (url.host !== null) {
      out += "//";
      if (url.username !== "" || url.password !== "") {
        out += url.username + (url.password !== "" ? ":" + url.password : "") + "@";
      }
      out += hostPort(url);
    } else if (Array.isArray(url.path) && url.path.length > 1 && url.path[0] === "") {
      out += "/.";
    }
    out += pathname(url);
    if (url.query !== null) out += "?" + url.query;
    if (!withoutFragment && url.fragment !== null) out += "#" + url.fragment;
    return out;
  };
  const origin = (url) => {
    if (url.scheme === "blob:") {
      const inner = parse(pathname(url), null);
      return inner && (inner.scheme === "http:" || inner.scheme === "https:") ? origin(inner) : "null";
    }
    if (url.scheme === "file:" || !isStandard(url.scheme)) return "null";
    return url.scheme + "//" + hostPort(url);
  };

  // --- application/x-www-form-urlencoded ------------------------------------------------
  const formParse = (text) => {
    const list = [];
    for (const piece of text.split("&")) {
      if (piece === "") continue;
      const eq = piece.indexOf("=");
      const name = eq >= 0 ? piece.slice(0, eq) : piece;
      const value = eq >= 0 ? piece.slice(eq + 1) : "";
      list.push([percentDecode(name.replace(/\+/g, " ")), percentDecode(value.replace(/\+/g, " "))]);
    }
    return list;
  };
  const formSerialize = (list) =>
    list.map(([name, value]) => encode(name, formSet, true) + "=" + encode(value, formSet, true)).join("&");

  // --- URLSearchParams -----------------------------------------------------------------
  const paramsList = new WeakMap();
  const paramsOwner = new WeakMap();
  const listOf = (params) => {
    const list = paramsList.get(params);
    if (list === undefined) throw new TypeError("Illegal invocation");
    return list;
  };
  // After a change, the URL the params belong to gets the new query.
  const update = (params) => {
    const owner = paramsOwner.get(params);
    if (owner === undefined) return;
    const text = formSerialize(listOf(params));
    owner.record.query = text === "" ? null : text;
  };
  const needs = (args, count, what) => {
    if (args.length < count) {
      throw new TypeError(
        `Failed to execute '${what}' on 'URLSearchParams': ${count} argument${count > 1 ? "s" : ""} required, but only ${args.length} present.`
      );
    }
  };
  class URLSearchParams {
    constructor(init = "") {
      let list;
      if (init instanceof URLSearchParams) {
        list = listOf(init).map(([n, v]) => [n, v]);
      } else if (init !== null && (typeof init === "object" || typeof init === "function")) {
        const iterator = init[Symbol.iterator];
        if (iterator !== undefined && iterator !== null) {
          if (typeof iterator !== "function") {
            throw new TypeError("Failed to construct 'URLSearchParams': The provided value cannot be converted to a sequence.");
          }
          list = [];
          for (const pair of init) {
            if (pair === null || (typeof pair !== "object" && typeof pair !== "function") ||
                typeof pair[Symbol.iterator] !== "function") {
              throw new TypeError("Failed to construct 'URLSearchParams': The provided value cannot be converted to a sequence.");
            }
            const items = Array.from(pair);
            if (items.length !== 2) {
              throw new TypeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements");
            }
            list.push([scalars(String(items[0])), scalars(String(items[1]))]);
          }
        } else {
          list = Object.keys(init).map((key) => [scalars(key), scalars(String(init[key]))]);
        }
      } else {
        const text = scalars(String(init));
        list = formParse(text.startsWith("?") ? text.slice(1) : text);
      }
      paramsList.set(this, list);
    }
    get size() {
      return listOf(this).length;
    }
    append(...args) {
      needs(args, 2, "append");
      listOf(this).push([scalars(String(args[0])), scalars(String(args[1]))]);
      update(this);
    }
    delete(...args) {
      needs(args, 1, "delete");
      const name = scalars(String(args[0]));
      const value = args[1] === undefined ? undefined : scalars(String(args[1]));
      const list = listOf(this);
      const kept = list.filter(([n, v]) => !(n === name && (value === undefined || v === value)));
      list.splice(0, list.length, ...kept);
      update(this);
    }
    get(...args) {
      needs(args, 1, "get");
      const name = scalars(String(args[0]));
      const found = listOf(this).find(([n]) => n === name);
      return found === undefined ? null : found[1];
    }
    getAll(...args) {
      needs(args, 1, "getAll");
      const name = scalars(String(args[0]));
      return listOf(this).filter(([n]) => n === name).map(([, v]) => v);
    }
    has(...args) {
      needs(args, 1, "has");
      const name = scalars(String(args[0]));
      const value = args[1] === undefined ? undefined : scalars(String(args[1]));
      return listOf(this).some(([n, v]) => n === name && (value === undefined || v === value));
    }
    set(...args) {
      needs(args, 2, "set");
      const name = scalars(String(args[0]));
      const value = scalars(String(args[1]));
      const list = listOf(this);
      const first = list.findIndex(([n]) => n === name);
      if (first < 0) {
        list.push([name, value]);
      } else {
        list[first][1] = value;
        const kept = list.filter(([n], i) => i <= first || n !== name);
        list.splice(0, list.length, ...kept);
      }
      update(this);
    }
    sort() {
      // A stable sort by the names' UTF-16 code units.
      listOf(this).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      update(this);
    }
    forEach(callback, thisArg = undefined) {
      if (typeof callback !== "function") {
        throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': The callback provided as parameter 1 is not a function.");
      }
      const list = listOf(this);
      for (let i = 0; i < list.length; i++) callback.call(thisArg, list[i][1], list[i][0], this);
    }
    *entries() {
      const list = listOf(this);
      for (let i = 0; i < list.length; i++) yield [list[i][0], list[i][1]];
    }
    *keys() {
      const list = listOf(this);
      for (let i = 0; i < list.length; i++) yield list[i][0];
    }
    *values() {
      const list = listOf(this);
      for (let i = 0; i < list.length; i++) yield list[i][1];
    }
    toString() {
      return formSerialize(listOf(this));
    }
  }
  URLSearchParams.prototype[Symbol.iterator] = URLSearchParams.prototype.entries;
  Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { value: "URLSearchParams", configurable: true });

  // --- URL -----------------------------------------------------------------------------
  const records = new WeakMap();
  const recordOf = (url) => {
    const state = records.get(url);
    if (state === undefined) throw new TypeError("Illegal invocation");
    return state;
  };
  const parseWithBase = (url, base) => {
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = parse(scalars(String(base)), null);
      if (baseRecord === FAILURE) return [FAILURE, "Invalid base URL"];
    }
    const record = parse(scalars(String(url)), baseRecord);
    return record === FAILURE ? [FAILURE, "Invalid URL"] : [record, null];
  };
  // The query changed under the URL: its searchParams are read again.
  const refreshParams = (state) => {
    if (state.params !== null) {
      const list = listOf(state.params);
      list.splice(0, list.length, ...formParse(state.record.query || ""));
    }
  };

  const cannotHaveCredentials = (record) => record.host === null || record.host === "" || record.scheme === "file:";

  class URL {
    constructor(...args) {
      if (args.length < 1) {
        throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
      }
      const [record, error] = parseWithBase(args[0], args[1]);
      if (record === FAILURE) throw new TypeError(`Failed to construct 'URL': ${error}`);
      records.set(this, { record, params: null });
    }
    static canParse(url, base = undefined) {
      return parseWithBase(url, base)[0] !== FAILURE;
    }
    static parse(url, base = undefined) {
      return URL.canParse(url, base) ? new URL(url, base) : null;
    }
    get href() {
      return serialize(recordOf(this).record);
    }
    get origin() {
      return origin(recordOf(this).record);
    }
    get protocol() {
      return recordOf(this).record.scheme;
    }
    get username() {
      return recordOf(this).record.username;
    }
    get password() {
      return recordOf(this).record.password;
    }
    get host() {
      return hostPort(recordOf(this).record);
    }
    get hostname() {
      const { host } = recordOf(this).record;
      return host === null ? "" : host;
    }
    get port() {
      const { port } = recordOf(this).record;
      return port === null ? "" : String(port);
    }
    get pathname() {
      return pathname(recordOf(this).record);
    }
    get search() {
      const { query } = recordOf(this).record;
      return query === null || query === "" ? "" : "?" + query;
    }
    get hash() {
      const { fragment } = recordOf(this).record;
      return fragment === null || fragment === "" ? "" : "#" + fragment;
    }
    get searchParams() {
      const state = recordOf(this);
      if (state.params === null) {
        state.params = new URLSearchParams(state.record.query || "");
        paramsOwner.set(state.params, state);
      }
      return state.params;
    }
    toString() {
      return this.href;
    }
    toJSON() {
      return this.href;
    }
  }
  // An accessor of URL.prototype: the class's getter, and `set` for its setter.
  const setter = (name, set) => ({
    get: Object.getOwnPropertyDescriptor(URL.prototype, name).get,
    set(value) {
      set(recordOf(this), scalars(String(value)));
    },
    enumerable: true,
    configurable: true,
  });
  Object.defineProperties(URL.prototype, {
    href: setter("href", (state, value) => {
      const record = parse(value, null);
      if (record === FAILURE) throw new TypeError("Failed to set the 'href' property on 'URL': Invalid URL");
      state.record = record;
      refreshParams(state);
    }),
    protocol: setter("protocol", (state, value) => {
      const match = /^([A-Za-z][A-Za-z0-9+\-.]*)(:|$)/.exec(value);
      if (!match) return;
      const scheme = match[1].toLowerCase() + ":";
      const record = state.record;
      if (isSpecial(scheme) !== isSpecial(record.scheme)) return;
      if (scheme === "file:" && (record.username !== "" || record.password !== "" || record.port !== null)) return;
      if (record.scheme === "file:" && record.host === "") return;
      record.scheme = scheme;
      if (record.port === defaultPort(scheme)) record.port = null;
    }),
    username: setter("username", (state, value) => {
      if (!cannotHaveCredentials(state.record)) state.record.username = encode(value, userinfoSet);
    }),
    password: setter("password", (state, value) => {
      if (!cannotHaveCredentials(state.record)) state.record.password = encode(value, userinfoSet);
    }),
    host: setter("host", (state, value) => {
      const record = state.record;
      if (typeof record.path === "string") return;
      const trial = copy(record);
      const end = value.search(isStandard(record.scheme) ? /[/\\?#]/ : /[/?#]/);
      const authority = end < 0 ? value : value.slice(0, end);
      trial.username = record.username;
      trial.password = record.password;
      const keepPort = !/:/.test(authority.replace(/\[.*\]/, ""));
      const wanted = authority.replace(/^.*@/, "");
      if (wanted === "" && isStandard(record.scheme)) return;
      if (!parseAuthority(trial, wanted)) return;
      record.host = trial.host;
      if (!keepPort) record.port = trial.port;
    }),
    hostname: setter("hostname", (state, value) => {
      const record = state.record;
      if (typeof record.path === "string") return;
      const end = value.search(isStandard(record.scheme) ? /[/\\?#:]/ : /[/?#:]/);
      const text = end < 0 ? value : value.slice(0, end);
      if (text === "" && isStandard(record.scheme)) return;
      const host = text === "" ? "" : parseHost(text, isStandard(record.scheme));
      if (host !== FAILURE) record.host = host;
    }),
    port: setter("port", (state, value) => {
      const record = state.record;
      if (cannotHaveCredentials(record)) return;
      if (value === "") {
        record.port = null;
        return;
      }
      const digits = /^[0-9]+/.exec(value);
      if (!digits) return;
      const port = Number(digits[0]);
      if (port > 65535) return;
      record.port = port === defaultPort(record.scheme) ? null : port;
    }),
    pathname: setter("pathname", (state, value) => {
      const record = state.record;
      if (typeof record.path === "string") return;
      const standard = isStandard(record.scheme);
      const text = (standard ? /^[/\\]/ : /^\//).test(value) ? value.slice(1) : value;
      record.path = value === "" && !standard ? [] : parsePath([], text, record);
    }),
    search: setter("search", (state, value) => {
      const record = state.record;
      if (value === "") {
        record.query = null;
      } else {
        const text = value.startsWith("?") ? value.slice(1) : value;
        record.query = encode(text, isSpecial(record.scheme) ? specialQuerySet : querySet);
      }
      refreshParams(state);
    }),
    hash: setter("hash", (state, value) => {
      const record = state.record;
      if (value === "") {
        record.fragment = null;
        return;
      }
      record.fragment = encode(value.startsWith("#") ? value.slice(1) : value, fragmentSet);
    }),
  });
  Object.defineProperty(URL.prototype, Symbol.toStringTag, { value: "URL", configurable: true });

  for (const [name, value] of [["URL", URL], ["URLSearchParams", URLSearchParams]]) {
    Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false });
  }
})(globalThis);
