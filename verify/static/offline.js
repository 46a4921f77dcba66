/* The offline check of a certificate's QR code, in the browser (no network needed once loaded).
 *
 * The QR code is <site>/c/<number>?t=<token>#<payload>: the fragment never reaches a server. It is a
 * base64url COSE_Sign1 (RFC 9052, ES256) over a CBOR map of what the paper shows (sign/qr_payload.py).
 * This script decodes it with a small strict CBOR reader (only what we emit), checks the site's key
 * list (a JWS the publisher signed with Ed25519) and the COSE signature with the institution's filed
 * P-256 key (WebCrypto), and says what was checked offline and what needs the network. It also
 * registers the service worker (/sw.js) that keeps this page's offline shell for a scan without a
 * network. No external URL, no inline script, nothing written as markup (text nodes only).
 */
(function () {
  "use strict";

  var KEYS_URL = "/api/v1/keys";
  var KEYS_STORE = "skillcert-keys";
  var MAX_FRAGMENT = 2048;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }

  // -- bytes ------------------------------------------------------------------------------------
  function b64urlDecode(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function utf8(bytes) {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  function concat(parts) {
    var n = 0;
    parts.forEach(function (p) { n += p.length; });
    var out = new Uint8Array(n);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  // -- a strict CBOR reader: unsigned and negative integers, byte and text strings, arrays, maps,
  //    tag 18; definite lengths only, no floats or simple values, the whole input consumed --------
  function Tagged(tag, value) { this.tag = tag; this.value = value; }

  function cborDecode(bytes) {
    var pos = 0;
    function byte() {
      if (pos >= bytes.length) throw new Error("CBOR: truncated");
      return bytes[pos++];
    }
    function arg(info) {
      if (info < 24) return info;
      var n = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
      if (!n) throw new Error("CBOR: indefinite or reserved length");
      var v = 0;
      for (var i = 0; i < n; i++) {
        v = v * 256 + byte();
      }
      if (v > Number.MAX_SAFE_INTEGER) throw new Error("CBOR: integer too large");
      return v;
    }
    function take(n) {
      if (pos + n > bytes.length) throw new Error("CBOR: truncated");
      var out = bytes.slice(pos, pos + n);
      pos += n;
      return out;
    }
    function item(depth) {
      if (depth > 8) throw new Error("CBOR: nested too deep");
      var first = byte();
      var major = first >> 5;
      var n = arg(first & 31);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: return take(n);
        case 3: return utf8(take(n));
        case 4: {
          if (n > 64) throw new Error("CBOR: array too long");
          var arr = [];
          for (var i = 0; i < n; i++) arr.push(item(depth + 1));
          return arr;
        }
        case 5: {
          if (n > 64) throw new Error("CBOR: map too long");
          var map = new Map();
          for (var j = 0; j < n; j++) {
            var k = item(depth + 1);
            if (typeof k !== "number" && typeof k !== "string") throw new Error("CBOR: map key");
            if (map.has(k)) throw new Error("CBOR: duplicate key");
            map.set(k, item(depth + 1));
          }
          return map;
        }
        case 6:
          if (n !== 18 || depth !== 0) throw new Error("CBOR: unexpected tag");
          return new Tagged(n, item(depth + 1));
        default:
          throw new Error("CBOR: unsupported type");
      }
    }
    var value = item(0);
    if (pos !== bytes.length) throw new Error("CBOR: trailing bytes");
    return value;
  }

  // -- the CBOR encoder for the Sig_structure ["Signature1", protected, h'', payload] -------------
  function head(major, n) {
    if (n < 24) return new Uint8Array([(major << 5) | n]);
    if (n < 256) return new Uint8Array([(major << 5) | 24, n]);
    if (n < 65536) return new Uint8Array([(major << 5) | 25, n >> 8, n & 255]);
    throw new Error("too long");
  }

  function sigStructure(protectedBytes, payload) {
    var context = new TextEncoder().encode("Signature1");
    return concat([
      new Uint8Array([0x84]),
      head(3, context.length), context,
      head(2, protectedBytes.length), protectedBytes,
      new Uint8Array([0x40]),
      head(2, payload.length), payload,
    ]);
  }

  // -- the COSE_Sign1 and its claims -------------------------------------------------------------
  function readPayload(fragment) {
    if (!fragment || fragment.length > MAX_FRAGMENT) throw new Error("no payload");
    var top = cborDecode(b64urlDecode(fragment));
    var msg = top instanceof Tagged ? top.value : top;
    if (!Array.isArray(msg) || msg.length !== 4) throw new Error("not a COSE_Sign1");
    var prot = msg[0], unprot = msg[1], payload = msg[2], signature = msg[3];
    if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(payload instanceof Uint8Array) ||
        !(signature instanceof Uint8Array)) throw new Error("not a COSE_Sign1");
    var header = cborDecode(prot);
    if (!(header instanceof Map) || header.size !== 1 || header.get(1) !== -7) throw new Error("not ES256");
    var kid = unprot.get(4);
    if (!(kid instanceof Uint8Array)) throw new Error("no key id");
    var m = cborDecode(payload);
    if (!(m instanceof Map) || m.get(0) !== 1) throw new Error("unknown format");
    function text(k) {
      var v = m.get(k);
      if (typeof v !== "string" || v.length > 200) throw new Error("field " + k);
      return v;
    }
    function int(k) {
      var v = m.get(k);
      if (typeof v !== "number") throw new Error("field " + k);
      return v;
    }
    var claims = {
      number: text(1), name: text(2), id_masked: text(3), id_type: text(4), occupation: text(5),
      job: text(6), level: int(7), issue_date: text(8), institution_code: text(9), kind: text(10),
      version: int(11), proof_number: typeof m.get(12) === "string" ? m.get(12) : null,
    };
    return {
      kid: String.fromCharCode.apply(null, kid),
      claims: claims,
      tbs: sigStructure(prot, payload),
      signature: signature,
    };
  }

  // -- the key list --------------------------------------------------------------------------------
  function loadKeyList() {
    return fetch(KEYS_URL, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (text) {
        try { localStorage.setItem(KEYS_STORE, text); } catch (e) { /* private mode: the worker's cache is enough */ }
        return text;
      })
      .catch(function () {
        var kept = null;
        try { kept = localStorage.getItem(KEYS_STORE); } catch (e) { kept = null; }
        if (!kept) throw new Failure("offline_no_keys");
        return kept;
      })
      .then(function (text) { return JSON.parse(text); });
  }

  function checkKeyList(wrapped) {
    var parts = String(wrapped.jws || "").split(".");
    var pub = wrapped.publisher || {};
    if (parts.length !== 3 || pub.kty !== "OKP" || pub.crv !== "Ed25519") {
      return Promise.reject(new Failure("offline_bad_key_list"));
    }
    var header = JSON.parse(utf8(b64urlDecode(parts[0])));
    if (header.alg !== "Ed25519" && header.alg !== "EdDSA") return Promise.reject(new Failure("offline_bad_key_list"));
    return crypto.subtle
      .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: pub.x }, { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        var input = new TextEncoder().encode(parts[0] + "." + parts[1]);
        return crypto.subtle.verify({ name: "Ed25519" }, key, b64urlDecode(parts[2]), input);
      })
      .then(function (ok) {
        if (!ok) throw new Failure("offline_bad_key_list");
        var body = JSON.parse(utf8(b64urlDecode(parts[1])));
        if (body.format !== "skillcert/keys/1" || !Array.isArray(body.keys)) throw new Failure("offline_bad_key_list");
        return body;
      });
  }

  function checkSignature(read, key) {
    return crypto.subtle
      .importKey("jwk", { kty: "EC", crv: "P-256", x: key.x, y: key.y }, { name: "ECDSA", namedCurve: "P-256" },
        false, ["verify"])
      .then(function (pk) {
        return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pk, read.signature, read.tbs);
      });
  }

  function Failure(key, values) { this.key = key; this.values = values || {}; }

  // -- showing it ------------------------------------------------------------------------------
  var W = {};

  function say(key, values) {
    var text = W[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function beijing(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var b = new Date(d.getTime() + 8 * 3600 * 1000).toISOString(); // Beijing keeps no daylight saving time
    return b.slice(0, 10) + " " + b.slice(11, 16) + " " + say("beijing_time");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function claimsTable(c, institutionName) {
    var job = c.job && c.job !== "——" && c.job !== "--" ? " / " + c.job : "";
    var rows = [
      ["number", c.number],
      ["name", c.name],
      ["id_type", (W.id_types && W.id_types[c.id_type] ? W.id_types[c.id_type] + " " : "") + "(" + c.id_type + ")"],
      ["id_number", c.id_masked],
      ["occupation", c.occupation + job],
      ["level", (W.levels && W.levels[String(c.level)]) || String(c.level)],
      ["issue_date", c.issue_date],
      ["institution", (institutionName ? institutionName + " " : "") + "(" + c.institution_code + ")"],
    ];
    if (c.proof_number) rows.push(["offline_proof_number", c.proof_number]);
    if (c.version > 1) rows.push(["offline_version", String(c.version)]);
    return el("table", { class: "record claims" }, [
      el("caption", {}, [say("offline_paper_shows")]),
      el("tbody", {}, rows.map(function (r) {
        return el("tr", {}, [el("th", { scope: "row" }, [say(r[0])]), el("td", {}, [r[1]])]);
      })),
    ]);
  }

  function show(out, state, lines, claims, institutionName) {
    var word = { authentic: "offline_authentic_word", invalid: "offline_not_authentic_word",
                 unknown: "offline_unknown_word" }[state];
    var cls = { authentic: "valid", invalid: "invalid", unknown: "unknown" }[state];
    var attrs = { class: "verdict verdict-" + cls + " offline-verdict", "data-offline": state };
    if (state === "invalid") attrs.role = "alert"; // a forged or altered code: said at once, loudly
    var verdict = el("div", attrs, [
      el("p", { class: "offline-word" }, [say(word)]),
    ]);
    lines.forEach(function (l) { verdict.appendChild(el("p", { class: l[1] || "" }, [l[0]])); });
    out.replaceChildren(verdict);
    if (claims) out.appendChild(claimsTable(claims, institutionName));
  }

  function run(box, out, fragment) {
    var read;
    try {
      read = readPayload(fragment);
    } catch (e) {
      show(out, "invalid", [[say("offline_not_authentic")], [say("offline_unreadable")]]);
      return Promise.resolve();
    }
    var c = read.claims;
    if (!window.crypto || !crypto.subtle) {
      show(out, "unknown", [[say("offline_no_crypto")]]);
      return Promise.resolve();
    }
    return loadKeyList()
      .then(checkKeyList)
      .then(function (list) {
        var key = list.keys.filter(function (k) { return k.kid === read.kid; })[0];
        var name = key && key.institution_name;
        if (!key) throw new Failure("offline_key_unknown", { kid: read.kid });
        if (key.institution_code && key.institution_code !== c.institution_code) {
          throw new Failure("offline_key_foreign", { owner: key.institution_code, inst: c.institution_code });
        }
        var inPath = decodeURIComponent(location.pathname.replace(/^\/c\//, ""));
        if (location.pathname.indexOf("/c/") === 0 && inPath.toUpperCase() !== c.number.toUpperCase()) {
          throw new Failure("offline_number_mismatch");
        }
        return checkSignature(read, key).then(function (ok) {
          if (!ok) throw new Failure("offline_bad_signature");
          var inst = (name ? name + " " : "") + c.institution_code;
          var lines = [
            [say("offline_authentic", { inst: inst })],
            [say("offline_checked")],
            [say("offline_network", { date: beijing(list.issued_at) }), "network"],
          ];
          if (key.institution_status && key.institution_status !== "active") {
            lines.push([say("offline_inst_status", { status: key.institution_status }), "network"]);
          }
          show(out, "authentic", lines, c, name);
        });
      })
      .catch(function (e) {
        if (e instanceof Failure && (e.key === "offline_no_keys" || e.key === "offline_bad_key_list")) {
          show(out, "unknown", [[say(e.key)]]);
        } else if (e instanceof Failure) {
          show(out, "invalid", [[say("offline_not_authentic")], [say("offline_reason") + say("colon") + say(e.key, e.values)]]);
        } else {
          show(out, "invalid", [[say("offline_not_authentic")], [say("offline_bad_signature")]]);
        }
      });
  }

  function start() {
    var box = document.getElementById("offline");
    var out = document.getElementById("offline-out");
    var words = document.getElementById("offline-words");
    var fragment = location.hash.replace(/^#/, "");
    if (!box || !out || !words || !fragment) return;
    try { W = JSON.parse(words.textContent || "{}"); } catch (e) { W = {}; }
    box.hidden = false;
    box.setAttribute("aria-busy", "true");
    run(box, out, fragment).then(function () {
      box.setAttribute("aria-busy", "false");
      box.setAttribute("data-done", "1");
    });
  }

  window.addEventListener("hashchange", start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
