"""The Avro schemas of the hub, shipped as package data (`eahub.schemas`); see `eahub.core.schemas`."""
