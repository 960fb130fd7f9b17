// Drives the web verifier in the system Chromium (playwright-core, no
// browser download) through the cases of a plan, and prints one JSON
// result per case. testnet/browser_test.go writes the plan and checks the
// results; this script judges nothing itself.
//
//   node run.js plan.json
//
// plan: {chromium, cases: [{name, url, document, receipt, mode, lang,
//        also_langs, keyboard, axe, screenshot, timezone, code_steps}]}
// result: {name, verdict, exit_code, text, note, html_lang, labels,
//          langs: {lang: {verdict, exit_code, text, html_lang}},
//          requests, nodes, focus, axe, timing, error, code}
//
// A case with code_steps checks verification codes in one page (loaded
// from url, which may carry #code=): each step, in order, is the check the
// link started at load ({load: true}), a code typed ({code, document,
// download}) or a link opened in the same page ({hash}); its result is in
// code: [{verdict, exit_code, text, facts, code_error, error_kind,
// requests, download_saved}].
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const READY_TIMEOUT = 60000;
const VERDICT_TIMEOUT = 60000;

async function waitReady(page) {
  await page.waitForSelector("body[data-ready]", { timeout: READY_TIMEOUT });
  const ready = await page.getAttribute("body", "data-ready");
  if (ready !== "true") {
    throw new Error("page did not load: " + (await page.textContent("#load-error")));
  }
}

// chooseWithKeyboard opens the file chooser of the focused input with the
// keyboard (Space) and gives it file. A busy browser may drop the key
// press; it is pressed again, up to three times.
async function chooseWithKeyboard(page, file) {
  for (let attempt = 1; ; attempt++) {
    try {
      const [chooser] = await Promise.all([
        page.waitForEvent("filechooser", { timeout: 20000 }),
        page.keyboard.press("Space"),
      ]);
      await chooser.setFiles(file);
      return;
    } catch (e) {
      if (attempt >= 3) { throw e; }
    }
  }
}

async function focusedId(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) { return ""; }
    return el.id || el.getAttribute("name") || el.tagName.toLowerCase();
  });
}

async function runAxe(page) {
  const src = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(src); // evaluated through the DevTools protocol: the page's CSP does not apply
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}

// codeResult reads the verdict of a code check, or the code's error.
async function codeResult(page) {
  return page.evaluate(() => {
    const el = document.querySelector("#verdict");
    const err = document.querySelector("#code-error");
    const facts = {};
    el.querySelectorAll("[data-fact]").forEach((d) => { facts[d.getAttribute("data-fact")] = d.textContent; });
    return {
      verdict: el.getAttribute("data-verdict") || "",
      exit_code: Number(el.getAttribute("data-exit-code") || -1),
      text: el.textContent,
      facts: facts,
      code_error: err.hidden ? "" : err.textContent,
      error_kind: err.hidden ? "" : err.getAttribute("data-kind"),
      download: !document.querySelector("#download-block").hidden,
      code_value: document.querySelector("#code").value,
    };
  });
}

// runCodeSteps runs a case's code steps in its page; the page is loaded.
async function runCodeSteps(page, c, log) {
  const results = [];
  for (const st of c.code_steps) {
    const r = { requests: [] };
    if (st.load && log.requests) { r.requests = log.requests; } else { log.requests = r.requests; }
    if (!st.load) {
      // Forget the last verdict, so that the next one is this step's.
      await page.evaluate(() => document.querySelector("#verdict").removeAttribute("data-verdict"));
    }
    if (st.hash) {
      await page.evaluate((h) => { window.location.hash = h; }, st.hash);
    } else if (!st.load) {
      await page.fill("#code", st.code);
      await page.setInputFiles("#code-document", st.document ? st.document : []);
      await page.click("#code-verify");
    }
    if (st.expect_error) {
      await page.waitForSelector("#code-error:not([hidden])", { timeout: VERDICT_TIMEOUT });
      await page.waitForTimeout(300); // a request, if one were made, would show now
    } else {
      await page.waitForSelector("#verdict[data-verdict]", { timeout: VERDICT_TIMEOUT });
    }
    Object.assign(r, await codeResult(page));
    if (st.download && r.download) {
      const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 20000 }), page.click("#download")]);
      await dl.saveAs(st.download);
      r.download_saved = st.download;
    }
    if (st.screenshot) {
      await page.evaluate(() => { document.querySelector("#details").open = false; });
      fs.mkdirSync(path.dirname(st.screenshot), { recursive: true });
      await page.screenshot({ path: st.screenshot, fullPage: true });
    }
    if (st.axe) {
      await page.evaluate(() => { document.querySelector("#details").open = true; });
      r.axe = await runAxe(page);
    }
    log.requests = null;
    results.push(r);
  }
  return results;
}

async function runCase(browser, c) {
  const out = { name: c.name, requests: [], timing: {} };
  const context = await browser.newContext({
    timezoneId: c.timezone || "Europe/Madrid",
    locale: "es-ES",
    viewport: { width: 900, height: 1100 },
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") { consoleErrors.push(m.text()); } });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  let logging = false;
  const codeLog = { requests: c.code_steps && c.code_steps.length > 0 && c.code_steps[0].load ? [] : null };
  page.on("request", (r) => {
    if (logging) { out.requests.push(r.method() + " " + r.url()); }
    if (codeLog.requests) { codeLog.requests.push(r.method() + " " + r.url()); }
  });
  try {
    const t0 = Date.now();
    await page.goto(c.url, { waitUntil: "load" });
    await waitReady(page);
    out.timing.wall_load_ms = Date.now() - t0;
    if (c.code_steps) {
      out.code = await runCodeSteps(page, c, codeLog);
      if (c.code_steps[0].load) {
        // The page's own files are not the check's requests.
        out.code[0].requests = out.code[0].requests.filter((u) => u.indexOf("/v1/") >= 0);
      }
      out.timing = Object.assign(out.timing, await page.evaluate(() => window.notaryTiming));
      // A code under which nothing is registered is a 404, which the
      // browser logs as a failed load: the page's expected answer.
      out.console_errors = consoleErrors.filter((m) => !/^Failed to load resource: .* 404 \(Not Found\)$/.test(m));
      await context.close();
      return out;
    }
    if (c.lang && c.lang !== "es") {
      await page.selectOption("#lang", c.lang);
    }
    if (c.keyboard) {
      // From the top of the page: the skip link, the language, the two
      // files, the mode, the buttons, in that order, with the keyboard only.
      out.focus = [];
      await page.focus("body");
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      if (c.document) { await chooseWithKeyboard(page, c.document); }
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      await chooseWithKeyboard(page, c.receipt);
      // The page reads the receipt after the choice; Enter before it is
      // read would answer "choose a receipt", as it would to a person.
      await page.waitForFunction(() => document.querySelector("#receipt-chosen").getAttribute("data-i18n") === null);
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      if (c.mode === "offline") { await page.keyboard.press("ArrowDown"); out.focus.push(await focusedId(page)); }
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      await page.keyboard.press("Tab");
      out.focus.push(await focusedId(page));
      await page.keyboard.press("Shift+Tab");
      logging = true;
      await page.keyboard.press("Enter");
    } else {
      if (c.document) { await page.setInputFiles("#document", c.document); }
      await page.setInputFiles("#receipt", c.receipt);
      await page.waitForFunction(() => document.querySelector("#receipt-chosen").getAttribute("data-i18n") === null);
      if (c.mode === "offline") { await page.check("#mode-offline"); }
      logging = true;
      await page.click("#verify");
    }
    await page.waitForSelector("#verdict[data-verdict]", { timeout: VERDICT_TIMEOUT });
    logging = false;
    const v = await page.evaluate(() => {
      const el = document.querySelector("#verdict");
      const note = document.querySelector("#live-note");
      const labels = {};
      document.querySelectorAll("[data-i18n]").forEach((e) => { labels[e.getAttribute("data-i18n")] = e.textContent; });
      return {
        verdict: el.getAttribute("data-verdict"),
        exit_code: Number(el.getAttribute("data-exit-code")),
        text: el.textContent,
        live: el.getAttribute("aria-live"),
        note: note.hidden ? "" : note.textContent,
        html_lang: document.documentElement.lang,
        labels: labels,
        nodes: Array.from(document.querySelectorAll("#nodes li")).map((li) => li.textContent),
        timing: window.notaryTiming,
      };
    });
    Object.assign(out, v, { timing: Object.assign(out.timing, v.timing) });
    if (c.screenshot) {
      await page.evaluate(() => { document.querySelector("#details").open = false; });
      fs.mkdirSync(path.dirname(c.screenshot), { recursive: true });
      await page.screenshot({ path: c.screenshot, fullPage: true });
    }
    // The language switcher redoes the verification in each other language.
    out.langs = {};
    for (const l of c.also_langs || []) {
      await page.selectOption("#lang", l);
      await page.waitForSelector(`#verdict[data-lang="${l}"]`, { timeout: VERDICT_TIMEOUT });
      out.langs[l] = await page.evaluate(() => {
        const el = document.querySelector("#verdict");
        return {
          verdict: el.getAttribute("data-verdict"),
          exit_code: Number(el.getAttribute("data-exit-code")),
          text: el.textContent,
          html_lang: document.documentElement.lang,
        };
      });
    }
    if (c.axe) {
      await page.evaluate(() => { document.querySelector("#details").open = true; });
      out.axe = await runAxe(page);
    }
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
  }
  out.console_errors = consoleErrors;
  await context.close();
  return out;
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const browser = await chromium.launch({
    executablePath: plan.chromium || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const results = [];
  try {
    for (const c of plan.cases) {
      results.push(await runCase(browser, c));
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
