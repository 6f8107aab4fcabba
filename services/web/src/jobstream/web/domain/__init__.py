"""The front door's pure domain: accounts and what a customer is told."""
