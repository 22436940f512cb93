-- luacheck configuration for the Neovim plugin (run by `make nvim-lint`).
std = "luajit"
globals = { "vim" }
max_line_length = 120
self = false -- methods of the nvim-cmp source take self whether or not they use it
