"""yoi's editor edge: the language server and the command line."""
