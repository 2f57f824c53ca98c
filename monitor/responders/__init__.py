"""Responders: contain leaked credentials in identity providers (one file per provider)."""
