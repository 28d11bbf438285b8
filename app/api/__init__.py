"""The JSON API at /api/v1 (app.api.application builds it): bearer tokens, problem+json errors, its own OpenAPI
document, over the same services and access rules as the HTML pages."""
