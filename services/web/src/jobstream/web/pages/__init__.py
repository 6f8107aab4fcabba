"""The pages and the browser API, one module per area."""
