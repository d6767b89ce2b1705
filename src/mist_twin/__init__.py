"""mist_twin: a faithful local emulator of the Juniper Mist cloud API (imports nothing from mistctl)."""

__version__ = "0.1.0"
