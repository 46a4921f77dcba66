/* The service worker of the offline QR check (served at /sw.js, scope /).
 *
 * On install it keeps the offline shell (/offline), its script, the style sheet and the signed key
 * list. The key list and the shell's files are fetched from the network first and kept fresh, the
 * cache only answering when the network does not; a navigation to a QR landing page (/c/...) goes to
 * the network, and without one gets the shell, whose script checks the code's signed fragment. Only
 * this site's own URLs are ever fetched or kept.
 */
"use strict";

var CACHE = "skillcert-offline-1";
var SHELL = "/offline";
var KEYS = "/api/v1/keys";
var FILES = [SHELL, "/static/offline.js", "/static/site.css"];
var KEPT = FILES.concat([KEYS]);

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        // a snapshot without a key list still gets the shell (it then says that no key list is at hand)
        return cache.addAll(FILES).then(function () { return cache.add(KEYS).catch(function () {}); });
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function networkFirst(request, key) {
  return fetch(request)
    .then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { return cache.put(key, copy); });
      }
      return response;
    })
    .catch(function () {
      return caches.match(key).then(function (kept) {
        if (kept) return kept;
        throw new Error("offline and not kept: " + key);
      });
    });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return;
  if (request.mode === "navigate" && url.pathname.indexOf("/c/") === 0) {
    event.respondWith(
      fetch(request).catch(function () {
        return caches.match(SHELL).then(function (kept) { return kept || Response.error(); });
      })
    );
    return;
  }
  if (KEPT.indexOf(url.pathname) >= 0 && !url.search) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
