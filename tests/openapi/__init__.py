"""The openapi tier (`make test-openapi`): schemathesis against the example project's schema."""
