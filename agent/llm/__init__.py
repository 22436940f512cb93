"""The language-model adapter. Only this package imports litellm."""
