"""A simulated business day driven through the public HTTP APIs, checked against its own ground truth."""
