"""A simulated business day through the public HTTP APIs, checked against its ground truth."""
