"""The one error a configuration can raise, wherever it was read."""


class ConfigError(Exception):
    """Settings that cannot be used as written. The CLI reports it and exits with 2."""
