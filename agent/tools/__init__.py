"""Built-in tools and the scoped filesystem they work through."""
