"""What every service's HTTP layer shares: refusals as answers, and the command helper."""
