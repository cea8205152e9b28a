vim9script
# Drives Vim 9 + yegappan/lsp against `dropout-lint server`, non-interactively, and writes
# what the client shows to $DL_OUT/vim.log (scripts/try_vim_lsp.sh runs it and compares the
# files it saves with what `dropout-lint --fix` writes). Run in a folder that holds qf/, all/, noqa/,
# type/, cmd/, unsafe/ (each a copy of examples/mnist.py), enc/model.py (non-ASCII text before
# a finding) and bad.py (a syntax error).

import autoload 'lsp/diag.vim' as lspdiag
import autoload 'lsp/buffer.vim' as lspbuf

const OUT = $DL_OUT

def Log(...lines: list<string>)
  writefile(lines, OUT .. '/vim.log', 'a')
enddef

# Wait (processing the server's messages) until Cond() holds; log how long it took.
# A step that fails logs TIMEOUT; a measurement that may run out of time logs `late`.
def WaitUntil(Cond: func(): bool, what: string, ms: number = 30000, late = 'TIMEOUT'): bool
  var start = reltime()
  while !Cond()
    if reltimefloat(reltime(start)) * 1000 > ms
      Log($'{late} waiting for {what}')
      return false
    endif
    redraw  # as the editor's main loop does: the client sends its pending didChange
    sleep 20m
  endwhile
  Log(printf('%s: after %.0f ms', what, reltimefloat(reltime(start)) * 1000))
  return true
enddef

def Warnings(): number
  return lsp#lsp#ErrorCount().Warn
enddef

def Open(path: string, warnings: number, late = 'TIMEOUT'): bool
  exe 'edit ' .. path
  Log('', $'== {path}')
  if !WaitUntil(() => g:LspServerReady(), 'server ready')
    return false
  endif
  return WaitUntil(() => Warnings() == warnings, $'{warnings} warnings shown', 30000, late)
enddef

def DumpDiagnostics()
  Log('ErrorCount(): ' .. string(lsp#lsp#ErrorCount()))
  for d in lspdiag.GetDiagsForBuf()
    Log(printf('diagnostic: line %d:%d-%d:%d severity=%d source=%s code=%s href=%s',
      d.range.start.line + 1, d.range.start.character + 1, d.range.end.line + 1, d.range.end.character + 1,
      d.severity, d->get('source', '-'), d->get('code', '-'), d->get('codeDescription', {})->get('href', '-')))
    Log($'  message: {d.message}')
  endfor
  :LspDiag show
  for item in getloclist(0)
    Log(printf('location list: %d:%d %s', item.lnum, item.col, item.text))
  endfor
  :lclose
enddef

# The actions the server offers on `line`, asked as the client asks (its own request).
def LogActions(line: number, query: string = '')
  var server = lspbuf.CurbufGetServer()
  var params = {
    textDocument: {uri: 'file://' .. expand('%:p')},
    range: {start: {line: line - 1, character: 0}, end: {line: line - 1, character: len(getline(line))}},
    context: {diagnostics: lspdiag.GetDiagsByLine(bufnr(), line, server), triggerKind: 1},
  }
  if query != ''
    params.context.only = [query]
  endif
  var reply = server.rpc('textDocument/codeAction', params)
  for action in reply->get('result', [])
    Log(printf('action on line %d: [%s] %s%s (edit %s)', line, action->get('kind', ''), action.title,
      action->get('isPreferred', false) ? ' (preferred)' : '', action->has_key('edit') ? 'included' : 'left to resolve'))
  endfor
enddef

def Hover(line: number, col: number)
  cursor(line, col)
  :LspHover
  var Preview = () => getwininfo()->filter((_, w) => getwinvar(w.winid, '&previewwindow'))
  if WaitUntil(() => !Preview()->empty(), $'hover preview on line {line}', 5000)
    var lines = getbufline(Preview()[0].bufnr, 1, '$')
    writefile(lines, $'{OUT}/hover-line{line}.md')
    Log($'hover on line {line}: {len(lines)} lines, first: {lines[0]}')
    :pclose
  endif
enddef

def Run()
  Log($'vim {v:version}, patch {v:versionlong % 10000}')
  # 1. Diagnostics on open, hover, the actions on offer, DRP001's quick fix.
  if !Open('qf/mnist.py', 2)
    return
  endif
  DumpDiagnostics()
  Hover(29, 13)
  Hover(28, 13)
  cursor(1, 1)
  :LspHover
  sleep 1
  Log($'hover on line 1 (no finding): preview windows open = {getwininfo()->filter((_, w) => getwinvar(w.winid, '&previewwindow'))->len()}, message: {execute('messages')->split("\n")->get(-1, '')}')
  :pclose
  LogActions(28)
  LogActions(29)
  LogActions(29, 'source.fixAll.dropout-lint')
  cursor(29, 13)
  :29LspCodeAction /^Fix DRP001
  WaitUntil(() => getline(29) !~ 'F\.dropout(x, 0\.2)', 'quick fix applied')
  Log($'line 29 now: {getline(29)}')
  WaitUntil(() => Warnings() == 1, 'findings refreshed after the quick fix (1 left)')
  DumpDiagnostics()
  :write

  # 2. Fix-all through the source.fixAll.dropout-lint code action.
  if Open('all/mnist.py', 2)
    :LspCodeAction only:source.fixAll.dropout-lint#1
    WaitUntil(() => &modified, 'fix-all applied')
    WaitUntil(() => Warnings() == 1, 'findings refreshed after fix-all (1 left)')
    :write
  endif

  # 3. "Disable DRP010 for this line".
  if Open('noqa/mnist.py', 2)
    :28LspCodeAction /^Disable DRP010
    WaitUntil(() => getline(28) =~ 'noqa', 'noqa action applied')
    Log($'line 28 now: {getline(28)}')
    WaitUntil(() => Warnings() == 1, 'findings refreshed after noqa (1 left)')
    :write
  endif

  # 4. Typing (not saved): a new finding appears on a typed line, goes when it is fixed or deleted.
  if Open('type/mnist.py', 2)
    append(29, '        x = F.dropout(x, 0.3)')
    WaitUntil(() => Warnings() == 3, 'finding for a typed line shown')
    DumpDiagnostics()
    setline(29, '        x = F.dropout(x, 0.2, training=self.training)')
    WaitUntil(() => Warnings() == 2, 'finding gone once training= is typed')
    deletebufline('%', 30)
    WaitUntil(() => Warnings() == 1, 'finding gone with the deleted line')
    DumpDiagnostics()
    :edit!
  endif

  # 5. workspace/executeCommand dropout-lint.applyFixAll (the server sends workspace/applyEdit).
  if Open('cmd/mnist.py', 2)
    lspbuf.CurbufGetServer().executeCommand({command: 'dropout-lint.applyFixAll', arguments: ['file://' .. expand('%:p')]})
    WaitUntil(() => &modified, 'applyFixAll command applied')
    :write
  endif

  # 6. Columns past non-ASCII text (this client counts in utf-32 code points).
  if Open('enc/model.py', 1)
    DumpDiagnostics()
    :7LspCodeAction /^Fix DRP001
    WaitUntil(() => &modified, 'quick fix after non-ASCII text applied')
    Log($'line 7 now: {getline(7)}')
    :write
  endif

  # 7. The editor's settings change (workspace/didChangeConfiguration): unsafe fixes on.
  if Open('unsafe/mnist.py', 2)
    LogActions(28)
    lspbuf.CurbufGetServer().sendNotification('workspace/didChangeConfiguration', {settings: {'dropout-lint': {unsafeFixes: true}}})
    sleep 1
    LogActions(28)
    :28LspCodeAction /^Fix DRP010
    WaitUntil(() => getline(17) =~ 'nn.Dropout(0.5)', 'unsafe quick fix applied')
    :write
  endif

  # 8. A 3,000-line model file (bench/server_latency.py's): how long from typing the fix of a
  # finding to its going, and how long Vim stays frozen meanwhile (this client pulls the
  # diagnostics with a blocking request, which Vim gives up after 2 s: then the findings of
  # that version never come). A measurement: what runs out of time is logged as `LATE`.
  if filereadable('big/model.py') && Open('big/model.py', 2, 'LATE')
    for attempt in range(3)
      var lnum = search('F.dropout(h, self.p)$', 'w')
      var before = getline(lnum)
      var start = reltime()
      var longest = 0.0
      setline(lnum, before->substitute('self.p)$', 'self.p, training=self.training)', ''))
      while Warnings() != 1 && reltimefloat(reltime(start)) < 30
        var tick = reltime()
        redraw
        sleep 20m
        var stalled = reltimefloat(reltime(tick)) * 1000 - 20
        longest = stalled > longest ? stalled : longest
      endwhile
      Log(printf('3,000-line file, edit %d: %s after %.0f ms; Vim frozen for up to %.0f ms at a time',
        attempt + 1, Warnings() == 1 ? 'finding gone' : 'LATE: finding still shown',
        reltimefloat(reltime(start)) * 1000, longest))
      setline(lnum, before)
      if !WaitUntil(() => Warnings() == 2, 'finding back after undoing the edit', 30000, 'LATE')
        break
      endif
    endfor
    :edit!
  endif

  # 9. A file that does not parse.
  exe 'edit bad.py'
  Log('', '== bad.py')
  WaitUntil(() => lsp#lsp#ErrorCount().Error == 1, 'DRP900 shown')
  DumpDiagnostics()
enddef

def Main()
  try
    Run()
  catch
    Log($'EXCEPTION {v:exception} at {v:throwpoint}')
  endtry
  Log('', 'messages:', execute('messages'))
  qall!
enddef

# After startup, as a user would start typing (the plugin starts its servers on VimEnter).
autocmd VimEnter * ++once ++nested Main()
