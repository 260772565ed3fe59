"""The Rego policies and their data, shipped as package data (`eahub.policies`); see `eahub.policy.bundle`."""
