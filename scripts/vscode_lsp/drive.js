// Drives VS Code (code-server, in headless Chromium through playwright-core) with the Generic
// LSP Client extension configured as docs/editors.md says, against `dropout-lint server`, the
// way a person would: keyboard, command palette, the Problems panel, the hover and the
// code-action menus. Writes what the editor shows to $DL_OUT/vscode.log: the steps and files
// of scripts/vim_lsp/drive.vim, and a notebook (scripts/try_vscode_lsp.sh runs it and
// compares the saved files with what `dropout-lint --fix` / `--add-noqa` write).
//
// Environment: DL_URL (the workbench, with ?folder=WORK), DL_WORK (the folder), DL_OUT,
// DL_SETTINGS (the user settings.json, edited in the unsafe-fixes step), DL_CHROMIUM.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const { DL_URL, DL_WORK, DL_OUT, DL_SETTINGS } = process.env;
const LOG = path.join(DL_OUT, "vscode.log");
const log = (s) => fs.appendFileSync(LOG, s + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let page;
let shots = 0;

// Poll cond() until it is truthy; log how long that took (TIMEOUT when it never is).
async function waitFor(what, cond, ms = 30000, late = "TIMEOUT") {
  const t0 = Date.now();
  for (;;) {
    const value = await cond();
    if (value) {
      log(`${what}: ok after ${Date.now() - t0} ms`);
      return value;
    }
    if (Date.now() - t0 > ms) {
      log(`${what}: ${late} after ${Date.now() - t0} ms`);
      if (late === "TIMEOUT") {
        await page.screenshot({ path: path.join(DL_OUT, `${++shots}.png`) });
        log(`(screenshot: ${shots}.png)`);
      }
      return null;
    }
    await sleep(50);
  }
}

// F1, the command's title, Enter: the command palette.
async function command(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(">" + title);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
  await sleep(300);
}

// The Problems panel's rows for one file: [{severity, message, source, code, href, line, col}].
async function problems(rel) {
  const rows = await page.$$eval(".markers-panel .monaco-list-row", (els) =>
    els.map((e) => ({
      label: e.getAttribute("aria-label") || "",
      text: e.innerText,
      href: [...e.querySelectorAll("a")].map((a) => a.href).filter(Boolean).join(" "),
    })),
  );
  const name = path.basename(rel);
  const folder = path.dirname(rel);
  const found = [];
  let inFile = false;
  for (const row of rows) {
    const header = row.label.match(/problems? in file (.*) of folder (.*)$/);
    if (header) {
      inFile = header[1] === name && (header[2] === folder || header[2].endsWith("/" + folder));
      continue;
    }
    if (!inFile) continue;
    const parts = row.text.split("\n").map((s) => s.trim()).filter(Boolean);
    const at = row.text.match(/\[Ln (\d+), Col (\d+)\]/);
    found.push({
      severity: row.label.split(":")[0],
      message: parts[0],
      source: parts.find((p) => p === "dropout-lint") || "-",
      code: parts.find((p) => /^DRP\d{3}$/.test(p)) || "-",
      href: row.href || "-",
      line: at ? +at[1] : 0,
      col: at ? +at[2] : 0,
    });
  }
  return found;
}

function dump(list) {
  for (const p of list) {
    log(`problem: ${p.line}:${p.col} ${p.severity} source=${p.source} code=${p.code} href=${p.href} | ${p.message.slice(0, 60)}`);
  }
}

async function open(rel, n, ms = 30000, late = "TIMEOUT") {
  log(`\n== ${rel}`);
  await command("View: Close All Editors");
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(rel);
  // The file search's row for this folder ("mnist.py all, file results"), not a recently
  // opened mnist.py of another folder, which quick open lists first.
  const folder = path.dirname(rel);
  const label = `${path.basename(rel)}${folder === "." ? "" : " " + folder}, file results`;
  await page.locator(`.quick-input-list .monaco-list-row[aria-label="${label}"]`).click();
  await page.locator(".tab.active", { hasText: path.basename(rel) }).waitFor();
  return waitFor(`${n} problems shown`, async () => (await problems(rel)).length === n, ms, late);
}

// The cursor on `needle` in line `line` of the file (VS Code counts columns in UTF-16, as
// JavaScript strings do).
async function gotoText(rel, line, needle) {
  const text = fs.readFileSync(path.join(DL_WORK, rel), "utf8").split("\n")[line - 1];
  const col = needle ? text.indexOf(needle) + 1 : 1;
  await page.keyboard.press("Control+G");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
  await page.keyboard.type(`${line}:${col}`);
  await page.keyboard.press("Enter");
  await sleep(200);
}

// Open the menu (Ctrl+. for quick fixes, or a command), log its titles, pick the one matching
// `pick` (a RegExp) if given, else close it.
async function menu(what, open, pick) {
  const rows = page.locator(".action-widget .monaco-list-row.action");
  for (let attempt = 1; attempt <= 2 && !(await rows.count()); attempt++) {
    await open();
    await rows.first().waitFor({ timeout: 5000 }).catch(() => {});
  }
  const titles = await rows.allInnerTexts();
  log(`${what}: ${titles.length ? titles.map((t) => JSON.stringify(t.trim())).join(", ") : "(no actions)"}`);
  const chosen = pick && titles.findIndex((t) => pick.test(t.trim()));
  if (pick && chosen >= 0) {
    // The keyboard, as the menu takes it (a mouse click lands on the editor's pointer block).
    const focused = await rows.evaluateAll((els) => els.findIndex((e) => e.classList.contains("focused")));
    for (let i = Math.max(focused, 0); i < chosen; i++) await page.keyboard.press("ArrowDown");
    for (let i = chosen; i < focused; i++) await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Enter");
  } else {
    await page.keyboard.press("Escape");
  }
  await sleep(300);
  return chosen;
}
// The titles a menu shows, which is then closed.
async function menuTitles(open) {
  await open();
  const rows = page.locator(".action-widget .monaco-list-row.action");
  await rows.first().waitFor({ timeout: 5000 }).catch(() => {});
  const titles = (await rows.allInnerTexts()).map((t) => t.trim());
  await page.keyboard.press("Escape");
  await sleep(300);
  return titles;
}
const quickFixes = (what, pick) => menu(what, () => page.keyboard.press("Control+."), pick);

async function hover(rel, line, needle) {
  await gotoText(rel, line, needle);
  await page.keyboard.press("Control+K");
  await page.keyboard.press("Control+I");
  // The finding's own hover shows at once; the server's answer (the rule's documentation,
  // whose first line is "DRPnnn (name)") may come after it.
  const ruleDoc = async () => {
    const texts = await page.locator(".monaco-hover:visible").allInnerTexts();
    const doc = texts.join("\n").split("\n").find((l) => /^DRP\d{3} \(/.test(l.trim()));
    return doc && doc.trim();
  };
  const doc = await waitFor(`hover on line ${line}`, ruleDoc, 5000, "no rule documentation");
  const shown = (await page.locator(".monaco-hover:visible").allInnerTexts()).join("\n");
  log(`hover on line ${line}: ${doc || "no rule documentation"} (${shown.split("\n").length} lines shown)`);
  await page.keyboard.press("Escape");
  await sleep(300);
}

const onDisk = (rel) => fs.readFileSync(path.join(DL_WORK, rel), "utf8");
// The lines the editor shows (this headless workbench marks no tab or title as modified).
const editorShows = async (text) =>
  (await page.locator(".editor-instance .view-lines").first().innerText()).replace(/\u00a0/g, " ").includes(text);

async function save(rel, title = "File: Save without Formatting") {
  const before = onDisk(rel);
  if (title === "Ctrl+S") await page.keyboard.press("Control+S");
  else await command(title);
  await waitFor(`${rel} saved (${title})`, async () => onDisk(rel) !== before, 10000);
}

async function steps() {
  await page.goto(DL_URL);
  await page.locator(".monaco-workbench").waitFor({ timeout: 120000 });
  await page.keyboard.press("Control+Shift+M"); // the Problems panel
  log(`VS Code: ${await page.evaluate(() => document.title)}`);

  // 1. Findings on open, hover, the code actions, DRP001's quick fix.
  if (!(await open("qf/mnist.py", 2, 120000))) return;
  dump(await problems("qf/mnist.py"));
  await hover("qf/mnist.py", 29, "F.dropout");
  await hover("qf/mnist.py", 28, "self.dropout2");
  await hover("qf/mnist.py", 30, "self.fc2");
  await gotoText("qf/mnist.py", 28, "self.dropout2");
  await quickFixes("quick fixes on line 28");
  await gotoText("qf/mnist.py", 29, "F.dropout");
  await quickFixes("quick fixes on line 29", /^Fix DRP001/);
  await waitFor("quick fix applied", () => editorShows("x = self.dropout(x)"));
  await waitFor("problems refreshed (1 left)", async () => (await problems("qf/mnist.py")).length === 1);
  dump(await problems("qf/mnist.py"));
  await save("qf/mnist.py");

  // 2. Fix-all on save: the documented "editor.codeActionsOnSave".
  if (await open("all/mnist.py", 2)) {
    await save("all/mnist.py", "Ctrl+S");
    await waitFor("fix-all ran on save (1 problem left)", async () => (await problems("all/mnist.py")).length === 1);
  }

  // 3. Fix-all from the "Source Action..." menu.
  if (await open("src/mnist.py", 2)) {
    await menu("source actions", () => command("Source Action..."), /dropout-lint: fix all/);
    await waitFor("fix-all source action applied (1 problem left)", async () => (await problems("src/mnist.py")).length === 1);
    await save("src/mnist.py");
  }

  // 4. The server's command dropout-lint.applyFixAll, bound to a key (keybindings.json).
  if (await open("cmd/mnist.py", 2)) {
    await page.keyboard.press("Control+Alt+A");
    await waitFor("dropout-lint.applyFixAll applied (1 problem left)", async () => (await problems("cmd/mnist.py")).length === 1);
    await save("cmd/mnist.py");
  }

  // 5. "Disable DRP010 for this line".
  if (await open("noqa/mnist.py", 2)) {
    await gotoText("noqa/mnist.py", 28, "self.dropout2");
    await quickFixes("quick fixes on line 28", /^Disable DRP010/);
    await waitFor("noqa applied, DRP010 gone", async () => (await problems("noqa/mnist.py")).length === 1);
    await save("noqa/mnist.py");
  }

  // 6. Typing a new finding, and deleting it again.
  if (await open("type/mnist.py", 2)) {
    await gotoText("type/mnist.py", 29, null);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    const t0 = Date.now();
    await page.keyboard.type("x = F.dropout(x, 0.3)");
    await waitFor(`problem for the typed line shown (typing took ${Date.now() - t0} ms)`, async () => (await problems("type/mnist.py")).length === 3);
    await page.keyboard.press("ArrowLeft"); // back inside the call's parentheses
    await page.keyboard.type(", training=self.training");
    await waitFor("it goes when training=self.training is typed", async () => (await problems("type/mnist.py")).length === 2);
    await page.keyboard.press("Control+Shift+K"); // delete the line
    await sleep(500);
    dump(await problems("type/mnist.py"));
    await command("File: Revert File");
  }

  // 7. A quick fix after non-ASCII text: positions in UTF-16.
  if (await open("enc/model.py", 1)) {
    dump(await problems("enc/model.py"));
    await gotoText("enc/model.py", 7, "F.dropout");
    await quickFixes("quick fixes on line 7", /^Fix DRP001/);
    await waitFor("quick fix after non-ASCII text applied", () => editorShows("training=self.training"));
    await save("enc/model.py");
  }

  // 8. unsafeFixes turned on in the user settings.json (edited in VS Code, with find and
  // replace): the extension restarts the server with the new initializationOptions.
  log("\n== settings.json: unsafeFixes turned on");
  await command("Preferences: Open User Settings (JSON)");
  await page.locator(".tab.active", { hasText: "settings.json" }).waitFor();
  await page.keyboard.press("Control+H");
  await page.locator('.find-widget textarea[aria-label="Find"]').waitFor();
  await page.keyboard.type('"unsafeFixes": false');
  await page.locator('.find-widget textarea[aria-label="Replace"]').focus();
  await page.keyboard.type('"unsafeFixes": true');
  await page.keyboard.press("Control+Alt+Enter"); // replace all
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+S");
  await waitFor("settings.json saved", () => fs.readFileSync(DL_SETTINGS, "utf8").includes('"unsafeFixes": true'), 10000);
  if (await open("unsafe/mnist.py", 2)) {
    await gotoText("unsafe/mnist.py", 28, "self.dropout2");
    await waitFor("unsafe fix offered (server restarted)", async () => {
      const titles = await menuTitles(() => page.keyboard.press("Control+."));
      return titles.some((t) => t.endsWith("(unsafe)"));
    }, 30000);
    await quickFixes("quick fixes on line 28", /^Fix DRP010.*\(unsafe\)$/);
    await waitFor("unsafe quick fix applied", () => editorShows("nn.Dropout(0.5)"));
    await save("unsafe/mnist.py");
  }

  // 9. A syntax error.
  if (await open("bad.py", 1)) dump(await problems("bad.py"));

  // 10. A notebook: its finding on its cell (the Problems panel gives the line in the cell),
  // and the quick fix in that cell.
  if (await open("nb/model.ipynb", 1)) {
    dump(await problems("nb/model.ipynb"));
    await page.locator(".notebook-editor .view-line", { hasText: "F.dropout(x, 0.2)" }).click();
    await quickFixes("quick fixes in the notebook's cell", /^Fix DRP001/);
    await waitFor("quick fix in the cell applied (no problem left)", async () => (await problems("nb/model.ipynb")).length === 0);
    await save("nb/model.ipynb");
  }

  // 11. The 3,000-line model file of bench/server_latency.py: from an edit fixing a finding to
  // the finding gone, and back.
  if (fs.existsSync(path.join(DL_WORK, "big/model.py")) && (await open("big/model.py", 2, 60000, "LATE"))) {
    const lines = onDisk("big/model.py").split("\n");
    for (let attempt = 1; attempt <= 3; attempt++) {
      const line = lines.findIndex((l) => l.endsWith("F.dropout(h, self.p)")) + 1;
      await gotoText("big/model.py", line, "self.p)");
      await page.keyboard.press("End");
      await page.keyboard.press("ArrowLeft");
      const typing = Date.now();
      await page.keyboard.type(", training=self.training");
      const t0 = Date.now();
      const gone = await waitFor(`3,000-line file, edit ${attempt} (typed in ${t0 - typing} ms): finding gone`,
        async () => (await problems("big/model.py")).length === 1, 30000, "LATE");
      log(`3,000-line file, edit ${attempt}: ${gone ? "finding gone" : "finding still shown"} ${Date.now() - t0} ms after the last key`);
      await command("File: Revert File");
      if (!(await waitFor("finding back after reverting the file", async () => (await problems("big/model.py")).length === 2))) break;
    }
  }

  // 12. Stopping the server: the extension's restart command sends shutdown and exit.
  await command("View: Close All Editors");
  await command("Generic LSP Client: Restart server");
  await sleep(3000);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.DL_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30000);
  try {
    await steps();
  } catch (error) {
    log(`ERROR ${error.stack || error}`);
    await page.screenshot({ path: path.join(DL_OUT, "error.png") }).catch(() => {});
  }
  await page.screenshot({ path: path.join(DL_OUT, "last.png") }).catch(() => {});
  await browser.close();
})();
