"""Cross-cutting concerns that wrap every handler: access, language, logging."""
