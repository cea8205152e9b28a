-- docs/editors.md's Neovim configuration, as the documentation gives it
-- (scripts/try_vim_lsp.sh --nvim runs Neovim with it).
vim.lsp.config("dropout_lint", {
  cmd = { "dropout-lint", "server" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", ".git" },
  init_options = { unsafeFixes = false, run = "onType" },
})
vim.lsp.enable("dropout_lint")
