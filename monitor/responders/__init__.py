"""Built-in responders: one file per identity provider, registered as `credwatch.responders`."""
