-- Drives Neovim's built-in LSP client (configured by init.lua, docs/editors.md's configuration)
-- against `dropout-lint server`, headless, and writes what it shows to $DL_OUT/nvim.log; the
-- same steps and files as drive.vim (scripts/try_vim_lsp.sh --nvim runs it).
local out = os.getenv("DL_OUT")
local logf = io.open(out .. "/nvim.log", "a")
local function log(s) logf:write(s .. "\n"); logf:flush() end
local function wait(what, cond, ms)
  local t0 = vim.uv.hrtime()
  local ok = vim.wait(ms or 30000, cond, 20)
  log(string.format("%s: %s after %.0f ms", what, ok and "ok" or "TIMEOUT", (vim.uv.hrtime() - t0) / 1e6))
  return ok
end
local function client() return vim.lsp.get_clients({ bufnr = 0, name = "dropout_lint" })[1] end
local function diags() return vim.diagnostic.get(0) end
local function dump()
  for _, d in ipairs(diags()) do
    log(string.format("diagnostic: %d:%d-%d:%d severity=%d source=%s code=%s href=%s | %s", d.lnum + 1, d.col + 1,
      d.end_lnum + 1, d.end_col + 1, d.severity, d.source, d.code,
      vim.tbl_get(d, "user_data", "lsp", "codeDescription", "href") or "-", d.message:sub(1, 60)))
  end
end
local function open(path, n)
  vim.cmd.edit(path)
  log("\n== " .. path)
  wait("client attached", function() return client() ~= nil end)
  return wait(n .. " findings shown", function() return #diags() == n end)
end
local function actions(line, only)
  local params = vim.lsp.util.make_range_params(0, client().offset_encoding)
  params.range = { start = { line = line - 1, character = 0 }, ["end"] = { line = line - 1, character = #vim.fn.getline(line) } }
  params.context = { diagnostics = vim.lsp.diagnostic.from(vim.diagnostic.get(0, { lnum = line - 1 })), only = only, triggerKind = 1 }
  local res = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 10000)
  for _, r in pairs(res or {}) do
    for _, a in ipairs(r.result or {}) do log(string.format("action on line %d: [%s] %s%s", line, a.kind, a.title, a.edit and " (edit included)" or "")) end
  end
end
local function apply(line, pattern, only)
  vim.api.nvim_win_set_cursor(0, { line, 12 })
  vim.lsp.buf.code_action({ apply = true, context = { only = only },
    filter = function(a) return a.title:match(pattern) ~= nil end })
end

local ok, err = pcall(function()
  log("nvim " .. tostring(vim.version()))
  if not open("qf/mnist.py", 2) then return end
  log("workspace.diagnostics capability: " .. vim.inspect(vim.tbl_get(client().capabilities, "workspace", "diagnostics")))
  log("position encoding: " .. client().offset_encoding .. "; client asks for diagnostics (pull): "
    .. tostring(vim.tbl_get(client().capabilities, "textDocument", "diagnostic") ~= nil))
  dump()
  vim.api.nvim_win_set_cursor(0, { 29, 12 })
  local hover = vim.lsp.buf_request_sync(0, "textDocument/hover", vim.lsp.util.make_position_params(0, client().offset_encoding), 10000)
  for _, r in pairs(hover or {}) do
    local value = r.result and r.result.contents.value or "(none)"
    log("hover on line 29: " .. value:gsub("\n.*", "") .. string.format(" (%d lines)", #vim.split(value, "\n")))
  end
  actions(28); actions(29)
  apply(29, "^Fix DRP001")
  wait("quick fix applied", function() return not vim.fn.getline(29):match("F%.dropout%(x, 0%.2%)") end)
  wait("findings refreshed (1 left)", function() return #diags() == 1 end)
  dump()
  vim.cmd.write()
  if open("all/mnist.py", 2) then
    apply(1, "fix all", { "source.fixAll.dropout-lint" })
    wait("fix-all applied", function() return vim.bo.modified end)
    vim.cmd.write()
  end
  if open("cmd/mnist.py", 2) then
    client():request("workspace/executeCommand", { command = "dropout-lint.applyFixAll", arguments = { vim.uri_from_bufnr(0) } })
    wait("applyFixAll command applied", function() return vim.bo.modified end)
    vim.cmd.write()
  end
  if open("noqa/mnist.py", 2) then
    apply(28, "^Disable DRP010")
    wait("noqa applied", function() return vim.fn.getline(28):match("noqa") ~= nil end)
    vim.cmd.write()
  end
  if open("type/mnist.py", 2) then
    vim.api.nvim_buf_set_lines(0, 29, 29, true, { "        x = F.dropout(x, 0.3)" })
    wait("finding for a typed line shown", function() return #diags() == 3 end)
    vim.api.nvim_buf_set_lines(0, 29, 30, true, {})
    wait("finding gone with the deleted line", function() return #diags() == 2 end)
    vim.cmd("edit!")
  end
  if open("enc/model.py", 1) then
    dump()
    apply(7, "^Fix DRP001")
    wait("quick fix after non-ASCII text applied", function() return vim.bo.modified end)
    log("line 7 now: " .. vim.fn.getline(7))
    vim.cmd.write()
  end
  if open("unsafe/mnist.py", 2) then
    client():notify("workspace/didChangeConfiguration", { settings = { ["dropout-lint"] = { unsafeFixes = true } } })
    vim.wait(1000)
    actions(28)
    apply(28, "^Fix DRP010")
    wait("unsafe quick fix applied", function() return vim.fn.getline(17):match("nn%.Dropout%(0%.5%)") ~= nil end)
    vim.cmd.write()
  end
  if open("bad.py", 1) then dump() end
  -- The 3,000-line model file of bench/server_latency.py: this client pulls without blocking.
  if vim.fn.filereadable("big/model.py") == 1 and open("big/model.py", 2) then
    for attempt = 1, 3 do
      local lnum = vim.fn.search("F.dropout(h, self.p)$", "w")
      local before = vim.fn.getline(lnum)
      local t0 = vim.uv.hrtime()
      vim.fn.setline(lnum, (before:gsub("self%.p%)$", "self.p, training=self.training)")))
      local gone = vim.wait(30000, function() return #diags() == 1 end, 20)
      log(string.format("3,000-line file, edit %d: %s after %.0f ms", attempt, gone and "finding gone" or "LATE: finding still shown",
        (vim.uv.hrtime() - t0) / 1e6))
      vim.fn.setline(lnum, before)
      if not wait("finding back after undoing the edit", function() return #diags() == 2 end) then break end
    end
    vim.cmd("edit!")
  end
end)
if not ok then log("ERROR " .. tostring(err)) end
local msgs = vim.api.nvim_exec2("messages", { output = true }).output
log("\nmessages: " .. msgs)
vim.cmd("qall!")
