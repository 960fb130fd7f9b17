// Web verifier: reads the document and its receipt in the page, asks the
// consortium's public endpoints for the live status (unless offline) and
// passes everything to the verification core (verifier.wasm.gz), which
// gives the verdict. Nothing the user chooses is uploaded. A verification
// code (typed, or in the page's #code= fragment from a QR code) is read by
// the core, which derives the key the nodes are asked for: the code itself
// never leaves the page.
(function () {
  "use strict";

  var LANGS = ["es", "en", "ca", "gl", "eu"];
  var NODE_TIMEOUT_MS = 5000;
  var MAX_BODY = 1 << 20; // bytes read of one node's answer
  var MAX_RECEIPT = 16 << 20; // as the core's bound on a receipt file

  var state = {
    lang: "es",
    msgs: {},
    ready: false,
    trustBytes: null,
    trust: null,
    docFile: null,
    receiptBytes: null,
    receiptName: "",
    receiptSize: 0,
    receiptInfo: null,
    codeDocFile: null,
    downloadURL: "",
    last: null, // the inputs of the last verification, to redo it in another language
    busy: false
  };
  // Figures the browser tests read.
  var timing = { loadMs: 0, verifyMs: 0, hashMs: 0, liveMs: 0 };
  window.notaryTiming = timing;

  function $(id) { return document.getElementById(id); }

  function fill(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) {
      return vars && Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m;
    });
  }

  // t gives the catalogue's string for key in the page's language; the
  // Spanish text of the HTML stands in until the core is loaded.
  // Until the core is loaded the catalogue is not there: the HTML's Spanish
  // text is the fallback, and these two for failing to load.
  var fallback = {
    err_core: "No se pudo cargar el verificador en este navegador.",
    err_trust: "No se pudo cargar el paquete de confianza (trust.json) de esta página."
  };
  function t(key, vars) {
    var s = state.msgs[key];
    if (typeof s !== "string") { s = fallback[key]; }
    if (typeof s !== "string") { s = key; }
    return fill(s, vars);
  }

  function parseMaybeJSON(v) {
    if (typeof v === "string") { return JSON.parse(v); }
    return v;
  }

  function formatSize(n) {
    if (n < 1024) { return n + " B"; }
    if (n < 1024 * 1024) { return (n / 1024).toFixed(1) + " KB"; }
    if (n < 1024 * 1024 * 1024) { return (n / 1048576).toFixed(1) + " MB"; }
    return (n / 1073741824).toFixed(2) + " GB";
  }

  function hex(buf) {
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) { s += (b[i] < 16 ? "0" : "") + b[i].toString(16); }
    return s;
  }

  function setText(el, s) { el.textContent = s; }

  function showError(el, msg) {
    if (msg) { el.textContent = msg; el.hidden = false; } else { el.textContent = ""; el.hidden = true; }
  }

  // ---- language ----------------------------------------------------------

  function chooseLang() {
    var q = new URLSearchParams(window.location.search).get("lang");
    if (q && LANGS.indexOf(q) >= 0) { return q; }
    try {
      var s = window.localStorage.getItem("notary-lang");
      if (s && LANGS.indexOf(s) >= 0) { return s; }
    } catch (e) { /* storage may be off: Spanish */ }
    return "es";
  }

  function applyLang() {
    document.documentElement.lang = state.lang;
    $("lang").value = state.lang;
    if (state.ready) {
      try { state.msgs = parseMaybeJSON(window.notaryMessages(state.lang)) || {}; } catch (e) { state.msgs = {}; }
    }
    var els = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < els.length; i++) {
      var key = els[i].getAttribute("data-i18n");
      setText(els[i], t(key));
    }
    document.title = t("page_title");
    renderChosen();
    renderTrust(null);
  }

  // ---- files -------------------------------------------------------------

  function renderChosen() {
    var c = $("code-document-chosen");
    if (state.codeDocFile) {
      c.removeAttribute("data-i18n");
      setText(c, t("chosen", { name: state.codeDocFile.name, size: formatSize(state.codeDocFile.size) }));
    } else {
      c.setAttribute("data-i18n", "none_chosen");
      setText(c, t("none_chosen"));
    }
    var d = $("document-chosen"), r = $("receipt-chosen");
    if (state.docFile) {
      d.removeAttribute("data-i18n");
      setText(d, t("chosen", { name: state.docFile.name, size: formatSize(state.docFile.size) }));
    } else {
      d.setAttribute("data-i18n", "none_chosen");
      setText(d, t("none_chosen"));
    }
    if (state.receiptBytes) {
      r.removeAttribute("data-i18n");
      var s = t("chosen", { name: state.receiptName, size: formatSize(state.receiptSize) });
      var info = state.receiptInfo;
      if (info && info.ok) {
        s += " " + t("receipt_info", { chain: info.chain_id, alg: info.hash_algorithm, digest: info.anchored_digest });
      }
      setText(r, s);
    } else {
      r.setAttribute("data-i18n", "none_chosen");
      setText(r, t("none_chosen"));
    }
  }

  function readReceipt(file) {
    showError($("form-error"), "");
    if (file.size > MAX_RECEIPT) {
      state.receiptBytes = null;
      renderChosen();
      showError($("form-error"), t("err_receipt"));
      return Promise.resolve(false);
    }
    return file.arrayBuffer().then(function (buf) {
      var b = new Uint8Array(buf);
      var info = null;
      if (state.ready) {
        try { info = parseMaybeJSON(window.notaryReceiptInfo(b)); } catch (e) { info = null; }
      }
      state.receiptBytes = b;
      state.receiptName = file.name;
      state.receiptSize = file.size;
      state.receiptInfo = info;
      renderChosen();
      if (info && !info.ok) { showError($("form-error"), t("err_receipt")); }
      return !info || info.ok;
    }, function () {
      state.receiptBytes = null;
      renderChosen();
      showError($("form-error"), t("err_receipt"));
      return false;
    });
  }

  // isReceipt guesses which of the dropped files is the receipt: one the
  // core reads as a receipt, else a .json name.
  function isReceipt(file) {
    if (file.size > MAX_RECEIPT) { return Promise.resolve(false); }
    if (!state.ready) { return Promise.resolve(/\.json$/i.test(file.name)); }
    return file.arrayBuffer().then(function (buf) {
      try {
        var info = parseMaybeJSON(window.notaryReceiptInfo(new Uint8Array(buf)));
        return !!(info && info.ok);
      } catch (e) { return false; }
    }, function () { return false; });
  }

  function onDrop(files) {
    var list = Array.prototype.slice.call(files, 0, 2);
    Promise.all(list.map(isReceipt)).then(function (flags) {
      var work = { doc: null, receipt: null };
      for (var i = 0; i < list.length; i++) {
        if (flags[i] && !work.receipt) { work.receipt = list[i]; } else if (!work.doc) { work.doc = list[i]; }
      }
      if (work.doc) { state.docFile = work.doc; $("document").value = ""; }
      renderChosen();
      if (work.receipt) { $("receipt").value = ""; return readReceipt(work.receipt); }
      return true;
    });
  }

  // ---- trust bundle --------------------------------------------------------

  function endpoints() {
    var tb = state.trust || {};
    var list = tb.public_endpoints || tb.publicEndpoints || [];
    var out = [];
    for (var i = 0; i < list.length; i++) {
      var e = String(list[i]).replace(/\/+$/, "");
      if (/^https?:\/\//i.test(e) && out.indexOf(e) < 0) { out.push(e); }
    }
    return out;
  }

  var trustFingerprint = "";
  function renderTrust(fp) {
    if (fp) { trustFingerprint = fp; }
    if (!state.trust) { return; }
    var tb = state.trust;
    setText($("trust-chain"), t("trust_chain", { chain: tb.chain_id || tb.chainId || "?", n: (tb.validators || []).length }));
    if (trustFingerprint) { setText($("trust-fingerprint"), t("fingerprint", { fp: trustFingerprint })); }
  }

  function loadTrust() {
    return fetch("trust.json", { cache: "no-cache", credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.arrayBuffer();
    }).then(function (buf) {
      state.trustBytes = new Uint8Array(buf);
      state.trust = JSON.parse(new TextDecoder().decode(state.trustBytes));
      if (window.crypto && window.crypto.subtle) {
        return window.crypto.subtle.digest("SHA-256", buf).then(function (d) { renderTrust(hex(d)); });
      }
      renderTrust(null);
    });
  }

  // ---- the core ------------------------------------------------------------

  function gunzip(buf) {
    var b = new Uint8Array(buf);
    if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) {
      return Promise.resolve(buf); // already decoded by the server (Content-Encoding)
    }
    var stream = new Blob([b]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  function loadCore() {
    return fetch("verifier.wasm.gz", { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.arrayBuffer();
    }).then(gunzip).then(function (wasm) {
      var go = new window.Go();
      return WebAssembly.instantiate(wasm, go.importObject).then(function (r) {
        go.run(r.instance); // registers the notary* functions, then waits for calls
        if (typeof window.notaryVerify !== "function") { throw new Error("core did not start"); }
        state.ready = true;
      });
    });
  }

  // ---- live status ---------------------------------------------------------

  function readCapped(resp) {
    if (!resp.body || !resp.body.getReader) {
      return resp.arrayBuffer().then(function (b) { return new Uint8Array(b.slice(0, MAX_BODY)); });
    }
    var reader = resp.body.getReader(), chunks = [], total = 0;
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) { return; }
        total += r.value.length;
        if (total > MAX_BODY) {
          reader.cancel();
          var big = new Error("answer larger than " + MAX_BODY + " bytes");
          big.tooLarge = true;
          throw big;
        }
        chunks.push(r.value);
        return pump();
      });
    }
    return pump().then(function () {
      var out = new Uint8Array(total), off = 0;
      for (var i = 0; i < chunks.length; i++) { out.set(chunks[i], off); off += chunks[i].length; }
      return out;
    });
  }

  // askNode asks an endpoint for the live status of a receipt's document
  // (info: the receipt's notaryReceiptInfo): a coded document by its code
  // key, the only name a node finds it by; a plain one by its digest.
  function askNode(endpoint, info) {
    if (info.code_key) {
      return ask(endpoint, "/v1/status/code/" + encodeURIComponent(info.code_key));
    }
    return ask(endpoint, "/v1/status/" + encodeURIComponent(info.hash_algorithm) + "/" + encodeURIComponent(info.anchored_digest));
  }

  // ask GETs path from endpoint within the time limit, reading at most
  // MAX_BODY bytes of the answer.
  function ask(endpoint, path) {
    var ctrl = new AbortController();
    var timedOut = false;
    var timer = setTimeout(function () { timedOut = true; ctrl.abort(); }, NODE_TIMEOUT_MS);
    var url = endpoint + path;
    return fetch(url, {
      signal: ctrl.signal, mode: "cors", credentials: "omit", referrerPolicy: "no-referrer",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return readCapped(resp).then(function (body) {
        return { endpoint: endpoint, status: resp.status, body: body };
      });
    }).catch(function (err) {
      // The core knows "timeout" and "too_large"; anything else is a node
      // that could not be asked, with the browser's reason.
      var code = timedOut ? "timeout" : (err && err.tooLarge ? "too_large" : (err && err.message ? err.message : "unreachable"));
      return { endpoint: endpoint, error: code };
    }).finally(function () { clearTimeout(timer); });
  }

  // ---- verification --------------------------------------------------------

  function sha256(file) {
    if (!(window.crypto && window.crypto.subtle)) { return Promise.resolve(null); }
    return file.arrayBuffer().then(function (buf) { return window.crypto.subtle.digest("SHA-256", buf); })
      .then(function (d) { return new Uint8Array(d); });
  }

  function documentSkipped(res) {
    if (res.document_checked === false) { return true; }
    var steps = res.steps || [];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].step === "document") { return steps[i].status === "skipped"; }
    }
    return res.document_checked === false;
  }

  function callCore(input) {
    var t0 = performance.now();
    var res = parseMaybeJSON(window.notaryVerify(input));
    timing.verifyMs = performance.now() - t0;
    return res;
  }

  // runCore verifies with the document's digest (hashed here) when it has
  // one, and with the document's bytes when the core did not take the
  // digest or the algorithm is not SHA-256.
  function runCore(last) {
    if (last.code) { return runCodeCore(last); }
    var input = {
      receipt: last.receipt, trust: state.trustBytes, document: null,
      lang: state.lang, zone: last.tz, timeout_ms: NODE_TIMEOUT_MS, live: last.live
    };
    if (last.docDigest) { input.document_digest = last.docDigest; }
    else if (last.docBytes) { input.document = last.docBytes; }
    var res = callCore(input);
    if (last.docDigest && documentSkipped(res) && last.file) {
      return last.file.arrayBuffer().then(function (buf) {
        last.docDigest = null;
        last.docBytes = new Uint8Array(buf);
        input.document_digest = undefined;
        input.document = last.docBytes;
        return callCore(input);
      });
    }
    return Promise.resolve(res);
  }

  // nodeText says what a node answered, in the page's language.
  function nodeText(a) {
    if (a.error === "timeout") { return t("node_timeout", { s: NODE_TIMEOUT_MS / 1000 }); }
    if (a.error === "too_large") { return t("node_failed") + " (> " + MAX_BODY + " bytes)"; }
    if (a.error) { return t("node_failed") + " (" + a.error + ")"; }
    return "HTTP " + a.status;
  }

  function progress(msg) { setText($("progress"), msg || ""); }

  function verify() {
    if (state.busy) { return; }
    var formError = $("form-error");
    showError(formError, "");
    if (!state.ready || !state.trustBytes) { showError(formError, !state.ready ? t("err_core") : t("err_trust")); return; }
    if (!state.docFile) { showError(formError, t("err_no_document")); $("document").focus(); return; }
    if (!state.receiptBytes) { showError(formError, t("err_no_receipt")); $("receipt").focus(); return; }
    if (!state.receiptInfo) {
      try { state.receiptInfo = parseMaybeJSON(window.notaryReceiptInfo(state.receiptBytes)); } catch (e) { state.receiptInfo = null; }
      renderChosen();
    }
    var info = state.receiptInfo;
    if (!info || !info.ok) { showError(formError, t("err_receipt")); $("receipt").focus(); return; }
    var offline = $("mode-offline").checked;
    var last = {
      file: state.docFile,
      receipt: state.receiptBytes, tz: zone(), live: [], offline: offline,
      autoOffline: false, noEndpoints: false, docDigest: null, docBytes: null
    };
    setBusy(true);
    clearResult();

    var doc = Promise.resolve();
    if (state.docFile) {
      progress(t("hashing"));
      var h0 = performance.now();
      var file = state.docFile;
      if (info.hash_algorithm === "sha2-256") {
        doc = sha256(file).then(function (d) {
          if (d) { last.docDigest = d; return; }
          return file.arrayBuffer().then(function (b) { last.docBytes = new Uint8Array(b); });
        });
      } else {
        doc = file.arrayBuffer().then(function (b) { last.docBytes = new Uint8Array(b); });
      }
      doc = doc.then(function () { timing.hashMs = performance.now() - h0; }, function () {
        throw new Error(t("err_document"));
      });
    }

    doc.then(function () {
      if (offline) { return; }
      var eps = endpoints();
      if (eps.length === 0) { last.noEndpoints = true; return; }
      progress(t("asking", { n: eps.length }));
      var l0 = performance.now();
      return Promise.all(eps.map(function (e) { return askNode(e, info); }))
        .then(function (answers) {
          timing.liveMs = performance.now() - l0;
          last.nodes = answers;
          var answered = answers.filter(function (a) { return a.body !== undefined; });
          if (answered.length === 0) { last.autoOffline = true; last.live = []; } else { last.live = answers; }
        });
    }).then(function () {
      progress(t("checking"));
      return new Promise(function (resolve) { setTimeout(resolve, 0); }); // let the progress paint
    }).then(function () {
      return runCore(last);
    }).then(function (res) {
      state.last = last;
      state.lastResult = res;
      renderResult(res, last);
    }).catch(function (err) {
      renderFailure(err && err.message ? err.message : String(err));
    }).finally(function () {
      progress("");
      setBusy(false);
    });
  }

  function setBusy(b) {
    state.busy = b;
    $("verify").disabled = b;
    $("code-verify").disabled = b;
  }

  // ---- verification codes --------------------------------------------------

  function showCodeError(msg) {
    var input = $("code");
    showError($("code-error"), msg);
    if (msg) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }

  // hashDocument hashes file for a receipt of algorithm alg: the SHA-256
  // digest with WebCrypto, else the bytes for the core to hash.
  function hashDocument(file, alg, last) {
    var h0 = performance.now();
    var p;
    if (alg === "sha2-256") {
      p = sha256(file).then(function (d) {
        if (d) { last.docDigest = d; return; }
        return file.arrayBuffer().then(function (b) { last.docBytes = new Uint8Array(b); });
      });
    } else {
      p = file.arrayBuffer().then(function (b) { last.docBytes = new Uint8Array(b); });
    }
    return p.then(function () { timing.hashMs = performance.now() - h0; }, function () {
      throw new Error(t("err_document"));
    });
  }

  // findCode asks the endpoints, one after the other, for the receipt
  // under the code's key: the first that has it gives it.
  function findCode(eps, path) {
    var answers = [];
    function next(i) {
      if (i >= eps.length) { return Promise.resolve({ answers: answers }); }
      return ask(eps[i], path).then(function (a) {
        answers.push(a);
        if (a.status === 200) { return { answers: answers, found: a }; }
        return next(i + 1);
      });
    }
    return next(0);
  }

  // checkCode checks a code typed or read from the page's link. A code
  // that the core refuses is said at once, with no request.
  function checkCode(text, fromLink) {
    if (state.busy) { return; }
    showCodeError("");
    showError($("form-error"), "");
    if (!state.ready || !state.trustBytes) { showCodeError(!state.ready ? t("err_core") : t("err_trust")); return; }
    var info;
    try { info = parseMaybeJSON(window.notaryCode(text, state.lang, state.trustBytes)); } catch (e) { info = null; }
    if (!info || !info.ok) {
      showCodeError(info && info.error ? info.error : t("err_core"));
      $("code-error").setAttribute("data-kind", info && info.error_kind ? info.error_kind : "");
      clearResult();
      if (!fromLink) { $("code").focus(); }
      return;
    }
    $("code").value = info.code;
    var last = {
      code: info.code, file: state.codeDocFile, tz: zone(), live: [], nodes: [],
      docDigest: null, docBytes: null, receipt: null, source: ""
    };
    var eps = endpoints();
    setBusy(true);
    clearResult();
    if (eps.length === 0) {
      last.notice = "code_no_endpoints";
      state.last = last;
      renderNotice(last);
      setBusy(false);
      return;
    }
    progress(t("code_asking"));
    var l0 = performance.now();
    findCode(eps, info.code_path).then(function (r) {
      last.nodes = r.answers.slice();
      if (!r.found) {
        var notFound = r.answers.some(function (a) { return a.status === 404; });
        last.notice = notFound ? "code_not_found" : "code_unreachable";
        return null;
      }
      last.receipt = r.found.body;
      last.source = r.found.endpoint;
      var rinfo = null;
      try { rinfo = parseMaybeJSON(window.notaryReceiptInfo(last.receipt)); } catch (e) { rinfo = null; }
      var alg = rinfo && rinfo.ok ? rinfo.hash_algorithm : "";
      var doc = last.file ? hashDocument(last.file, alg, last) : Promise.resolve();
      // A receipt v2 proves no status: its node is asked for it too.
      var others = info.receipt_version === 2 ? eps.slice() : eps.filter(function (e) { return e !== last.source; });
      var live = Promise.resolve();
      if (rinfo && rinfo.ok && others.length > 0) {
        live = Promise.all(others.map(function (e) { return askNode(e, rinfo); }))
          .then(function (answers) {
            last.live = answers;
            last.nodes = last.nodes.concat(answers);
          });
      }
      return Promise.all([doc, live]).then(function () {
        timing.liveMs = performance.now() - l0;
        progress(t("checking"));
        return new Promise(function (resolve) { setTimeout(resolve, 0); });
      }).then(function () { return runCodeCore(last); });
    }).then(function (res) {
      state.last = last;
      if (!res) { renderNotice(last); return; }
      renderResult(res, last);
    }).catch(function (err) {
      renderFailure(err && err.message ? err.message : String(err));
    }).finally(function () {
      progress("");
      setBusy(false);
    });
  }

  // runCodeCore verifies the receipt of a code, with the document's digest
  // or bytes when a document was chosen.
  function runCodeCore(last) {
    if (!last.receipt) { return Promise.resolve(null); }
    var input = {
      code: last.code, receipt: last.receipt, source: last.source, trust: state.trustBytes,
      document: null, lang: state.lang, zone: last.tz, timeout_ms: NODE_TIMEOUT_MS, live: last.live
    };
    if (last.docDigest) { input.document_digest = last.docDigest; }
    else if (last.docBytes) { input.document = last.docBytes; }
    var t0 = performance.now();
    var res = parseMaybeJSON(window.notaryVerifyCode(input));
    timing.verifyMs = performance.now() - t0;
    if (last.docDigest && res.verdict !== "not_valid" && res.document_checked === false && last.file) {
      return last.file.arrayBuffer().then(function (buf) {
        last.docDigest = null;
        last.docBytes = new Uint8Array(buf);
        return runCodeCore(last);
      });
    }
    return Promise.resolve(res);
  }

  // codeFromLink is the code in the page's fragment (#code=...), or null.
  function codeFromLink() {
    var m = /(?:^#|&)code=([^&]*)/.exec(window.location.hash || "");
    if (!m) { return null; }
    try { return decodeURIComponent(m[1].replace(/\+/g, " ")); } catch (e) { return m[1]; }
  }

  function checkLink() {
    var code = codeFromLink();
    if (code === null || !state.ready) { return; }
    $("code").value = code;
    checkCode(code, true);
  }

  function zone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  // ---- result --------------------------------------------------------------

  function clearResult() {
    $("download-block").hidden = true;
    if (state.downloadURL) { URL.revokeObjectURL(state.downloadURL); state.downloadURL = ""; }
    var v = $("verdict");
    v.textContent = "";
    v.className = "verdict";
    v.removeAttribute("data-verdict");
    v.removeAttribute("data-exit-code");
    v.removeAttribute("data-lang");
    showError($("live-note"), "");
    $("details").hidden = true;
    $("steps").textContent = "";
    $("nodes").textContent = "";
    $("nodes-block").hidden = true;
  }

  // factsList is what a code shows: who registered the document, when,
  // and its status.
  function factsList(f) {
    var dl = document.createElement("dl");
    dl.className = "facts";
    [["code_agency", f.agency, "agency"], ["code_registered", f.registered, "registered"], ["code_status", f.status, "status"]].forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = t(row[0]);
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      dd.setAttribute("data-fact", row[2]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    return dl;
  }

  // renderNotice says that a code could not be checked: no document under
  // it, or no node to ask or that answered.
  function renderNotice(last) {
    clearResult();
    var v = $("verdict");
    v.className = "verdict verdict-not_valid";
    v.setAttribute("data-verdict", last.notice === "code_not_found" ? "not_found" : "unreachable");
    v.setAttribute("data-lang", state.lang);
    var p = document.createElement("p");
    p.textContent = t(last.notice);
    v.appendChild(p);
    renderNodes(last.nodes || []);
  }

  function renderNodes(nodes) {
    if (nodes.length === 0) { return; }
    var ul = $("nodes");
    for (var j = 0; j < nodes.length; j++) {
      var n = document.createElement("li");
      n.textContent = nodes[j].endpoint + ": " + nodeText(nodes[j]);
      ul.appendChild(n);
    }
    $("nodes-block").hidden = false;
    $("details").hidden = false;
  }

  function renderFailure(msg) {
    var v = $("verdict");
    v.className = "verdict verdict-not_valid";
    v.setAttribute("data-verdict", "error");
    v.textContent = "";
    var p = document.createElement("p");
    p.textContent = t("err_verify", { error: msg });
    v.appendChild(p);
  }

  function renderResult(res, last) {
    clearResult();
    var v = $("verdict");
    var verdict = res.verdict || "not_valid";
    v.className = "verdict verdict-" + verdict;
    v.setAttribute("data-verdict", verdict);
    v.setAttribute("data-exit-code", String(res.exit_code));
    v.setAttribute("data-lang", state.lang);
    var text = String(res.text || res.error || "");
    var cut = text.indexOf(". ");
    var p = document.createElement("p");
    if (cut > 0 && cut < 40) {
      var head = document.createElement("strong");
      head.className = "headline";
      head.textContent = text.slice(0, cut + 1);
      p.appendChild(head);
      p.appendChild(document.createTextNode(" " + text.slice(cut + 2)));
    } else {
      p.textContent = text;
    }
    v.appendChild(p);
    if (res.facts) { v.appendChild(factsList(res.facts)); }
    if (res.receipt_file) {
      state.downloadURL = URL.createObjectURL(new Blob([res.receipt_file], { type: "application/json" }));
      var a = $("download");
      a.href = state.downloadURL;
      a.setAttribute("download", (last.file && last.file.name ? last.file.name : "documento") + ".receipt.json");
      $("download-block").hidden = false;
    }

    var note = "";
    if (last.offline) { note = t("offline_note"); }
    else if (last.autoOffline) { note = t("offline_auto"); }
    else if (last.noEndpoints) { note = t("no_endpoints"); }
    showError($("live-note"), note);

    var steps = res.steps || [];
    var ol = $("steps");
    for (var i = 0; i < steps.length; i++) {
      var li = document.createElement("li");
      var st = document.createElement("span");
      st.className = "st st-" + steps[i].status;
      st.textContent = steps[i].step + ": " + t("step_" + steps[i].status);
      li.appendChild(st);
      if (steps[i].detail) {
        var d = document.createElement("span");
        d.className = "detail";
        d.textContent = " — " + steps[i].detail;
        li.appendChild(d);
      }
      ol.appendChild(li);
    }
    var nodes = last.nodes || [];
    $("details").hidden = steps.length === 0;
    renderNodes(nodes);
    if (res.fingerprint) { renderTrust(res.fingerprint); }
  }

  // ---- wiring --------------------------------------------------------------

  function init() {
    var t0 = performance.now();
    var els = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < els.length; i++) { fallback[els[i].getAttribute("data-i18n")] = els[i].textContent; }
    state.lang = chooseLang();
    applyLang();

    $("lang").addEventListener("change", function () {
      state.lang = this.value;
      try { window.localStorage.setItem("notary-lang", state.lang); } catch (e) { /* storage may be off */ }
      applyLang();
      var code = $("code");
      if (code.getAttribute("aria-invalid") === "true") { checkCode(code.value, true); }
      if (state.last && !state.busy) {
        var last = state.last;
        if (last.notice) { renderNotice(last); } else {
          runCore(last).then(function (res) { renderResult(res, last); });
        }
      }
    });
    $("document").addEventListener("change", function () {
      state.docFile = this.files && this.files[0] ? this.files[0] : null;
      renderChosen();
    });
    $("receipt").addEventListener("change", function () {
      if (this.files && this.files[0]) { readReceipt(this.files[0]); } else { state.receiptBytes = null; renderChosen(); }
    });
    $("form").addEventListener("submit", function (e) { e.preventDefault(); verify(); });
    $("code-form").addEventListener("submit", function (e) { e.preventDefault(); checkCode($("code").value, false); });
    $("code-document").addEventListener("change", function () {
      state.codeDocFile = this.files && this.files[0] ? this.files[0] : null;
      renderChosen();
    });
    window.addEventListener("hashchange", checkLink);
    $("reset").addEventListener("click", function () {
      state.docFile = null; state.receiptBytes = null; state.receiptInfo = null; state.last = null;
      $("form").reset();
      clearResult();
      showError($("form-error"), "");
      renderChosen();
      $("document").focus();
    });
    var drop = $("drop");
    ["dragenter", "dragover"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      drop.addEventListener(ev, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files) { onDrop(e.dataTransfer.files); }
    });
    // A file dropped beside the zone must not replace the page.
    window.addEventListener("dragover", function (e) { e.preventDefault(); });
    window.addEventListener("drop", function (e) { e.preventDefault(); });

    var loadError = $("load-error");
    Promise.all([
      loadCore().catch(function () { throw new Error("err_core"); }),
      loadTrust().catch(function () { throw new Error("err_trust"); })
    ]).then(function () {
      applyLang();
      timing.loadMs = performance.now() - t0;
      document.body.setAttribute("data-ready", "true");
      checkLink();
    }).catch(function (err) {
      showError(loadError, t(err.message));
      document.body.setAttribute("data-ready", "error");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
